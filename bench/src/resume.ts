// Resume figures over real sockets: a client's link goes through a TCP proxy that resets it for
// 0.5–3 s, 20 times. Measured: time from the link's return to `resumed` for tandem's client core
// (default backoff), frames lost/duplicated for a protocol-text client exchanging numbered offers
// with a partner throughout; and the same cut against PeerServer (`peer` 1.0.2, reconnecting with
// the same ID over a raw WebSocket): time until the ID is accepted again, what the partner got.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { ResumeLedger, encode, uncountedServerTypes, type ClientMessage } from '@tandem/protocol';
import { createTandemClient, type PeerFactory } from '@tandem/client-core';
import { wsTransport } from '@tandem/adapters/ws';
import { startTcpProxy } from '../../packages/adapters/test/tcp-proxy.js';
import { startSystem } from './procs.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => process.stderr.write(`  ${s}\n`);

export interface ResumeFigure {
  inMemory: {
    cuts: number;
    frames: number;
    lost: number;
    duplicated: number;
    outOfOrder: number;
    peerDisconnected: number;
  };
  real: {
    cuts: number;
    frames: number;
    lost: number;
    duplicated: number;
    peerDisconnected: number;
    resumedMs: number[];
    p50: number;
    p95: number;
  };
  memory: {
    sessions: number;
    bytesPerAttachedV1Connection: number;
    bytesPerDetachedSession: number;
    extraBytesPerDetachedSession: number;
  };
  peerServer: {
    cuts: number;
    idAcceptedMs: number[];
    p50: number;
    p95: number;
    partnerReceived: string[];
    sentWhileAway: number;
    deliveredAfter: number;
  };
}

/** A wire-level resumable client over `ws` (what the protocol text says, nothing more). */
class WsResumer {
  ws!: WebSocket;
  id = '';
  token = '';
  readonly ledger = new ResumeLedger();
  readonly got: string[] = [];
  peerDisconnects = 0;
  up = false;
  private pending: ((m: Record<string, unknown>) => void) | null = null;
  constructor(private readonly url: string) {}
  async start(): Promise<void> {
    const first = await this.open();
    this.id = String(first['id']);
    this.ws.send(encode({ type: 'hello', version: 2, capabilities: ['resume'] }));
    this.token = String((await this.await('welcome'))['resume_token']);
    this.up = true;
  }
  private open(): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, { perMessageDeflate: false });
      this.ws = ws;
      ws.once('error', reject);
      ws.on('close', () => {
        if (this.ws === ws) this.up = false;
      });
      let first = true;
      ws.on('message', (d) => {
        const text = d.toString();
        const m = JSON.parse(text) as Record<string, unknown>;
        if (first) {
          first = false;
          return resolve(m);
        }
        this.take(text, m);
      });
    });
  }
  private await(type: string): Promise<Record<string, unknown>> {
    return new Promise(
      (resolve) =>
        (this.pending = (m) =>
          m['type'] === type || m['type'] === 'error' ? ((this.pending = null), resolve(m)) : undefined),
    );
  }
  private take(text: string, m: Record<string, unknown>): void {
    const type = String(m['type']);
    this.pending?.(m);
    if (type === 'ping') this.ws.send('{"type":"pong"}');
    if (type === 'ack') this.ledger.acknowledged(Number(m['received']));
    if (uncountedServerTypes.has(type) || type === 'resumed') return;
    if (this.ledger.receiving(text.length)) this.ws.send(encode({ type: 'ack', received: this.ledger.received }));
    if (type === 'offer') this.got.push(String(m['sdp']));
    if (type === 'peer_disconnected') this.peerDisconnects++;
  }
  send(message: ClientMessage): void {
    const text = encode(message);
    this.ledger.sending(text);
    if (this.up) this.ws.send(text);
  }
  /** Try to resume until it works (bounded by `ms`). */
  async resume(ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      try {
        await this.open();
        this.ws.send(encode({ type: 'resume', token: this.token, received: this.ledger.received }));
        const r = await this.await('resumed');
        if (r['type'] !== 'resumed') throw new Error(`resume refused: ${String(r['message'])}`);
        this.token = String(r['resume_token']);
        this.ledger.ackSent();
        for (const f of this.ledger.replayAfter(Number(r['received']))!) this.ws.send(f);
        this.up = true;
        return;
      } catch (e) {
        if ((e as Error).message.startsWith('resume refused')) throw e;
        await sleep(100);
      }
    }
    throw new Error('could not resume');
  }
}

