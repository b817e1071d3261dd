// npm run soak [-- --connections 19000 --seconds 240]: tandem-server (the shipped binary, default
// limits) holding many connections for minutes, with pairing churn, numbered relays both ways,
// JSON pings answered, bad input, and a few slow consumers. Reports frames lost and misrouted
// (both must be 0), RSS over time, and the p99 time to `your_id` for a fresh client during the
// soak. Clients are spread over loopback source addresses, so the per-address cap stays at its
// default. Every loop is bounded by the deadline; not part of `npm test`.
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { WebSocket } from 'ws';
import { percentile } from './figures.js';
import { rssBytes, sourceAddress, startSystem } from './procs.js';

const opts = new Command('tandem-soak')
  .option('--connections <n>', 'idle connections held through the soak', (v) => Number(v), 19_000)
  .option('--seconds <s>', 'how long the churn runs once the connections are open', (v) => Number(v), 240)
  .option('--pairs <n>', 'pairs relaying at once', (v) => Number(v), 40)
  .option('--slow <n>', 'slow-consumer pairs, one after another, through the soak', (v) => Number(v), 3)
  .parse()
  .opts<{ connections: number; seconds: number; pairs: number; slow: number }>();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
const PER_ADDRESS = 900; // under the default --max-connections-per-ip (1024)

let addressUses = 0;
let address = sourceAddress();
function nextAddress(): string {
  if (++addressUses % PER_ADDRESS === 0) address = sourceAddress();
  return address;
}

interface Client {
  ws: WebSocket;
  id: string;
  frames: string[];
  onFrame: ((f: string) => void) | null;
  closed: boolean;
}

/** Open a client that answers JSON pings (as a v1 client must); resolves on `your_id`. */
function open(base: string, keep = true): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(base, { perMessageDeflate: false, localAddress: nextAddress() });
    const c: Client = { ws, id: '', frames: [], onFrame: null, closed: false };
    const timer = setTimeout(() => reject(new Error('no your_id within 20 s')), 20_000);
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on('close', () => (c.closed = true));
    ws.on('message', (data) => {
      const f = data.toString();
      if (f === '{"type":"ping"}') return ws.send('{"type":"pong"}');
      if (c.id === '') {
        clearTimeout(timer);
        c.id = (JSON.parse(f) as { id: string }).id;
        return resolve(c);
      }
      if (keep) c.frames.push(f);
      c.onFrame?.(f);
    });
  });
}

const waitFor = async (c: Client, p: (f: string) => boolean, ms: number, what: string) => {
  const end = Date.now() + ms;
  while (!c.frames.some(p)) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(5);
  }
};

const totals = {
  pairsCompleted: 0,
  sent: 0,
  received: 0,
  lost: 0,
  misrouted: 0,
  outOfOrder: 0,
  badInputAnswered: 0,
  badInputUnanswered: 0,
  slowClosed: 0,
  peerDisconnectedMissing: 0,
  errors: [] as string[],
};

/** One pair's life: pair, relay numbered offers both ways, one side leaves, the other is told. */
async function pairLife(base: string, tag: string, messages: number): Promise<void> {
  const a = await open(base);
  const b = await open(base);
  a.ws.send(JSON.stringify({ type: 'pair_request', target_id: b.id }));
  await waitFor(a, (f) => f.startsWith('{"type":"paired"'), 10_000, 'paired');
  await waitFor(b, (f) => f.startsWith('{"type":"paired"'), 10_000, 'paired');
  const check = (me: Client, from: string) => {
    let expected = 0;
    let got = 0;
    me.onFrame = (f) => {
      if (!f.startsWith('{"type":"offer"')) return;
      const m = JSON.parse(f) as { sdp: string; from_peer?: boolean };
      const [pairTag, sender, seq] = m.sdp.split(':');
      if (pairTag !== tag || sender !== from || m.from_peer !== true) return void totals.misrouted++;
      if (Number(seq) !== expected) totals.outOfOrder++;
      expected = Number(seq) + 1;
      got++;
      totals.received++;
    };
    return () => got;
  };
  const gotB = check(b, 'a');
  const gotA = check(a, 'b');
  for (let i = 0; i < messages; i++) {
    a.ws.send(JSON.stringify({ type: 'offer', sdp: `${tag}:a:${i}` }));
    b.ws.send(JSON.stringify({ type: 'offer', sdp: `${tag}:b:${i}` }));
    totals.sent += 2;
    await sleep(40); // 25 offers a second each: inside the default rate limits
  }
  const end = Date.now() + 10_000;
  while ((gotA() < messages || gotB() < messages) && Date.now() < end) await sleep(10);
  totals.lost += 2 * messages - gotA() - gotB();
  a.ws.close();
  try {
    await waitFor(b, (f) => f.startsWith('{"type":"peer_disconnected"'), 10_000, 'peer_disconnected');
  } catch {
    totals.peerDisconnectedMissing++;
  }
  b.ws.close();
  totals.pairsCompleted++;
}

