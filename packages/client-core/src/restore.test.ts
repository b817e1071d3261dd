// A call outlives its signaling server: two real client cores on fake peers (with the call's
// control channel), a real server core over in-memory links that can be "restarted" (every link
// dropped, every session forgotten). The call goes on, both re-register, tell each other their new
// keys over the call, the initiator pairs anew, and the server's pairing matches the call again.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryServer } from '@tandem/server-core/testing';
import { createTandemClient, type TandemClientEvent } from './client.js';
import { FakeNetwork, memoryTransport, type MemoryServerLike, until } from './testing.js';

/** A server that can be restarted: a new engine behind the same address, knowing nothing. */
function restartableWorld(channels = true) {
  let tokens = 0;
  const make = () =>
    new MemoryServer({
      settings: { pingIntervalMs: 60_000, pingTimeoutMs: 30_000, tickMs: 100 },
      generateToken: () => `tok${(++tokens).toString().padStart(20, '0')}`,
    });
  let server = make();
  const front: MemoryServerLike = { connect: (p) => server.connect(p) };
  const link = memoryTransport(front);
  const net = new FakeNetwork({ channels });
  const spawn = (extra: Partial<Parameters<typeof createTandemClient>[0]> = {}) => {
    const client = createTandemClient({
      url: 'mem://server',
      transport: link.factory,
      createPeer: net.createPeer,
      peerWaitMs: 200,
      ...extra,
    });
    const events: TandemClientEvent[] = [];
    for (const t of ['open', 'message', 'peerLeft', 'restoring', 'signalingRestored', 'id', 'error'] as const)
      client.on(t, (e) => events.push(e));
    return { client, events };
  };
  return {
    net,
    link,
    front,
    get server() {
      return server;
    },
    spawn,
    /** kill -9 and start again: every link drops, the new engine knows no session. */
    restart() {
      const old = server;
      server = make();
      void old;
      for (const s of link.sockets) s.drop();
    },
    /** Who the server has `id` paired with (null: not paired, or unknown). */
    pairedWith(id: string | null): string | null {
      if (id === null) return null;
      return server.engine.connection(id)?.peer?.id ?? null;
    },
  };
}

async function callUp(
  w: ReturnType<typeof restartableWorld>,
  extra: Partial<Parameters<typeof createTandemClient>[0]> = {},
) {
  const a = w.spawn(extra);
  const b = w.spawn(extra);
  await until(() => a.client.id !== null && b.client.id !== null, 'ids');
  a.client.pair(b.client.id!);
  await until(() => a.client.status === 'open' && b.client.status === 'open', 'open');
  await until(() => a.client.peer !== null && b.client.peer !== null, 'features');
  return { a, b };
}
const got = (c: { events: TandemClientEvent[] }, text: string) =>
  c.events.some((e) => e.type === 'message' && e.data === text);
const count = (c: { events: TandemClientEvent[] }, type: TandemClientEvent['type']) =>
  c.events.filter((e) => e.type === type).length;

