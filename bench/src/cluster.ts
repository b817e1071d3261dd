// Cluster figures (issue 16), each side by side with its single-process baseline in the same run:
// relay CPU per message for same-node and cross-node pairs (Redis's CPU included), pair-to-open
// latency with werift peers across nodes, time from kill -9 of a node to its clients' partners
// being told, and idle connections held across 5 node processes with memory per connection
// including Redis's share. A real redis-server (Debian's) on a free loopback port.
import { WebSocket } from 'ws';
import { createTandemClient } from '@tandem/client-core';
import { wsTransport } from '@tandem/adapters/ws';
import { weriftPeerFactory } from '@tandem/adapters/werift';
import { startRedis, type RedisProc } from '../../packages/adapters/test/redis.js';
import { cpuMs, rssBytes, sourceAddress, startLoad, startSystem, type Load, type RunningSystem } from './procs.js';
import { percentile } from './figures.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => process.stderr.write(`  ${s}\n`);
const median = (xs: number[]) => percentile(xs, 50);

export interface ClusterSizes {
  relayMessages: number;
  /** Interleaved rounds of the three relay variants (medians are reported). */
  relayRounds: number;
  relayPairs: number;
  latencyPairings: number;
  kills: number;
  idlePerNode: number;
}

export interface ClusterRelayRow {
  variant: 'single process' | 'cluster, same node' | 'cluster, cross node';
  usPerMessage: number;
  messagesPerSecond: number;
  /** Of the CPU per message, the part Redis spent (µs). */
  redisUsPerMessage: number;
}
export interface ClusterFigures {
  relay: ClusterRelayRow[];
  latency: { mode: 'single process' | 'cross node'; p50: number; p95: number; samples: number[] }[];
  failover: { leaseTtlMs: number; trials: number; p50: number; max: number; samples: number[] };
  idle: {
    nodes: number;
    connections: number;
    bytesPerConnection: number;
    redisBytesPerConnection: number;
    singleProcessBytesPerConnection: number;
    singleProcessConnections: number;
  };
}

const LEASE_TTL_S = 5;

async function node(redis: RedisProc, extra: string[] = []): Promise<RunningSystem> {
  return startSystem('tandem', ['--redis', redis.url, '--lease-ttl', String(LEASE_TTL_S), ...extra]);
}

/** Relay through `a` (senders) and `b` (receivers); CPU of every listed process around the measured phase. */
async function relayPhase(
  sizes: ClusterSizes,
  a: RunningSystem,
  b: RunningSystem,
  pids: number[],
  redisPid: number | null,
): Promise<{ us: number; rate: number; redisUs: number }> {
  const load = startLoad();
  try {
    load.send({
      cmd: 'relay',
      system: 'tandem',
      base: a.base,
      ...(b !== a ? { peerBase: b.base } : {}),
      pairs: sizes.relayPairs,
      messages: sizes.relayMessages,
      window: 8,
      bytes: 640,
      localAddress: sourceAddress(),
    });
    await load.next();
    const c0 = pids.map(cpuMs);
    const r0 = redisPid === null ? 0 : cpuMs(redisPid);
    load.send({ cmd: 'go' });
    const done = await load.next();
    const c1 = pids.map(cpuMs);
    const r1 = redisPid === null ? 0 : cpuMs(redisPid);
    if (done.event !== 'done') throw new Error(`cluster relay: unexpected reply ${done.event}`);
    if (done.received !== done.sent) throw new Error(`cluster relay: ${done.sent - done.received} offers lost`);
    const cpu = c1.reduce((s, x, i) => s + x - c0[i]!, 0) + (r1 - r0);
    load.send({ cmd: 'release' });
    await load.next();
    return {
      us: (cpu * 1000) / done.received,
      rate: (done.received * 1000) / done.ms,
      redisUs: ((r1 - r0) * 1000) / done.received,
    };
  } finally {
    load.stop();
  }
}

async function openTandem(url: string): Promise<{ a: ReturnType<typeof createTandemClient>; id: Promise<string> }> {
  const a = createTandemClient({ url, transport: wsTransport(), createPeer: weriftPeerFactory() });
  return { a, id: new Promise<string>((r) => a.on('id', ({ id }) => r(id))) };
}

