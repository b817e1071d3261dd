// Tokens: a client core with a token (or a provider) against a server core that authorizes each
// link, over in-memory links. The provider is asked at every connect, so a session whose token
// expires resumes with a fresh one; a client whose token cannot be renewed keeps its call.
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { CloseCode } from '@tandem/protocol';
import { MemoryServer } from '@tandem/server-core/testing';
import { createTandemClient } from './client.js';
import { FakeNetwork, memoryTransport } from './testing.js';
import type { ClientPublicEvent } from './client.machine.js';

const settle = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

function world(authorize: (token: string | undefined) => { subject: string; expiresAt?: number } | null) {
  let n = 0;
  const server = new MemoryServer({
    settings: { pingIntervalMs: 60_000, pingTimeoutMs: 60_000, tickMs: 10, resumeGraceMs: 30_000 },
    generateToken: () => `tok${(++n).toString().padStart(20, '0')}`,
  });
  const link = memoryTransport(server, { authorize });
  const net = new FakeNetwork({ trickle: true });
  const clock = new SimulatedClock();
  const spawn = (token?: string | (() => Promise<string>)) => {
    const client = createTandemClient({
      url: 'mem://server',
      transport: link.factory,
      createPeer: net.createPeer,
      clock,
      resume: true,
      ...(token !== undefined ? { token } : {}),
    });
    const events: ClientPublicEvent[] = [];
    for (const t of ['id', 'open', 'message', 'peerLeft', 'reconnecting', 'resumed', 'closed'] as const)
      client.on(t, (e) => events.push(e));
    return { client, events };
  };
  return { server, link, clock, spawn };
}

describe('client tokens', () => {
  it('asks its provider before every connect: a session whose token expires resumes with a fresh one', async () => {
    let s: MemoryServer;
    const w = world((token) =>
      token?.startsWith('alice-')
        ? { subject: 'alice', expiresAt: s.now + 1_000 }
        : token === 'bob'
          ? { subject: 'bob' }
          : null,
    );
    s = w.server;
    let issued = 0;
    const a = w.spawn(async () => `alice-${++issued}`);
    const b = w.spawn('bob');
    await settle();
    a.client.pair(b.client.id!);
    await settle();
    expect(a.client.status).toBe('open');
    const id = a.client.id;
    s.advance(1_010);
    await settle();
    expect(a.events.filter((e) => e.type === 'reconnecting')).toMatchObject([{ code: CloseCode.AuthExpired }]);
    await settle();
    expect(w.link.tokens.filter((t) => t !== 'bob')).toEqual(['alice-1', 'alice-2']);
    expect(a.events.filter((e) => e.type === 'resumed')).toHaveLength(1);
    expect(a.client.id).toBe(id);
    expect(a.client.status).toBe('open');
    a.client.send('still here');
    await settle();
    expect(b.events.filter((e) => e.type === 'message')).toMatchObject([{ data: 'still here' }]);
    expect(b.events.filter((e) => e.type === 'peerLeft')).toEqual([]);
  });

  it('a token that cannot be renewed ends the signaling link, not the call: the channel stays open', async () => {
    let s: MemoryServer;
    let valid = true;
    const w = world((token) =>
      token === 'alice' && valid
        ? { subject: 'alice', expiresAt: s.now + 1_000 }
        : token === 'bob'
          ? { subject: 'bob' }
          : null,
    );
    s = w.server;
    const a = w.spawn('alice');
    const b = w.spawn('bob');
    await settle();
    a.client.pair(b.client.id!);
    await settle();
    valid = false;
    s.advance(1_010);
    for (let i = 0; i < 5; i++) {
      w.clock.increment(1_000);
      await settle();
    }
    expect(w.link.tokens.filter((t) => t === 'alice').length).toBeGreaterThan(2); // refused again and again
    expect(a.client.resuming).toBe(true);
    expect(a.events.filter((e) => e.type === 'peerLeft')).toEqual([]);
    a.client.send('over the call');
    b.client.send('and back');
    await settle();
    expect(b.events.filter((e) => e.type === 'message')).toMatchObject([{ data: 'over the call' }]);
    expect(a.events.filter((e) => e.type === 'message')).toMatchObject([{ data: 'and back' }]);
  });

  it('a provider that fails is a failed connect, retried', async () => {
    const w = world((token) => (token === 'ok' ? { subject: 'x' } : null));
    let calls = 0;
    const a = w.spawn(async () => {
      if (++calls === 1) throw new Error('identity provider down');
      return 'ok';
    });
    await settle();
    expect(a.events.filter((e) => e.type === 'reconnecting')).toMatchObject([
      { reason: 'token provider failed: identity provider down' },
    ]);
    w.clock.increment(1_000);
    await settle();
    expect(a.client.id).not.toBeNull();
    expect(w.link.tokens).toEqual(['ok']);
  });
});