describe('a call outlives its signaling server', () => {
  it('after a restart both re-register, re-pair through the call, and nobody is told the peer left', async () => {
    const w = restartableWorld();
    const { a, b } = await callUp(w);
    const [oldA, oldB] = [a.client.id, b.client.id];
    a.client.send('before');
    await until(() => got(b, 'before'), 'before');
    const createdBefore = w.net.stats.created;
    w.restart();
    a.client.send('during'); // the call carries on while signaling is away
    await until(() => got(b, 'during'), 'during');
    await until(() => count(a, 'signalingRestored') === 1 && count(b, 'signalingRestored') === 1, 'restored');
    expect(a.client.id).not.toBe(oldA);
    expect(b.client.id).not.toBe(oldB);
    // the new server pairs the call's two ends, under their new keys
    expect(w.pairedWith(a.client.id)).toBe(b.client.id);
    expect(w.pairedWith(b.client.id)).toBe(a.client.id);
    expect(a.events.find((e) => e.type === 'signalingRestored')).toEqual({
      type: 'signalingRestored',
      id: a.client.id,
      peerId: b.client.id,
    });
    expect(count(a, 'peerLeft') + count(b, 'peerLeft')).toBe(0);
    expect(w.net.stats.created).toBe(createdBefore); // the same peer connection: nothing torn down
    b.client.send('after');
    await until(() => got(a, 'after'), 'after');
    // leaving afterwards is announced to the other side, through the restored pairing
    b.client.leave();
    await until(() => count(a, 'peerLeft') === 1, 'A told B left');
    a.client.close();
    b.client.close();
  });

  it('only one session lost (its grace ran out): the partner keeps its key, the other gets a new one, and they re-pair', async () => {
    const w = restartableWorld();
    const a = w.spawn();
    const bLink = memoryTransport(w.front); // B on a link of its own, which can be kept away
    const b = w.spawn({ transport: bLink.factory });
    await until(() => a.client.id !== null && b.client.id !== null, 'ids');
    a.client.pair(b.client.id!);
    await until(() => a.client.status === 'open' && b.client.status === 'open' && b.client.peer !== null, 'open');
    const [oldA, oldB] = [a.client.id, b.client.id];
    bLink.refuse.on = true;
    bLink.sockets[0]!.drop(); // B's link goes; the server holds its session for the grace period
    await until(() => b.client.resuming, 'B resuming');
    w.server.advance(31_000); // past the grace: the server forgets B and tells A
    await until(() => count(a, 'restoring') === 1, 'A restoring');
    bLink.refuse.on = false; // B comes back: its resume is refused, it registers anew
    await until(() => count(a, 'signalingRestored') === 1 && count(b, 'signalingRestored') === 1, 'restored', 8_000);
    expect(a.client.id).toBe(oldA); // A's session never went
    expect(b.client.id).not.toBe(oldB);
    expect(w.pairedWith(a.client.id)).toBe(b.client.id);
    expect(count(a, 'peerLeft') + count(b, 'peerLeft')).toBe(0);
    a.client.close();
    b.client.close();
  });

  it('signaling the call needs while restoring waits, then goes out (an ICE restart while the pair is away)', async () => {
    const w = restartableWorld();
    const a = w.spawn();
    const bLink = memoryTransport(w.front);
    const b = w.spawn({ transport: bLink.factory });
    await until(() => a.client.id !== null && b.client.id !== null, 'ids');
    a.client.pair(b.client.id!);
    await until(() => a.client.status === 'open' && b.client.status === 'open' && b.client.peer !== null, 'open');
    bLink.refuse.on = true; // B stays away for a while after the restart
    w.restart();
    for (const s of bLink.sockets) s.drop();
    await until(() => count(a, 'restoring') === 1 && a.client.id !== null && !a.client.resuming, 'A re-registered');
    const offersBefore = w.net
      .live()
      .flatMap((p) => p.history)
      .filter((h) => h.startsWith('restart')).length;
    for (const p of w.net.live()) p.iceFlap(); // the path flaps: ICE restarts need signaling, which is away
    await new Promise((r) => setTimeout(r, 50));
    expect(
      w.net
        .live()
        .flatMap((p) => p.history)
        .filter((h) => h.startsWith('restart')).length,
    ).toBeGreaterThan(offersBefore); // the restart offer was made, and held
    bLink.refuse.on = false;
    await until(() => count(a, 'signalingRestored') === 1 && count(b, 'signalingRestored') === 1, 'restored', 8_000);
    await until(() => a.events.some((e) => e.type === 'error') === false && count(a, 'peerLeft') === 0, 'calm');
    // the held offer went out once the pair was back: ICE restarted and the same call carries on
    await until(() => w.net.live().every((p) => !p.flapping), 'ICE restarted', 8_000);
    a.client.send('after the restart');
    await until(() => got(b, 'after the restart'), 'delivered');
    expect(count(a, 'peerLeft') + count(b, 'peerLeft')).toBe(0);
    a.client.close();
    b.client.close();
  });

  it('a v1-like (chat-only) peer: the call ends on a restart as before, and both can pair anew', async () => {
    const w = restartableWorld(false); // no control channel: nothing can be restored around the call
    const { a, b } = await callUp(w);
    w.restart();
    await until(() => count(a, 'peerLeft') === 1 && count(b, 'peerLeft') === 1, 'both told');
    expect(count(a, 'restoring') + count(b, 'restoring')).toBe(0);
    await until(() => a.client.status === 'registered' && b.client.status === 'registered', 'registered');
    a.client.pair(b.client.id!);
    await until(() => a.client.status === 'open', 'open again');
    a.client.close();
    b.client.close();
  });

  it('the call failing while restoring ends it cleanly: both told, both can pair anew', async () => {
    const w = restartableWorld();
    const { a, b } = await callUp(w, { restoreTimeoutMs: 500 });
    w.link.refuse.on = true; // the server stays away for now
    w.restart();
    await until(() => a.client.resuming && b.client.resuming, 'resuming');
    w.net.live()[0]!.fail(); // the call goes too
    w.link.refuse.on = false;
    await until(() => count(a, 'peerLeft') === 1 && count(b, 'peerLeft') === 1, 'both told', 8_000);
    await until(() => a.client.status === 'registered' && b.client.status === 'registered', 'registered again');
    expect(w.pairedWith(a.client.id)).toBeNull();
    a.client.pair(b.client.id!);
    await until(() => a.client.status === 'open' && b.client.status === 'open', 'a new call');
    a.client.close();
    b.client.close();
  });
});

describe('any interleaving of link loss, refused resume, call failure and re-pair', () => {
  it('ends with the call and the server’s pairing agreeing', async () => {
    type Op = 'dropA' | 'dropB' | 'restart' | 'failCall' | 'wait';
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Op>('dropA', 'dropB', 'restart', 'restart', 'failCall', 'wait'), {
          minLength: 1,
          maxLength: 5,
        }),
        async (ops) => {
          const w = restartableWorld();
          const { a, b } = await callUp(w);
          try {
            for (const op of ops) {
              if (op === 'restart') w.restart();
              else if (op === 'failCall') w.net.live()[0]?.fail();
              else if (op === 'dropA' || op === 'dropB') w.link.sockets.at(op === 'dropA' ? 0 : 1)?.drop();
              await new Promise((r) => setTimeout(r, op === 'wait' ? 50 : 5));
            }
            await new Promise((r) => setTimeout(r, 100)); // let the last op play out
            await until(
              () =>
                (a.client.status === 'open') === (b.client.status === 'open') &&
                (a.client.status !== 'open' || w.pairedWith(a.client.id) === b.client.id),
              'agreement',
              8_000,
            );
            // the invariant: an open call is exactly what the server pairs; no call, no stale pairing
            if (a.client.status === 'open') {
              expect(w.pairedWith(a.client.id)).toBe(b.client.id);
              expect(w.pairedWith(b.client.id)).toBe(a.client.id);
            } else {
              expect(w.pairedWith(a.client.id)).not.toBe(b.client.id);
            }
          } finally {
            a.client.close();
            b.client.close();
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 240_000);
});
