// Model-based tests: every simple path through each machine (xstate/graph) is replayed against
// the real engine, and the engine's state must match the machine's after every step.
import { describe, expect, it } from 'vitest';
import { createTestModel } from 'xstate/graph';
import { pairingEvents, pairingMachine, type PairingEvent } from './pairing/pairing.machine.js';
import { keepaliveEvents, keepaliveMachine, type KeepaliveEvent } from './keepalive/keepalive.machine.js';
import { compileMachine } from './compile.js';
import { MemoryServer, type MemoryClient } from './testing/memory-server.js';

const engineCanSend = (value: unknown, e: PairingEvent | KeepaliveEvent) =>
  // PEER_LEFT needs a peer; PAIRED_BY_PEER needs an unpaired target (the engine checks first);
  // requester_busy needs a second node pairing the requester meanwhile (cluster.test.ts covers it)
  !(value === 'unpaired' && e.type === 'PEER_LEFT') &&
  !(value === 'paired' && e.type === 'PAIRED_BY_PEER') &&
  !(e.type === 'PAIR_REQUEST' && e.target === 'requester_busy');

describe('pairing machine paths against the engine', () => {
  const model = createTestModel(pairingMachine, {
    events: (s) => pairingEvents.filter((e) => engineCanSend(s.value, e)),
  });
  const paths = model.getSimplePaths();
  it('has paths to every state', () => {
    const seen = new Set(paths.flatMap((p) => p.steps.map((st) => st.state.value as string)));
    expect(seen).toEqual(new Set(['unpaired', 'paired', 'closed']));
  });
  for (const path of paths) {
    it(`${
      path.steps
        .map((s) => s.event.type + ('target' in s.event ? `(${String(s.event.target)})` : ''))
        .filter((t) => t !== 'xstate.init')
        .join(' → ') || 'initial'
    }`, () => {
      const s = new MemoryServer();
      const x = s.connect();
      const others: MemoryClient[] = [];
      const fresh = () => {
        const c = s.connect();
        others.push(c);
        return c;
      };
      for (const step of path.steps) {
        const e = step.event as PairingEvent;
        if ((e.type as string) === 'xstate.init') continue;
        const before = x.received.length;
        switch (e.type) {
          case 'PAIR_REQUEST': {
            let target = 'nobody';
            if (e.target === 'self') target = x.conn.id;
            if (e.target === 'free') target = fresh().conn.id;
            if (e.target === 'busy') {
              const [p, q] = [fresh(), fresh()];
              p.send(JSON.stringify({ type: 'pair_request', target_id: q.conn.id }));
              target = p.conn.id;
            }
            x.send(JSON.stringify({ type: 'pair_request', target_id: target }));
            break;
          }
          case 'PAIRED_BY_PEER':
            fresh().send(JSON.stringify({ type: 'pair_request', target_id: x.conn.id }));
            break;
          case 'SIGNAL': {
            const peer = x.conn.peerId === null ? null : s.engine.connection(x.conn.peerId)!.handle;
            x.send('{"type":"offer","sdp":"v=0"}');
            if (peer) expect(peer.messages().at(-1)).toEqual({ type: 'offer', sdp: 'v=0', from_peer: true });
            else expect(x.messages().at(-1)).toEqual({ type: 'error', message: 'Not paired' });
            break;
          }
          case 'PEER_LEFT':
            s.engine.connection(x.conn.peerId!)!.handle.close();
            break;
          case 'LEAVE': {
            const peer = x.conn.peerId === null ? null : s.engine.connection(x.conn.peerId)!.handle;
            x.send('{"type":"leave"}');
            if (peer) expect(peer.messages().at(-1)).toEqual({ type: 'peer_disconnected', peer_id: x.conn.id });
            break;
          }
          case 'CLOSE':
            x.close();
            break;
          case 'SHUTDOWN': {
            const peer = x.conn.peerId === null ? null : s.engine.connection(x.conn.peerId)!.handle;
            s.engine.shutdown();
            expect(x.closedBy).toEqual({ code: 1001, reason: 'server shutting down', abrupt: false });
            // a partner closes too and is not told its peer left
            if (peer) expect(peer.messages().filter((m) => m['type'] === 'peer_disconnected')).toEqual([]);
            expect(s.engine.stats()).toMatchObject({ connections: 0, pairs: 0 });
            break;
          }
        }
        const value = step.state.value;
        expect(x.conn.isPaired).toBe(value === 'paired');
        expect(x.conn.isClosed).toBe(value === 'closed');
        if (e.type !== 'SIGNAL' && e.type !== 'CLOSE' && e.type !== 'SHUTDOWN' && e.type !== 'LEAVE')
          expect(x.received.length, 'the client is told of every step').toBeGreaterThan(before);
      }
    });
  }
});

