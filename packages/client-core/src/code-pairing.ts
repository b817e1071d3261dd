// Pairing by code, the clients' part: the code itself (`<nameplate>-<word>-<word>`), and the
// exchange two clients run over their call once the server paired them by a claim: CPace
// (cpace.ts) keyed by the whole code, then explicit key confirmation over a transcript that binds
// the call — both DTLS fingerprint sets as each side sees them, both IDs and the nameplate. A
// relay that answered either side itself has its own certificate in one side's view, so the tags
// fail; one that guesses the code has one guess, and a failed one burns the nameplate.
//
// Over the call's control channel (the initiator is the claimer):
//   initiator → `code.1 {Y: Ya}`
//   responder → `code.2 {Y: Yb, tag: Tb}`
//   initiator → `code.3 {tag: Ta}` (or `code.fail {reason}`)
// with mac_key = SHA-512("CPaceMac" ‖ sid ‖ ISK) as the draft recommends, and
//   T  = lv_cat(Ya, ADa) ‖ lv_cat(Yb, ADb) ‖ lv_cat(F_I, F_R, nameplate, id_I, id_R)
//   Tx = HMAC-SHA512(mac_key, lv_cat("tandem code confirm v1", role_x) ‖ T)
// where CI = lv_cat("tandem code v1", nameplate, id_I, id_R), PRS = the code, ADa = "initiator",
// ADb = "responder", sid = the first 16 bytes of SHA-512(lv_cat("tandem code sid v1", nameplate,
// id_I, id_R)) — the claim's own identity (both IDs are fresh and unguessable per connection), so
// each side makes its share while the call is still connecting — and F_X is side X's fingerprints,
// normalized and sorted, one per line.
import { hkdf } from '@noble/hashes/hkdf';
import { hmac } from '@noble/hashes/hmac';
import { sha512 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { concat, equalBytes, hexOf } from './bytes.js';
import { wordlist } from '@scure/bip39/wordlists/english';
import type { ChannelHub } from './channel-hub.js';
import { calculateGenerator, intermediateSessionKey, lvCat, scalarFrom, scalarMult, scalarMultVfy } from './cpace.js';
import type { PeerSession } from './ports.js';
import { normalizeFingerprint } from './fingerprints.js';
import { CODE_PATTERN, DEFAULT_CODE_WORDS, cleanCode } from './code-shape.js';

/**
 * The words of a code: BIP-39's English list (2 048 words, 11 bits each; no two share their
 * first four letters, and look-alike pairs were left out), from the audited @scure/bip39.
 */
export const CODE_WORDS: readonly string[] = wordlist;
export { CODE_PATTERN, DEFAULT_CODE_WORDS, looksLikeCode } from './code-shape.js';

/** A fresh code on `nameplate`, with `words` secret words. */
export function makeCode(
  nameplate: string,
  words = DEFAULT_CODE_WORDS,
  random: (bytes: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n)),
): string {
  if (!Number.isInteger(words) || words < 2 || words > 16) throw new RangeError('a code has 2 to 16 words');
  const out: string[] = [nameplate];
  for (let i = 0; i < words; i++) {
    const r = random(2);
    out.push(CODE_WORDS[((r[0]! << 8) | r[1]!) & 0x7ff]!); // 2 048 = 2^11: uniform
  }
  return out.join('-');
}

/** A typed code, cleaned (case, spaces for dashes); null when it does not have a code's shape or uses a word not in the list. */
export function parseCode(typed: string): { code: string; nameplate: string } | null {
  const code = cleanCode(typed);
  if (!CODE_PATTERN.test(code)) return null;
  const [nameplate, ...words] = code.split('-');
  if (!words.every((w) => CODE_WORDS.includes(w))) return null;
  return { code, nameplate: nameplate! };
}

/** Bits of secret in a code with `words` words. */
export const codeBits = (words: number): number => words * Math.log2(CODE_WORDS.length);

/** What a code exchange needs to know about the call. */
export interface CodeCall {
  readonly code: string;
  readonly nameplate: string;
  /** This side's ID and its peer's, as the server paired them. */
  readonly myId: string;
  readonly peerId: string;
}

/**
 * How an exchange ended. A verified one yields the session's key (HKDF-SHA512 of the ISK, salted
 * with sid): a later call of the same pairing is confirmed with it (code-reconfirm.ts), no new code.
 */
export type CodeOutcome = { ok: true; session: VerifiedSession } | { ok: false; reason: string };

/** What a verified pairing keeps, to confirm the certificates of its later calls. */
export interface VerifiedSession {
  readonly key: Uint8Array;
  readonly nameplate: string;
  readonly initiatorId: string;
  readonly responderId: string;
  /** This side's role in the exchange that verified it (the claimer is the initiator). */
  readonly role: 'initiator' | 'responder';
}