/** pair_request → both data channels open, with A on `urlA` and B on `urlB` (werift peers). */
async function pairToOpen(urlA: string, urlB: string): Promise<number> {
  const [x, y] = await Promise.all([openTandem(urlA), openTandem(urlB)]);
  try {
    const ids = await Promise.all([x.id, y.id]);
    const opened = Promise.all([x.a, y.a].map((c) => new Promise<void>((r) => c.on('open', () => r()))));
    const t0 = performance.now();
    x.a.pair(ids[1]!);
    await Promise.race([
      opened,
      sleep(20_000).then(() => Promise.reject(new Error('cluster pairing: no open in 20 s'))),
    ]);
    return performance.now() - t0;
  } finally {
    x.a.close();
    y.a.close();
  }
}

/** A bare v1 client: its ID and a promise of the first frame of a type. */
function v1Client(
  url: string,
): Promise<{ ws: WebSocket; id: string; next(type: string, ms: number): Promise<Record<string, unknown>> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const frames: Record<string, unknown>[] = [];
    const waiters: (() => void)[] = [];
    ws.on('error', reject);
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as Record<string, unknown>;
      if (m['type'] === 'ping') return ws.send('{"type":"pong"}');
      frames.push(m);
      if (m['type'] === 'your_id') {
        resolve({
          ws,
          id: String(m['id']),
          next: (type, ms) =>
            new Promise((res, rej) => {
              const look = () => {
                const f = frames.find((x) => x['type'] === type);
                if (!f) return false;
                res(f);
                return true;
              };
              if (look()) return;
              const t = setTimeout(() => rej(new Error(`no ${type} within ${ms} ms`)), ms);
              waiters.push(() => look() && (clearTimeout(t), true));
            }),
        });
      }
      for (const w of [...waiters]) w();
    });
  });
}