describe('keepalive machine paths against the engine', () => {
  const model = createTestModel(keepaliveMachine, { events: keepaliveEvents as KeepaliveEvent[] });
  const resumableOnly = new Set(['LOST', 'RESUMED', 'GRACE_OVER']);
  for (const path of model.getSimplePaths()) {
    const events = path.steps
      .map((s) => s.event as KeepaliveEvent | { type: 'xstate.init' })
      .filter((e): e is KeepaliveEvent => e.type !== 'xstate.init');
    // a connection is resumable or not for its whole life: paths that mix the two cannot happen
    const resumable = events.some((e) => resumableOnly.has(e.type) || (e.type === 'DEADLINE' && e.resumable));
    if (resumable && events.some((e) => e.type === 'DEADLINE' && !e.resumable)) continue;
    const name =
      events
        .map((e) => (e.type === 'DEADLINE' ? `DEADLINE(${e.resumable ? 'resumable' : 'v1'})` : e.type))
        .join(' → ') || 'initial';
    it(name, () => {
      let n = 0;
      const s = new MemoryServer({
        settings: { pingIntervalMs: 1000, pingTimeoutMs: 500, tickMs: 10, pingSpread: 0, resumeGraceMs: 2000 },
        generateToken: () => `tok${String(++n).padStart(20, '0')}`,
      });
      let link = s.connect();
      const id = link.conn.id;
      const links = [link];
      let token = '';
      const counted = () =>
        links.reduce(
          (sum, l) =>
            sum +
            l.messages().filter((m) => !['your_id', 'welcome', 'resumed', 'ack', 'ping'].includes(String(m['type'])))
              .length,
          0,
        );
      const tokenFrom = (c: typeof link) => {
        const m = c.messages().findLast((f) => typeof f['resume_token'] === 'string');
        if (m) token = String(m['resume_token']);
      };
      if (resumable) {
        link.send('{"type":"hello","version":2,"capabilities":["resume"]}');
        tokenFrom(link);
        expect(token).not.toBe('');
      }
      let probes = 0;
      let detached = false;
      for (const [i, step] of path.steps.entries()) {
        const event = step.event as KeepaliveEvent | { type: 'xstate.init' };
        if (event.type === 'xstate.init') continue;
        if (event.type === 'DUE') probes++;
        switch (event.type) {
          case 'HEARD':
            link.send('{"type":"pong"}');
            break;
          case 'DUE':
            s.advance(1000);
            break;
          case 'DEADLINE':
            s.advance(500);
            break;
          case 'LOST':
            link.close(1006);
            break;
          case 'RESUMED': {
            const next = s.connect();
            next.send(JSON.stringify({ type: 'resume', token, received: 0 }));
            expect(next.messages().at(-1)).toMatchObject({ type: 'resumed', id });
            links.push(next);
            link = next;
            tokenFrom(link);
            break;
          }
          case 'GRACE_OVER':
            s.advance(2000);
            break;
          case 'CLOSE':
            if (detached) s.engine.shutdown();
            else link.close();
            break;
        }
        detached = step.state.value === 'detached';
        const pings = links.reduce((sum, l) => sum + l.received.filter((f) => f === '{"type":"ping"}').length, 0);
        // one ping per probe and none otherwise: a live connection is never pinged
        expect(pings, `pings after step ${i} ${event.type} (state ${String(step.state.value)})`).toBe(probes);
        expect(s.engine.connection(id) === undefined, `session ended after ${event.type}`).toBe(
          step.state.value === 'dead',
        );
        if (event.type === 'DEADLINE') expect(link.closedBy?.reason).toBe('ping timeout');
        expect(counted(), 'a session without a partner gets no counted frames').toBe(0);
      }
    });
  }
});

