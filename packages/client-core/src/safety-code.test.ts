// Safety codes: two real client cores on fake peers agree on one; a relay that hands each side its
// own certificate makes them differ; any change to a relayed exchange message fails it or makes
// the codes differ; the commitment fixes every input before anyone can compute a code.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryServer } from '@tandem/server-core/testing';
import { createTandemClient, type TandemClientEvent } from './client.js';
import type { ChannelHub } from './channel-hub.js';
import type { PeerFingerprints, PeerSession } from './ports.js';
import { fingerprintsOf, runSafetyExchange, safetyCode, safetyCommitment, type SafetyOutcome } from './safety-code.js';
import { controlLink, fakeFingerprint, FakeNetwork, memoryTransport, type CallSide, until } from './testing.js';

function world(features?: readonly string[][]) {
  const server = new MemoryServer({ settings: { pingIntervalMs: 60_000, pingTimeoutMs: 30_000, tickMs: 100 } });
  const link = memoryTransport(server);
  const net = new FakeNetwork({ channels: true });
  const spawn = (i: number) => {
    const client = createTandemClient({
      url: 'mem://server',
      transport: link.factory,
      createPeer: net.createPeer,
      peerWaitMs: 200,
      ...(features?.[i] ? { features: features[i] } : {}),
    });
    const events: TandemClientEvent[] = [];
    for (const t of ['safetyCode', 'safetyCodeFailed', 'open', 'peerFeatures'] as const)
      client.on(t, (e) => events.push(e));
    return { client, events };
  };
  return { net, spawn };
}
const codeOf = (c: { events: TandemClientEvent[] }) =>
  (c.events.find((e) => e.type === 'safetyCode') as { code: string } | undefined)?.code;

describe('safety codes between two client cores', () => {
  it('a key-paired call: both sides show the same 8-digit code, and the client keeps it', async () => {
    const w = world();
    const a = w.spawn(0);
    const b = w.spawn(1);
    await until(() => a.client.id !== null && b.client.id !== null, 'ids');
    b.client.pair(a.client.id!);
    await until(() => codeOf(a) !== undefined && codeOf(b) !== undefined, 'safety codes');
    expect(codeOf(a)).toMatch(/^\d{4} \d{4}$/);
    expect(codeOf(a)).toBe(codeOf(b));
    expect(a.client.safetyCode).toBe(codeOf(a));
    expect(a.events.filter((e) => e.type === 'safetyCodeFailed')).toEqual([]);
    a.client.close();
    b.client.close();
  });

  it('someone in the signaling path answering each side with its own certificate: the codes differ', async () => {
    const w = world();
    // each side's remote description carries a certificate that is not its peer's
    w.net.rewriteFingerprint = (_fp, to) => fakeFingerprint(`relay towards ${to.token}`);
    const a = w.spawn(0);
    const b = w.spawn(1);
    await until(() => a.client.id !== null && b.client.id !== null, 'ids');
    b.client.pair(a.client.id!);
    await until(() => codeOf(a) !== undefined && codeOf(b) !== undefined, 'safety codes');
    expect(codeOf(a)).not.toBe(codeOf(b));
    a.client.close();
    b.client.close();
  });

  it('a peer that does not compare codes (features without safety) gets no exchange; neither side shows a code', async () => {
    const w = world([['channels', 'files'], undefined!]);
    const a = w.spawn(0);
    const b = w.spawn(1);
    await until(() => a.client.id !== null && b.client.id !== null, 'ids');
    b.client.pair(a.client.id!);
    await until(
      () => a.events.some((e) => e.type === 'peerFeatures') && b.events.some((e) => e.type === 'peerFeatures'),
      'hello',
    );
    await new Promise((r) => setTimeout(r, 50));
    for (const c of [a, b]) expect(c.events.filter((e) => e.type.startsWith('safety'))).toEqual([]);
    expect(a.client.safetyCode).toBeNull();
    a.client.close();
    b.client.close();
  });
});

/** Two exchanges wired back to back through a relay that may rewrite each message. */
function exchange(
  fps: { initiator: PeerFingerprints; responder: PeerFingerprints },
  relay?: (m: Record<string, unknown>, to: CallSide) => Record<string, unknown>,
) {
  const link = controlLink(relay);
  const out: { initiator?: SafetyOutcome; responder?: SafetyOutcome } = {};
  runSafetyExchange(link.hub('responder'), link.session(fps.responder), (o) => (out.responder = o));
  runSafetyExchange(link.hub('initiator'), link.session(fps.initiator), (o) => (out.initiator = o));
  link.run();
  return out;
}

const arbFp = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => fakeFingerprint(Buffer.from(b).toString('hex')));

