// Pairing by code, timed against pairing by key in the same run: pairs of tandem client cores
// (real werift peers, real sockets) through the shipped tandem-server. Key: from pair() to both
// ends' `open`. Code: from joinCode() (the owner's code already made) to both ends' `open`, which
// a code pairing emits only once the call is verified (CPace over the call, then key
// confirmation), so the figure is join → verified open. Rounds alternate so drift hits both
// alike. Also: CPU per code exchange on each side, measured in process over many exchanges.
import { performance } from 'node:perf_hooks';
import {
  createTandemClient,
  fakeFingerprintFor,
  runCodeExchange,
  type ChannelHub,
  type PeerSession,
  type TandemClient,
} from './codes-deps.js';
import { startSystem } from './procs.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => process.stderr.write(`  ${s}\n`);

export interface CodesFigures {
  rounds: number;
  keyToOpenMs: number[];
  codeToVerifiedOpenMs: number[];
  keyP50: number;
  codeP50: number;
  keyP95: number;
  codeP95: number;
  /** CPU per exchange, per side (ms), over `exchanges` in-process exchanges. */
  cpuPerExchangeMs: { initiator: number; responder: number };
  exchanges: number;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(1);
  }
}
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? 0;
}

async function onePairing(url: string, byCode: boolean): Promise<number> {
  const { weriftPeerFactory } = await import('@tandem/adapters/werift');
  const { wsTransport } = await import('@tandem/adapters/ws');
  const make = () =>
    createTandemClient({ url, transport: wsTransport(), createPeer: weriftPeerFactory(), serverIceServers: false });
  const a = make();
  const b = make();
  const opened = (c: TandemClient) => new Promise<number>((r) => c.on('open', () => r(performance.now())));
  try {
    await until(() => a.id !== null && b.id !== null, 15_000, 'keys');
    const both = Promise.all([opened(a), opened(b)]);
    let t0: number;
    if (byCode) {
      const code = new Promise<string>((r) => a.on('code', (e) => r(e.code)));
      a.requestCode();
      const c = await code;
      t0 = performance.now();
      b.joinCode(c);
    } else {
      t0 = performance.now();
      b.pair(a.id!);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const [ta, tb] = await Promise.race([
      both,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no open within 30 s (${byCode ? 'code' : 'key'})`)), 30_000);
      }),
    ]).finally(() => clearTimeout(timer));
    if (byCode && !(a.verified && b.verified)) throw new Error('opened without being verified');
    return Math.max(ta, tb) - t0;
  } finally {
    a.close();
    b.close();
  }
}

/** CPU of the exchange itself: both sides in this process over an in-memory control channel. */
export function exchangeCpu(n: number): { initiator: number; responder: number } {
  type Ctl = { t: string } & Record<string, unknown>;
  let initiatorUs = 0;
  let responderUs = 0;
  const fa = fakeFingerprintFor('a');
  const fb = fakeFingerprintFor('b');
  for (let i = 0; i < n; i++) {
    const listeners = { i: new Set<(m: Ctl) => void>(), r: new Set<(m: Ctl) => void>() };
    const queue: { to: 'i' | 'r'; m: Ctl }[] = [];
    const hub = (side: 'i' | 'r') =>
      ({
        initiator: side === 'i',
        onControl: (l: (m: Ctl) => void) => (listeners[side].add(l), () => listeners[side].delete(l)),
        sendControl: (m: Ctl) => (queue.push({ to: side === 'i' ? 'r' : 'i', m }), true),
        onClose: () => undefined,
      }) as unknown as ChannelHub;
    const session = (local: string, remote: string) =>
      ({ fingerprints: () => ({ local: [local], remote: [remote] }) }) as unknown as PeerSession;
    const call = (myId: string, peerId: string) => ({ code: '7-orange-zoo', nameplate: '7', myId, peerId });
    let t = process.cpuUsage();
    runCodeExchange(hub('r'), session(fb, fa), call('owner', 'claimer'), () => undefined);
    responderUs += process.cpuUsage(t).user;
    t = process.cpuUsage();
    runCodeExchange(hub('i'), session(fa, fb), call('claimer', 'owner'), () => undefined);
    initiatorUs += process.cpuUsage(t).user;
    while (queue.length > 0) {
      const { to, m } = queue.shift()!;
      t = process.cpuUsage();
      for (const l of listeners[to]) l(m);
      const used = process.cpuUsage(t).user;
      if (to === 'i') initiatorUs += used;
      else responderUs += used;
    }
  }
  return { initiator: initiatorUs / n / 1000, responder: responderUs / n / 1000 };
}

export async function codesFigures(quick: boolean): Promise<CodesFigures> {
  const rounds = quick ? 6 : 20;
  const sys = await startSystem('tandem');
  const keyMs: number[] = [];
  const codeMs: number[] = [];
  try {
    await onePairing(sys.base, false); // warm-up: werift's certificate, the JIT
    await onePairing(sys.base, true);
    for (let i = 0; i < rounds; i++) {
      keyMs.push(await onePairing(sys.base, false));
      codeMs.push(await onePairing(sys.base, true));
    }
  } finally {
    await sys.stop();
  }
  const exchanges = quick ? 50 : 200;
  const cpu = exchangeCpu(exchanges);
  const fig: CodesFigures = {
    rounds,
    keyToOpenMs: keyMs,
    codeToVerifiedOpenMs: codeMs,
    keyP50: pct(keyMs, 50),
    codeP50: pct(codeMs, 50),
    keyP95: pct(keyMs, 95),
    codeP95: pct(codeMs, 95),
    cpuPerExchangeMs: cpu,
    exchanges,
  };
  log(
    `codes: join → verified open p50 ${fig.codeP50.toFixed(0)} ms (p95 ${fig.codeP95.toFixed(0)}), key → open p50 ${fig.keyP50.toFixed(0)} ms (p95 ${fig.keyP95.toFixed(0)}); CPU per exchange ${cpu.initiator.toFixed(2)} ms initiator, ${cpu.responder.toFixed(2)} ms responder`,
  );
  return fig;
}