// The wire-v1 pairing rules and the keepalive rules as tables, written out by hand from the spec
// (seed 003, wire-v1, the resume text), not derived from the machines: the compiled tables must
// say exactly this. `-` is no effect; `reply_error:x` carries the error code.
const pairingSpec: Record<string, Record<string, string>> = {
  unpaired: {
    'PAIR_REQUEST unknown': 'unpaired reply_error:target_not_found',
    'PAIR_REQUEST self': 'unpaired reply_error:cannot_pair_with_self',
    'PAIR_REQUEST busy': 'unpaired reply_error:target_already_paired',
    'PAIR_REQUEST free': 'paired pair_with_target send_paired:initiator',
    'PAIR_REQUEST requester_busy': 'unpaired reply_error:already_paired',
    PAIRED_BY_PEER: 'paired send_paired:responder',
    SIGNAL: 'unpaired reply_error:not_paired',
    PEER_LEFT: 'unpaired -',
    CLOSE: 'closed -',
    SHUTDOWN: 'closed -',
    LEAVE: 'unpaired -',
  },
  paired: {
    'PAIR_REQUEST unknown': 'paired reply_error:already_paired',
    'PAIR_REQUEST self': 'paired reply_error:already_paired',
    'PAIR_REQUEST busy': 'paired reply_error:already_paired',
    'PAIR_REQUEST free': 'paired reply_error:already_paired',
    'PAIR_REQUEST requester_busy': 'paired reply_error:already_paired',
    PAIRED_BY_PEER: 'paired -',
    SIGNAL: 'paired relay_to_peer',
    PEER_LEFT: 'unpaired send_peer_disconnected',
    CLOSE: 'closed release_peer',
    SHUTDOWN: 'closed forget_peer',
    LEAVE: 'unpaired release_peer',
  },
};
const keepaliveSpec: Record<string, Record<string, string>> = {
  live: {
    HEARD: 'live -',
    DUE: 'probing send_ping arm_deadline',
    'DEADLINE false': 'live -',
    'DEADLINE true': 'live -',
    LOST: 'detached arm_grace',
    RESUMED: 'live -',
    GRACE_OVER: 'live -',
    CLOSE: 'dead -',
  },
  probing: {
    HEARD: 'live arm_interval',
    DUE: 'probing -',
    'DEADLINE false': 'dead close_timed_out',
    'DEADLINE true': 'detached drop_link_timed_out arm_grace',
    LOST: 'detached arm_grace',
    RESUMED: 'probing -',
    GRACE_OVER: 'probing -',
    CLOSE: 'dead -',
  },
  detached: {
    HEARD: 'detached -',
    DUE: 'detached -',
    'DEADLINE false': 'detached -',
    'DEADLINE true': 'detached -',
    LOST: 'detached -',
    RESUMED: 'live arm_interval',
    GRACE_OVER: 'dead end_detached',
    CLOSE: 'dead -',
  },
};

/** An event as the spec tables name it. */
const specName = (ev: Record<string, unknown>) =>
  [
    ev['type'],
    ...Object.entries(ev)
      .filter(([k]) => k !== 'type')
      .map(([, v]) => String(v)),
  ].join(' ');
/** An effect as the spec tables name it. */
const specEffect = (e: Record<string, unknown>) =>
  e['type'] === 'reply_error'
    ? `reply_error:${String(e['error'])}`
    : e['type'] === 'send_paired'
      ? `send_paired:${e['initiator'] ? 'initiator' : 'responder'}`
      : String(e['type']);