/** No WebRTC needed to measure signaling: a peer factory that is never asked. */
const noPeers: PeerFactory = () => {
  throw new Error('no peers in the resume bench');
};

export async function resumeFigures(cuts: number): Promise<ResumeFigure> {
  // in process: many cuts, and heap per detached session
  const script = fileURLToPath(new URL('./resume-core.ts', import.meta.url));
  const core = JSON.parse(
    execFileSync(
      process.execPath,
      ['--expose-gc', '--conditions=@tandem/source', '--import', 'tsx', script, '1000', '10000'],
      { encoding: 'utf8' },
    )
      .trim()
      .split('\n')
      .at(-1)!,
  ) as Record<string, number>;
  log(
    `resume in memory: ${core['cuts']} cuts, ${core['frames']} frames, ${core['lost']} lost, ${core['duplicated']} duplicated; ${core['extraBytesPerDetachedSession']!.toFixed(0)} B extra per detached session`,
  );

  // real sockets: tandem-server, A and C through the proxy, B direct
  const sys = await startSystem('tandem', ['--rate-limit', '50', '--rate-burst', '200']);
  const proxy = await startTcpProxy(sys.port);
  const resumedMs: number[] = [];
  let sentA = 0;
  let sentB = 0;
  const a = new WsResumer(proxy.url);
  const b = new WsResumer(sys.base);
  await a.start();
  await b.start();
  a.send({ type: 'pair_request', target_id: b.id });
  await sleep(200);
  let resumedAt = 0;
  const c = createTandemClient({ url: proxy.url, transport: wsTransport(), createPeer: noPeers });
  c.on('resumed', () => (resumedAt = performance.now()));
  while (c.id === null) await sleep(10);
  let talking = true;
  const chatter = (async () => {
    while (talking) {
      a.send({ type: 'offer', sdp: `a:${sentA++}` });
      b.send({ type: 'offer', sdp: `b:${sentB++}` });
      await sleep(50);
    }
  })();
  try {
    for (let i = 0; i < cuts; i++) {
      resumedAt = 0;
      await proxy.reset(500 + Math.floor(Math.random() * 2_500));
      const back = performance.now();
      await a.resume();
      const end = Date.now() + 15_000;
      while (resumedAt === 0 && Date.now() < end) await sleep(5);
      if (resumedAt === 0) throw new Error('the client core did not resume within 15 s of the link coming back');
      resumedMs.push(Math.max(0, resumedAt - back));
      await sleep(300);
    }
  } finally {
    talking = false;
    await chatter;
  }
  await sleep(1_000);
  const expectA = Array.from({ length: sentA }, (_, i) => `a:${i}`);
  const expectB = Array.from({ length: sentB }, (_, i) => `b:${i}`);
  const countLost = (got: string[], expected: string[]) => expected.filter((e) => !got.includes(e)).length;
  const countDup = (got: string[]) => got.length - new Set(got).size;
  const real = {
    cuts,
    frames: sentA + sentB,
    lost: countLost(b.got, expectA) + countLost(a.got, expectB),
    duplicated: countDup(a.got) + countDup(b.got),
    peerDisconnected: a.peerDisconnects + b.peerDisconnects,
    resumedMs,
    p50: pct(resumedMs, 50),
    p95: pct(resumedMs, 95),
  };
  log(
    `resume real: ${cuts} cuts, link back → resumed p50 ${real.p50.toFixed(0)} ms p95 ${real.p95.toFixed(0)} ms; ${real.frames} frames, ${real.lost} lost, ${real.duplicated} duplicated`,
  );
  c.close();
  a.ws.terminate();
  b.ws.terminate();
  await proxy.close();
  await sys.stop();

  const peerServer = await peerServerCuts(Math.min(cuts, 10));
  return {
    inMemory: {
      cuts: core['cuts']!,
      frames: core['frames']!,
      lost: core['lost']!,
      duplicated: core['duplicated']!,
      outOfOrder: core['outOfOrder']!,
      peerDisconnected: core['peerDisconnected']!,
    },
    real,
    memory: {
      sessions: core['sessions']!,
      bytesPerAttachedV1Connection: core['bytesPerAttachedV1Connection']!,
      bytesPerDetachedSession: core['bytesPerDetachedSession']!,
      extraBytesPerDetachedSession: core['extraBytesPerDetachedSession']!,
    },
    peerServer,
  };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? 0;
}

