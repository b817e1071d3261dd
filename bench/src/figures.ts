// The five figures. Each measures the same work on each system in one run; report.ts turns
// them into ratios against the baselines measured alongside.
import { createServer, connect, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import { createTandemClient, type PeerSession } from '@tandem/client-core';
import { wsTransport } from '@tandem/adapters/ws';
import { weriftPeerFactory } from '@tandem/adapters/werift';
import { cpuMs, rssBytes, sourceAddress, startLoad, startSystem, type Load, type RunningSystem } from './procs.js';
import type { LoadReply } from './load.js';
import { relaySystems, systems, type SystemName } from './protocols.js';

export interface Sizes {
  relayMessages: number;
  relayPairs: number;
  relayRounds: number;
  idleConnections: number;
  latencyPairings: number;
  churnConnections: number;
  keepaliveCycles: number;
  /** Also measure keepalive for a real minute at default settings (slow). */
  keepaliveRealMinute: boolean;
  designConnections: number;
  /** Slow-consumer attack: attacking pairs and seconds per variant. */
  attackers: number;
  attackSeconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
export const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const log = (s: string) => process.stderr.write(`  ${s}\n`);

/** Run `fn` against a fresh server process of `name` and a fresh load process; both stopped after. */
async function withSystem<T>(name: SystemName, fn: (sys: RunningSystem, load: Load) => Promise<T>): Promise<T> {
  const sys = await startSystem(name);
  const load = startLoad();
  try {
    return await fn(sys, load);
  } finally {
    load.stop();
    await sys.stop();
  }
}

/** Start the prepared phase and read the server's CPU time exactly around it. */
async function measuredPhase(
  sys: RunningSystem,
  load: Load,
): Promise<{ done: Extract<LoadReply, { event: 'done' }>; cpuMs: number }> {
  const c0 = cpuMs(sys.pid);
  load.send({ cmd: 'go' });
  const done = await load.next();
  const c1 = cpuMs(sys.pid);
  if (done.event !== 'done') throw new Error(`${sys.name}: unexpected reply ${done.event}`);
  return { done, cpuMs: c1 - c0 };
}

// ---------------------------------------------------------------------------------------------
// 1. relay cost: server CPU per relayed 640-byte offer

export interface RelayFigure {
  system: SystemName;
  usPerMessage: number;
  messagesPerSecond: number;
  rounds: number[];
}

export async function relayCost(sizes: Sizes): Promise<RelayFigure[]> {
  const rounds = new Map<SystemName, { us: number; rate: number }[]>(relaySystems.map((s) => [s, []]));
  for (let round = 0; round < sizes.relayRounds; round++) {
    for (const name of relaySystems) {
      await withSystem(name, async (sys, load) => {
        load.send({
          cmd: 'relay',
          system: name,
          base: sys.base,
          pairs: sizes.relayPairs,
          messages: sizes.relayMessages,
          window: 8,
          bytes: 640,
          localAddress: sourceAddress(),
        });
        await load.next();
        const { done, cpuMs: cpu } = await measuredPhase(sys, load);
        if (done.received !== done.sent) throw new Error(`${name}: ${done.sent - done.received} offers lost`);
        const us = (cpu * 1000) / done.received;
        rounds.get(name)!.push({ us, rate: (done.received * 1000) / done.ms });
        log(
          `relay ${name} round ${round + 1}: ${us.toFixed(2)} µs/msg, ${Math.round((done.received * 1000) / done.ms)} msg/s`,
        );
        load.send({ cmd: 'release' });
        await load.next();
      });
    }
  }
  return relaySystems.map((s) => {
    const r = rounds.get(s)!;
    return {
      system: s,
      usPerMessage: median(r.map((x) => x.us)),
      messagesPerSecond: median(r.map((x) => x.rate)),
      rounds: r.map((x) => x.us),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// 2. memory per idle connection

export interface MemoryFigure {
  system: SystemName;
  connections: number;
  bytesPerConnection: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
}

export async function memoryPerConnection(sizes: Sizes): Promise<MemoryFigure[]> {
  const out: MemoryFigure[] = [];
  for (const name of systems) {
    await withSystem(name, async (sys, load) => {
      await sleep(1000);
      const before = rssBytes(sys.pid);
      const addrs = Array.from({ length: 4 }, sourceAddress);
      load.send({ cmd: 'idle', system: name, base: sys.base, count: sizes.idleConnections, localAddress: addrs });
      const ready = await load.next();
      if (ready.event !== 'ready') throw new Error('idle: unexpected reply');
      await sleep(3000); // let allocation settle (young-generation GCs run on the way)
      const after = rssBytes(sys.pid);
      out.push({
        system: name,
        connections: ready.connections,
        bytesPerConnection: (after - before) / ready.connections,
        rssBeforeMiB: before / 2 ** 20,
        rssAfterMiB: after / 2 ** 20,
      });
      log(
        `memory ${name}: ${ready.connections} idle, ${((after - before) / ready.connections / 1024).toFixed(2)} KiB/conn`,
      );
      load.send({ cmd: 'release' });
      await load.next();
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 3. pair-to-open latency: two werift clients through tandem-server vs the direct handshake

export interface LatencyFigure {
  mode: 'direct' | 'tandem';
  pairings: number;
  p50: number;
  p95: number;
  samples: number[];
}

/** The same werift sessions (same wrapper), SDP and candidates handed over in-process. */
async function directHandshake(): Promise<number> {
  const factory = weriftPeerFactory();
  let resolveOpen!: () => void;
  let opened = 0;
  const open = new Promise<void>((r) => (resolveOpen = r));
  const sessions: PeerSession[] = [];
  const ready = [false, false];
  const pending: Parameters<PeerSession['addCandidate']>[0][][] = [[], []];
  const deliver = (to: number, c: Parameters<PeerSession['addCandidate']>[0]) => {
    if (ready[to]) void sessions[to]!.addCandidate(c);
    else pending[to]!.push(c);
  };
  const setReady = (i: number) => {
    ready[i] = true;
    for (const c of pending[i]!.splice(0)) void sessions[i]!.addCandidate(c);
  };
  for (const i of [0, 1]) {
    sessions.push(
      factory({
        iceServers: [],
        iceTransportPolicy: 'all',
        handlers: {
          iceCandidate: (c) => c && deliver(1 - i, c),
          channelOpen: () => ++opened === 2 && resolveOpen(),
          channelMessage: () => undefined,
          channelClose: () => undefined,
          failed: () => undefined,
          iceState: () => undefined,
        },
      }),
    );
  }
  const [a, b] = sessions as [PeerSession, PeerSession];
  const t0 = performance.now();
  a.createDataChannel('chat');
  const offer = await a.createOffer();
  const answer = await b.acceptOffer(offer);
  setReady(1);
  await a.acceptAnswer(answer);
  setReady(0);
  await Promise.race([open, sleep(20_000).then(() => Promise.reject(new Error('direct handshake: no open in 20 s')))]);
  const ms = performance.now() - t0;
  a.close();
  b.close();
  return ms;
}

async function viaTandem(base: string): Promise<number> {
  const mk = () => createTandemClient({ url: base, transport: wsTransport(), createPeer: weriftPeerFactory() });
  const a = mk();
  const b = mk();
  try {
    const ids = await Promise.all([a, b].map((c) => new Promise<string>((r) => c.on('id', ({ id }) => r(id)))));
    const opened = Promise.all([a, b].map((c) => new Promise<void>((r) => c.on('open', () => r()))));
    const t0 = performance.now();
    a.pair(ids[1]!);
    await Promise.race([
      opened,
      sleep(20_000).then(() => Promise.reject(new Error('tandem pairing: no open in 20 s'))),
    ]);
    return performance.now() - t0;
  } finally {
    a.close();
    b.close();
  }
}

export async function pairToOpen(sizes: Sizes): Promise<LatencyFigure[]> {
  const sys = await startSystem('tandem');
  const direct: number[] = [];
  const tandem: number[] = [];
  try {
    await directHandshake(); // warm-up, not counted
    await viaTandem(sys.base);
    for (let i = 0; i < sizes.latencyPairings; i++) {
      direct.push(await directHandshake()); // interleaved, so drift hits both alike
      tandem.push(await viaTandem(sys.base));
    }
  } finally {
    await sys.stop();
  }
  log(
    `pair-to-open p50: direct ${percentile(direct, 50).toFixed(1)} ms, tandem ${percentile(tandem, 50).toFixed(1)} ms`,
  );
  return [
    {
      mode: 'direct',
      pairings: direct.length,
      p50: percentile(direct, 50),
      p95: percentile(direct, 95),
      samples: direct,
    },
    {
      mode: 'tandem',
      pairings: tandem.length,
      p50: percentile(tandem, 50),
      p95: percentile(tandem, 95),
      samples: tandem,
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// 4. keepalive traffic per idle client, counted on the wire between client and server

/** A byte-counting TCP proxy that also counts the server's keepalive frames (JSON or control ping). */
class CountingProxy {
  up = 0;
  down = 0;
  pings = 0;
  private buf = Buffer.alloc(0);
  private upgraded = false;
  blackhole = false;
  serverClosedAt: number | null = null;
  readonly ready: Promise<number>;
  private sockets: Socket[] = [];
  private readonly server = createServer((client) => {
    const upstream = connect(this.target, '127.0.0.1');
    this.sockets.push(client, upstream);
    client.on('data', (d) => {
      if (this.blackhole) return;
      this.up += d.length;
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (this.blackhole) return;
      this.down += d.length;
      this.scan(d);
      client.write(d);
    });
    upstream.on('close', () => {
      this.serverClosedAt ??= performance.now();
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  constructor(private readonly target: number) {
    this.ready = new Promise((r) =>
      this.server.listen(0, '127.0.0.1', () => r((this.server.address() as { port: number }).port)),
    );
  }
  reset() {
    this.up = this.down = this.pings = 0;
  }
  /** Parse server→client WebSocket frames (unmasked) after the HTTP upgrade response. */
  private scan(d: Buffer) {
    this.buf = Buffer.concat([this.buf, d]);
    if (!this.upgraded) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.upgraded = true;
      this.buf = this.buf.subarray(end + 4);
    }
    for (;;) {
      if (this.buf.length < 2) return;
      const op = this.buf[0]! & 0x0f;
      let len = this.buf[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      if (this.buf.length < off + len) return;
      const payload = this.buf.subarray(off, off + len).toString();
      if (op === 0x9 || (op === 0x1 && payload === '{"type":"ping"}')) this.pings++;
      this.buf = this.buf.subarray(off + len);
    }
  }
  close() {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }
}

export interface KeepaliveFigure {
  client: 'tandem client (ws-ping extension)' | 'v1 client (JSON ping/pong)' | 'PeerJS client (HEARTBEAT)';
  system: SystemName;
  bytesPerCycle: number;
  cycleSecondsAtDefaults: number;
  bytesPerMinute: number;
  /** Bytes counted over a real minute at default settings (full runs only). */
  measuredBytesPerMinute?: number;
}

export interface DeadClientFigure {
  detectedAfterMs: number;
  boundMs: number;
}

const DEFAULT_INTERVAL_S = 25;
const PEERJS_HEARTBEAT_S = 5; // peerjs client's default pingInterval

async function keepaliveClients(base: number, peerBase: number, heartbeatMs: number) {
  const own = new CountingProxy(base);
  const v1 = new CountingProxy(base);
  const pj = new CountingProxy(peerBase);
  const [ownPort, v1Port, pjPort] = await Promise.all([own.ready, v1.ready, pj.ready]);
  const client = createTandemClient({
    url: `ws://127.0.0.1:${ownPort}`,
    transport: wsTransport(),
    createPeer: weriftPeerFactory(),
  });
  await new Promise((r) => client.on('id', r));
  const raw = new WebSocket(`ws://127.0.0.1:${v1Port}`, { perMessageDeflate: false });
  raw.on('message', (d) => d.toString() === '{"type":"ping"}' && raw.send('{"type":"pong"}'));
  await new Promise((r) => raw.once('message', r));
  const peer = new WebSocket(`ws://127.0.0.1:${pjPort}/peerjs?key=peerjs&id=bench-${Date.now()}&token=t0k3n`, {
    perMessageDeflate: false,
  });
  await new Promise((r) => peer.once('message', r));
  let beats = 0;
  const hb = setInterval(() => {
    peer.send('{"type":"HEARTBEAT"}');
    beats++;
  }, heartbeatMs);
  await sleep(300); // hello/welcome settle
  for (const p of [own, v1, pj]) p.reset();
  beats = 0;
  return {
    beats: () => beats,
    own,
    v1,
    pj,
    close() {
      clearInterval(hb);
      client.close();
      raw.terminate();
      peer.terminate();
      for (const p of [own, v1, pj]) p.close();
    },
  };
}

export async function keepaliveTraffic(sizes: Sizes): Promise<{ figures: KeepaliveFigure[]; dead: DeadClientFigure }> {
  // Short cycles, then scaled to the defaults: bytes per cycle × cycles per minute at defaults.
  const intervalS = 0.4;
  const timeoutS = 0.4;
  const tandem = await startSystem('tandem', [
    '--ping-interval',
    String(intervalS),
    '--ping-timeout',
    String(timeoutS),
  ]);
  const peer = await startSystem('peerserver');
  const figures: KeepaliveFigure[] = [];
  let dead: DeadClientFigure;
  try {
    const k = await keepaliveClients(tandem.port, peer.port, intervalS * 1000);
    await sleep(sizes.keepaliveCycles * intervalS * 1000 + 100);
    const perCycle = (p: CountingProxy, cycles: number) => (p.up + p.down) / Math.max(1, cycles);
    const row = (
      client: KeepaliveFigure['client'],
      system: SystemName,
      p: CountingProxy,
      cycles: number,
      cycleS: number,
    ) => {
      const b = perCycle(p, cycles);
      figures.push({
        client,
        system,
        bytesPerCycle: b,
        cycleSecondsAtDefaults: cycleS,
        bytesPerMinute: (b * 60) / cycleS,
      });
    };
    row('tandem client (ws-ping extension)', 'tandem', k.own, k.own.pings, DEFAULT_INTERVAL_S);
    row('v1 client (JSON ping/pong)', 'tandem', k.v1, k.v1.pings, DEFAULT_INTERVAL_S);
    row('PeerJS client (HEARTBEAT)', 'peerserver', k.pj, k.beats(), PEERJS_HEARTBEAT_S);
    // A dead client (its link goes silent, no FIN) is still detected within interval + timeout.
    k.own.blackhole = true;
    const t0 = performance.now();
    const tickMs = Math.min(1000, Math.max(10, (Math.min(intervalS, timeoutS) * 1000) / 10)); // server-core's default wheel tick
    const bound = (intervalS + timeoutS) * 1000 + tickMs;
    while (k.own.serverClosedAt === null && performance.now() - t0 < bound * 4) await sleep(10);
    dead = { detectedAfterMs: (k.own.serverClosedAt ?? Infinity) - t0, boundMs: bound };
    log(
      `keepalive: own ${figures[0]!.bytesPerMinute.toFixed(1)} B/min, v1 ${figures[1]!.bytesPerMinute.toFixed(1)} B/min, PeerJS ${figures[2]!.bytesPerMinute.toFixed(1)} B/min; dead client closed after ${dead.detectedAfterMs.toFixed(0)} ms (bound ${bound} ms)`,
    );
    k.close();
  } finally {
    await tandem.stop();
    await peer.stop();
  }
  if (sizes.keepaliveRealMinute) {
    const t = await startSystem('tandem');
    const p = await startSystem('peerserver');
    try {
      const k = await keepaliveClients(t.port, p.port, PEERJS_HEARTBEAT_S * 1000);
      await sleep(60_000);
      figures[0]!.measuredBytesPerMinute = k.own.up + k.own.down;
      figures[1]!.measuredBytesPerMinute = k.v1.up + k.v1.down;
      figures[2]!.measuredBytesPerMinute = k.pj.up + k.pj.down;
      k.close();
    } finally {
      await t.stop();
      await p.stop();
    }
  }
  return { figures, dead: dead! };
}

// ---------------------------------------------------------------------------------------------
// 5. accept rate and churn: open, get the ID, close

export interface ChurnFigure {
  system: SystemName;
  connections: number;
  perSecond: number;
  usPerLifecycle: number;
}

export async function churn(sizes: Sizes): Promise<ChurnFigure[]> {
  const out: ChurnFigure[] = [];
  for (const name of systems) {
    await withSystem(name, async (sys, load) => {
      // warm-up, then the measured run
      load.send({
        cmd: 'churn',
        system: name,
        base: sys.base,
        count: 200,
        concurrency: 20,
        localAddress: sourceAddress(),
      });
      await load.next();
      await measuredPhase(sys, load);
      load.send({
        cmd: 'churn',
        system: name,
        base: sys.base,
        count: sizes.churnConnections,
        concurrency: 20,
        localAddress: sourceAddress(),
      });
      await load.next();
      const { done, cpuMs: cpu } = await measuredPhase(sys, load);
      out.push({
        system: name,
        connections: done.sent,
        perSecond: (done.sent * 1000) / done.ms,
        usPerLifecycle: (cpu * 1000) / done.sent,
      });
      log(
        `churn ${name}: ${Math.round((done.sent * 1000) / done.ms)} conn/s, ${((cpu * 1000) / done.sent).toFixed(1)} µs CPU each`,
      );
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 6. design check: heap per idle connection of the engine's record vs an actor per machine

export interface DesignFigure {
  connections: number;
  engineBytesPerConnection: number;
  actorBytesPerConnection: number;
}

export async function designCheck(sizes: Sizes): Promise<DesignFigure> {
  const { execFileSync } = await import('node:child_process');
  const script = new URL('./design.ts', import.meta.url).pathname;
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--conditions=@tandem/source', '--import', 'tsx', script, String(sizes.designConnections)],
    { encoding: 'utf8' },
  );
  const fig = JSON.parse(out.trim().split('\n').at(-1)!) as DesignFigure;
  log(
    `design: engine record ${fig.engineBytesPerConnection.toFixed(0)} B/conn, two XState actors ${fig.actorBytesPerConnection.toFixed(0)} B/conn`,
  );
  return fig;
}

// ---------------------------------------------------------------------------------------------
// 7. slow-consumer attack: server RSS while paired readers stop reading and their partners send
//    as fast as the message rate limit allows (the attack in the hardening issue), with the
//    per-connection cap on queued bytes vs with it lifted. The byte-rate limit is lifted in both
//    so the cap alone is measured.

export interface AttackFigure {
  variant: 'capped' | 'uncapped';
  capBytes: number | null;
  attackers: number;
  seconds: number;
  rssBaselineMiB: number;
  rssPeakMiB: number;
  rssEndMiB: number;
  /** Readers closed as slow consumers (each attacker reconnects a fresh reader and goes on). */
  slowConsumerCloses: number;
  /** RSS over time (MiB), one sample per half second. */
  samples: number[];
}

export async function slowConsumerAttack(sizes: Sizes): Promise<AttackFigure[]> {
  const out: AttackFigure[] = [];
  const cap = 1_048_576;
  for (const variant of ['capped', 'uncapped'] as const) {
    const sys = await startSystem('tandem', [
      '--rate-limit',
      '50',
      '--rate-burst',
      '200',
      '--max-buffered-bytes',
      variant === 'capped' ? String(cap) : '1e15',
    ]);
    try {
      await sleep(500);
      const baseline = rssBytes(sys.pid);
      const sdp = 'a=x '.repeat(15_000); // a 60 kB offer
      const end = Date.now() + sizes.attackSeconds * 1000;
      let closes = 0;
      const samples: number[] = [];
      const sampler = setInterval(() => samples.push(rssBytes(sys.pid) / 2 ** 20), 500);
      const attacker = async (n: number) => {
        const sender = await openV1(sys.base, sourceAddress());
        while (Date.now() < end) {
          const reader = await openV1(sys.base, sourceAddress());
          (reader.ws as unknown as { _socket: { pause(): void } })._socket.pause();
          sender.ws.send(JSON.stringify({ type: 'pair_request', target_id: reader.id }));
          await sender.until((f) => f.startsWith('{"type":"paired"'));
          sender.frames.length = 0;
          // 45 offers a second: under the 50/s message limit, 2.7 MB/s toward a reader that never reads
          while (Date.now() < end && !sender.frames.some((f) => f.startsWith('{"type":"peer_disconnected"'))) {
            sender.ws.send(JSON.stringify({ type: 'offer', sdp }));
            await sleep(22);
          }
          if (Date.now() < end) closes++;
          reader.ws.terminate();
        }
        sender.ws.terminate();
        return n;
      };
      await Promise.all(Array.from({ length: sizes.attackers }, (_, i) => attacker(i)));
      clearInterval(sampler);
      const fig: AttackFigure = {
        variant,
        capBytes: variant === 'capped' ? cap : null,
        attackers: sizes.attackers,
        seconds: sizes.attackSeconds,
        rssBaselineMiB: baseline / 2 ** 20,
        rssPeakMiB: Math.max(...samples),
        rssEndMiB: samples.at(-1) ?? 0,
        slowConsumerCloses: closes,
        samples,
      };
      log(
        `attack ${variant}: RSS ${fig.rssBaselineMiB.toFixed(0)} → peak ${fig.rssPeakMiB.toFixed(0)} MiB over ${fig.seconds} s, ${closes} slow readers closed`,
      );
      out.push(fig);
    } finally {
      await sys.stop();
    }
  }
  return out;
}

/** A bare wire-v1 client for the attack: its ID and the frames it got. */
async function openV1(
  base: string,
  localAddress: string,
): Promise<{
  ws: WebSocket;
  id: string;
  frames: string[];
  until(p: (f: string) => boolean, ms?: number): Promise<void>;
}> {
  const ws = new WebSocket(base, { perMessageDeflate: false, localAddress });
  const frames: string[] = [];
  ws.on('message', (d) => frames.push(d.toString()));
  ws.on('error', () => ws.terminate());
  const until = async (p: (f: string) => boolean, ms = 10_000) => {
    const stop = Date.now() + ms;
    while (!frames.some(p)) {
      if (Date.now() > stop)
        throw new Error(`attack client: waited ${ms} ms; frames ${frames.join(' ').slice(0, 300)}`);
      await sleep(5);
    }
  };
  await until((f) => f.startsWith('{"type":"your_id"'));
  return { ws, id: (JSON.parse(frames[0]!) as { id: string }).id, frames, until };
}