const SESSION_INFO = utf8ToBytes('tandem code session v1');
const sessionOf = (
  isk: Uint8Array,
  sid: Uint8Array,
  t: { nameplate: string; initiatorId: string; responderId: string },
  role: 'initiator' | 'responder',
): VerifiedSession => ({
  key: hkdf(sha512, isk, sid, SESSION_INFO, 32),
  nameplate: t.nameplate,
  initiatorId: t.initiatorId,
  responderId: t.responderId,
  role,
});

const AD_I = utf8ToBytes('initiator');
const AD_R = utf8ToBytes('responder');
const TAG_DSI = utf8ToBytes('tandem code confirm v1');
const CI_DSI = utf8ToBytes('tandem code v1');

/** The transcript both tags cover. */
export function confirmationTranscript(t: {
  Ya: Uint8Array;
  Yb: Uint8Array;
  initiatorFingerprints: readonly string[];
  responderFingerprints: readonly string[];
  nameplate: string;
  initiatorId: string;
  responderId: string;
}): Uint8Array {
  const fps = (f: readonly string[]) => utf8ToBytes([...new Set(f.map(normalizeFingerprint))].sort().join('\n'));
  return concat(
    lvCat(t.Ya, AD_I),
    lvCat(t.Yb, AD_R),
    lvCat(
      fps(t.initiatorFingerprints),
      fps(t.responderFingerprints),
      utf8ToBytes(t.nameplate),
      utf8ToBytes(t.initiatorId),
      utf8ToBytes(t.responderId),
    ),
  );
}

/** The confirmation tag of `role` over `transcript`. */
export function confirmationTag(
  macKey: Uint8Array,
  role: 'initiator' | 'responder',
  transcript: Uint8Array,
): Uint8Array {
  return hmac(sha512, macKey, concat(lvCat(TAG_DSI, utf8ToBytes(role)), transcript));
}

/** mac_key from the session's sid and ISK. */
export const macKeyOf = (sid: Uint8Array, isk: Uint8Array): Uint8Array =>
  sha512(concat(utf8ToBytes('CPaceMac'), sid, isk));

const channelIdentifier = (call: { nameplate: string }, initiatorId: string, responderId: string) =>
  lvCat(CI_DSI, utf8ToBytes(call.nameplate), utf8ToBytes(initiatorId), utf8ToBytes(responderId));

/** CPace's sid for a claim: known to both sides from the pairing, fresh with every claim. */
export function codeSid(nameplate: string, initiatorId: string, responderId: string): Uint8Array {
  return sha512(
    lvCat(
      utf8ToBytes('tandem code sid v1'),
      utf8ToBytes(nameplate),
      utf8ToBytes(initiatorId),
      utf8ToBytes(responderId),
    ),
  ).slice(0, 16);
}

/** A side's CPace share, which needs neither the peer's message nor the call's certificates. */
export interface CodeShare {
  readonly y: bigint;
  readonly Y: Uint8Array;
}

const freshScalar = (random: (bytes: number) => Uint8Array): bigint => {
  for (;;) {
    const y = scalarFrom(random(32));
    if (y !== 0n) return y;
  }
};

/**
 * This side's share, made ahead (while the call is still connecting), so that verifying adds
 * only K, the tags and the round trips once the control channel is up.
 */
export function prepareCodeShare(
  call: CodeCall,
  initiator: boolean,
  random: (bytes: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n)),
): CodeShare {
  const [idI, idR] = initiator ? [call.myId, call.peerId] : [call.peerId, call.myId];
  const y = freshScalar(random);
  const g = calculateGenerator(
    utf8ToBytes(call.code),
    channelIdentifier(call, idI, idR),
    codeSid(call.nameplate, idI, idR),
  );
  return { y, Y: scalarMult(y, g) };
}

/**
 * Run the exchange on a call's control channel. `done` is called once: verified, or why not.
 * Nothing of the app's should flow on the call until it says ok.
 */
