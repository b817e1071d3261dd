// A verified pairing's later calls: after a re-pair or a call that failed and came back, the peer
// connection is new and so are its DTLS certificates. Both sides confirm them with the key the
// code exchange left them (VerifiedSession.key), no new code and no new claim. A relay that
// slipped in between only now still has its own certificates in each side's view, and it does not
// hold the key, so its tags fail; fresh nonces from both sides keep an old call's tags from being
// replayed.
//
// Over the new call's control channel, both sides at once:
//   `code.r1 {n}`    a 16-byte nonce, as soon as the control channel is up
//   `code.r2 {tag}`  once the peer's nonce is in:
//     T  = lv_cat(n_I, n_R, F_I, F_R, nameplate, id_I, id_R)
//     Tx = HMAC-SHA512(key, lv_cat("tandem code reconfirm v1", role_x) ‖ T)
// (or `code.fail {reason}`), with the roles, IDs and nameplate of the exchange that verified the
// pairing, and F_X side X's fingerprints on the new call, normalized and sorted, one per line.
import { hmac } from '@noble/hashes/hmac';
import { sha512 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { concat, equalBytes, hexOf } from './bytes.js';
import type { ChannelHub } from './channel-hub.js';
import {
  exchangeEnds,
  fingerprintsUnchanged,
  takeFingerprints,
  type CodeOutcome,
  type VerifiedSession,
} from './code-pairing.js';
import { lvCat } from './cpace.js';
import type { PeerSession } from './ports.js';
import { normalizeFingerprint } from './fingerprints.js';

const RECONFIRM_DSI = utf8ToBytes('tandem code reconfirm v1');

/** The tag `role` sends on a later call of `s`, over both nonces and both sides' fingerprints. */
export function reconfirmTag(
  s: VerifiedSession,
  role: 'initiator' | 'responder',
  t: {
    nonceI: Uint8Array;
    nonceR: Uint8Array;
    initiatorFingerprints: readonly string[];
    responderFingerprints: readonly string[];
  },
): Uint8Array {
  const fps = (f: readonly string[]) => utf8ToBytes([...new Set(f.map(normalizeFingerprint))].sort().join('\n'));
  const transcript = lvCat(
    t.nonceI,
    t.nonceR,
    fps(t.initiatorFingerprints),
    fps(t.responderFingerprints),
    utf8ToBytes(s.nameplate),
    utf8ToBytes(s.initiatorId),
    utf8ToBytes(s.responderId),
  );
  return hmac(sha512, s.key, concat(lvCat(RECONFIRM_DSI, utf8ToBytes(role)), transcript));
}

/**
 * Confirm a later call of verified pairing `s` on its control channel. `done` is called once;
 * nothing of the app's should flow on the call until it says ok.
 */
export function runReconfirm(
  hub: ChannelHub,
  session: PeerSession,
  s: VerifiedSession,
  done: (outcome: CodeOutcome) => void,
  random: (bytes: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n)),
): () => void {
  const ends = exchangeEnds(hub, done);
  const { finish, fail } = ends;
  const taken = takeFingerprints(session, ends);
  if (taken === null) return () => undefined;
  const me = s.role;
  const them = me === 'initiator' ? 'responder' : 'initiator';
  const view = {
    initiatorFingerprints: me === 'initiator' ? taken.local : taken.remote,
    responderFingerprints: me === 'initiator' ? taken.remote : taken.local,
  };
  const mine = random(16);
  let theirs: Uint8Array | null = null;
  let expected: Uint8Array | null = null;
  let sent = false;
  let confirmed = false;
  const nonces = (peer: Uint8Array) =>
    me === 'initiator' ? { nonceI: mine, nonceR: peer } : { nonceI: peer, nonceR: mine };

  ends.off = hub.onControl((m) => {
    if (ends.finished || !m.t.startsWith('code.')) return;
    if (m.t === 'code.fail')
      return fail(`the peer could not verify the call: ${String(m['reason'] ?? '').slice(0, 200)}`, false);
    if (m.t === 'code.r1' && theirs === null) {
      theirs = hexOf(m['n'], 16);
      if (theirs === null) return fail('the peer sent a malformed code message');
      const t = { ...view, ...nonces(theirs) };
      expected = reconfirmTag(s, them, t);
      hub.sendControl({ t: 'code.r2', tag: bytesToHex(reconfirmTag(s, me, t)) });
      sent = true;
    } else if (m.t === 'code.r2' && expected !== null && !confirmed) {
      const tag = hexOf(m['tag'], 64);
      if (tag === null || !equalBytes(tag, expected)) return fail(mismatch);
      confirmed = true;
    } else if (m.t === 'code.r2' && expected === null) {
      return fail('the peer confirmed before it had this side’s nonce');
    }
    if (sent && confirmed) {
      if (!fingerprintsUnchanged(session, taken))
        return fail('the call’s DTLS fingerprints changed during verification');
      finish({ ok: true, session: s });
    }
  });
  hub.onClose(() => finish({ ok: false, reason: 'the call ended before it was verified' }));
  hub.sendControl({ t: 'code.r1', n: bytesToHex(mine) });
  return () => {
    ends.finished = true;
    ends.off();
  };
}

const mismatch =
  'the new call could not be confirmed with the pairing’s key: someone in between answered it, or the peer is not the one that held the code';
