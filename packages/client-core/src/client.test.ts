// Two real client cores and a real server core over in-memory links, with fake peers that obey
// the RTCPeerConnection rules.
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { MemoryServer } from '@tandem/server-core/testing';
import { createTandemClient, type TandemClient } from './client.js';
import { FakeNetwork, memoryTransport } from './testing.js';
import { exponentialBackoff } from './ports.js';
import { serverEvent, type ClientPublicEvent } from './client.machine.js';

const settle = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

function world(opts: { trickle?: boolean; settings?: object; resume?: boolean; channels?: boolean } = {}) {
  let tokens = 0;
  const server = new MemoryServer({
    settings: { pingIntervalMs: 10_000, pingTimeoutMs: 5_000, tickMs: 100, ...opts.settings },
    ...(opts.resume ? { generateToken: () => `tok${(++tokens).toString().padStart(20, '0')}` } : {}),
  });
  const net = new FakeNetwork({
    trickle: opts.trickle ?? true,
    ...(opts.channels === false ? { channels: false } : {}),
  });
  const link = memoryTransport(server);
  const clock = new SimulatedClock();
  const clients: { client: TandemClient; events: ClientPublicEvent[] }[] = [];
  const spawn = (extra: object = {}) => {
    const client = createTandemClient({
      url: 'mem://server',
      transport: link.factory,
      createPeer: net.createPeer,
      clock,
      ...extra,
    });
    const events: ClientPublicEvent[] = [];
    for (const t of [
      'id',
      'paired',
      'open',
      'message',
      'peerLeft',
      'error',
      'reconnecting',
      'resumed',
      'pathLost',
      'pathRestored',
      'dropped',
      'closed',
    ] as const)
      client.on(t, (e) => events.push(e));
    clients.push({ client, events });
    return { client, events };
  };
  return { server, net, link, clock, spawn };
}
/** A world with two clients, A having paired with B and both settled. */
async function pairedWorld(opts: { resume?: boolean; channels?: boolean } = {}) {
  const w = world(opts);
  const a = w.spawn();
  const b = w.spawn();
  await settle();
  a.client.pair(b.client.id!);
  await settle();
  return { w, a, b };
}
const of = (events: ClientPublicEvent[], type: ClientPublicEvent['type']) => events.filter((e) => e.type === type);