export async function clusterFigures(sizes: ClusterSizes): Promise<ClusterFigures> {
  const redis = await startRedis();
  try {
    // ---- relay CPU per message
    const rows: ClusterRelayRow[] = [];
    {
      // interleaved rounds, medians: drift on a shared machine hits every variant alike
      const rounds: Record<ClusterRelayRow['variant'], { us: number; rate: number; redisUs: number }[]> = {
        'single process': [],
        'cluster, same node': [],
        'cluster, cross node': [],
      };
      const [n1, n2] = [await node(redis), await node(redis)];
      try {
        for (let round = 0; round < sizes.relayRounds; round++) {
          const single = await startSystem('tandem');
          try {
            rounds['single process'].push(await relayPhase(sizes, single, single, [single.pid], null));
          } finally {
            await single.stop();
          }
          rounds['cluster, same node'].push(await relayPhase(sizes, n1, n1, [n1.pid, n2.pid], redis.pid));
          rounds['cluster, cross node'].push(await relayPhase(sizes, n1, n2, [n1.pid, n2.pid], redis.pid));
        }
      } finally {
        await n1.stop();
        await n2.stop();
      }
      for (const [variant, r] of Object.entries(rounds) as [
        ClusterRelayRow['variant'],
        (typeof rounds)['single process'],
      ][]) {
        rows.push({
          variant,
          usPerMessage: median(r.map((x) => x.us)),
          messagesPerSecond: median(r.map((x) => x.rate)),
          redisUsPerMessage: median(r.map((x) => x.redisUs)),
        });
      }
      for (const r of rows)
        log(
          `cluster relay ${r.variant}: ${r.usPerMessage.toFixed(2)} µs/msg (Redis ${r.redisUsPerMessage.toFixed(2)}), ${Math.round(r.messagesPerSecond)} msg/s`,
        );
    }

    // ---- pair-to-open latency, interleaved so drift hits both alike
    const singleMs: number[] = [];
    const crossMs: number[] = [];
    {
      const single = await startSystem('tandem');
      const [n1, n2] = [await node(redis), await node(redis)];
      try {
        await pairToOpen(single.base, single.base); // warm-up
        await pairToOpen(n1.base, n2.base);
        for (let i = 0; i < sizes.latencyPairings; i++) {
          singleMs.push(await pairToOpen(single.base, single.base));
          crossMs.push(await pairToOpen(n1.base, n2.base));
        }
      } finally {
        await Promise.all([single.stop(), n1.stop(), n2.stop()]);
      }
      log(
        `cluster pair-to-open p50: single ${median(singleMs).toFixed(1)} ms, cross-node ${median(crossMs).toFixed(1)} ms`,
      );
    }

    // ---- kill -9 of a node → its clients' partners told
    const told: number[] = [];
    {
      const survivor = await node(redis);
      try {
        for (let i = 0; i < sizes.kills; i++) {
          const victim = await node(redis);
          const a = await v1Client(victim.base);
          const b = await v1Client(survivor.base);
          b.ws.send(JSON.stringify({ type: 'pair_request', target_id: a.id }));
          await b.next('paired', 5000);
          const t0 = performance.now();
          await victim.stop(); // SIGKILL
          await b.next('peer_disconnected', (LEASE_TTL_S + 10) * 1000);
          told.push(performance.now() - t0);
          a.ws.terminate();
          b.ws.close();
          log(`cluster kill -9 ${i + 1}: partner told after ${told.at(-1)!.toFixed(0)} ms`);
        }
      } finally {
        await survivor.stop();
      }
    }

    // ---- idle connections: 5 nodes vs one single process
    const nodes = 5;
    let single: { connections: number; bytes: number };
    {
      const sys = await startSystem('tandem');
      const load = startLoad();
      try {
        await sleep(1000);
        const before = rssBytes(sys.pid);
        load.send({
          cmd: 'idle',
          system: 'tandem',
          base: sys.base,
          count: sizes.idlePerNode,
          localAddress: Array.from({ length: 4 }, sourceAddress),
        });
        const ready = await load.next();
        if (ready.event !== 'ready') throw new Error('idle: unexpected reply');
        await sleep(3000);
        single = { connections: ready.connections, bytes: (rssBytes(sys.pid) - before) / ready.connections };
        load.send({ cmd: 'release' });
        await load.next();
      } finally {
        load.stop();
        await sys.stop();
      }
    }
    const started: RunningSystem[] = [];
    const loads: Load[] = [];
    let idle: ClusterFigures['idle'];
    try {
      for (let i = 0; i < nodes; i++) started.push(await node(redis));
      await sleep(1000);
      const before = started.map((s) => rssBytes(s.pid));
      const redisBefore = rssBytes(redis.pid);
      for (const s of started) {
        const load = startLoad();
        loads.push(load);
        load.send({
          cmd: 'idle',
          system: 'tandem',
          base: s.base,
          count: sizes.idlePerNode,
          localAddress: Array.from({ length: 4 }, sourceAddress),
        });
      }
      const readies = await Promise.all(loads.map((l) => l.next(600_000)));
      const connections = readies.reduce((sum, r) => sum + (r.event === 'ready' ? r.connections : 0), 0);
      await sleep(3000);
      const grown = started.reduce((sum, s, i) => sum + rssBytes(s.pid) - before[i]!, 0);
      const redisGrown = rssBytes(redis.pid) - redisBefore;
      idle = {
        nodes,
        connections,
        bytesPerConnection: (grown + redisGrown) / connections,
        redisBytesPerConnection: redisGrown / connections,
        singleProcessBytesPerConnection: single.bytes,
        singleProcessConnections: single.connections,
      };
      log(
        `cluster idle: ${connections} connections over ${nodes} nodes, ${(idle.bytesPerConnection / 1024).toFixed(2)} KiB/conn incl. Redis ${(idle.redisBytesPerConnection / 1024).toFixed(2)} KiB (single process: ${(single.bytes / 1024).toFixed(2)} KiB)`,
      );
      for (const l of loads) l.send({ cmd: 'release' });
      await Promise.all(loads.map((l) => l.next(600_000)));
    } finally {
      for (const l of loads) l.stop();
      await Promise.all(started.map((s) => s.stop()));
    }

    return {
      relay: rows,
      latency: [
        { mode: 'single process', p50: median(singleMs), p95: percentile(singleMs, 95), samples: singleMs },
        { mode: 'cross node', p50: median(crossMs), p95: percentile(crossMs, 95), samples: crossMs },
      ],
      failover: {
        leaseTtlMs: LEASE_TTL_S * 1000,
        trials: told.length,
        p50: median(told),
        max: Math.max(...told),
        samples: told,
      },
      idle,
    };
  } finally {
    await redis.stop();
  }
}
