// Model-based property test: random command sequences against the real engine and a small model,
// with the invariants of the server-core issue checked after every step.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { arbClient } from '@tandem/protocol/arbitraries';
import { decodeClientMessage } from '@tandem/protocol';
import { MemoryServer, type MemoryClient } from './testing/memory-server.js';

const INTERVAL = 10_000;
const TIMEOUT = 5_000;
const TICK = 100;
const SPREAD = 0.1;
const PING = '{"type":"ping"}';

interface ModelClient {
  client: MemoryClient;
  id: string;
  open: boolean;
  peer: number | null;
  lastHeard: number;
  peerDisconnectedExpected: number;
  closedAt: number | null;
}
interface Model {
  clients: ModelClient[];
}
interface Real {
  server: MemoryServer;
}

const count = (c: MemoryClient, type: string) => c.messages().filter((m) => m['type'] === type).length;

function checkInvariants(m: Model, r: Real): void {
  for (const [i, mc] of m.clients.entries()) {
    const conn = mc.client.conn;
    expect(conn.isClosed, `client ${i} open state`).toBe(!mc.open);
    if (mc.open) {
      // pairing is symmetric and matches the model
      const expectedPeer = mc.peer === null ? null : m.clients[mc.peer]!.id;
      expect(conn.peerId, `client ${i} peer`).toBe(expectedPeer);
      if (conn.peerId !== null) expect(r.server.engine.connection(conn.peerId)!.peerId).toBe(conn.id);
      // a client that is still open was heard within interval + timeout (+ one tick)
      expect(r.server.now - mc.lastHeard).toBeLessThanOrEqual(INTERVAL + TIMEOUT + TICK);
    }
    // exactly one peer_disconnected per end of a pairing
    expect(count(mc.client, 'peer_disconnected'), `client ${i} peer_disconnected count`).toBe(
      mc.peerDisconnectedExpected,
    );
  }
  const pairs = m.clients.filter((c) => c.open && c.peer !== null).length / 2;
  expect(r.server.engine.stats().pairs).toBe(pairs);
  expect(r.server.engine.stats().connections).toBe(m.clients.filter((c) => c.open).length);
}

/** Apply the closing of client `i` to the model (by the client or by the server). */
function modelClose(m: Model, i: number, now: number): void {
  const mc = m.clients[i]!;
  mc.open = false;
  mc.closedAt = now;
  if (mc.peer !== null) {
    const p = m.clients[mc.peer]!;
    p.peer = null;
    p.peerDisconnectedExpected++;
    mc.peer = null;
  }
}

const openIndices = (m: Model) => m.clients.flatMap((c, i) => (c.open ? [i] : []));
/** The `n`-th open client (mod their count), by index into the model. */
const pickOpen = (m: Model, n: number): number => {
  const open = openIndices(m);
  return open[n % open.length]!;
};

class OpenCmd implements fc.Command<Model, Real> {
  check = () => true;
  run(m: Model, r: Real): void {
    const client = r.server.connect();
    expect(client.messages()[0]?.['type']).toBe('your_id');
    m.clients.push({
      client,
      id: client.conn.id,
      open: true,
      peer: null,
      lastHeard: r.server.now,
      peerDisconnectedExpected: 0,
      closedAt: null,
    });
    checkInvariants(m, r);
  }
  toString = () => 'open';
}

