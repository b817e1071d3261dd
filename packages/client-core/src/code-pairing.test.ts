// Pairing by code between two real client cores (fake peers with fingerprints, a real server
// core in memory): a code made on a nameplate, joined, verified over the call before anything
// flows; a wrong code fails on both sides, delivers nothing and burns the nameplate; a relay that
// substitutes certificates fails confirmation even with the right code; the exchange itself holds
// up to fast-check (agreement iff same code, any change to a relayed message fails it).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryServer } from '@tandem/server-core/testing';
import { createTandemClient, type TandemClientEvent } from './client.js';
import type { ChannelHub } from './channel-hub.js';
import type { PeerFingerprints, PeerSession } from './ports.js';
import { CODE_PATTERN, codeBits, makeCode, parseCode, runCodeExchange, type CodeOutcome } from './code-pairing.js';
import { runReconfirm } from './code-reconfirm.js';
import type { VerifiedSession } from './code-pairing.js';
import { controlLink, fakeFingerprint, FakeNetwork, FakeTrack, memoryTransport, until } from './testing.js';

function world(settings: Record<string, number> = {}) {
  const server = new MemoryServer({
    settings: { pingIntervalMs: 60_000, pingTimeoutMs: 30_000, tickMs: 100, ...settings },
  });
  const link = memoryTransport(server);
  const net = new FakeNetwork({ channels: true });
  const spawn = () => {
    const client = createTandemClient({
      url: 'mem://server',
      transport: link.factory,
      createPeer: net.createPeer,
      peerWaitMs: 200,
    });
    const events: TandemClientEvent[] = [];
    for (const t of [
      'code',
      'codeClosed',
      'codeRejected',
      'verified',
      'verificationFailed',
      'open',
      'message',
      'peerLeft',
      'error',
      'safetyCode',
    ] as const)
      client.on(t, (e) => events.push(e));
    return { client, events };
  };
  return { server, net, spawn };
}
type Spawned = ReturnType<ReturnType<typeof world>['spawn']>;
const has = (c: Spawned, type: string) => c.events.some((e) => e.type === type);
const of = <T extends TandemClientEvent['type']>(c: Spawned, type: T) =>
  c.events.filter((e) => e.type === type) as Extract<TandemClientEvent, { type: T }>[];

async function codeOf(owner: Spawned): Promise<string> {
  await until(() => owner.client.id !== null, 'id');
  owner.client.requestCode();
  await until(() => has(owner, 'code'), 'a code');
  return of(owner, 'code')[0]!.code;
}

