// Safety codes for calls paired by key: 8 digits both people read out and compare. The same on
// both sides when each side's DTLS stack talks to the other's; different when someone in the
// signaling path answered each side itself (its own certificates are then in the descriptions).
//
// A plain hash of the two fingerprints could be ground by such a man in the middle: it picks its
// own certificate last and tries 10⁸ of them until the two sides' codes agree. Here the code also
// hashes two random nonces exchanged over the call with a commitment first, as ZRTP's hash
// commitment does, so every input is fixed before anyone can compute a code:
//
//   1. the initiator takes a snapshot of its fingerprints and sends `sas.commit {c}` with
//      c = SHA-256("tandem safety commit v1" ‖ nI) for a random 32-byte nI;
//   2. the responder takes its snapshot and answers `sas.nonce {n: nR}`, random 32 bytes;
//   3. the initiator computes its code and reveals `sas.reveal {n: nI}`; the responder checks the
//      commitment and computes its code.
//
// A relay that bridges two calls has to send its nR' to the initiator before it learns nI, and
// commit to its nI' before the responder picks nR, so each side's code is uniformly random to it:
// the two agree by chance once in 10⁸. A fingerprint that turns up after a side's snapshot (a
// renegotiation mid-exchange) fails the exchange rather than entering a code someone could steer.
//
// code = first 8 bytes of SHA-256("tandem safety code v1" ‖ lv(nI) ‖ lv(nR) ‖ lv(F_I) ‖ lv(F_R)),
// read as a big-endian integer mod 10⁸, printed as two groups of four digits. F_X is side X's
// fingerprints (the initiator's local ones; at the responder, those its stack would accept from
// the initiator), each `<algorithm> <HEX:HEX…>` with the algorithm in lower case and the value in
// upper case, sorted, joined with newlines. lv(x) is x's byte length as 4 bytes big-endian, then x.
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { concat, equalBytes, hexOf } from './bytes.js';
import type { ChannelHub } from './channel-hub.js';
import type { PeerFingerprints, PeerSession } from './ports.js';
import { normalizeFingerprint } from './fingerprints.js';

export { SAFETY_FEATURE } from './features.js';
export { fingerprintsOf, normalizeFingerprint } from './fingerprints.js';

const COMMIT_DSI = utf8ToBytes('tandem safety commit v1');
const CODE_DSI = utf8ToBytes('tandem safety code v1');

const lv = (bytes: Uint8Array): Uint8Array => {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
};
const setBytes = (fps: readonly string[]) => utf8ToBytes([...new Set(fps.map(normalizeFingerprint))].sort().join('\n'));

/** The commitment to an initiator nonce. */
export function safetyCommitment(initiatorNonce: Uint8Array): Uint8Array {
  return sha256(concat(COMMIT_DSI, initiatorNonce));
}

/** The 8-digit code from both nonces and both sides' fingerprints, as `1234 5678`. */
export function safetyCode(input: {
  initiatorNonce: Uint8Array;
  responderNonce: Uint8Array;
  initiatorFingerprints: readonly string[];
  responderFingerprints: readonly string[];
}): string {
  const h = sha256(
    concat(
      CODE_DSI,
      lv(input.initiatorNonce),
      lv(input.responderNonce),
      lv(setBytes(input.initiatorFingerprints)),
      lv(setBytes(input.responderFingerprints)),
    ),
  );
  const n = new DataView(h.buffer, h.byteOffset, 8).getBigUint64(0) % 100_000_000n;
  const digits = n.toString().padStart(8, '0');
  return `${digits.slice(0, 4)} ${digits.slice(4)}`;
}

/** What one side's exchange ended with. */
export type SafetyOutcome = { ok: true; code: string } | { ok: false; reason: string };

const NONCE_BYTES = 32;
const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * Runs the exchange on one call's control channel, once both ends have said they compare codes.
 * `done` is called once, with the code or why there is none to trust.
 */
export function runSafetyExchange(
  hub: ChannelHub,
  session: PeerSession,
  done: (outcome: SafetyOutcome) => void,
  random: (bytes: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n)),
): () => void {
  let finished = false;
  const finish = (o: SafetyOutcome) => {
    if (finished) return;
    finished = true;
    off();
    done(o);
  };
  const snapshot = (): PeerFingerprints | null => {
    const fps = session.fingerprints?.();
    if (fps === undefined || fps.local.length === 0 || fps.remote.length === 0) return null;
    return { local: fps.local.map(normalizeFingerprint), remote: fps.remote.map(normalizeFingerprint) };
  };
  /** The snapshot still holds: no fingerprint came or went since it was taken. */
  const unchanged = (taken: PeerFingerprints) => {
    const now = snapshot();
    return now !== null && sameSet(now.local, taken.local) && sameSet(now.remote, taken.remote);
  };
  const changed = 'the call’s DTLS fingerprints changed during the exchange';
  let taken: PeerFingerprints | null = null;
  let nI: Uint8Array | null = null;
  let commitment: Uint8Array | null = null;
  let nR: Uint8Array | null = null;

  const off = hub.onControl((m) => {
    if (finished || !m.t.startsWith('sas.')) return;
    if (hub.initiator) {
      if (m.t !== 'sas.nonce' || nI === null || nR !== null) return;
      nR = hexOf(m['n'], NONCE_BYTES);
      if (nR === null) return finish({ ok: false, reason: 'the peer sent a malformed safety-code nonce' });
      if (!unchanged(taken!)) return finish({ ok: false, reason: changed });
      const code = safetyCode({
        initiatorNonce: nI,
        responderNonce: nR,
        initiatorFingerprints: taken!.local,
        responderFingerprints: taken!.remote,
      });
      hub.sendControl({ t: 'sas.reveal', n: bytesToHex(nI) });
      return finish({ ok: true, code });
    }
    if (m.t === 'sas.commit' && commitment === null) {
      commitment = hexOf(m['c'], 32);
      if (commitment === null) return finish({ ok: false, reason: 'the peer sent a malformed safety-code commitment' });
      taken = snapshot();
      if (taken === null) return finish({ ok: false, reason: 'this side’s stack does not tell its DTLS fingerprints' });
      nR = random(NONCE_BYTES);
      hub.sendControl({ t: 'sas.nonce', n: bytesToHex(nR) });
      return;
    }
    if (m.t === 'sas.reveal' && commitment !== null && nR !== null) {
      const revealed = hexOf(m['n'], NONCE_BYTES);
      if (revealed === null || !equalBytes(safetyCommitment(revealed), commitment))
        return finish({
          ok: false,
          reason: 'the peer’s safety-code nonce does not match its commitment: the exchange was altered',
        });
      if (!unchanged(taken!)) return finish({ ok: false, reason: changed });
      return finish({
        ok: true,
        code: safetyCode({
          initiatorNonce: revealed,
          responderNonce: nR,
          initiatorFingerprints: taken!.remote,
          responderFingerprints: taken!.local,
        }),
      });
    }
  });
  hub.onClose(() => finish({ ok: false, reason: 'the call ended before the safety codes were exchanged' }));
  if (hub.initiator) {
    taken = snapshot();
    if (taken === null) {
      finish({ ok: false, reason: 'this side’s stack does not tell its DTLS fingerprints' });
    } else {
      nI = random(NONCE_BYTES);
      hub.sendControl({ t: 'sas.commit', c: bytesToHex(safetyCommitment(nI)) });
    }
  }
  return () => {
    finished = true;
    off();
  };
}