/** PeerServer: X (through the proxy) and Y; reset X's link, then reconnect X with the same ID and token every 100 ms. */
async function peerServerCuts(cuts: number): Promise<ResumeFigure['peerServer']> {
  const sys = await startSystem('peerserver');
  const proxy = await startTcpProxy(sys.port);
  const token = randomUUID().slice(0, 12);
  const xId = randomUUID();
  const yId = randomUUID();
  const url = (base: string, id: string) => `${base}/peerjs?key=peerjs&id=${id}&token=${token}`;
  const openPeer = (base: string, id: string) =>
    new Promise<{ ws: WebSocket; first: string; frames: string[] }>((resolve, reject) => {
      const ws = new WebSocket(url(base, id));
      const frames: string[] = [];
      ws.on('message', (d) => {
        frames.push(d.toString());
        if (frames.length === 1) resolve({ ws, first: frames[0]!, frames });
      });
      ws.on('error', reject);
      ws.on('close', () => frames.length === 0 && reject(new Error('closed before a first frame')));
    });
  const y = await openPeer(sys.base, yId);
  let x = await openPeer(proxy.url, xId);
  const accepted: number[] = [];
  let sentWhileAway = 0;
  let deliveredAfter = 0;
  const offerTo = (dst: string, sdp: string) =>
    JSON.stringify({
      type: 'OFFER',
      dst,
      payload: { sdp: { type: 'offer', sdp }, type: 'data', connectionId: 'dc_bench' },
    });
  for (let i = 0; i < cuts; i++) {
    const cut = proxy.reset(500 + Math.floor(Math.random() * 2_500));
    await sleep(100);
    y.ws.send(offerTo(xId, `while away ${i}`)); // the partner signals while X's link is down
    sentWhileAway++;
    await cut;
    const back = performance.now();
    const end = Date.now() + 15_000;
    for (;;) {
      try {
        const again = await openPeer(proxy.url, xId);
        if (again.first.includes('"OPEN"')) {
          accepted.push(performance.now() - back);
          x = again;
          await sleep(300);
          deliveredAfter += x.frames.filter((f) => f.includes(`while away ${i}`)).length;
          break;
        }
        again.ws.terminate(); // ID-TAKEN: the server still holds the old socket
      } catch {
        /* refused: try again */
      }
      if (Date.now() > end) throw new Error('PeerServer never accepted the ID again within 15 s');
      await sleep(100);
    }
  }
  await sleep(500);
  const partnerReceived = [...new Set(y.frames.map((f) => String((JSON.parse(f) as { type?: string }).type)))];
  log(
    `PeerServer: ${cuts} cuts, ID accepted again p50 ${pct(accepted, 50).toFixed(0)} ms; ${deliveredAfter}/${sentWhileAway} offers sent while away delivered; the partner got: ${partnerReceived.join(', ')}`,
  );
  x.ws.terminate();
  y.ws.terminate();
  await proxy.close();
  await sys.stop();
  return {
    cuts,
    idAcceptedMs: accepted,
    p50: pct(accepted, 50),
    p95: pct(accepted, 95),
    partnerReceived,
    sentWhileAway,
    deliveredAfter,
  };
}
