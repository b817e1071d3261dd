// The load process (forked by run.ts, pinned to its own core): opens client connections to one
// system and runs one phase at a time on command over IPC, so the driver can read the server's
// CPU and memory from the OS exactly around the measured work. Every loop is bounded.
import { WebSocket } from 'ws';
import { dialects, sdpOfSize, type SystemName } from './protocols.js';

export type LoadCommand =
  /** `peerBase`: receivers connect there (another node of a cluster), senders to `base`. */
  | {
      cmd: 'relay';
      system: SystemName;
      base: string;
      peerBase?: string;
      pairs: number;
      messages: number;
      window: number;
      bytes: number;
      localAddress: string;
    }
  | { cmd: 'idle'; system: SystemName; base: string; count: number; localAddress: string[] }
  | { cmd: 'churn'; system: SystemName; base: string; count: number; concurrency: number; localAddress: string }
  | { cmd: 'go' }
  | { cmd: 'release' };

export type LoadReply =
  | { event: 'ready'; connections: number }
  | { event: 'done'; ms: number; sent: number; received: number; connections?: number }
  | { event: 'released' }
  | { event: 'failed'; message: string };

const reply = (r: LoadReply) => process.send!(r);
let onCommand: ((c: LoadCommand) => void) | null = null;
const next = () => new Promise<LoadCommand>((r) => (onCommand = r));
process.on('message', (c: LoadCommand) => {
  const h = onCommand;
  onCommand = null;
  if (c.cmd === 'relay' || c.cmd === 'idle' || c.cmd === 'churn')
    void run(c).catch((e: Error) => reply({ event: 'failed', message: e.stack ?? e.message }));
  else h?.(c);
});
process.on('disconnect', () => process.exit(0));

interface Client {
  ws: WebSocket;
  id: string;
  onFrame: (f: string) => void;
}

const deadline = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`${what}: not within ${ms} ms`)), ms).unref()),
  ]);

function connect(system: SystemName, base: string, localAddress: string): Promise<Client> {
  const d = dialects[system];
  const { url, id: chosen } = d.url(base);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, localAddress });
    const c: Client = { ws, id: '', onFrame: () => undefined };
    ws.on('error', reject);
    ws.on('message', (data) => {
      const f = data.toString();
      if (c.id === '') {
        const id = d.idFrom(f, chosen);
        if (id) {
          c.id = id;
          resolve(c);
        }
        return;
      }
      c.onFrame(f);
    });
  });
}

/** Open `count` clients, at most `concurrency` handshakes at a time. */
async function openMany(
  system: SystemName,
  base: string,
  count: number,
  concurrency: number,
  addrs: string[],
): Promise<Client[]> {
  const out: Client[] = [];
  let i = 0;
  const worker = async () => {
    while (i < count) {
      const k = i++;
      out.push(await deadline(connect(system, base, addrs[k % addrs.length]!), 10_000, `connection ${k}`));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

const closeAll = async (cs: Client[]) => {
  await Promise.all(
    cs.map(
      (c) =>
        new Promise<void>((r) => {
          if (c.ws.readyState === WebSocket.CLOSED) return r();
          c.ws.once('close', () => r());
          c.ws.terminate();
        }),
    ),
  );
};

async function run(c: Extract<LoadCommand, { cmd: 'relay' | 'idle' | 'churn' }>) {
  const d = dialects[c.system];
  if (c.cmd === 'idle') {
    const cs = await openMany(c.system, c.base, c.count, 200, c.localAddress);
    reply({ event: 'ready', connections: cs.length });
    await next(); // release
    await closeAll(cs);
    reply({ event: 'released' });
    return;
  }
  if (c.cmd === 'churn') {
    reply({ event: 'ready', connections: 0 });
    await next(); // go
    const t0 = performance.now();
    let done = 0;
    let i = 0;
    const worker = async () => {
      while (i < c.count) {
        i++;
        const cl = await deadline(connect(c.system, c.base, c.localAddress), 10_000, 'churn connection');
        await new Promise<void>((r) => {
          cl.ws.once('close', () => r());
          cl.ws.close(1000);
        });
        done++;
      }
    };
    await Promise.all(Array.from({ length: c.concurrency }, worker));
    reply({ event: 'done', ms: performance.now() - t0, sent: done, received: done, connections: done });
    return;
  }
  // relay: pairs of (sender, receiver); each sender keeps at most `window` offers in flight
  const senders = await openMany(c.system, c.base, c.pairs, 50, [c.localAddress]);
  const receivers = await openMany(c.system, c.peerBase ?? c.base, c.pairs, 50, [c.localAddress]);
  const cs = [...senders, ...receivers];
  const pairs: [Client, Client][] = [];
  for (let p = 0; p < c.pairs; p++) pairs.push([senders[p]!, receivers[p]!]);
  await Promise.all(
    pairs.map(([a, b]) => {
      const f = d.pairFrame(b.id);
      if (f === null) return Promise.resolve();
      const both = Promise.all(
        [a, b].map((x) => new Promise<void>((r) => (x.onFrame = (fr) => d.isPaired(fr) && r()))),
      );
      a.ws.send(f);
      return deadline(both, 10_000, 'pairing');
    }),
  );
  const sdp = sdpOfSize(c.bytes);
  const stream = (total: number) =>
    new Promise<{ sent: number; received: number }>((resolve) => {
      let sent = 0;
      let received = 0;
      const perPair = Math.ceil(total / pairs.length);
      let finished = 0;
      for (const [a, b] of pairs) {
        const frame = d.offerFrame(b.id, sdp);
        let s = 0;
        let r = 0;
        const pump = () => {
          while (s < perPair && s - r < c.window) {
            a.ws.send(frame);
            s++;
            sent++;
          }
        };
        b.onFrame = (f) => {
          if (!d.isOffer(f)) return;
          r++;
          received++;
          if (r === perPair) {
            if (++finished === pairs.length) resolve({ sent, received });
          } else pump();
        };
        pump();
      }
    });
  await deadline(stream(Math.min(2000, c.messages)), 60_000, 'warm-up'); // JIT warm-up, not measured
  reply({ event: 'ready', connections: cs.length });
  await next(); // go
  const t0 = performance.now();
  const r = await deadline(stream(c.messages), 300_000, 'relay');
  reply({ event: 'done', ms: performance.now() - t0, ...r });
  await next(); // release
  await closeAll(cs);
  reply({ event: 'released' });
}
