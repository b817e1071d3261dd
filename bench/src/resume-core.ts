// Resume figures measured in process (run with --expose-gc; prints one JSON line):
// - frames lost/duplicated over many in-memory cuts (random closes and half-open links, frames
//   lost in flight both ways), with the real engine and a protocol-text client;
// - extra heap per detached session, against the same sessions attached without resume.
import { MemoryServer, ResumingMemoryClient } from '@tandem/server-core/testing';
import { encode } from '@tandem/protocol';

const cuts = Number(process.argv[2] ?? 1_000);
const sessions = Number(process.argv[3] ?? 10_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

// ---- lost / duplicated over cuts
let seed = 7;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
let tokens = 0;
const s = new MemoryServer({
  // the clock stands still here, so the rate limits (which refill with time) are lifted
  settings: {
    pingIntervalMs: 60_000,
    pingTimeoutMs: 60_000,
    tickMs: 100,
    resumeGraceMs: 3_600_000,
    rateLimitBurst: 1e9,
    rateLimitBytesBurst: 1e12,
  },
  generateToken: () => `t${(++tokens).toString(36).padStart(23, '0')}`,
});
const a = new ResumingMemoryClient(s);
const b = new ResumingMemoryClient(s);
a.send({ type: 'pair_request', target_id: b.id });
a.pump();
b.pump();
const clients = [a, b];
const sent: string[][] = [[], []];
let done = 0;
while (done < cuts) {
  const who = rand() < 0.5 ? 0 : 1;
  const x = clients[who]!;
  const r = rand();
  if (r < 0.5) {
    const sdp = `${who}:${sent[who]!.length}`;
    sent[who]!.push(sdp);
    x.send({ type: 'offer', sdp });
  } else if (r < 0.8) x.pump();
  else if (!x.cut) {
    x.breakLink(rand() < 0.5 ? 'close' : 'half-open', Math.floor(rand() * 4));
    done++;
  } else x.resume();
}
for (const x of clients) if (x.cut) x.resume();
for (const x of clients) x.pump();
const tally = (got: string[], expected: string[]) => {
  const seen = new Map<string, number>();
  for (const g of got) seen.set(g, (seen.get(g) ?? 0) + 1);
  return {
    lost: expected.filter((e) => !seen.has(e)).length,
    duplicated: [...seen.values()].reduce((n, c) => n + (c - 1), 0),
    outOfOrder: got.some((g, i) => g !== expected[i]) && got.length === expected.length ? 1 : 0,
  };
};
const ta = tally(a.got, sent[1]!);
const tb = tally(b.got, sent[0]!);
const frames = sent[0]!.length + sent[1]!.length;

// ---- heap per detached session
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const memory = (resume: boolean) => {
  let t = 0;
  const m = new MemoryServer({
    settings: { pingIntervalMs: 3_600_000, pingTimeoutMs: 3_600_000, tickMs: 1000, resumeGraceMs: 3_600_000 },
    generateToken: () => `t${(++t).toString(36).padStart(23, '0')}`,
  });
  const hello = encode({ type: 'hello', version: 2, capabilities: resume ? ['resume'] : [] });
  for (let i = 0; i < 100; i++) m.connect().close(); // warm the code paths
  const before = heap();
  const list = Array.from({ length: sessions }, () => {
    const c = m.connect();
    c.send(hello);
    c.received.length = 0;
    if (resume) c.close(1006); // detached: ID, pairing, token and ledger kept, link gone
    return c;
  });
  const after = heap();
  return { server: m, list, bytes: (after - before) / sessions, stats: m.engine.stats() };
};
const attached = memory(false);
const detached = memory(true);
console.log(
  JSON.stringify({
    cuts,
    frames,
    resumes: s.engine.stats().resumes,
    peerDisconnected: a.peerDisconnects.length + b.peerDisconnects.length,
    lost: ta.lost + tb.lost,
    duplicated: ta.duplicated + tb.duplicated,
    outOfOrder: ta.outOfOrder + tb.outOfOrder,
    sessions,
    detachedSessions: detached.stats.detached,
    bytesPerAttachedV1Connection: attached.bytes,
    bytesPerDetachedSession: detached.bytes,
    extraBytesPerDetachedSession: detached.bytes - attached.bytes,
    keep: attached.list.length + detached.list.length,
  }),
);
