// The resume layer alone, against a scripted server: what goes out on each link, what the
// machine hears, and what waits while a resume is awaited.
import { describe, expect, it } from 'vitest';
import { encode, type ClientMessage, type ServerMessage } from '@tandem/protocol';
import type { ClientEvent } from './client.machine.js';
import { createResumeLink } from './resume-link.js';

function harness() {
  const sent: string[] = [];
  const told: ClientEvent[] = [];
  const link = createResumeLink({ send: (t) => sent.push(t), tell: (e) => told.push(e) });
  const from = (m: ServerMessage) => link.receive(encode(m), m);
  const out = (m: ClientMessage) => {
    const text = encode(m);
    if (link.sending(text, m)) sent.push(text);
  };
  return { link, sent, told, from, out };
}
const welcome: ServerMessage = {
  type: 'welcome',
  version: 2,
  capabilities: ['resume'],
  resume_token: 'k.s',
  resume_grace_ms: 30_000,
};

describe('resume link', () => {
  it('holds frames while a resume is awaited and replays them after resumed', () => {
    const h = harness();
    expect(h.from(welcome)).toBe(false); // the machine hears welcome too
    h.out({ type: 'offer', sdp: 'one' });
    expect(h.link.lost(1006)).toBe(true);
    expect(h.from({ type: 'your_id', id: 'fresh' })).toBe(true);
    expect(h.sent.at(-1)).toBe(encode({ type: 'resume', token: 'k.s', received: 0 }));
    h.out({ type: 'offer', sdp: 'two' }); // while the answer is awaited: kept, not sent
    expect(h.sent.filter((t) => t.includes('"two"'))).toEqual([]);
    expect(
      h.from({ type: 'resumed', id: 'me', peer_id: 'p', received: 1, resume_token: 'k2.s2', resume_grace_ms: 30_000 }),
    ).toBe(true);
    expect(h.sent.slice(-1)).toEqual([encode({ type: 'offer', sdp: 'two' })]); // 'one' reached the server, 'two' is replayed
    expect(h.told).toEqual([{ type: 'RESUMED', id: 'me', peerId: 'p' }]);
  });
  it('a refused resume: nothing held goes out under the fresh ID; the machine hears the refusal, then the fresh your_id', () => {
    const h = harness();
    h.from(welcome);
    h.link.lost(1006);
    h.from({ type: 'your_id', id: 'fresh' });
    h.out({ type: 'pair_request', target_id: 'someone' });
    expect(
      h.from({ type: 'error', message: 'Resume failed: unknown, used or expired token', code: 'resume_failed' }),
    ).toBe(true);
    expect(h.sent.filter((t) => t.includes('pair_request'))).toEqual([]);
    expect(h.told).toEqual([
      { type: 'RESUME_FAILED', message: 'Resume failed: unknown, used or expired token' },
      { type: 'server.your_id', message: { type: 'your_id', id: 'fresh' } },
    ]);
    expect(h.link.lost(1006)).toBe(false); // no session any more
  });
  it('counts from the hello that asks for resume, as the server does: a pair request sent before welcome is the first frame', () => {
    const h = harness();
    h.out({ type: 'hello', version: 2, capabilities: ['resume'] });
    h.out({ type: 'pair_request', target_id: 'b' }); // --pair: sent the moment the ID arrived, before welcome
    h.from(welcome);
    h.out({ type: 'offer', sdp: 'one' });
    h.link.lost(1006);
    h.from({ type: 'your_id', id: 'fresh' });
    // the server counted both: a resume that says so is good, and nothing is replayed
    expect(
      h.from({ type: 'resumed', id: 'me', peer_id: 'b', received: 2, resume_token: 'k2.s2', resume_grace_ms: 30_000 }),
    ).toBe(true);
    expect(h.told).toEqual([{ type: 'RESUMED', id: 'me', peerId: 'b' }]);
  });
  it('a hello without resume, or a welcome that grants none, counts nothing', () => {
    const h = harness();
    h.out({ type: 'hello', version: 2, capabilities: ['leave'] });
    h.out({ type: 'pair_request', target_id: 'b' });
    h.from({ type: 'welcome', version: 2, capabilities: ['leave'] });
    expect(h.link.lost(1006)).toBe(false);
  });
  it('a deliberate close by the server ends the session; without a grant nothing is counted', () => {
    const h = harness();
    h.out({ type: 'offer', sdp: 'x' });
    expect(h.sent).toHaveLength(1);
    expect(h.link.lost(1006)).toBe(false);
    h.from(welcome);
    expect(h.link.lost(1000)).toBe(false);
    expect(h.from({ type: 'your_id', id: 'fresh' })).toBe(false); // a fresh session: the machine registers it
  });
});
