// Authorization against the real engine over in-memory links: the host authorizes each link
// (a principal), the engine keeps pairing inside a tenant, ends a link whose authorization
// expires, and resumes a session only under the same subject and tenant.
import { describe, expect, it } from 'vitest';
import { CloseCode, encode } from '@tandem/protocol';
import { InMemoryDirectory, MemoryHub } from './directory/memory-directory.js';
import { MemoryServer, ResumingMemoryClient as Client } from './testing/memory-server.js';

const GRACE = 5_000;
const settings = { pingIntervalMs: 60_000, pingTimeoutMs: 60_000, tickMs: 10, pingSpread: 0, resumeGraceMs: GRACE };
function server(options: { directory?: InMemoryDirectory } = {}) {
  let n = 0;
  return new MemoryServer({
    settings,
    generateToken: () => `t${(++n).toString(36).padStart(23, '0')}`,
    ...options,
  });
}

describe('authorization', () => {
  it('pairs only within a tenant: another tenant, or none, is "Target client not found", even when busy', () => {
    const s = server();
    const acme1 = s.connect({ subject: 'a1', tenant: 'acme' });
    const acme2 = s.connect({ subject: 'a2', tenant: 'acme' });
    const globex = s.connect({ subject: 'g1', tenant: 'globex' });
    const none = s.connect();
    const lastError = (c: typeof acme1) => c.messages().at(-1);
    globex.send(encode({ type: 'pair_request', target_id: acme1.conn.id }));
    expect(lastError(globex)).toEqual({ type: 'error', message: 'Target client not found' });
    none.send(encode({ type: 'pair_request', target_id: acme1.conn.id }));
    expect(lastError(none)).toEqual({ type: 'error', message: 'Target client not found' });
    acme1.send(encode({ type: 'pair_request', target_id: none.conn.id }));
    expect(lastError(acme1)).toEqual({ type: 'error', message: 'Target client not found' });
    acme1.send(encode({ type: 'pair_request', target_id: acme2.conn.id }));
    expect(lastError(acme1)).toMatchObject({ type: 'paired', peer_id: acme2.conn.id });
    globex.send(encode({ type: 'pair_request', target_id: acme2.conn.id }));
    expect(lastError(globex)).toEqual({ type: 'error', message: 'Target client not found' });
  });

  it('holds across the nodes of a cluster', () => {
    const hub = new MemoryHub();
    const s0 = server({ directory: new InMemoryDirectory(hub, 'n0') });
    const s1 = server({ directory: new InMemoryDirectory(hub, 'n1') });
    const acme = s0.connect({ tenant: 'acme' });
    const globex = s1.connect({ tenant: 'globex' });
    const acme2 = s1.connect({ tenant: 'acme' });
    globex.send(encode({ type: 'pair_request', target_id: acme.conn.id }));
    expect(globex.messages().at(-1)).toEqual({ type: 'error', message: 'Target client not found' });
    acme2.send(encode({ type: 'pair_request', target_id: acme.conn.id }));
    expect(acme2.messages().at(-1)).toMatchObject({ type: 'paired', peer_id: acme.conn.id });
  });

  it('a link is closed with 4003 when its authorization expires, not a ping interval later; its partner is told', () => {
    const s = server();
    const a = s.connect({ subject: 'alice', expiresAt: s.now + 1_234 });
    const b = s.connect();
    b.send(encode({ type: 'pair_request', target_id: a.conn.id }));
    s.advance(1_200);
    expect(a.closedBy).toBeNull();
    s.advance(50);
    expect(a.closedBy).toEqual({
      code: CloseCode.AuthExpired,
      reason: 'authorization expired: reconnect with a fresh token',
      abrupt: false,
    });
    expect(b.messages().at(-1)).toEqual({ type: 'peer_disconnected', peer_id: a.conn.id });
    expect(s.engine.stats()).toMatchObject({ authExpired: 1, connections: 1 });
    expect(s.logs).toContainEqual({ type: 'auth_expired', id: a.conn.id });
    expect(s.logs).toContainEqual({ type: 'connected', id: a.conn.id, subject: 'alice' });
  });

  it('a resumable session detaches at expiry and resumes under a fresh authorization of the same holder, with its expiry', () => {
    const s = server();
    const a = new Client(s, { subject: 'alice', tenant: 'acme', expiresAt: s.now + 1_000 });
    const b = new Client(s, { subject: 'bob', tenant: 'acme' });
    a.send({ type: 'pair_request', target_id: b.id });
    a.pump();
    b.pump();
    s.advance(1_010);
    expect(a.link.closedBy?.code).toBe(CloseCode.AuthExpired);
    a.link.close(CloseCode.AuthExpired);
    b.pump();
    expect(b.peerDisconnects).toEqual([]);
    expect(s.engine.stats()).toMatchObject({ detached: 1, pairs: 1 });
    // the old authorization does not come back: a resume without one of the same holder is refused
    expect(a.resume(s, { subject: 'mallory', tenant: 'acme', expiresAt: s.now + 60_000 })).toEqual({
      type: 'error',
      message: 'Resume failed: the session was authorized for another subject or tenant',
      code: 'resume_failed',
    });
    expect(a.resume(s, { subject: 'alice', tenant: 'globex', expiresAt: s.now + 60_000 })).toMatchObject({
      code: 'resume_failed',
    });
    expect(a.resume(s, { subject: 'alice', tenant: 'acme', expiresAt: s.now + 2_000 })).toMatchObject({
      type: 'resumed',
      id: a.id,
      peer_id: b.id,
    });
    s.advance(1_900);
    expect(a.link.closedBy).toBeNull();
    s.advance(200);
    expect(a.link.closedBy?.code).toBe(CloseCode.AuthExpired);
  });

  it('a detached session is not resumed in the cluster under another holder: it stays where it is', () => {
    const hub = new MemoryHub();
    const s0 = server({ directory: new InMemoryDirectory(hub, 'n0') });
    const s1 = server({ directory: new InMemoryDirectory(hub, 'n1') });
    const a = new Client(s0, { subject: 'alice', tenant: 'acme' });
    const b = new Client(s0, { subject: 'bob', tenant: 'acme' });
    a.send({ type: 'pair_request', target_id: b.id });
    a.pump();
    b.pump();
    a.breakLink('close', 0);
    expect(a.resume(s1, { subject: 'mallory', tenant: 'acme' })).toMatchObject({
      type: 'error',
      message: 'Resume failed: the session was authorized for another subject or tenant',
    });
    expect(s0.engine.stats()).toMatchObject({ detached: 1, handedOver: 0 });
    expect(a.resume(s1, { subject: 'alice', tenant: 'acme' })).toMatchObject({ type: 'resumed', peer_id: b.id });
    expect(s0.engine.stats().handedOver).toBe(1);
  });
});
