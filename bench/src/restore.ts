// A call outliving its server, timed: pairs of tandem client cores (real werift peers, real
// sockets) chat, each pair through its own tandem-server process. Every server is killed with -9,
// stays down for a fixed outage (5 s, then 60 s: fixed, so the reconnect backoff reached during the
// outage is the same for every sample), and is started again on its port. Measured: from the
// server accepting connections again to the pair restored (both ends' `signalingRestored`, which
// fires once the server has paired their fresh keys), against a plain resume in the same run: the
// same pairs through a TCP proxy that refuses every connection for the same outage while the server
// keeps the sessions (from the proxy accepting again to both ends' `resumed`). Restarts are
// staggered so one pair's restore does not queue behind another's on the two cores.
import { performance } from 'node:perf_hooks';
import { createTandemClient, type TandemClient } from '@tandem/client-core';
import { wsTransport } from '@tandem/adapters/ws';
import { weriftPeerFactory } from '@tandem/adapters/werift';
import { startTcpProxy, type TcpProxy } from '../../packages/adapters/test/tcp-proxy.js';
import { startSystem, type RunningSystem } from './procs.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => process.stderr.write(`  ${s}\n`);

export interface OutageFigure {
  outageMs: number;
  samples: number;
  /** Server accepting again → pair restored, per restart. */
  restoredMs: number[];
  restoredP50: number;
  restoredP95: number;
  /** Link accepted again → both ends resumed, per cut, in the same run. */
  resumedMs: number[];
  resumedP50: number;
  resumedP95: number;
  /** Calls that ended (a peer left) where they should have gone on: must be 0. */
  callsEnded: number;
  /** Chat lines sent during the outages that did not arrive: must be 0. */
  linesLost: number;
}
export interface RestoreFigures {
  outages: OutageFigure[];
}

const SERVER_ARGS = ['--log-level', 'warn', '--resume-grace', '120', '--ping-interval', '5', '--ping-timeout', '5'];

interface Pair {
  a: TandemClient;
  b: TandemClient;
  ended: number;
  got: Set<string>;
  close(): void;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(2);
  }
}

async function pairUp(url: string): Promise<Pair> {
  const make = () =>
    createTandemClient({ url, transport: wsTransport(), createPeer: weriftPeerFactory(), serverIceServers: false });
  const a = make();
  const b = make();
  const pair: Pair = { a, b, ended: 0, got: new Set(), close: () => [a, b].forEach((c) => c.close()) };
  for (const c of [a, b]) {
    c.on('peerLeft', () => pair.ended++);
    c.on('message', ({ data }) => typeof data === 'string' && pair.got.add(data));
  }
  await until(() => a.id !== null && b.id !== null, 15_000, 'keys');
  a.pair(b.id!);
  await until(() => a.status === 'open' && b.status === 'open', 30_000, 'the call open');
  await until(() => a.peer !== null && b.peer !== null, 10_000, 'both ends saying hello over the call');
  return pair;
}

/** When `c` next emits `type`, as performance.now(). */
const next = (c: TandemClient, type: 'signalingRestored' | 'resumed') =>
  new Promise<number>((resolve) => {
    const off = c.on(type, () => {
      off();
      resolve(performance.now());
    });
  });

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? 0;
}

async function restarts(count: number, outageMs: number, staggerMs: number) {
  const servers: RunningSystem[] = [];
  const pairs: Pair[] = [];
  try {
    for (let i = 0; i < count; i++) {
      servers.push(await startSystem('tandem', SERVER_ARGS));
      pairs.push(await pairUp(servers[i]!.base));
    }
    const sent: string[] = [];
    const samples = await Promise.all(
      pairs.map(async (pair, i) => {
        await sleep(i * staggerMs);
        const restored = Promise.all([next(pair.a, 'signalingRestored'), next(pair.b, 'signalingRestored')]);
        await servers[i]!.stop(); // SIGKILL
        const line = `restart ${i}: while down`;
        sent.push(line);
        pair.a.send(line);
        await sleep(outageMs);
        servers[i] = await startSystem('tandem', SERVER_ARGS, servers[i]!.port);
        const back = performance.now();
        const [ta, tb] = await Promise.race([
          restored,
          sleep(60_000).then(() => {
            throw new Error(`pair ${i} not restored within 60 s of its server coming back`);
          }),
        ]);
        return Math.max(0, Math.max(ta, tb) - back);
      }),
    );
    await sleep(500);
    return {
      samples,
      ended: pairs.reduce((n, p) => n + p.ended, 0),
      lost: sent.filter((l) => !pairs.some((p) => p.got.has(l))).length,
    };
  } finally {
    for (const p of pairs) p.close();
    await Promise.all(servers.map((s) => s.stop()));
  }
}

async function resumes(count: number, outageMs: number, staggerMs: number) {
  const servers: RunningSystem[] = [];
  const proxies: TcpProxy[] = [];
  const pairs: Pair[] = [];
  try {
    for (let i = 0; i < count; i++) {
      servers.push(await startSystem('tandem', SERVER_ARGS));
      proxies.push(await startTcpProxy(servers[i]!.port));
      pairs.push(await pairUp(proxies[i]!.url));
    }
    const samples = await Promise.all(
      pairs.map(async (pair, i) => {
        await sleep(i * staggerMs);
        const resumed = Promise.all([next(pair.a, 'resumed'), next(pair.b, 'resumed')]);
        await proxies[i]!.reset(outageMs); // both links cut, new connections refused, the server keeps the sessions
        const back = performance.now();
        const [ta, tb] = await Promise.race([
          resumed,
          sleep(60_000).then(() => {
            throw new Error(`pair ${i} not resumed within 60 s of its link coming back`);
          }),
        ]);
        return Math.max(0, Math.max(ta, tb) - back);
      }),
    );
    return { samples, ended: pairs.reduce((n, p) => n + p.ended, 0) };
  } finally {
    for (const p of pairs) p.close();
    await Promise.all(proxies.map((p) => p.close()));
    await Promise.all(servers.map((s) => s.stop()));
  }
}

export async function restoreFigures(quick: boolean): Promise<RestoreFigures> {
  const count = quick ? 6 : 20;
  const outages = quick ? [5_000] : [5_000, 60_000];
  const staggerMs = 1_500;
  const out: OutageFigure[] = [];
  for (const outageMs of outages) {
    const r = await restarts(count, outageMs, staggerMs);
    const s = await resumes(count, outageMs, staggerMs);
    const fig: OutageFigure = {
      outageMs,
      samples: count,
      restoredMs: r.samples,
      restoredP50: pct(r.samples, 50),
      restoredP95: pct(r.samples, 95),
      resumedMs: s.samples,
      resumedP50: pct(s.samples, 50),
      resumedP95: pct(s.samples, 95),
      callsEnded: r.ended + s.ended,
      linesLost: r.lost,
    };
    log(
      `restore, ${outageMs / 1000} s outages ×${count}: server back → pair restored p50 ${fig.restoredP50.toFixed(0)} ms p95 ${fig.restoredP95.toFixed(0)} ms; plain resume p50 ${fig.resumedP50.toFixed(0)} ms p95 ${fig.resumedP95.toFixed(0)} ms; calls ended ${fig.callsEnded}, lines lost ${fig.linesLost}`,
    );
    out.push(fig);
  }
  return { outages: out };
}
