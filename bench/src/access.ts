// Access and bounds figures (issue 24): the shipped tandem-server, real sockets on 127.0.0.0/8.
//  - RSS under a detached-session flood: one address opens resumable sessions and cuts each link
//    (5,000 of them, as the attack did), then 400 partners on other addresses fill the
//    replay buffers of sessions they are paired with; with the default bounds against bounds so
//    high they never bite (what tandem did before). Bounded in count and time.
//  - Token checking per connection: connections opened and closed one after another, HS256 JWT
//    (subprotocol) and ES256 against a JWKS file, against none, rounds interleaved.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { WebSocket } from 'ws';
import { tokenSubprotocols } from '@tandem/protocol';
import { rssBytes, sourceAddress, startSystem, type RunningSystem } from './procs.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`  ${line}\n`);

export interface DetachedFloodFigure {
  variant: 'bounded' | 'unbounded';
  attempts: number;
  rssBaselineMiB: number;
  rssAfterFloodMiB: number;
  rssAfterBuffersMiB: number;
  /** Detached sessions the server held after the flood (from /metrics). */
  detachedAfterFlood: number;
  /** Whether a fresh connection from the flooding address could stay (not refused, not closed within 6 s). */
  freshStays: boolean;
  /** Bytes the detached sessions held for replay at the end (from /metrics; NaN before the metric existed). */
  detachedBytes: number;
}

export interface TokenCostFigure {
  variant: 'none' | 'hs256' | 'es256-jwks';
  connections: number;
  /** Median of the rounds' mean time to open (to your_id) and close one connection. */
  usPerConnection: number;
}

export interface AccessFigures {
  flood: DetachedFloodFigure[];
  tokens: TokenCostFigure[];
}

interface Sized {
  floodAttempts: number;
  bufferSessions: number;
  tokenConnections: number;
  tokenRounds: number;
}

