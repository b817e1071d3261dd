// Capability `ice-servers`: the engine hands a client that asks for it the servers its host's
// policy names (TURN REST credentials carrying the client's ID), and fresh ones before they expire.
import { describe, expect, it } from 'vitest';
import { encode } from '@tandem/protocol';
import { MemoryServer } from './testing/memory-server.js';

const policy = (calls: { id: string; now: number }[]) => (id: string, now: number) => {
  calls.push({ id, now });
  return {
    servers: [
      {
        urls: 'turn:turn.test:3478',
        username: `${Math.floor(now / 1000) + 600}:${id}`,
        credential: `secret-for-${calls.length}`,
      },
    ],
    ttlMs: 600_000,
  };
};

describe('ice-servers capability', () => {
  it('is advertised only when the host has a policy; a v1 client is sent nothing new', () => {
    const plain = new MemoryServer().connect();
    expect(plain.messages()[0]!['capabilities']).not.toContain('ice-servers');
    const s = new MemoryServer({ iceServers: policy([]) });
    const v1 = s.connect();
    expect(v1.messages()[0]!['capabilities']).toContain('ice-servers');
    // a v1 client that answers every ping, kept well past the 480 s at which a v2 client is refreshed
    let answered = 0;
    for (let i = 0; i < 1200; i++) {
      s.advance(1000);
      const pings = v1.messages().filter((m) => m['type'] === 'ping').length;
      if (pings > answered) v1.send('{"type":"pong"}');
      answered = pings;
    }
    expect(v1.closedBy).toBeNull();
    expect(v1.messages().filter((m) => m['type'] === 'ping').length).toBeGreaterThan(20);
    expect(v1.messages().filter((m) => m['type'] !== 'ping')).toEqual([
      {
        type: 'your_id',
        id: v1.conn.id,
        version: 2,
        capabilities: ['keepalive.ws-ping', 'leave', 'ice-servers', 'codes'],
      },
    ]);
  });

  it('welcome carries the servers for this client; fresh ones come at 80% of their lifetime', () => {
    const calls: { id: string; now: number }[] = [];
    const s = new MemoryServer({
      iceServers: policy(calls),
      settings: { pingIntervalMs: 25_000, pingTimeoutMs: 20_000 },
    });
    const c = s.connect();
    c.send(encode({ type: 'hello', version: 2, capabilities: ['ice-servers'] }));
    const welcome = c.messages().at(-1)!;
    expect(welcome).toMatchObject({ type: 'welcome', capabilities: ['ice-servers'], ice_servers_ttl_ms: 600_000 });
    expect(welcome['ice_servers']).toEqual([
      {
        urls: 'turn:turn.test:3478',
        username: `${Math.floor(s.now / 1000) + 600}:${c.conn.id}`,
        credential: 'secret-for-1',
      },
    ]);
    expect(calls).toEqual([{ id: c.conn.id, now: s.now }]);
    // keep it alive with pongs for 20 minutes: a refresh at ~8 minutes, then every ~8 minutes
    for (let i = 0; i < 60 * 20; i++) {
      s.advance(1000);
      if (c.messages().at(-1)?.['type'] === 'ping') c.send('{"type":"pong"}');
    }
    const refreshes = c.messages().filter((m) => m['type'] === 'ice_servers');
    expect(refreshes).toHaveLength(2);
    expect(refreshes[0]).toMatchObject({ ttl_ms: 600_000, ice_servers: [{ credential: 'secret-for-2' }] });
    expect(c.closedBy).toBeNull();
    // each at least 80% of the lifetime after the last, and no later than one ping interval after that
    const at = calls.map((x) => x.now);
    for (let i = 1; i < at.length; i++) {
      expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(480_000);
      expect(at[i]! - at[i - 1]!).toBeLessThanOrEqual(480_000 + 25_000 + 1000);
    }
  });
});