/** A pair whose reader stops reading; the server must close it (1008) and tell the sender. */
async function slowConsumer(base: string): Promise<void> {
  const sender = await open(base);
  const reader = await open(base, false);
  sender.ws.send(JSON.stringify({ type: 'pair_request', target_id: reader.id }));
  await waitFor(sender, (f) => f.startsWith('{"type":"paired"'), 10_000, 'paired');
  (reader.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const sdp = 'a=x '.repeat(15_000);
  // 240 kB/s: inside the soak's byte rate; the loopback's kernel buffers (several MB) fill first,
  // then the server's queue reaches the cap
  const end = Date.now() + 90_000;
  while (
    Date.now() < end &&
    !sender.closed &&
    !sender.frames.some((f) => f.startsWith('{"type":"peer_disconnected"'))
  ) {
    sender.ws.send(JSON.stringify({ type: 'offer', sdp }));
    await sleep(250);
  }
  if (sender.frames.some((f) => f.startsWith('{"type":"peer_disconnected"'))) totals.slowClosed++;
  reader.ws.terminate();
  sender.ws.close();
}

async function main(): Promise<void> {
  // default limits, except: pings every 10 s so keepalive runs during the soak, and a byte rate
  // of 256 KiB/s so a slow consumer's backlog reaches the cap within the soak
  const sys = await startSystem('tandem', [
    '--log-level',
    'warn',
    '--rate-limit',
    '50',
    '--rate-burst',
    '200',
    '--byte-rate-limit',
    '262144',
    '--byte-rate-burst',
    '262144',
    '--max-connections-per-ip',
    '1024',
    '--max-buffered-bytes',
    '1048576',
    '--ping-interval',
    '10',
    '--ping-timeout',
    '10',
  ]);
  const rss: { s: number; mib: number }[] = [];
  const t0 = Date.now();
  const sampler = setInterval(
    () => rss.push({ s: Math.round((Date.now() - t0) / 1000), mib: Math.round(rssBytes(sys.pid) / 2 ** 20) }),
    5_000,
  );
  try {
    log(`opening ${opts.connections} connections to ${sys.base}`);
    const idle: Client[] = [];
    for (let i = 0; i < opts.connections; i += 250) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(250, opts.connections - i) }, () => open(sys.base, false)),
      );
      idle.push(...batch);
    }
    log(`${idle.length} open; RSS ${Math.round(rssBytes(sys.pid) / 2 ** 20)} MiB; churning for ${opts.seconds} s`);
    const deadline = Date.now() + opts.seconds * 1000;
    const yourIdMs: number[] = [];
    let seq = 0;
    const worker = async () => {
      while (Date.now() < deadline)
        await pairLife(sys.base, `p${++seq}`, 50).catch((e: Error) => void totals.errors.push(e.message));
    };
    const prober = async () => {
      while (Date.now() < deadline) {
        const start = performance.now();
        const c = await open(sys.base);
        yourIdMs.push(performance.now() - start);
        // bad input on the probe: it must be answered and the connection must carry on
        c.ws.send('{"type":"offer","sdp":');
        try {
          await waitFor(c, (f) => f.startsWith('{"type":"error"'), 5_000, 'error');
          totals.badInputAnswered++;
        } catch {
          totals.badInputUnanswered++;
        }
        c.ws.close();
        await sleep(200);
      }
    };
    const slow = async () => {
      for (let i = 0; i < opts.slow && Date.now() < deadline; i++) {
        await slowConsumer(sys.base).catch((e: Error) => void totals.errors.push(`slow: ${e.message}`));
        await sleep(Math.max(0, Math.min(deadline - Date.now(), (opts.seconds * 1000) / (opts.slow + 1) - 1000)));
      }
    };
    const idleChurn = async () => {
      // idle clients come and go too: close a few, open replacements
      while (Date.now() < deadline) {
        for (let k = 0; k < 20; k++) idle[Math.floor(Math.random() * idle.length)]!.ws.close();
        await sleep(1000);
        for (let k = 0; k < idle.length; k++) if (idle[k]!.closed) idle[k] = await open(sys.base, false);
      }
    };
    await Promise.all([...Array.from({ length: opts.pairs }, worker), prober(), slow(), idleChurn()]);
    const stillOpen = idle.filter((c) => !c.closed).length;
    clearInterval(sampler);
    const result = {
      startedAt: new Date(t0).toISOString(),
      connections: opts.connections,
      seconds: opts.seconds,
      stillOpen,
      framesLost: totals.lost,
      framesMisrouted: totals.misrouted,
      outOfOrder: totals.outOfOrder,
      relayed: totals.received,
      sent: totals.sent,
      pairsCompleted: totals.pairsCompleted,
      peerDisconnectedMissing: totals.peerDisconnectedMissing,
      badInputAnswered: totals.badInputAnswered,
      badInputUnanswered: totals.badInputUnanswered,
      slowConsumersClosed: totals.slowClosed,
      errors: totals.errors.slice(0, 20),
      errorCount: totals.errors.length,
      yourIdMs: {
        n: yourIdMs.length,
        p50: percentile(yourIdMs, 50),
        p99: percentile(yourIdMs, 99),
        max: Math.max(...yourIdMs),
      },
      rssMiB: rss,
    };
    for (const c of idle) c.ws.terminate();
    const dir = fileURLToPath(new URL('../results/', import.meta.url));
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}soak-latest.json`, JSON.stringify(result, null, 2));
    console.log(JSON.stringify({ ...result, rssMiB: rss.map((r) => `${r.s}s:${r.mib}`).join(' ') }, null, 2));
    const ok =
      result.slowConsumersClosed > 0 &&
      result.framesLost === 0 &&
      result.framesMisrouted === 0 &&
      result.outOfOrder === 0 &&
      result.badInputUnanswered === 0 &&
      result.peerDisconnectedMissing === 0 &&
      result.errorCount === 0;
    log(ok ? 'soak passed' : 'soak FAILED');
    process.exitCode = ok ? 0 : 1;
  } finally {
    clearInterval(sampler);
    await sys.stop();
  }
}

await main();
process.exit(process.exitCode ?? 0);