describe('client core against the server core', () => {
  it('registers, pairs, opens, chats both ways; one leaves and the other pairs again', async () => {
    const w = world();
    const a = w.spawn();
    const b = w.spawn();
    await settle();
    expect(a.client.id).toMatch(/^id-/);
    expect(a.client.status).toBe('registered');
    b.client.pair(a.client.id!);
    await settle();
    expect(of(b.events, 'paired')).toEqual([{ type: 'paired', peerId: a.client.id, initiator: true }]);
    expect(of(a.events, 'paired')).toEqual([{ type: 'paired', peerId: b.client.id, initiator: false }]);
    expect(of(a.events, 'open')).toHaveLength(1);
    expect(of(b.events, 'open')).toHaveLength(1);
    expect(a.client.status).toBe('open');
    a.client.send('Hello B!');
    b.client.send('Hi A!');
    b.client.send(new Uint8Array([1, 2, 3]));
    await settle();
    expect(of(b.events, 'message')).toEqual([{ type: 'message', data: 'Hello B!' }]);
    expect(of(a.events, 'message')).toEqual([
      { type: 'message', data: 'Hi A!' },
      { type: 'message', data: new Uint8Array([1, 2, 3]) },
    ]);
    expect(w.net.stats.candidatesBeforeRemote).toBe(0);
    expect(w.net.stats.foreignCandidates).toBe(0);

    const bId = b.client.id;
    b.client.close();
    await settle();
    expect(of(a.events, 'peerLeft')).toMatchObject([{ type: 'peerLeft', peerId: bId }]);
    expect(a.client.status).toBe('registered');
    expect(w.net.live()).toEqual([]);
    const c = w.spawn();
    await settle();
    a.client.pair(c.client.id!);
    await settle();
    expect(of(c.events, 'open')).toHaveLength(1);
    c.client.send('hi from C');
    await settle();
    expect(of(a.events, 'message').at(-1)).toEqual({ type: 'message', data: 'hi from C' });
    expect(of(a.events, 'peerLeft')).toHaveLength(1); // torn down exactly once
    expect(of(a.events, 'error')).toEqual([]);
  });

  it('works with a peer that never trickles (all candidates in the SDP)', async () => {
    const w = world({ trickle: false });
    const a = w.spawn();
    const b = w.spawn();
    await settle();
    a.client.pair(b.client.id!);
    await settle();
    expect(a.client.status).toBe('open');
    expect(b.client.status).toBe('open');
  });

  it('surfaces server errors as typed events and stays registered', async () => {
    const w = world();
    const a = w.spawn();
    await settle();
    a.client.pair('no-such-key');
    await settle();
    expect(of(a.events, 'error')).toEqual([
      { type: 'error', code: 'target_not_found', message: 'Target client not found', source: 'server' },
    ]);
    expect(a.client.status).toBe('registered');
    a.client.pair(a.client.id!);
    await settle();
    expect(of(a.events, 'error').at(-1)).toMatchObject({ message: 'Cannot pair with yourself' });
  });

  it('sending with no peer is a clear error; while negotiating it queues, bounded, with drop counts', async () => {
    const w = world();
    const a = w.spawn({ sendQueueLimit: 2 });
    await settle();
    a.client.send('too early');
    expect(of(a.events, 'error')).toEqual([
      { type: 'error', code: 'no_channel', message: 'Not connected to a peer: pair first', source: 'client' },
    ]);
    const raw = w.server.connect(); // a peer that never answers keeps A negotiating
    a.client.pair(raw.conn.id);
    await settle();
    expect(a.client.status).toBe('negotiating');
    for (const m of ['one', 'two', 'three']) a.client.send(m);
    expect(a.client.dropped).toBe(1);
    expect(of(a.events, 'dropped')).toEqual([{ type: 'dropped', count: 1 }]);
    expect(a.client.actor.getSnapshot().context.queue).toEqual(['one', 'two']);
  });

  it('flushes messages queued during negotiation, in order, once the channel opens', async () => {
    const w = world();
    const a = w.spawn();
    const b = w.spawn();
    await settle();
    a.client.pair(b.client.id!);
    for (let i = 0; i < 1000 && a.client.status !== 'negotiating'; i++) await Promise.resolve();
    expect(a.client.status).toBe('negotiating');
    a.client.send('one');
    a.client.send('two');
    await settle();
    expect(a.client.status).toBe('open');
    expect(of(b.events, 'message')).toEqual([
      { type: 'message', data: 'one' },
      { type: 'message', data: 'two' },
    ]);
  });

  it('answers ping with pong so the server keeps it', async () => {
    const w = world();
    const a = w.spawn({ answersControlPings: false }); // v1 behaviour: JSON ping/pong
    await settle();
    for (let i = 0; i < 10; i++) {
      w.server.advance(5_000);
      await settle(5);
    }
    expect(a.client.status).toBe('registered');
    expect(w.server.engine.stats().pings).toBeGreaterThanOrEqual(3);
    expect(w.server.engine.stats().timeouts).toBe(0);
  });

  it('reconnects with backoff on the injected clock; with a chat-only peer the call ends once the server forgot it', async () => {
    // (with a tandem peer the call would carry on and signaling be restored around it: restore.test.ts)
    const w = world({ channels: false });
    const a = w.spawn({
      reconnect: { nextDelayMs: ({ attempt }: { attempt: number }) => (attempt <= 3 ? attempt * 1000 : null) },
    });
    const b = w.spawn();
    await settle();
    a.client.pair(b.client.id!);
    await settle();
    expect(a.client.status).toBe('open');
    const firstId = a.client.id;
    w.link.refuse.on = true;
    w.link.sockets[0]!.drop();
    await settle();
    expect(of(a.events, 'reconnecting')).toMatchObject([{ attempt: 1, delayMs: 1000, code: 1006 }]);
    // the server told B its peer disconnected, so B tore down; A's channel stays until the peer closes it
    expect(of(b.events, 'peerLeft')).toHaveLength(1);
    w.clock.increment(999);
    await settle();
    expect(of(a.events, 'reconnecting')).toHaveLength(1);
    w.clock.increment(1);
    await settle();
    expect(of(a.events, 'reconnecting')).toMatchObject([{ attempt: 1 }, { attempt: 2, delayMs: 2000 }]);
    w.link.refuse.on = false;
    w.clock.increment(2000);
    await settle();
    expect(a.client.id).not.toBe(firstId);
    expect(of(a.events, 'id')).toHaveLength(2);
    // B closed its side of the channel when its peer left; A sees the channel close exactly once
    expect(of(a.events, 'peerLeft')).toMatchObject([{ reason: 'channel_closed' }]);
    expect(a.client.status).toBe('registered');
  });

  it('keeps an open channel when signaling drops if the peer keeps it too', async () => {
    const { w, a, b } = await pairedWorld();
    // simulate a server that cannot notify (partition): drop A's socket but stop B from hearing about it
    const bConn = w.server.engine.connection(b.client.id!)!;
    bConn.handle.onFrame = null;
    w.link.sockets[0]!.drop();
    await settle();
    expect(a.client.status).toBe('open');
    a.client.send('still here');
    await settle();
    expect(of(b.events, 'message')).toEqual([{ type: 'message', data: 'still here' }]);
  });

  it('gives up after the policy says so and reports it', async () => {
    const w = world();
    const a = w.spawn({ reconnect: { nextDelayMs: () => null } });
    await settle();
    w.link.sockets[0]!.drop();
    await settle();
    expect(a.client.status).toBe('offline');
    expect(of(a.events, 'error').at(-1)).toMatchObject({ source: 'signaling' });
  });

  it('leave() ends the pairing and the call on both sides; both stay registered and may pair again', async () => {
    const { w, a, b } = await pairedWorld();
    expect(a.client.status).toBe('open');
    a.client.leave();
    await settle();
    expect(of(a.events, 'peerLeft')).toMatchObject([{ reason: 'left', peerId: b.client.id }]);
    // the partner hears it once: from the server, or from its channel closing, whichever comes first
    const heard = of(b.events, 'peerLeft') as { reason: string; peerId: string }[];
    expect(heard).toHaveLength(1);
    expect(heard[0]!.peerId).toBe(a.client.id);
    expect(['peer_disconnected', 'channel_closed']).toContain(heard[0]!.reason);
    expect(a.client.status).toBe('registered');
    expect(b.client.status).toBe('registered');
    expect(w.net.live()).toEqual([]);
    // the server heard A leave and told B (not the other way round)
    expect(w.server.logs).toContainEqual({ type: 'peer_notified', id: b.client.id, peerId: a.client.id });
    b.client.pair(a.client.id!);
    await settle();
    expect(a.client.status).toBe('open');
    expect(b.client.status).toBe('open');
  });

  it('a not_paired that crosses the end of the pairing says nothing; one while paired is an error', async () => {
    const { a } = await pairedWorld();
    const notPaired = serverEvent({ type: 'error', code: 'not_paired', message: 'Not paired' });
    a.client.actor.send(notPaired);
    expect(of(a.events, 'error')).toMatchObject([{ code: 'not_paired', source: 'server' }]);
    a.client.leave();
    await settle();
    a.client.actor.send(notPaired); // a v2 server's answer to a late candidate
    a.client.actor.send(serverEvent({ type: 'error', message: 'Not paired' })); // a v1 server's
    expect(of(a.events, 'error')).toHaveLength(1);
    expect(a.client.status).toBe('registered');
  });

  it('close() tears everything down once and leaves no live peer', async () => {
    const { w, a, b } = await pairedWorld();
    a.client.close();
    a.client.close();
    await settle();
    expect(a.client.status).toBe('closed');
    expect(of(a.events, 'closed')).toHaveLength(1);
    expect(w.net.live()).toEqual([]);
    expect(of(b.events, 'peerLeft')).toHaveLength(1);
    expect(w.server.engine.stats().connections).toBe(1);
  });

  it('gives up a negotiation that never opens, on the simulated clock', async () => {
    const w = world();
    const a = w.spawn({ negotiationTimeoutMs: 5000 });
    await settle();
    // pair with a raw server client that never answers the offer
    const raw = w.server.connect();
    raw.send(JSON.stringify({ type: 'pair_request', target_id: a.client.id }));
    await settle();
    expect(a.client.status).toBe('negotiating');
    w.clock.increment(5000);
    await settle();
    expect(of(a.events, 'peerLeft')).toMatchObject([{ reason: 'timeout' }]);
    expect(a.client.status).toBe('registered');
    expect(w.net.live()).toEqual([]);
  });

  it('the default backoff retries at once, then backs off; while resuming it never waits more than a second', () => {
    const p = exponentialBackoff({ random: () => 1 - Number.EPSILON });
    const delays = (resuming: boolean) =>
      [1, 2, 3, 4, 5, 6, 12].map((attempt) =>
        Math.round(p.nextDelayMs({ attempt, code: 1006, reason: '', resuming })!),
      );
    expect(delays(false)).toEqual([0, 500, 1000, 2000, 4000, 8000, 30000]);
    expect(delays(true)).toEqual([0, 500, 1000, 1000, 1000, 1000, 1000]);
  });

  describe('resume', () => {
    it('a dropped link comes back at once under the same ID; the peer connection, the channel and the partner never notice', async () => {
      const { w, a, b } = await pairedWorld({ resume: true });
      expect(a.client.status).toBe('open');
      const id = a.client.id;
      const peersBefore = w.net.stats.closed;
      w.link.sockets[0]!.drop();
      await settle();
      expect(of(a.events, 'reconnecting')).toMatchObject([{ attempt: 1, delayMs: 0, code: 1006, resuming: true }]);
      expect(of(a.events, 'resumed')).toEqual([{ type: 'resumed', id, peerId: b.client.id }]);
      expect(a.client.resuming).toBe(false);
      expect(a.client.id).toBe(id);
      expect(of(a.events, 'id')).toHaveLength(1);
      expect(of(b.events, 'peerLeft')).toEqual([]);
      expect(of(a.events, 'peerLeft')).toEqual([]);
      expect(w.net.stats.closed).toBe(peersBefore);
      a.client.send('after the blip');
      await settle();
      expect(of(b.events, 'message')).toEqual([{ type: 'message', data: 'after the blip' }]);
      expect(w.server.engine.stats()).toMatchObject({ resumes: 1, pairs: 1, detached: 0 });
    });

    it('signaling sent while the link is down is replayed once it is back (a pairing in flight completes)', async () => {
      const w = world({ resume: true });
      const a = w.spawn();
      const b = w.spawn();
      await settle();
      w.link.refuse.on = true;
      w.link.sockets[0]!.drop();
      a.client.pair(b.client.id!); // sent into the gap
      await settle();
      w.link.refuse.on = false;
      w.clock.increment(60_000);
      await settle();
      expect(of(a.events, 'resumed')).toHaveLength(1);
      expect(a.client.status).toBe('open');
      expect(of(b.events, 'paired')).toHaveLength(1);
    });

    it('a server silent past its ping interval plus timeout is given up on; the client resumes', async () => {
      const w = world({ resume: true, settings: { pingIntervalMs: 1_000, pingTimeoutMs: 1_000 } });
      const a = w.spawn();
      await settle();
      const conn = w.server.engine.connection(a.client.id!)!;
      conn.handle.onFrame = null; // the link stalls: nothing from the server arrives
      w.clock.increment(2_000);
      await settle();
      expect(of(a.events, 'reconnecting')).toMatchObject([
        { resuming: true, reason: 'no frame from the server for 2000 ms' },
      ]);
      expect(of(a.events, 'resumed')).toHaveLength(1);
      expect(w.server.engine.stats()).toMatchObject({ resumes: 1, connections: 1 });
    });

    it('a refused resume (the session expired) with a chat-only peer starts a fresh session and says the peer is gone', async () => {
      // (with a tandem peer the call would carry on and signaling be restored around it: restore.test.ts)
      const { w, a, b } = await pairedWorld({ resume: true, channels: false });
      w.link.refuse.on = true;
      w.link.sockets[0]!.drop();
      await settle();
      expect(a.client.resuming).toBe(true);
      for (let i = 0; i < 31; i++) {
        w.server.advance(1_000); // past the grace period: the server ends A's session, B is told
        await settle();
      }
      expect(of(b.events, 'peerLeft')).toMatchObject([{ reason: 'peer_disconnected' }]);
      w.link.refuse.on = false;
      w.clock.increment(60_000);
      await settle();
      expect(of(a.events, 'peerLeft')).toHaveLength(1); // B closed its side when told, so A's channel closed first
      expect(of(a.events, 'id')).toHaveLength(2);
      expect(a.client.status).toBe('registered');
      expect(a.client.resuming, 'a refused resume is over: nothing is being resumed').toBe(false);
    });

    it('a v1 server (no resume offered) with chat-only peers keeps the old behaviour', async () => {
      const { w, a, b } = await pairedWorld({ channels: false });
      w.link.sockets[0]!.drop();
      await settle();
      expect(of(a.events, 'resumed')).toEqual([]);
      expect(of(b.events, 'peerLeft')).toHaveLength(1);
    });
  });

  describe('ICE restart and perfect negotiation', () => {
    it('a broken network path is restarted over signaling; both sides restart at once (glare), the polite one rolls back; the same channel carries on', async () => {
      const { w, a, b } = await pairedWorld({ resume: true });
      expect(a.client.status).toBe('open');
      const [pa, pb] = w.net.live();
      w.net.breakPaths();
      a.client.send('sent while the path was down');
      await settle(40);
      expect(of(a.events, 'pathLost')).toHaveLength(1);
      expect(of(b.events, 'pathLost')).toHaveLength(1);
      expect(of(a.events, 'pathRestored')).toHaveLength(1);
      expect(of(b.events, 'pathRestored')).toHaveLength(1);
      // A paired first, so A is the initiator (impolite): it keeps its restart offer; B (polite) rolls back
      const byRole = (p: typeof pa) => p!.history.join(', ');
      expect([byRole(pa), byRole(pb)].sort()).toEqual(
        ['answer gen0, restart gen1, rollback, answer gen1', 'offer gen0, restart gen1'].sort(),
      );
      expect(of(b.events, 'message')).toEqual([{ type: 'message', data: 'sent while the path was down' }]);
      expect(of(a.events, 'peerLeft')).toEqual([]);
      expect(of(b.events, 'peerLeft')).toEqual([]);
      expect(w.net.stats.opened).toBe(1); // the channel was never reopened
      expect(a.client.status).toBe('open');
    });

    it('an ICE restart while signaling is down too goes out once signaling is resumed', async () => {
      const { w, a, b } = await pairedWorld({ resume: true });
      w.link.refuse.on = true;
      w.link.sockets[0]!.drop(); // A's signaling
      w.net.breakPaths(); // and the network path, as a network change does
      await settle(40);
      expect(of(a.events, 'pathRestored')).toEqual([]);
      w.link.refuse.on = false;
      w.clock.increment(5_000);
      await settle(60);
      expect(of(a.events, 'resumed')).toHaveLength(1);
      expect(of(a.events, 'pathRestored')).toHaveLength(1);
      expect(of(b.events, 'pathRestored')).toHaveLength(1);
      b.client.send('back');
      await settle();
      expect(of(a.events, 'message')).toEqual([{ type: 'message', data: 'back' }]);
    });

    it('a restart that finds no path gives up after the negotiation timeout', async () => {
      const { w, a, b } = await pairedWorld({ resume: true });
      w.net.restorable = false; // the network is gone for good
      w.net.breakPaths();
      await settle(40);
      expect(of(a.events, 'pathRestored')).toEqual([]);
      w.clock.increment(30_000);
      await settle();
      expect(of(a.events, 'peerLeft')).toMatchObject([{ reason: 'failed' }]);
      expect(of(b.events, 'peerLeft')).toHaveLength(1);
      expect(of(a.events, 'error').map((e) => (e as { code: string }).code)).toContain('peer_failed');
      // the failed call is ended on the server too (v2 leave), so the two can pair anew at once
      expect(w.server.engine.stats().pairs).toBe(0);
      a.client.pair(b.client.id!);
      await settle(40);
      expect(of(a.events, 'paired')).toHaveLength(2);
      expect(of(b.events, 'paired')).toHaveLength(2);
    });
  });
});