/** Open a connection and wait for its first frames; rejects on refusal or after `ms`. */
function open(
  base: string,
  localAddress: string,
  protocols: string[] = [],
  ms = 5_000,
): Promise<{ ws: WebSocket; frames: Record<string, unknown>[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(base, protocols, { perMessageDeflate: false, localAddress });
    const frames: Record<string, unknown>[] = [];
    const t = setTimeout(() => {
      ws.terminate();
      reject(new Error('timeout'));
    }, ms);
    ws.on('message', (d) => {
      frames.push(JSON.parse(d.toString()) as Record<string, unknown>);
      if (frames.length === 1) {
        clearTimeout(t);
        resolve({ ws, frames });
      }
    });
    ws.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    ws.on('unexpected-response', () => {
      clearTimeout(t);
      ws.terminate();
      reject(new Error('refused'));
    });
  });
}
const until = async (frames: Record<string, unknown>[], type: string, ms = 5_000) => {
  const stop = Date.now() + ms;
  while (!frames.some((f) => f['type'] === type)) {
    if (Date.now() > stop) throw new Error(`no ${type}`);
    await sleep(2);
  }
  return frames.find((f) => f['type'] === type)!;
};
const metric = async (sys: RunningSystem, name: string) => {
  const text = await (await fetch(`http://127.0.0.1:${sys.port}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
};

async function detachedFlood(variant: 'bounded' | 'unbounded', sized: Sized): Promise<DetachedFloodFigure> {
  const args =
    variant === 'bounded'
      ? ['--max-connections', '2000', '--max-connections-per-ip', '100']
      : [
          '--max-connections',
          '1000000',
          '--max-connections-per-ip',
          '1000000',
          '--max-detached-sessions',
          '100000000',
          '--max-detached-bytes',
          '1000000000000',
        ];
  const sys = await startSystem('tandem', [...args, '--resume-grace', '600', '--no-demo']);
  try {
    await sleep(500);
    const baseline = rssBytes(sys.pid);
    const attacker = sourceAddress();
    const deadline = Date.now() + 120_000;
    for (let i = 0; i < sized.floodAttempts && Date.now() < deadline; i++) {
      try {
        const c = await open(sys.base, attacker);
        c.ws.send(JSON.stringify({ type: 'hello', version: 2, capabilities: ['resume'] }));
        await until(c.frames, 'welcome');
        c.ws.terminate();
      } catch {
        // refused (the cap): the attack goes on
      }
    }
    await sleep(12_000);
    const afterFlood = rssBytes(sys.pid);
    const detached = await metric(sys, 'tandem_detached_sessions');
    // a link over the cap is let in only to resume a detached session: one that does not is closed
    const fresh = await open(sys.base, attacker).then(
      (c) =>
        new Promise<boolean>((resolve) => {
          const t = setTimeout(() => {
            c.ws.terminate();
            resolve(true);
          }, 6_000);
          c.ws.once('close', () => {
            clearTimeout(t);
            resolve(false);
          });
        }),
      () => false,
    );
    // replay buffers: sessions on their own addresses, paired, cut, then their partners send 960 kB
    // each (16 offers of 60 kB: just under the per-session limit of 1 MiB)
    const sdp = 'a=x '.repeat(15_000);
    const partners: WebSocket[] = [];
    for (let i = 0; i < sized.bufferSessions && Date.now() < deadline + 120_000; i++) {
      try {
        const a = await open(sys.base, sourceAddress());
        a.ws.send(JSON.stringify({ type: 'hello', version: 2, capabilities: ['resume'] }));
        await until(a.frames, 'welcome');
        const b = await open(sys.base, sourceAddress());
        b.ws.send(JSON.stringify({ type: 'pair_request', target_id: a.frames[0]!['id'] }));
        await until(b.frames, 'paired');
        a.ws.terminate();
        await sleep(2);
        // paced as a patient attacker would, so what passes through is collected as it goes
        for (let k = 0; k < 16; k++) {
          b.ws.send(JSON.stringify({ type: 'offer', sdp }));
          await sleep(1);
        }
        partners.push(b.ws);
      } catch {
        // refused or ended: the next one
      }
    }
    // what is kept, not what passed through: V8's memory reducer gives garbage back once the server is idle
    await sleep(12_000);
    const afterBuffers = rssBytes(sys.pid);
    const detachedBytes = await metric(sys, 'tandem_detached_bytes');
    for (const p of partners) p.terminate();
    const fig: DetachedFloodFigure = {
      variant,
      attempts: sized.floodAttempts,
      rssBaselineMiB: baseline / 2 ** 20,
      rssAfterFloodMiB: afterFlood / 2 ** 20,
      rssAfterBuffersMiB: afterBuffers / 2 ** 20,
      detachedAfterFlood: detached,
      freshStays: fresh,
      detachedBytes,
    };
    log(
      `detached flood ${variant}: ${detached} detached after ${sized.floodAttempts} attempts, a fresh link ${fresh ? 'stays' : 'is refused or closed'}; RSS ${fig.rssBaselineMiB.toFixed(0)} → ${fig.rssAfterFloodMiB.toFixed(0)} → ${fig.rssAfterBuffersMiB.toFixed(0)} MiB with ${sized.bufferSessions} full buffers (${(detachedBytes / 2 ** 20).toFixed(0)} MiB held)`,
    );
    return fig;
  } finally {
    await sys.stop();
  }
}

async function tokenCost(sized: Sized): Promise<TokenCostFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-auth-'));
  const secret = 'bench-secret-of-at-least-thirty-two-bytes';
  writeFileSync(join(dir, 'secret'), secret);
  const es = await generateKeyPair('ES256');
  writeFileSync(
    join(dir, 'jwks.json'),
    JSON.stringify({ keys: [{ ...(await exportJWK(es.publicKey)), kid: 'k1', alg: 'ES256' }] }),
  );
  const hsToken = await new SignJWT({ sub: 'bench' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('1h')
    .sign(Buffer.from(secret));
  const esToken = await new SignJWT({ sub: 'bench' })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setExpirationTime('1h')
    .sign(es.privateKey);
  const variants = {
    none: { args: [] as string[], protocols: [] as string[] },
    hs256: { args: ['--auth-jwt-secret-file', join(dir, 'secret')], protocols: tokenSubprotocols(hsToken) },
    'es256-jwks': { args: ['--auth-jwks-file', join(dir, 'jwks.json')], protocols: tokenSubprotocols(esToken) },
  } as const;
  const systems = new Map<keyof typeof variants, RunningSystem>();
  try {
    for (const [name, v] of Object.entries(variants))
      systems.set(name as keyof typeof variants, await startSystem('tandem', [...v.args, '--no-demo']));
    await sleep(500);
    const perRound = new Map<keyof typeof variants, number[]>();
    for (let round = 0; round < sized.tokenRounds; round++) {
      for (const [name, v] of Object.entries(variants) as [keyof typeof variants, (typeof variants)['none']][]) {
        const sys = systems.get(name)!;
        const address = sourceAddress();
        const t0 = performance.now();
        for (let i = 0; i < sized.tokenConnections; i++) {
          const c = await open(sys.base, address, [...v.protocols]);
          c.ws.close();
        }
        const us = ((performance.now() - t0) * 1000) / sized.tokenConnections;
        perRound.set(name, [...(perRound.get(name) ?? []), us]);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const out = (Object.keys(variants) as (keyof typeof variants)[]).map((variant) => ({
      variant,
      connections: sized.tokenConnections * sized.tokenRounds,
      usPerConnection: median(perRound.get(variant)!),
    }));
    for (const x of out) log(`token check ${x.variant}: ${x.usPerConnection.toFixed(0)} µs per connection`);
    return out;
  } finally {
    for (const s of systems.values()) await s.stop();
  }
}

export async function accessFigures(quick: boolean): Promise<AccessFigures> {
  const sized: Sized = quick
    ? { floodAttempts: 2_000, bufferSessions: 200, tokenConnections: 300, tokenRounds: 3 }
    : { floodAttempts: 5_000, bufferSessions: 400, tokenConnections: 1_000, tokenRounds: 5 };
  const flood = [await detachedFlood('bounded', sized), await detachedFlood('unbounded', sized)];
  const tokens = await tokenCost(sized);
  return { flood, tokens };
}