describe('pairing by code between two client cores', () => {
  it('a code is made on a nameplate; joining it verifies the call, then it opens and chat flows; the nameplate is released', async () => {
    const w = world();
    const owner = w.spawn();
    const joiner = w.spawn();
    const code = await codeOf(owner);
    expect(code).toMatch(CODE_PATTERN);
    expect(code.startsWith('1-')).toBe(true);
    await until(() => joiner.client.id !== null, 'id');
    joiner.client.joinCode(code.toUpperCase().replace(/-/g, ' ')); // typed loosely: still the code
    await until(() => has(owner, 'verified') && has(joiner, 'verified'), 'verified on both sides');
    await until(() => has(owner, 'open') && has(joiner, 'open'), 'open');
    // verified comes before open: nothing of the app's flows on an unverified call
    for (const c of [owner, joiner])
      expect(c.events.findIndex((e) => e.type === 'verified')).toBeLessThan(
        c.events.findIndex((e) => e.type === 'open'),
      );
    expect(owner.client.verified && joiner.client.verified).toBe(true);
    joiner.client.send('hello by code');
    await until(() => of(owner, 'message').some((m) => m.data === 'hello by code'), 'chat');
    expect(w.server.engine.stats().codesConfirmed).toBe(1);
    expect(of(owner, 'codeClosed')).toMatchObject([{ reason: 'confirmed' }]);
    expect(owner.client.code).toBeNull();
    // a code pairing shows no safety code: the call is verified instead
    expect(has(owner, 'safetyCode')).toBe(false);
    owner.client.close();
    joiner.client.close();
  });

  it('a wrong code: both sides fail verification, nothing is delivered, the nameplate burns, and the right code no longer works', async () => {
    const w = world();
    const owner = w.spawn();
    const guesser = w.spawn();
    const code = await codeOf(owner);
    await until(() => guesser.client.id !== null, 'id');
    const [nameplate, first] = code.split('-');
    const wrong = `${nameplate}-${first === 'abandon' ? 'ability' : 'abandon'}-zoo`;
    guesser.client.joinCode(wrong);
    await until(() => has(owner, 'verificationFailed') && has(guesser, 'verificationFailed'), 'failure on both sides');
    expect(of(guesser, 'verificationFailed')[0]!.reason).toMatch(/key confirmation failed/);
    for (const c of [owner, guesser]) {
      expect(has(c, 'open')).toBe(false);
      expect(has(c, 'message')).toBe(false);
    }
    await until(() => has(owner, 'codeClosed'), 'the owner told');
    expect(of(owner, 'codeClosed')[0]).toMatchObject({ reason: 'burnt' });
    expect(w.server.engine.stats().nameplatesBurnt).toBe(1);
    await until(() => has(guesser, 'peerLeft'), 'the failed pairing ended');
    const rightful = w.spawn();
    await until(() => rightful.client.id !== null, 'id');
    rightful.client.joinCode(code);
    await until(() => has(rightful, 'codeRejected'), 'refused');
    expect(of(rightful, 'codeRejected')[0]!.reason).toMatch(/Nameplate burnt/);
    for (const c of [owner, guesser, rightful]) c.client.close();
  });

  it('someone in between substituting certificates fails confirmation even with the right code', async () => {
    const w = world();
    w.net.rewriteFingerprint = (_fp, to) => fakeFingerprint(`relay towards ${to.token}`);
    const owner = w.spawn();
    const joiner = w.spawn();
    const code = await codeOf(owner);
    await until(() => joiner.client.id !== null, 'id');
    joiner.client.joinCode(code);
    await until(() => has(owner, 'verificationFailed') && has(joiner, 'verificationFailed'), 'failure on both sides');
    expect(has(owner, 'open') || has(joiner, 'open')).toBe(false);
    expect(w.server.engine.stats().nameplatesBurnt).toBe(1);
    owner.client.close();
    joiner.client.close();
  });

  it('a verified pairing whose call failed, paired again by key, is confirmed with the pairing key: no new code, chat flows again', async () => {
    const w = world();
    const owner = w.spawn();
    const joiner = w.spawn();
    const code = await codeOf(owner);
    await until(() => joiner.client.id !== null, 'id');
    joiner.client.joinCode(code);
    await until(() => has(owner, 'open') && has(joiner, 'open'), 'open');
    const first = w.net.live().map((p) => p.fingerprint);
    w.net.live()[0]!.fail(); // DTLS gone: the call is made again, with new certificates
    await until(() => has(owner, 'peerLeft') && has(joiner, 'peerLeft'), 'the pairing ended');
    await until(() => joiner.client.status === 'registered' && owner.client.status === 'registered', 'registered');
    joiner.client.pair(owner.client.id!); // the same two, by key
    await until(() => of(owner, 'verified').length === 2 && of(joiner, 'verified').length === 2, 're-verified');
    expect(of(joiner, 'verified')[1]).toMatchObject({ again: true });
    expect(w.net.live().some((p) => first.includes(p.fingerprint))).toBe(false);
    await until(() => of(owner, 'open').length === 2 && of(joiner, 'open').length === 2, 'open again');
    joiner.client.send('after the new call');
    await until(() => of(owner, 'message').some((m) => m.data === 'after the new call'), 'chat');
    expect(owner.client.verified && joiner.client.verified).toBe(true);
    expect(has(owner, 'verificationFailed') || has(joiner, 'verificationFailed')).toBe(false);
    expect(w.server.engine.stats().codesConfirmed).toBe(1); // one claim, confirmed once
    owner.client.close();
    joiner.client.close();
  });

  it('a relay that slips in after verification, on the new call, fails its confirmation: nothing is delivered', async () => {
    const w = world();
    const owner = w.spawn();
    const joiner = w.spawn();
    const code = await codeOf(owner);
    await until(() => joiner.client.id !== null, 'id');
    joiner.client.joinCode(code);
    await until(() => has(owner, 'open') && has(joiner, 'open'), 'open');
    w.net.rewriteFingerprint = (_fp, to) => fakeFingerprint(`relay towards ${to.token}`);
    w.net.live()[0]!.fail();
    await until(() => has(owner, 'peerLeft') && has(joiner, 'peerLeft'), 'the pairing ended');
    await until(() => joiner.client.status === 'registered' && owner.client.status === 'registered', 'registered');
    joiner.client.pair(owner.client.id!);
    await until(() => has(owner, 'verificationFailed') && has(joiner, 'verificationFailed'), 'failure on both sides');
    expect(of(joiner, 'verificationFailed')[0]!.reason).toMatch(/pairing’s key/);
    expect(of(owner, 'open').length + of(joiner, 'open').length).toBe(2); // the first call's only
    expect(of(owner, 'verified').length).toBe(1);
    try {
      joiner.client.send('must not go');
    } catch {
      // refused outright is as good
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(has(owner, 'message')).toBe(false);
    owner.client.close();
    joiner.client.close();
  });

  it('a pairing by code sends and shows no track before it is verified; once verified, a call works', async () => {
    const w = world();
    const owner = w.spawn();
    const joiner = w.spawn();
    const code = await codeOf(owner);
    await until(() => joiner.client.id !== null, 'id');
    // the moment the peer says what it is, the call is up but the code exchange has not run yet
    let refused: unknown = null;
    let verifiedThen: boolean | null = null;
    const off = joiner.client.on('peerFeatures', () => {
      off();
      verifiedThen = joiner.client.verified;
      try {
        joiner.client.call([new FakeTrack('video')]);
      } catch (e) {
        refused = e;
      }
    });
    joiner.client.joinCode(code);
    await until(() => verifiedThen !== null, 'the peer known');
    expect(verifiedThen).toBe(false);
    expect(String(refused)).toMatch(/not verified/);
    expect(w.net.live().every((p) => p.senders.size === 0)).toBe(true);
    await until(() => owner.client.verified && joiner.client.verified, 'verified');
    await until(() => owner.client.peer !== null && joiner.client.peer !== null, 'features');
    joiner.client.call([new FakeTrack('video')]);
    const ringing: TandemClientEvent[] = [];
    owner.client.on('incomingCall', (e) => ringing.push(e));
    await until(() => owner.client.callState === 'ringing', 'ringing');
    owner.client.answerCall();
    const shown: TandemClientEvent[] = [];
    owner.client.on('track', (e) => shown.push(e));
    await until(() => shown.length === 1, 'the track shown, after verification');
    owner.client.close();
    joiner.client.close();
  });

  it('refusals: not a code, an unknown nameplate; send before verification is refused', async () => {
    const w = world();
    const a = w.spawn();
    await until(() => a.client.id !== null, 'id');
    a.client.joinCode('hello there');
    expect(of(a, 'codeRejected')[0]!.reason).toMatch(/not a code/);
    a.client.joinCode('42-abandon-ability');
    await until(() => of(a, 'codeRejected').length === 2, 'refused');
    expect(of(a, 'codeRejected')[1]!.reason).toMatch(/Unknown nameplate/);
    a.client.close();
  });

  it('a code the server will not hand out (it holds as many as it may) is said so, not waited for forever', async () => {
    const w = world({ maxNameplates: 1 });
    const first = w.spawn();
    await codeOf(first);
    const second = w.spawn();
    await until(() => second.client.id !== null, 'id');
    second.client.requestCode();
    await until(() => has(second, 'codeRejected'), 'refused');
    expect(of(second, 'codeRejected')[0]!.reason).toMatch(/as many codes as it may/);
    first.client.close();
    second.client.close();
  });
});

describe('codes', () => {
  it('have the shape, come from the list, and carry 22 bits with two words', () => {
    const code = makeCode('7');
    expect(code).toMatch(/^7-[a-z]+-[a-z]+$/);
    expect(parseCode(code)).toEqual({ code, nameplate: '7' });
    expect(parseCode('7-notaword-abandon')).toBeNull();
    expect(codeBits(2)).toBe(22);
  });
});

/** Two exchanges back to back through a relay that may rewrite each message. */
function exchange(
  codes: { initiator: string; responder: string },
  fps: { initiator: PeerFingerprints; responder: PeerFingerprints },
  relay?: (m: Record<string, unknown>) => Record<string, unknown>,
) {
  const link = controlLink(relay);
  const out: { initiator?: CodeOutcome; responder?: CodeOutcome } = {};
  const call = (code: string, myId: string, peerId: string) => ({ code, nameplate: '7', myId, peerId });
  const responder = call(codes.responder, 'owner', 'claimer');
  runCodeExchange(link.hub('responder'), link.session(fps.responder), responder, (o) => (out.responder = o));
  const initiator = call(codes.initiator, 'claimer', 'owner');
  runCodeExchange(link.hub('initiator'), link.session(fps.initiator), initiator, (o) => (out.initiator = o));
  link.run();
  return out;
}
const fa = fakeFingerprint('a');
const fb = fakeFingerprint('b');
const honest = { initiator: { local: [fa], remote: [fb] }, responder: { local: [fb], remote: [fa] } };

describe('the code exchange (CPace, then key confirmation over the call)', () => {
  it('both sides confirm iff they hold the same code (fast-check)', () => {
    const word = fc.constantFrom('abandon', 'ability', 'zoo', 'zone', 'orange');
    fc.assert(
      fc.property(word, word, word, word, (a1, a2, b1, b2) => {
        const out = exchange({ initiator: `7-${a1}-${a2}`, responder: `7-${b1}-${b2}` }, honest);
        const same = a1 === b1 && a2 === b2;
        expect(out.initiator?.ok === true && out.responder?.ok === true).toBe(same);
        if (!same) expect(out.responder?.ok).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it('any change to a relayed code message fails confirmation (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('code.1', 'code.2', 'code.3'),
        fc.constantFrom('Y', 'tag'),
        fc.nat(127),
        fc.integer({ min: 1, max: 15 }),
        (which, field, at, flip) => {
          let changed = false;
          const out = exchange({ initiator: '7-orange-zoo', responder: '7-orange-zoo' }, honest, (m) => {
            const v = m[field];
            if (m['t'] !== which || typeof v !== 'string') return m;
            const i = at % v.length;
            changed = true;
            return { ...m, [field]: v.slice(0, i) + (parseInt(v[i]!, 16) ^ flip).toString(16) + v.slice(i + 1) };
          });
          fc.pre(changed);
          expect(out.initiator?.ok === true && out.responder?.ok === true).toBe(false);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('the same code but a certificate one side does not see: confirmation fails', () => {
    const out = exchange(
      { initiator: '7-orange-zoo', responder: '7-orange-zoo' },
      {
        initiator: { local: [fa], remote: [fakeFingerprint('relay')] },
        responder: { local: [fb], remote: [fa] },
      },
    );
    expect(out.responder).toEqual({ ok: false, reason: expect.stringMatching(/key confirmation failed/) });
    expect(out.initiator?.ok).toBe(false);
  });
});

describe('a later call of a verified pairing, confirmed with its key', () => {
  const verified = () => {
    const out = exchange({ initiator: '7-zoo-zone', responder: '7-zoo-zone' }, honest);
    if (!out.initiator?.ok || !out.responder?.ok) throw new Error('not verified');
    return { initiator: out.initiator.session, responder: out.responder.session };
  };
  function reconfirm(
    keys: { initiator: VerifiedSession; responder: VerifiedSession },
    fps: { initiator: PeerFingerprints; responder: PeerFingerprints },
    relay?: (m: Record<string, unknown>) => Record<string, unknown>,
  ) {
    const link = controlLink(relay);
    const out: { initiator?: CodeOutcome; responder?: CodeOutcome } = {};
    runReconfirm(link.hub('responder'), link.session(fps.responder), keys.responder, (o) => (out.responder = o));
    runReconfirm(link.hub('initiator'), link.session(fps.initiator), keys.initiator, (o) => (out.initiator = o));
    link.run();
    return out;
  }
  const fc2 = fakeFingerprint('c');
  const fd = fakeFingerprint('d');
  const newCall = { initiator: { local: [fc2], remote: [fd] }, responder: { local: [fd], remote: [fc2] } };

  it('both sides hold the same key from the exchange, and a new call with new certificates confirms', () => {
    const keys = verified();
    expect(keys.initiator.key).toEqual(keys.responder.key);
    expect(keys.initiator.role).toBe('initiator');
    const out = reconfirm(keys, newCall);
    expect(out.initiator?.ok && out.responder?.ok).toBe(true);
  });

  it('a key of another exchange, a certificate one side does not see, or any changed message fails (fast-check)', () => {
    const keys = verified();
    const other = verified(); // the same code, another run: another key
    expect(reconfirm({ initiator: keys.initiator, responder: other.responder }, newCall).responder?.ok).toBe(false);
    const relayed = { ...newCall, responder: { local: [fd], remote: [fakeFingerprint('relay')] } };
    const cut = reconfirm(keys, relayed);
    expect(cut.initiator?.ok === true || cut.responder?.ok === true).toBe(false);
    fc.assert(
      fc.property(fc.constantFrom('code.r1', 'code.r2'), fc.nat(63), (t, at) => {
        const out = reconfirm(keys, newCall, (m) => {
          if (m.t !== t) return m;
          const field = t === 'code.r1' ? 'n' : 'tag';
          const hex = String(m[field]);
          const i = at % hex.length;
          return { ...m, [field]: hex.slice(0, i) + (hex[i] === '0' ? '1' : '0') + hex.slice(i + 1) };
        });
        expect(out.initiator?.ok === true && out.responder?.ok === true).toBe(false);
      }),
      { numRuns: 40 },
    );
  });
});

describe('the exchange with fixed inputs (vectors docs/pairing-codes.md states)', () => {
  it('transcript, mac_key and both tags of fixed inputs', async () => {
    const { calculateGenerator, intermediateSessionKey, scalarFrom, scalarMult, scalarMultVfy, lvCat } =
      await import('./cpace.js');
    const { bytesToHex, utf8ToBytes } = await import('@noble/hashes/utils');
    const { confirmationTag, confirmationTranscript, macKeyOf } = await import('./code-pairing.js');
    const code = '7-orange-zoo';
    const { codeSid } = await import('./code-pairing.js');
    const sid = codeSid('7', 'claimer', 'owner');
    const ci = lvCat(utf8ToBytes('tandem code v1'), utf8ToBytes('7'), utf8ToBytes('claimer'), utf8ToBytes('owner'));
    const g = calculateGenerator(utf8ToBytes(code), ci, sid);
    const ya = scalarFrom(Uint8Array.from({ length: 32 }, (_, i) => i + 1));
    const yb = scalarFrom(Uint8Array.from({ length: 32 }, (_, i) => 64 - i));
    const Ya = scalarMult(ya, g);
    const Yb = scalarMult(yb, g);
    const k = scalarMultVfy(ya, Yb)!;
    expect(bytesToHex(scalarMultVfy(yb, Ya)!)).toBe(bytesToHex(k));
    const isk = intermediateSessionKey(sid, k, Ya, utf8ToBytes('initiator'), Yb, utf8ToBytes('responder'));
    const macKey = macKeyOf(sid, isk);
    const t = confirmationTranscript({
      Ya,
      Yb,
      initiatorFingerprints: ['sha-256 ' + Array(32).fill('AA').join(':')],
      responderFingerprints: ['sha-256 ' + Array(32).fill('BB').join(':')],
      nameplate: '7',
      initiatorId: 'claimer',
      responderId: 'owner',
    });
    expect({
      sid: bytesToHex(sid),
      g: bytesToHex(g.toBytes()),
      Ya: bytesToHex(Ya),
      Yb: bytesToHex(Yb),
      ISK: bytesToHex(isk),
      Ta: bytesToHex(confirmationTag(macKey, 'initiator', t)),
      Tb: bytesToHex(confirmationTag(macKey, 'responder', t)),
    }).toMatchInlineSnapshot(`
      {
        "ISK": "1054603dfb8a5c87c578c87c2e676592277f49dfa683d296dcf9af124bedfdc9db149d45beff9a41e710b8a456e6bf272eb2e428d20d1842809b2934f9b3e2b1",
        "Ta": "1f88473aa9701d2f4c79649f65c8e045b8954f801f33d0d20459ee1d821320fe8e5c92927d85d60b1091ce6029b14ea8683669b359ea9bc58a5ffc0af952b2d2",
        "Tb": "bebd9e1b30c88b761c68a52c29dc378fc83fecbd722032c87ef8e8815266e35de3a4b0ec2f5dbe46550113b25ba988130128c0c42ff3a7bc2e77a948928c246e",
        "Ya": "06534861ada5197e1ef185759c5ff74084cd7624ce5d6627d0cd5377d2a60b7c",
        "Yb": "fae65c7b1574401ff7d6f019879f0721c35c18649f5f7625fe315f13af52b059",
        "g": "06fc7bf66e922b77bc1e3d2fb217553f502ceb62e7336da1f41596b498b2144e",
        "sid": "929e48bb9fbef20e2f46de6de7c4f0fb",
      }
    `);
  });
});