class PairCmd implements fc.Command<Model, Real> {
  constructor(
    readonly from: number,
    readonly to: number,
    readonly toMissing: boolean,
  ) {}
  check = (m: Model) => openIndices(m).length > 0;
  run(m: Model, r: Real): void {
    const i = pickOpen(m, this.from);
    const j = this.to % m.clients.length; // may be closed: then "not found"
    const a = m.clients[i]!;
    const b = m.clients[j]!;
    const target = this.toMissing ? 'no-such-id' : b.id;
    a.client.send(JSON.stringify({ type: 'pair_request', target_id: target }));
    a.lastHeard = r.server.now;
    const reply = a.client.messages().at(-1);
    let expected: string | null = null;
    if (a.peer !== null) expected = 'You are already paired';
    else if (!this.toMissing && i === j) expected = 'Cannot pair with yourself';
    else if (this.toMissing || !b.open) expected = 'Target client not found';
    else if (b.peer !== null) expected = 'Target client is already paired';
    if (expected !== null) {
      expect(reply).toEqual({ type: 'error', message: expected });
    } else {
      expect(reply).toEqual({ type: 'paired', peer_id: b.id, initiator: true });
      expect(b.client.messages().at(-1)).toEqual({ type: 'paired', peer_id: a.id, initiator: false });
      a.peer = j;
      b.peer = i;
    }
    checkInvariants(m, r);
  }
  toString = () => `pair(${this.from}→${this.toMissing ? 'missing' : this.to})`;
}

let seq = 0;
class RelayCmd implements fc.Command<Model, Real> {
  constructor(
    readonly from: number,
    readonly frame: Record<string, unknown>,
  ) {}
  check = (m: Model) => openIndices(m).length > 0;
  run(m: Model, r: Real): void {
    const i = pickOpen(m, this.from);
    const a = m.clients[i]!;
    const before = m.clients.map((c) => c.client.received.length);
    const frame = { ...this.frame, seq: ++seq };
    a.client.send(JSON.stringify(frame));
    a.lastHeard = r.server.now;
    for (const [k, c] of m.clients.entries()) {
      const fresh = c.client.received.slice(before[k]);
      if (a.peer !== null && k === a.peer)
        expect(fresh.map((f) => JSON.parse(f))).toEqual([{ ...frame, from_peer: true }]);
      else if (a.peer === null && k === i)
        expect(fresh.map((f) => JSON.parse(f))).toEqual([{ type: 'error', message: 'Not paired' }]);
      else expect(fresh, `client ${k} must not see a frame from ${i}`).toEqual([]);
    }
    checkInvariants(m, r);
  }
  toString = () => `relay(${this.from}, ${String(this.frame['type'])})`;
}

class GarbageCmd implements fc.Command<Model, Real> {
  constructor(
    readonly from: number,
    readonly text: string,
  ) {}
  check = (m: Model) => openIndices(m).length > 0;
  run(m: Model, r: Real): void {
    const i = pickOpen(m, this.from);
    const a = m.clients[i]!;
    const before = m.clients.map((c) => c.client.received.length);
    a.client.send(this.text);
    a.lastHeard = r.server.now;
    // the model's answer: what the decoder makes of the text decides the reply exactly
    const decoded = decodeClientMessage(this.text);
    const expected: { to: number; frame: Record<string, unknown> }[] = [];
    if (!decoded.ok)
      expected.push({ to: i, frame: { type: 'error', message: decoded.error.message, code: decoded.error.code } });
    else if (decoded.value.type === 'hello')
      expected.push({ to: i, frame: { type: 'welcome', version: 2, capabilities: expect.any(Array) } });
    else if (decoded.value.type === 'pair_request')
      throw new Error('garbage generator produced a pair_request; model it as PairCmd');
    else if (decoded.value.type !== 'pong') {
      if (a.peer === null) expected.push({ to: i, frame: { type: 'error', message: 'Not paired' } });
      else expected.push({ to: a.peer, frame: { ...JSON.parse(this.text), from_peer: true } });
    }
    for (const [k, c] of m.clients.entries()) {
      const fresh = c.client.received.slice(before[k]).map((f) => JSON.parse(f) as unknown);
      expect(fresh, `client ${k} after garbage from ${i}`).toEqual(
        expected.filter((e) => e.to === k).map((e) => e.frame),
      );
    }
    checkInvariants(m, r);
  }
  toString = () => `garbage(${this.from}, ${JSON.stringify(this.text).slice(0, 40)})`;
}

class PongCmd implements fc.Command<Model, Real> {
  constructor(readonly from: number) {}
  check = (m: Model) => openIndices(m).length > 0;
  run(m: Model, r: Real): void {
    const a = m.clients[pickOpen(m, this.from)]!;
    a.client.send('{"type":"pong"}');
    a.lastHeard = r.server.now;
    checkInvariants(m, r);
  }
  toString = () => `pong(${this.from})`;
}

