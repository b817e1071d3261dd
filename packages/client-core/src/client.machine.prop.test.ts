// Random interleavings, duplications and losses of signaling and peer events, fed straight to the
// machine. Invariants: at most one live peer session; every session is closed exactly once; no
// effect addresses a closed session; candidates are applied only after the remote description;
// after CLOSE nothing is left.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createActor, SimulatedClock } from 'xstate';
import { clientMachine, serverEvent, type ClientEmitted, type ClientEvent } from './client.machine.js';

const cand = (peer: number, n: number) => ({
  candidate: `candidate:${peer} ${n} udp 1 10.0.0.${peer} 9 typ host`,
  sdpMid: '0',
  sdpMLineIndex: 0,
});

type Step =
  | {
      kind: 'server';
      msg: 'your_id' | 'paired_i' | 'paired_r' | 'offer' | 'answer' | 'ping' | 'peer_disconnected' | 'error';
    }
  | { kind: 'candidate'; peer: number; n: number }
  | { kind: 'eoc' }
  | {
      kind: 'peer';
      what: 'LOCAL_SDP' | 'REMOTE_SET' | 'CHANNEL_OPEN' | 'CHANNEL_CLOSE' | 'PEER_FAILED' | 'LOCAL_CANDIDATE';
      genOffset: number;
    }
  | { kind: 'ws'; what: 'open' | 'closed' }
  | { kind: 'user'; what: 'pair' | 'send' }
  | { kind: 'time'; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('server' as const),
    msg: fc.constantFrom('your_id', 'paired_i', 'paired_r', 'offer', 'answer', 'ping', 'peer_disconnected', 'error'),
  }),
  fc.record({
    kind: fc.constant('candidate' as const),
    peer: fc.integer({ min: 0, max: 3 }),
    n: fc.integer({ min: 0, max: 3 }),
  }),
  fc.constant({ kind: 'eoc' as const }),
  fc.record({
    kind: fc.constant('peer' as const),
    what: fc.constantFrom('LOCAL_SDP', 'REMOTE_SET', 'CHANNEL_OPEN', 'CHANNEL_CLOSE', 'PEER_FAILED', 'LOCAL_CANDIDATE'),
    genOffset: fc.constantFrom(0, 0, 0, -1),
  }),
  fc.record({ kind: fc.constant('ws' as const), what: fc.constantFrom('open', 'closed') }),
  fc.record({ kind: fc.constant('user' as const), what: fc.constantFrom('pair', 'send') }),
  fc.record({ kind: fc.constant('time' as const), ms: fc.integer({ min: 1, max: 40_000 }) }),
);

function toEvent(s: Step, gen: number): ClientEvent | null {
  switch (s.kind) {
    case 'server': {
      const m = {
        your_id: { type: 'your_id', id: 'me', capabilities: ['keepalive.ws-ping'] },
        paired_i: { type: 'paired', peer_id: 'p', initiator: true },
        paired_r: { type: 'paired', peer_id: 'p', initiator: false },
        offer: { type: 'offer', sdp: 'o', from_peer: true },
        answer: { type: 'answer', sdp: 'a', from_peer: true },
        ping: { type: 'ping' },
        peer_disconnected: { type: 'peer_disconnected', peer_id: 'p' },
        error: { type: 'error', message: 'Target client not found' },
      }[s.msg];
      return serverEvent(m as never);
    }
    case 'candidate':
      return serverEvent({ type: 'candidate', candidate: cand(s.peer, s.n), from_peer: true });
    case 'eoc':
      return serverEvent({ type: 'candidate', candidate: { candidate: '' }, from_peer: true });
    case 'peer': {
      const g = gen + s.genOffset;
      if (s.what === 'LOCAL_SDP')
        return { type: 'LOCAL_SDP', gen: g, sdp: 'x', kind: g % 2 === 0 ? 'offer' : 'answer' };
      if (s.what === 'LOCAL_CANDIDATE') return { type: 'LOCAL_CANDIDATE', gen: g, candidate: null };
      if (s.what === 'PEER_FAILED') return { type: 'PEER_FAILED', gen: g, reason: 'ice failed' };
      return { type: s.what, gen: g };
    }
    case 'ws':
      return s.what === 'open' ? { type: 'WS_OPEN' } : { type: 'WS_CLOSED', code: 1006, reason: '' };
    case 'user':
      return s.what === 'pair' ? { type: 'PAIR', key: 'p' } : { type: 'SEND', data: 'hi' };
    case 'time':
      return null;
  }
}

