// Capability `codes`, the server's part: nameplates handed out smallest-free first, a claim pairs
// the claimer with the owner (both `paired` frames name the nameplate), both sides confirming
// releases it, anything else burns it for good, time limits hold, and a v1 client sees nothing new.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encode } from '@tandem/protocol';
import { MemoryServer } from './testing/memory-server.js';

type Client = ReturnType<MemoryServer['connect']>;
const hello = (c: Client, caps = ['codes', 'leave']) =>
  c.send(encode({ type: 'hello', version: 2, capabilities: caps }));
const last = (c: Client) => c.messages().at(-1)!;
const ofType = (c: Client, type: string) => c.messages().filter((m) => m['type'] === type);

function world(settings = {}, address: (id: string) => string | null = () => null) {
  const s = new MemoryServer({ settings, addressOf: (h) => address(h.conn.id) });
  const client = () => {
    const c = s.connect();
    hello(c);
    return c;
  };
  const nameplateFor = (c: Client) => {
    c.send(encode({ type: 'nameplate_request' }));
    expect(last(c)).toMatchObject({ type: 'nameplate' });
    return String(last(c)['nameplate']);
  };
  return { s, client, nameplateFor };
}

describe('codes: nameplates', () => {
  it('is offered in your_id and granted in welcome; smallest free number first, a newer request replaces the last', () => {
    const { s, client, nameplateFor } = world({ nameplateTtlMs: 60_000 });
    const a = client();
    expect(a.messages()[0]!['capabilities']).toContain('codes');
    expect(ofType(a, 'welcome')[0]!['capabilities']).toContain('codes');
    const b = client();
    expect(nameplateFor(a)).toBe('1');
    expect(last(a)['expires_in_ms']).toBe(60_000);
    expect(nameplateFor(b)).toBe('2');
    // A asks again: 1 is replaced (A is told), and is the smallest free number again
    expect(nameplateFor(a)).toBe('1');
    expect(ofType(a, 'nameplate_closed')).toEqual([{ type: 'nameplate_closed', nameplate: '1', reason: 'replaced' }]);
    // B's goes when B leaves the server; its number is free again
    b.close(1000);
    const c = client();
    expect(nameplateFor(c)).toBe('2');
    void s;
  });

  it('a client that did not ask for codes in hello is refused them; a v1 client is never sent a nameplate frame', () => {
    const { s } = world();
    const v1 = s.connect();
    v1.send(encode({ type: 'nameplate_request' }));
    expect(last(v1)).toMatchObject({ type: 'error', code: 'codes_not_granted' });
    expect(v1.messages().filter((m) => String(m['type']).startsWith('nameplate'))).toEqual([]);
  });

  it('a claim pairs the claimer (initiator) with the owner, both paired frames carry the nameplate; both confirming releases it', () => {
    const { client, nameplateFor } = world();
    const owner = client();
    const claimer = client();
    const n = nameplateFor(owner);
    claimer.send(encode({ type: 'claim', nameplate: n }));
    expect(ofType(claimer, 'paired')).toEqual([
      { type: 'paired', peer_id: owner.conn.id, initiator: true, nameplate: n, peer_capabilities: ['codes', 'leave'] },
    ]);
    expect(ofType(owner, 'paired')).toEqual([
      {
        type: 'paired',
        peer_id: claimer.conn.id,
        initiator: false,
        nameplate: n,
        peer_capabilities: ['codes', 'leave'],
      },
    ]);
    // the pairing relays like any other
    claimer.send(encode({ type: 'offer', sdp: 'x' }));
    expect(last(owner)).toMatchObject({ type: 'offer', sdp: 'x', from_peer: true });
    owner.send(encode({ type: 'claim_result', ok: true }));
    expect(ofType(owner, 'nameplate_closed')).toEqual([]);
    claimer.send(encode({ type: 'claim_result', ok: true }));
    for (const c of [owner, claimer])
      expect(ofType(c, 'nameplate_closed')).toEqual([{ type: 'nameplate_closed', nameplate: n, reason: 'confirmed' }]);
    // released: the number can be handed out again, and the confirmed pair leaving burns nothing
    const next = client();
    expect(nameplateFor(next)).toBe(n);
    claimer.send(encode({ type: 'leave' }));
    expect(ofType(owner, 'nameplate_closed')).toHaveLength(1);
  });

  it('one guess per code: a failed confirmation burns the nameplate; owner and claimer are told; the right code no longer works', () => {
    const { s, client, nameplateFor } = world();
    const owner = client();
    const guesser = client();
    const n = nameplateFor(owner);
    guesser.send(encode({ type: 'claim', nameplate: n }));
    owner.send(encode({ type: 'claim_result', ok: false, reason: 'key confirmation failed' }));
    const burnt = { type: 'nameplate_closed', nameplate: n, reason: 'burnt', detail: 'key confirmation failed' };
    expect(ofType(owner, 'nameplate_closed')).toEqual([burnt]);
    expect(ofType(guesser, 'nameplate_closed')).toEqual([burnt]);
    guesser.send(encode({ type: 'leave' }));
    const rightful = client();
    rightful.send(encode({ type: 'claim', nameplate: n }));
    expect(last(rightful)).toMatchObject({ type: 'error', code: 'nameplate_burnt' });
    expect(ofType(rightful, 'paired')).toEqual([]);
    // the owner may make a fresh code at once; the burnt number is not reused while it stands
    expect(nameplateFor(owner)).not.toBe(n);
    expect(s.engine.stats().nameplatesBurnt).toBe(1);
  });

  it('a claim that ends any other way burns it: the claimer leaves, disconnects, or the time runs out', () => {
    for (const how of ['leave', 'disconnect', 'owner disconnects', 'timeout'] as const) {
      const { s, client, nameplateFor } = world({
        claimTimeoutMs: 30_000,
        pingIntervalMs: 60_000,
        pingTimeoutMs: 60_000,
      });
      const owner = client();
      const claimer = client();
      const n = nameplateFor(owner);
      claimer.send(encode({ type: 'claim', nameplate: n }));
      if (how === 'leave') claimer.send(encode({ type: 'leave' }));
      if (how === 'disconnect') claimer.close(1006);
      if (how === 'owner disconnects') owner.close(1006);
      if (how === 'timeout') {
        owner.send(encode({ type: 'claim_result', ok: true })); // one side only
        s.advance(31_000);
      }
      const told = how === 'owner disconnects' ? claimer : owner;
      expect(ofType(told, 'nameplate_closed'), how).toMatchObject([{ nameplate: n, reason: 'burnt' }]);
      const other = client();
      other.send(encode({ type: 'claim', nameplate: n }));
      expect(last(other), how).toMatchObject({ type: 'error' });
      expect(['nameplate_burnt', 'nameplate_unknown'], how).toContain(last(other)['code']);
    }
  });

  it('refusals: an unknown number, your own nameplate, a claim while one is in progress, an owner already paired; none burns it', () => {
    const { client, nameplateFor } = world();
    const owner = client();
    const n = nameplateFor(owner);
    const x = client();
    x.send(encode({ type: 'claim', nameplate: '999' }));
    expect(last(x)).toMatchObject({ type: 'error', code: 'nameplate_unknown' });
    owner.send(encode({ type: 'claim', nameplate: n }));
    expect(last(owner)).toMatchObject({ type: 'error', code: 'nameplate_unknown' });
    const busy = client();
    busy.send(encode({ type: 'pair_request', target_id: owner.conn.id }));
    x.send(encode({ type: 'claim', nameplate: n }));
    expect(last(x)).toMatchObject({ type: 'error', code: 'nameplate_unknown' });
    busy.send(encode({ type: 'leave' }));
    // the code still holds
    x.send(encode({ type: 'claim', nameplate: n }));
    expect(ofType(x, 'paired')).toHaveLength(1);
    const late = client();
    late.send(encode({ type: 'claim', nameplate: n }));
    expect(last(late)).toMatchObject({ type: 'error', code: 'nameplate_claimed' });
  });

  it('an open nameplate expires after nameplateTtlMs and its owner is told; nextWake names the expiry', () => {
    const { s, client, nameplateFor } = world({ nameplateTtlMs: 5_000, pingIntervalMs: 60_000, pingTimeoutMs: 60_000 });
    const owner = client();
    const n = nameplateFor(owner);
    expect(s.engine.nextWake()).toBeLessThanOrEqual(s.now + 5_000);
    s.advance(5_000);
    expect(ofType(owner, 'nameplate_closed')).toEqual([{ type: 'nameplate_closed', nameplate: n, reason: 'expired' }]);
    const x = client();
    x.send(encode({ type: 'claim', nameplate: n }));
    expect(last(x)).toMatchObject({ type: 'error', code: 'nameplate_unknown' });
  });

  it('nameplates and claims are limited per address per minute', () => {
    const { s, client } = world({ nameplatesPerAddressPerMinute: 3 }, () => '10.0.0.1');
    const a = client();
    for (let i = 0; i < 3; i++) a.send(encode({ type: 'nameplate_request' }));
    a.send(encode({ type: 'nameplate_request' }));
    expect(last(a)).toMatchObject({ type: 'error', code: 'nameplate_rate_limited' });
    s.advance(20_000); // a third of a minute: one more
    a.send(encode({ type: 'nameplate_request' }));
    expect(last(a)).toMatchObject({ type: 'nameplate' });
  });

  it('model: under any sequence of requests, claims, results, leaves, disconnects and time, each claim ends once, and only a claim its client is paired under (fast-check)', () => {
    const step = fc.oneof(
      fc.record({ k: fc.constant('request' as const), who: fc.nat(3) }),
      // claims often, on the few numbers in use, so burnt ones are tried again
      fc.record({ k: fc.constant('claim' as const), who: fc.nat(3), n: fc.integer({ min: 1, max: 2 }) }),
      fc.record({ k: fc.constant('claim' as const), who: fc.nat(3), n: fc.integer({ min: 1, max: 2 }) }),
      fc.record({ k: fc.constant('result' as const), who: fc.nat(3), ok: fc.boolean() }),
      fc.record({ k: fc.constant('leave' as const), who: fc.nat(3) }),
      fc.record({ k: fc.constant('close' as const), who: fc.nat(3) }),
      fc.record({ k: fc.constant('time' as const), ms: fc.integer({ min: 1_000, max: 40_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const { s, client } = world({
          claimTimeoutMs: 30_000,
          nameplateTtlMs: 60_000,
          pingIntervalMs: 600_000,
          pingTimeoutMs: 600_000,
        });
        const clients = [client(), client(), client(), client()];
        // per nameplate: burnt since it was last handed out; per client: the claims it is paired under
        const burntSinceHandedOut = new Map<string, boolean>();
        const seen = new Map<Client, number>();
        const open = new Map<Client, Set<string>>();
        const check = () => {
          for (const c of clients) {
            const frames = c.messages();
            for (const m of frames.slice(seen.get(c) ?? 0)) {
              const n = String(m['nameplate']);
              if (m['type'] === 'nameplate') burntSinceHandedOut.set(n, false);
              if (m['type'] === 'paired' && m['nameplate'] !== undefined) {
                // a burnt nameplate never pairs again, unless handed out anew
                expect(burntSinceHandedOut.get(n), `paired under burnt nameplate ${n}`).toBe(false);
                open.set(c, new Set([...(open.get(c) ?? []), n]));
              }
              if (m['type'] === 'nameplate_closed' && (m['reason'] === 'burnt' || m['reason'] === 'confirmed')) {
                if (m['reason'] === 'burnt') burntSinceHandedOut.set(n, true);
                // a claim ends once, and only a claim this client is paired under
                expect(open.get(c)?.has(n), `${m['reason']} of ${n} without an open claim`).toBe(true);
                open.get(c)!.delete(n);
              }
            }
            seen.set(c, frames.length);
          }
        };
        for (const st of steps) {
          if (st.k === 'time') {
            s.advance(st.ms);
          } else {
            const c = clients[st.who]!;
            if (c.closedBy !== null || c.conn.pairingState === 3) {
              clients[st.who] = client();
              continue;
            }
            if (st.k === 'request') c.send(encode({ type: 'nameplate_request' }));
            if (st.k === 'claim') c.send(encode({ type: 'claim', nameplate: String(st.n) }));
            if (st.k === 'result') c.send(encode({ type: 'claim_result', ok: st.ok }));
            if (st.k === 'leave') c.send(encode({ type: 'leave' }));
            if (st.k === 'close') c.close(1006);
          }
          check();
        }
      }),
      { numRuns: 300 },
    );
  });
});