class CloseCmd implements fc.Command<Model, Real> {
  constructor(readonly which: number) {}
  check = (m: Model) => openIndices(m).length > 0;
  run(m: Model, r: Real): void {
    const i = pickOpen(m, this.which);
    m.clients[i]!.client.close();
    modelClose(m, i, r.server.now);
    checkInvariants(m, r);
  }
  toString = () => `close(${this.which})`;
}

class AdvanceCmd implements fc.Command<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const timedOut: number[] = [];
    for (const [i, c] of m.clients.entries()) {
      if (!c.open) continue;
      c.client.onClose = (code, reason) => {
        expect({ code, reason }).toEqual({ code: 1001, reason: 'ping timeout' });
        const silentFor = r.server.now - c.lastHeard;
        expect(silentFor, 'closed no earlier than the timeout').toBeGreaterThanOrEqual(TIMEOUT);
        expect(silentFor, 'closed no later than interval + timeout').toBeLessThanOrEqual(INTERVAL + TIMEOUT + TICK);
        timedOut.push(i);
      };
    }
    const pingsBefore = m.clients.map((c) => c.client.received.filter((f) => f === PING).length);
    for (const [i, c] of m.clients.entries()) {
      if (!c.open) continue;
      c.client.onFrame = (f) => {
        if (f !== PING) return;
        // a client heard within its interval (less the spread) is never pinged
        expect(r.server.now - c.lastHeard, `client ${i} pinged while live`).toBeGreaterThanOrEqual(
          INTERVAL * (1 - SPREAD),
        );
      };
    }
    r.server.advance(this.ms);
    for (const [i, c] of m.clients.entries()) {
      c.client.onFrame = null;
      const pings = c.client.received.filter((f) => f === PING).length - pingsBefore[i]!;
      // and one ping per silence: at most one per interval of this advance, plus one
      expect(pings, `client ${i} pings in ${this.ms} ms`).toBeLessThanOrEqual(
        Math.floor(this.ms / (INTERVAL * (1 - SPREAD))) + 1,
      );
    }
    for (const i of timedOut) modelClose(m, i, r.server.now);
    for (const c of m.clients) c.client.onClose = null;
    checkInvariants(m, r);
  }
  toString = () => `advance(${this.ms})`;
}

const signal = fc.oneof(arbClient.offer(), arbClient.answer(), arbClient.candidate()) as fc.Arbitrary<
  Record<string, unknown>
>;
const idx = fc.nat(20);
const commands = [
  fc.constant(new OpenCmd()),
  fc.constant(new OpenCmd()),
  fc
    .tuple(
      idx,
      idx,
      fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    )
    .map(([a, b, miss]) => new PairCmd(a, b, miss)),
  fc.tuple(idx, idx).map(([a, b]) => new PairCmd(a, b, false)),
  fc.tuple(idx, signal).map(([a, f]) => new RelayCmd(a, f)),
  fc
    .tuple(idx, fc.oneof(fc.string(), fc.constantFrom('{', '[]', '{"type":"x"}', '{"type":"offer"}', '')))
    .map(([a, t]) => new GarbageCmd(a, t)),
  idx.map((a) => new PongCmd(a)),
  idx.map((a) => new CloseCmd(a)),
  fc.integer({ min: 1, max: 20_000 }).map((ms) => new AdvanceCmd(ms)),
];

describe('engine against a model', () => {
  it('keeps every invariant over random command sequences', () => {
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 80 }), (cmds) => {
        const server = new MemoryServer({
          settings: {
            pingIntervalMs: INTERVAL,
            pingTimeoutMs: TIMEOUT,
            tickMs: TICK,
            pingSpread: SPREAD,
            rateLimitBurst: 10_000,
          },
        });
        fc.modelRun(() => ({ model: { clients: [] }, real: { server } }), cmds);
      }),
      { numRuns: 300 },
    );
  });
});
