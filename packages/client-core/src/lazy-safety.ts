// The safety-code exchange's exports, as aliases (see lazy-files.ts): the client loads
// safety-code.ts as a chunk of its own when a call first compares codes.
import { runSafetyExchange as run, safetyCode as code, safetyCommitment as commitment } from './safety-code.js';

/** Runs the safety-code exchange on one call's control channel. */
export const runSafetyExchange = run;
/** The 8-digit code from both nonces and both sides' fingerprints, as `1234 5678`. */
export const safetyCode = code;
/** The commitment to an initiator nonce. */
export const safetyCommitment = commitment;