describe('client machine under random interleavings', () => {
  it('never leaks a peer, never talks to a closed one, never applies a candidate early', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const clock = new SimulatedClock();
        let policyCalls = 0;
        let closes = 0;
        const reconnect = {
          nextDelayMs: ({ attempt }: { attempt: number }) => (policyCalls++, attempt < 5 ? 1000 : null),
        };
        const actor = createActor(clientMachine, { input: { url: 'x', reconnect }, clock });
        const live = new Set<number>();
        const closed = new Set<number>();
        const remoteSet = new Set<number>();
        const effects: ClientEmitted[] = [];
        let sdpSent = false;
        actor.on('*', (e) => {
          const ev = e as ClientEmitted;
          effects.push(ev);
          if (ev.type === 'ws.send' && (ev.message.type === 'offer' || ev.message.type === 'answer')) sdpSent = true;
          if (ev.type === 'ws.send' && ev.message.type === 'candidate')
            expect(sdpSent, 'a local candidate goes out only after our SDP').toBe(true);
          if (ev.type === 'peer.create') {
            sdpSent = false;
            expect(live.size, 'at most one live peer').toBe(0);
            live.add(ev.gen);
          } else if (ev.type === 'peer.close') {
            expect(closed.has(ev.gen), 'closed once').toBe(false);
            expect(live.has(ev.gen)).toBe(true);
            live.delete(ev.gen);
            closed.add(ev.gen);
          } else if (ev.type.startsWith('peer.')) {
            const gen = (ev as { gen: number }).gen;
            expect(live.has(gen), `${ev.type} addresses a live peer`).toBe(true);
            if (ev.type === 'peer.addCandidate')
              expect(remoteSet.has(gen), 'candidate only after remote description').toBe(true);
          }
        });
        actor.start();
        for (const s of steps) {
          const gen = actor.getSnapshot().context.gen;
          if (s.kind === 'peer' && s.what === 'REMOTE_SET' && s.genOffset === 0 && live.has(gen)) remoteSet.add(gen);
          if (s.kind === 'peer' && s.what === 'REMOTE_SET' && s.genOffset === 0 && !live.has(gen)) continue; // a driver only reports for live peers
          const ev = toEvent(s, gen);
          if (ev?.type === 'WS_CLOSED') closes++;
          if (ev === null) clock.increment((s as { ms: number }).ms);
          else actor.send(ev);
          expect(policyCalls, 'the reconnect policy is asked once per close').toBe(closes);
          const snap = actor.getSnapshot();
          const active = snap.matches({ running: { session: 'active' } });
          expect(live.size, 'a live peer exactly while a session is active').toBe(active ? 1 : 0);
          expect(snap.context.queue.length).toBeLessThanOrEqual(64);
        }
        actor.send({ type: 'CLOSE' });
        expect(live.size, 'nothing left after close').toBe(0);
        expect(actor.getSnapshot().status).toBe('done');
        expect(effects.filter((e) => e.type === 'closed')).toHaveLength(1);
        const addCands = effects.filter((e) => e.type === 'peer.addCandidate').map((e) => JSON.stringify(e));
        expect(new Set(addCands).size, 'duplicates are applied once').toBe(addCands.length);
      }),
      { numRuns: 400 },
    );
  });
});

describe('server errors by code', () => {
  const errorsFor = (message: { type: 'error'; message: string; code?: string }) => {
    const actor = createActor(clientMachine, {
      clock: new SimulatedClock(),
      input: { url: 'x', reconnect: { nextDelayMs: () => null } },
    });
    const got: ClientEmitted[] = [];
    actor.on('error', (e) => got.push(e));
    actor.start();
    actor.send({ type: 'WS_OPEN' });
    actor.send(serverEvent({ type: 'your_id', id: 'me' }));
    actor.send(serverEvent(message));
    actor.stop();
    return got.map((e) => (e as { code: string }).code);
  };
  it("takes a v2 server's code over its words", () => {
    expect(errorsFor({ type: 'error', message: 'Zielclient nicht gefunden', code: 'target_not_found' })).toEqual([
      'target_not_found',
    ]);
    expect(errorsFor({ type: 'error', message: 'Target client not found', code: 'unavailable' })).toEqual([
      'server_error',
    ]);
  });
  it('falls back to the wire-v1 words when the error carries no code (a v1 server)', () => {
    expect(errorsFor({ type: 'error', message: 'Target client is already paired' })).toEqual(['target_already_paired']);
    expect(errorsFor({ type: 'error', message: 'Something else' })).toEqual(['server_error']);
  });
});

describe('the order of a pairing', () => {
  it("the initiator's peer connection and offer start before the app hears 'paired'", () => {
    const actor = createActor(clientMachine, {
      clock: new SimulatedClock(),
      input: { url: 'x', reconnect: { nextDelayMs: () => null } },
    });
    const got: string[] = [];
    actor.on('*', (e) => got.push((e as ClientEmitted).type));
    actor.start();
    actor.send({ type: 'WS_OPEN' });
    actor.send(serverEvent({ type: 'your_id', id: 'me' }));
    actor.send({ type: 'PAIR', key: 'them' });
    got.length = 0;
    actor.send(serverEvent({ type: 'paired', peer_id: 'them', initiator: true }));
    actor.stop();
    const at = (t: string) => got.indexOf(t);
    expect(at('peer.create')).toBeGreaterThanOrEqual(0);
    expect(at('peer.createOffer')).toBeGreaterThan(at('peer.create'));
    expect(at('paired')).toBeGreaterThan(at('peer.createOffer'));
  });
});
