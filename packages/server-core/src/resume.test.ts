// Resume (capability `resume`) against the real engine over in-memory links: examples for each
// rule, and a property run of random conversations with random cuts.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encode } from '@tandem/protocol';
import { MemoryServer, ResumingMemoryClient as Client, pairResumable } from './testing/memory-server.js';

const GRACE = 5_000;
function server(settings = {}) {
  let n = 0;
  return new MemoryServer({
    settings: {
      pingIntervalMs: 1_000,
      pingTimeoutMs: 1_000,
      tickMs: 10,
      pingSpread: 0,
      resumeGraceMs: GRACE,
      ...settings,
    },
    generateToken: () => `t${(++n).toString(36).padStart(23, '0')}`,
  });
}

describe('resume', () => {
  it('is offered only with a token generator and a grace period, and states the keepalive timings', () => {
    expect(new MemoryServer().connect().messages()[0]!['capabilities']).not.toContain('resume');
    const s = server();
    const a = s.connect();
    expect(a.messages()[0]!['capabilities']).toContain('resume');
    a.send(encode({ type: 'hello', version: 2, capabilities: ['resume'] }));
    expect(a.messages()[1]).toMatchObject({
      type: 'welcome',
      capabilities: ['resume'],
      resume_grace_ms: GRACE,
      ping_interval_ms: 1_000,
      ping_timeout_ms: 1_000,
    });
    expect(String(a.messages()[1]!['resume_token'])).toMatch(/^t\w{23}\.t\w{23}$/);
    expect(server({ resumeGraceMs: 0 }).connect().messages()[0]!['capabilities']).not.toContain('resume');
  });

  it('a lost link detaches the session: the partner hears nothing, frames for it wait, and resume replays them once', () => {
    const s = server();
    const { a, b } = pairResumable(s);
    a.breakLink('close', 0);
    b.send({ type: 'offer', sdp: 'while-away-1' });
    b.send({ type: 'offer', sdp: 'while-away-2' });
    b.pump();
    expect(b.peerDisconnects).toEqual([]);
    expect(s.engine.stats()).toMatchObject({ detached: 1, pairs: 1 });
    const reply = a.resume();
    expect(reply).toMatchObject({ type: 'resumed', id: a.id, peer_id: b.id });
    expect(a.got).toEqual(['while-away-1', 'while-away-2']);
    a.send({ type: 'offer', sdp: 'back' });
    b.pump();
    expect(b.got).toEqual(['back']);
    expect(s.engine.stats()).toMatchObject({ detached: 0, resumes: 1, pairs: 1, connections: 2 });
  });

  it('frames lost in flight either way are replayed, none twice', () => {
    const s = server();
    const { a, b } = pairResumable(s);
    b.send({ type: 'offer', sdp: 'b1' });
    a.breakLink('close', 1); // b1 reached a's old link but a never read it
    a.send({ type: 'offer', sdp: 'a1' }); // sent into the dead link
    a.resume();
    b.pump();
    expect(a.got).toEqual(['b1']);
    expect(b.got).toEqual(['a1']);
  });

  it('a token works once; after a resume the old one fails and that connection goes on as a fresh session', () => {
    const s = server();
    const { a } = pairResumable(s);
    const old = a.token;
    a.breakLink('close', 0);
    a.resume();
    expect(a.token).not.toBe(old);
    const thief = s.connect();
    thief.send(encode({ type: 'resume', token: old, received: 0 }));
    expect(thief.messages().at(-1)).toEqual({
      type: 'error',
      message: 'Resume failed: unknown, used or expired token',
      code: 'resume_failed',
    });
    thief.send(encode({ type: 'pair_request', target_id: 'nobody' }));
    expect(thief.messages().at(-1)).toEqual({ type: 'error', message: 'Target client not found' });
    const forged = s.connect();
    forged.send(encode({ type: 'resume', token: `${a.token.split('.')[0]}.${'x'.repeat(24)}`, received: 0 }));
    expect(forged.messages().at(-1)!['code']).toBe('resume_failed');
    expect(JSON.stringify(s.logs)).not.toContain(a.token.split('.')[1]); // the secret is never logged
  });

  it('after the grace period the session ends as a departure: the partner is told, the ID is free', () => {
    const s = server({ pingIntervalMs: 60_000, pingTimeoutMs: 60_000 });
    const { a, b } = pairResumable(s);
    a.breakLink('close', 0);
    s.advance(GRACE - 100);
    b.pump();
    expect(b.peerDisconnects).toEqual([]);
    s.advance(200);
    b.pump();
    expect(b.peerDisconnects).toEqual([a.id]);
    expect(a.resume()).toMatchObject({ type: 'error', code: 'resume_failed' });
    expect(s.engine.connection(a.id)).toBeUndefined();
    expect(s.logs).toContainEqual({ type: 'disconnected', id: a.id, reason: 'resume grace expired' });
  });

  it('a detached session whose held frames pass the limit ends at once', () => {
    const s = server({ resumeBufferFrames: 3 });
    const { a, b } = pairResumable(s);
    a.breakLink('close', 0);
    for (let i = 0; i < 4; i++) b.send({ type: 'offer', sdp: `x${i}` });
    b.pump();
    expect(b.peerDisconnects).toEqual([a.id]);
    expect(s.engine.stats()).toMatchObject({ resumeExpired: 1, detached: 0 });
  });

  it('silence past the ping deadline cuts the link but keeps the session; a half-open link is taken over with a stated close', () => {
    const s = server();
    const { a, b } = pairResumable(s);
    s.advance(1_000); // a does not pump: no pong
    b.pump();
    s.advance(1_100);
    expect(a.link.closedBy).toEqual({ code: 1001, reason: 'ping timeout', abrupt: true });
    b.pump();
    expect(b.peerDisconnects).toEqual([]);
    a.resume();
    const halfOpen = a.link;
    a.breakLink('half-open', 0);
    a.resume();
    expect(halfOpen.closedBy).toEqual({ code: 4001, reason: 'session resumed on another connection', abrupt: false });
    halfOpen.send(encode({ type: 'offer', sdp: 'stale link' })); // ignored: the session moved
    halfOpen.close(1006); // and its close does not detach the session
    b.pump();
    expect(b.got).toEqual([]);
    expect(s.engine.stats().detached).toBe(0);
    a.send({ type: 'offer', sdp: 'fine' });
    b.pump();
    expect(b.got).toEqual(['fine']);
  });

  it('a deliberate close (1000) ends the session at once, as for v1 clients', () => {
    const s = server();
    const { a, b } = pairResumable(s);
    a.link.close(1000);
    b.pump();
    expect(b.peerDisconnects).toEqual([a.id]);
  });

  it('acknowledgements keep the held frames bounded while attached', () => {
    const s = server();
    const { a, b } = pairResumable(s);
    for (let i = 0; i < 100; i++) {
      b.send({ type: 'offer', sdp: `n${i}` });
      a.pump();
      b.pump();
    }
    expect(a.got).toHaveLength(100);
    const held = s.engine.connection(a.id)!.resume!.ledger.retainedCount;
    expect(held).toBeLessThan(16);
    expect(b.ledger.retainedCount).toBeLessThan(16);
  });

  it('random conversations with random cuts: every offer arrives once and in order, no partner is told while within grace', () => {
    type Cmd =
      | { kind: 'send'; who: 0 | 1 }
      | { kind: 'pump'; who: 0 | 1 }
      | { kind: 'cut'; who: 0 | 1; how: 'close' | 'half-open'; lose: number }
      | { kind: 'resume'; who: 0 | 1 }
      | { kind: 'tick'; ms: number };
    const who = fc.constantFrom(0 as const, 1 as const);
    const cmd: fc.Arbitrary<Cmd> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('send' as const), who }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('pump' as const), who }) },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('cut' as const),
          who,
          how: fc.constantFrom('close' as const, 'half-open' as const),
          lose: fc.nat(3),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('resume' as const), who }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 400 }) }) },
    );
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 60 }), (cmds) => {
        const s = server({ resumeGraceMs: 60_000 });
        const { a, b } = pairResumable(s);
        const clients = [a, b];
        const sent: string[][] = [[], []];
        for (const c of cmds) {
          if (c.kind === 'tick') {
            s.advance(c.ms);
            continue;
          }
          const x = clients[c.who]!;
          if (c.kind === 'send') {
            const sdp = `${c.who}:${sent[c.who]!.length}`;
            sent[c.who]!.push(sdp);
            x.send({ type: 'offer', sdp });
          } else if (c.kind === 'pump') x.pump();
          else if (c.kind === 'cut' && !x.cut) x.breakLink(c.how, c.lose);
          else if (c.kind === 'resume' && x.cut) expect(x.resume()['type']).toBe('resumed');
        }
        for (const x of clients) {
          x.pump();
          if (x.cut) expect(x.resume()['type']).toBe('resumed');
        }
        for (const x of clients) x.pump();
        expect(a.got).toEqual(sent[1]);
        expect(b.got).toEqual(sent[0]);
        expect(a.peerDisconnects).toEqual([]);
        expect(b.peerDisconnects).toEqual([]);
        expect(s.engine.stats()).toMatchObject({ pairs: 1, detached: 0, connections: 2 });
      }),
      { numRuns: 300 },
    );
  });
});