describe('the compiled tables say what the spec says', () => {
  const cases = [
    ['pairing', compileMachine(pairingMachine, pairingEvents), pairingSpec, 'closed'],
    ['keepalive', compileMachine(keepaliveMachine, keepaliveEvents), keepaliveSpec, 'dead'],
  ] as const;
  for (const [name, table, spec, final] of cases) {
    it(`${name}: every row, and the final state stays put silently`, () => {
      expect([...table.states].sort()).toEqual([...Object.keys(spec), final].sort());
      for (const [si, state] of table.states.entries()) {
        for (const [ei, ev] of table.events.entries()) {
          const row = table.table[si]![ei]!;
          const got = `${table.states[row.next]!} ${row.emitted.length === 0 ? '-' : row.emitted.map((e) => specEffect(e as never)).join(' ')}`;
          const want = state === final ? `${final} -` : spec[state]![specName(ev as never)];
          expect(got, `${name}: ${state} + ${specName(ev as never)}`).toBe(want);
        }
      }
    });
  }
});

describe('compileMachine', () => {
  it('agrees with transition() row by row and refuses machines with context', async () => {
    const { transition } = await import('xstate');
    const emittedBy = (actions: readonly { type: string; params?: unknown }[]) =>
      actions.filter((a) => a.type === 'xstate.emit').map((a) => (a.params as { event: unknown }).event);
    const machines = [
      [pairingMachine, pairingEvents],
      [keepaliveMachine, keepaliveEvents],
    ] as const;
    for (const [machine, events] of machines) {
      const compiled = compileMachine(machine, events as readonly { type: string }[]);
      for (const [si, name] of compiled.states.entries()) {
        for (const [ei, ev] of (events as readonly { type: string }[]).entries()) {
          const snap = machine.resolveState({ value: name, context: {} });
          const row = compiled.table[si]![ei]!;
          if (snap.status === 'done') {
            expect(row, `${machine.id}: a final state stays put silently`).toEqual({ next: si, emitted: [] });
            continue;
          }
          const [next, actions] = transition(machine, snap, ev as never);
          expect(compiled.states[row.next], `${machine.id} ${name} + ${JSON.stringify(ev)}: next`).toBe(next.value);
          expect(row.emitted, `${machine.id} ${name} + ${JSON.stringify(ev)}: emitted`).toEqual(
            emittedBy(actions as never),
          );
        }
      }
    }
    // the table really carries effects: the engine relies on these rows
    const pairing = compileMachine(pairingMachine, pairingEvents);
    const free = pairing.table[pairing.state('unpaired')]![pairing.event({ type: 'PAIR_REQUEST', target: 'free' })]!;
    expect(free.emitted).toEqual([{ type: 'pair_with_target' }, { type: 'send_paired', initiator: true }]);
    const { setup, assign } = await import('xstate');
    const withContext = setup({}).createMachine({
      context: { n: 0 },
      initial: 'a',
      states: { a: { on: { X: { actions: assign({ n: 1 }) } } } },
    });
    expect(() => compileMachine(withContext, [{ type: 'X' }])).toThrow(/context/);
  });
  it('refuses machines whose actions are not emits, and ones that run entry actions', async () => {
    const { setup, emit, raise } = await import('xstate');
    let ran = 0;
    const sideEffect = setup({ actions: { poke: () => void ran++ } }).createMachine({
      initial: 'a',
      states: { a: { on: { X: { actions: 'poke' } } } },
    });
    expect(() => compileMachine(sideEffect, [{ type: 'X' }])).toThrow(/runs actions \(poke\); use emit\(\)/);
    const raising = setup({}).createMachine({
      initial: 'a',
      states: { a: { on: { X: { actions: raise({ type: 'Y' }) } } } },
    });
    expect(() => compileMachine(raising, [{ type: 'X' }])).toThrow(/use emit\(\)/);
    const entry = setup({}).createMachine({ initial: 'a', states: { a: { entry: emit({ type: 'hello' }) } } });
    expect(() => compileMachine(entry, [{ type: 'X' }])).toThrow(/entry actions; it must start silent/);
    const entryLater = setup({ actions: { poke: () => void ran++ } }).createMachine({
      initial: 'a',
      states: { a: { on: { X: 'b' } }, b: { entry: 'poke' } },
    });
    expect(() => compileMachine(entryLater, [{ type: 'X' }])).toThrow(/runs actions \(poke\)/);
    expect(ran).toBe(0);
  });
});
