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
import { fakeFingerprint, FakeNetwork, memoryTransport } from './testing.js';

const until = async (cond: () => boolean, what: string, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

function world() {
  const server = new MemoryServer({ settings: { pingIntervalMs: 60_000, pingTimeoutMs: 30_000, tickMs: 100 } });
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
  relay: (m: Record<string, unknown>) => Record<string, unknown> = (m) => m,
) {
  type Ctl = { t: string } & Record<string, unknown>;
  const listeners = { initiator: new Set<(m: Ctl) => void>(), responder: new Set<(m: Ctl) => void>() };
  const queue: (() => void)[] = [];
  const hub = (side: 'initiator' | 'responder'): ChannelHub => {
    const other = side === 'initiator' ? 'responder' : 'initiator';
    return {
      initiator: side === 'initiator',
      onControl: (l: (m: Ctl) => void) => (listeners[side].add(l), () => listeners[side].delete(l)),
      sendControl: (m: Ctl) => {
        const relayed = relay(structuredClone(m)) as Ctl;
        queue.push(() => listeners[other].forEach((l) => l(relayed)));
        return true;
      },
      onClose: () => undefined,
    } as unknown as ChannelHub;
  };
  const session = (f: PeerFingerprints) => ({ fingerprints: () => f }) as unknown as PeerSession;
  const out: { initiator?: CodeOutcome; responder?: CodeOutcome } = {};
  const call = (code: string, myId: string, peerId: string) => ({ code, nameplate: '7', myId, peerId });
  runCodeExchange(
    hub('responder'),
    session(fps.responder),
    call(codes.responder, 'owner', 'claimer'),
    (o) => (out.responder = o),
  );
  runCodeExchange(
    hub('initiator'),
    session(fps.initiator),
    call(codes.initiator, 'claimer', 'owner'),
    (o) => (out.initiator = o),
  );
  for (let i = 0; i < 20 && queue.length > 0; i++) queue.shift()!();
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
        fc.constantFrom('sid', 'Y', 'tag'),
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