export function runCodeExchange(
  hub: ChannelHub,
  session: PeerSession,
  call: CodeCall,
  done: (outcome: CodeOutcome) => void,
  random: (bytes: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n)),
  /** This side's share, if it was made ahead (see prepareCodeShare); used once. */
  prepared?: CodeShare,
): () => void {
  const ends = exchangeEnds(hub, done);
  const { finish, fail } = ends;
  const initiator = hub.initiator;
  const idI = initiator ? call.myId : call.peerId;
  const idR = initiator ? call.peerId : call.myId;
  const sid = codeSid(call.nameplate, idI, idR);
  const taken = takeFingerprints(session, ends);
  if (taken === null) return () => undefined;
  const view = {
    initiatorFingerprints: initiator ? taken.local : taken.remote,
    responderFingerprints: initiator ? taken.remote : taken.local,
    nameplate: call.nameplate,
    initiatorId: idI,
    responderId: idR,
  };
  const unchanged = () => fingerprintsUnchanged(session, taken);
  let share: CodeShare | null = prepared ?? null;
  const mine = () => (share ??= prepareCodeShare(call, initiator, random));
  let expected: Uint8Array | null = null; // the initiator's tag, as the responder computed it
  let verifiedSession: VerifiedSession | null = null; // the responder's, once the initiator's tag checks

  ends.off = hub.onControl((m) => {
    if (ends.finished || !m.t.startsWith('code.')) return;
    if (m.t === 'code.fail')
      return fail(`the peer could not verify the call: ${String(m['reason'] ?? '').slice(0, 200)}`, false);
    if (!initiator && m.t === 'code.1' && expected === null) {
      const theirs = hexOf(m['Y'], 32);
      if (theirs === null) return fail('the peer sent a malformed code message');
      const { y: yb, Y: Yb } = mine();
      const k = scalarMultVfy(yb, theirs);
      if (k === null) return fail('the peer’s key share is not a valid group element');
      const isk = intermediateSessionKey(sid, k, theirs, AD_I, Yb, AD_R);
      const macKey = macKeyOf(sid, isk);
      const transcript = confirmationTranscript({ ...view, Ya: theirs, Yb });
      expected = confirmationTag(macKey, 'initiator', transcript);
      verifiedSession = sessionOf(isk, sid, view, 'responder');
      hub.sendControl({
        t: 'code.2',
        Y: bytesToHex(Yb),
        tag: bytesToHex(confirmationTag(macKey, 'responder', transcript)),
      });
      return;
    }
    if (!initiator && m.t === 'code.3' && expected !== null) {
      const tag = hexOf(m['tag'], 64);
      if (tag === null || !equalBytes(tag, expected)) return fail(mismatch);
      if (!unchanged()) return fail(changed);
      return finish({ ok: true, session: verifiedSession! });
    }
    if (initiator && m.t === 'code.2' && share !== null) {
      const Yb = hexOf(m['Y'], 32);
      const tag = hexOf(m['tag'], 64);
      if (Yb === null || tag === null) return fail('the peer sent a malformed code message');
      const { y, Y: Ya } = share;
      share = null; // one use
      const k = scalarMultVfy(y, Yb);
      if (k === null) return fail('the peer’s key share is not a valid group element');
      const isk = intermediateSessionKey(sid, k, Ya, AD_I, Yb, AD_R);
      const macKey = macKeyOf(sid, isk);
      const transcript = confirmationTranscript({ ...view, Ya, Yb });
      if (!equalBytes(tag, confirmationTag(macKey, 'responder', transcript))) return fail(mismatch);
      if (!unchanged()) return fail(changed);
      hub.sendControl({ t: 'code.3', tag: bytesToHex(confirmationTag(macKey, 'initiator', transcript)) });
      return finish({ ok: true, session: sessionOf(isk, sid, view, 'initiator') });
    }
  });
  hub.onClose(() => finish({ ok: false, reason: 'the call ended before it was verified' }));
  if (initiator) hub.sendControl({ t: 'code.1', Y: bytesToHex(mine().Y) });
  return () => {
    ends.finished = true;
    ends.off();
  };
}

/** The once-only end of an exchange over the control channel: `finish` with an outcome, or `fail` (telling the peer). */
export interface ExchangeEnds {
  finished: boolean;
  /** Stops listening to the control channel (set once the exchange listens). */
  off: () => void;
  finish(outcome: CodeOutcome): void;
  fail(reason: string, tell?: boolean): void;
}

export function exchangeEnds(hub: ChannelHub, done: (outcome: CodeOutcome) => void): ExchangeEnds {
  const e: ExchangeEnds = {
    finished: false,
    off: () => undefined,
    finish(outcome) {
      if (e.finished) return;
      e.finished = true;
      e.off();
      done(outcome);
    },
    fail(reason, tell = true) {
      if (tell) hub.sendControl({ t: 'code.fail', reason });
      e.finish({ ok: false, reason });
    },
  };
  return e;
}

/** The call's fingerprints (normalized) as the exchange starts; null (and `ends` failed) when the stack tells none. */
export function takeFingerprints(
  session: PeerSession,
  ends: ExchangeEnds,
): { local: string[]; remote: string[] } | null {
  const fps = session.fingerprints?.();
  if (fps === undefined || fps.local.length === 0 || fps.remote.length === 0) {
    queueMicrotask(() =>
      ends.fail('this side’s stack does not tell its DTLS fingerprints, so the call cannot be verified'),
    );
    return null;
  }
  return { local: fps.local.map(normalizeFingerprint), remote: fps.remote.map(normalizeFingerprint) };
}

/** Whether `session`'s fingerprints are still the ones `taken` (normalized) when the exchange began. */
export function fingerprintsUnchanged(
  session: PeerSession,
  taken: { readonly local: readonly string[]; readonly remote: readonly string[] },
): boolean {
  const now = session.fingerprints?.();
  const same = (a: readonly string[], b: readonly string[]) => {
    const x = new Set(a.map(normalizeFingerprint));
    return x.size === new Set(b).size && b.every((f) => x.has(f));
  };
  return now !== undefined && same(now.local, taken.local) && same(now.remote, taken.remote);
}

const mismatch =
  'key confirmation failed: the peer does not hold the same code, or someone in between answered the call';
const changed = 'the call’s DTLS fingerprints changed during verification';