describe('the commit-then-reveal exchange', () => {
  it('both sides get the same code iff each sees the other’s certificate (fast-check)', () => {
    fc.assert(
      fc.property(
        arbFp,
        arbFp,
        fc.option(arbFp, { nil: undefined }),
        fc.option(arbFp, { nil: undefined }),
        (fa, fb, seenByA, seenByB) => {
          const out = exchange({
            initiator: { local: [fa], remote: [seenByA ?? fb] },
            responder: { local: [fb], remote: [seenByB ?? fa] },
          });
          expect(out.initiator?.ok && out.responder?.ok).toBe(true);
          const same = (out.initiator as { code: string }).code === (out.responder as { code: string }).code;
          const honest = (seenByA ?? fb) === fb && (seenByB ?? fa) === fa;
          expect(same).toBe(honest);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('any change to a relayed exchange message fails it or makes the codes differ (fast-check)', () => {
    const fa = fakeFingerprint('a');
    const fb = fakeFingerprint('b');
    fc.assert(
      fc.property(
        fc.constantFrom('sas.commit', 'sas.nonce', 'sas.reveal'),
        fc.nat(63),
        fc.integer({ min: 1, max: 15 }),
        (which, at, flip) => {
          const out = exchange(
            { initiator: { local: [fa], remote: [fb] }, responder: { local: [fb], remote: [fa] } },
            (m) => {
              if (m['t'] !== which) return m;
              const key = which === 'sas.commit' ? 'c' : 'n';
              const hex = String(m[key]);
              const digit = (parseInt(hex[at]!, 16) ^ flip).toString(16);
              return { ...m, [key]: hex.slice(0, at) + digit + hex.slice(at + 1) };
            },
          );
          const i = out.initiator;
          const r = out.responder;
          const agreed = i?.ok === true && r?.ok === true && i.code === r.code;
          expect(agreed).toBe(false);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a reveal that does not match the commitment is reported as an altered exchange', () => {
    const fa = fakeFingerprint('a');
    const fb = fakeFingerprint('b');
    const out = exchange({ initiator: { local: [fa], remote: [fb] }, responder: { local: [fb], remote: [fa] } }, (m) =>
      m['t'] === 'sas.reveal' ? { ...m, n: '00'.repeat(32) } : m,
    );
    expect(out.initiator).toMatchObject({ ok: true });
    expect(out.responder).toEqual({ ok: false, reason: expect.stringMatching(/does not match its commitment/) });
  });

  it('a fingerprint that turns up after the snapshot (a renegotiation mid-exchange) fails the exchange', () => {
    const fa = fakeFingerprint('a');
    const fb = fakeFingerprint('b');
    const responderRemote = [fa];
    const out = exchange(
      { initiator: { local: [fa], remote: [fb] }, responder: { local: [fb], remote: responderRemote } },
      (m) => {
        if (m['t'] === 'sas.reveal') responderRemote.push(fakeFingerprint('late relay certificate'));
        return m;
      },
    );
    expect(out.responder).toEqual({ ok: false, reason: expect.stringMatching(/fingerprints changed/) });
  });

  it('a stack that cannot tell its fingerprints gets no code, and says why', () => {
    const out = exchange({
      initiator: { local: [], remote: [] },
      responder: { local: [fakeFingerprint('b')], remote: [] },
    });
    expect(out.initiator).toEqual({ ok: false, reason: expect.stringMatching(/does not tell its DTLS fingerprints/) });
  });
});

describe('the code itself (fixed vectors, as docs/safety-codes.md states them)', () => {
  const nI = Uint8Array.from({ length: 32 }, (_, i) => i);
  const nR = Uint8Array.from({ length: 32 }, (_, i) => 0xff - i);
  const fI = 'sha-256 ' + Array.from({ length: 32 }, () => 'AA').join(':');
  const fR = 'sha-256 ' + Array.from({ length: 32 }, () => 'BB').join(':');
  it('commitment and code of the fixed inputs', () => {
    expect(Buffer.from(safetyCommitment(nI)).toString('hex')).toMatchInlineSnapshot(
      `"c6e43b19fb09cef1387f6cc22970954e981f96b179c62a366311257a27404dc2"`,
    );
    expect(
      safetyCode({ initiatorNonce: nI, responderNonce: nR, initiatorFingerprints: [fI], responderFingerprints: [fR] }),
    ).toMatchInlineSnapshot(`"6323 2477"`);
  });
  it('fingerprints are read from SDP case-insensitively and without duplicates; their order does not matter', () => {
    const sdp = `v=0\r\na=fingerprint:SHA-256 aa:bb\r\nm=application 9\r\na=fingerprint:sha-256 AA:BB\r\na=fingerprint:sha-1 01:02\r\n`;
    expect(fingerprintsOf(sdp)).toEqual(['sha-256 AA:BB', 'sha-1 01:02']);
    const args = { initiatorNonce: nI, responderNonce: nR, responderFingerprints: [fR] };
    expect(safetyCode({ ...args, initiatorFingerprints: [fI, 'sha-1 01:02'] })).toBe(
      safetyCode({ ...args, initiatorFingerprints: ['SHA-1 01:02', fI.toLowerCase()] }),
    );
  });
});
