// Bounds on detached sessions against the real engine over in-memory links: a cap on how many
// wait at once, a cap on the bytes they hold for replay across the engine, the host's say per
// link, and the host told when a link no longer carries a session.
import { describe, expect, it } from 'vitest';
import { MemoryServer, ResumingMemoryClient as Client, pairResumable } from './testing/memory-server.js';

function server(settings = {}) {
  let n = 0;
  const s = new MemoryServer({
    settings: { pingIntervalMs: 60_000, pingTimeoutMs: 60_000, tickMs: 10, resumeGraceMs: 5_000, ...settings },
    generateToken: () => `t${(++n).toString(36).padStart(23, '0')}`,
  });
  return { s, released: s.released };
}

describe('detached sessions', () => {
  it('past maxDetachedSessions a lost link ends its session (the partner is told), and live links are counted apart', () => {
    const { s } = server({ maxDetachedSessions: 2 });
    const pairs = [pairResumable(s), pairResumable(s), pairResumable(s)];
    for (const { a } of pairs) a.breakLink('close', 0);
    for (const { b } of pairs) b.pump();
    expect(pairs.map(({ b }) => b.peerDisconnects.length)).toEqual([0, 0, 1]);
    expect(s.engine.stats()).toMatchObject({ detached: 2, detachRefused: 1, connections: 3 });
  });

  it('bytes held for replay are capped across the engine: the frame past it ends the session it was for', () => {
    const { s } = server({ maxDetachedBytes: 1_000 });
    const one = pairResumable(s);
    const two = pairResumable(s);
    one.a.breakLink('close', 0);
    two.a.breakLink('close', 0);
    one.b.send({ type: 'offer', sdp: 'x'.repeat(600) });
    one.b.pump();
    expect(s.engine.stats()).toMatchObject({ detached: 2 });
    expect(s.engine.stats().detachedBytes).toBeGreaterThan(600);
    two.b.send({ type: 'offer', sdp: 'y'.repeat(600) });
    two.b.pump();
    expect(two.b.peerDisconnects).toEqual([two.a.id]);
    // the ended session's record may wait in a stale wheel filing until its grace tick: without its frames
    expect(two.a.link.conn.resume!.ledger.retainedCount).toBe(0);
    expect(one.b.peerDisconnects).toEqual([]);
    expect(s.engine.stats()).toMatchObject({ detached: 1, resumeExpired: 1 });
    one.a.resume();
    expect(one.a.got).toEqual(['x'.repeat(600)]);
    expect(s.engine.stats()).toMatchObject({ detached: 0, detachedBytes: 0 });
  });

  it('the host may refuse a detach (its per-address cap), and hears when a link carries no session any more', () => {
    const { s, released } = server();
    const { a, b } = pairResumable(s);
    const old = a.link;
    a.breakLink('half-open', 0);
    s.engine.closed(old.conn, s.now, 1006, true);
    expect(s.engine.detachedOn(old.conn)).toBe(true);
    a.resume();
    expect(released).toEqual([old]);
    expect(s.engine.detachedOn(old.conn)).toBe(false);
    const again = a.link;
    a.breakLink('half-open', 0);
    s.engine.closed(again.conn, s.now, 1006, false); // the host says no: it ends
    b.pump();
    expect(b.peerDisconnects).toEqual([a.id]);
    expect(s.engine.detachedOn(again.conn)).toBe(false);
    const c = pairResumable(s);
    c.a.breakLink('close', 0);
    s.advance(5_100); // grace over
    expect(released).toEqual([old, c.a.link]);
  });
});
