// Numbers and codes both ends agree on, in one place: WebSocket close codes, the pairing error
// codes with their wire-v1 texts, and the well-known defaults. Rules elsewhere compare codes,
// never the texts.
import { ErrorText } from './codec.js';

/** WebSocket close codes tandem sends or interprets (RFC 6455 §7.4.1). */
export const CloseCode = {
  /** A normal close, by either side. */
  Normal: 1000,
  /** The server is going away (shutdown) or gave up on a silent client. */
  GoingAway: 1001,
  /** No close frame: the link was lost (never sent, only reported by a stack). */
  Abnormal: 1006,
  /** The client broke a policy (message or byte rate limit, or it stopped reading). */
  PolicyViolation: 1008,
  /** A frame exceeded the size limit. */
  MessageTooBig: 1009,
  /** The server is restarting or draining: reconnect (to another node) at once. */
  ServiceRestart: 1012,
  /** (private range) This connection's session was resumed on a newer connection. */
  SessionTakenOver: 4001,
  /** (private range) The client gave up on a silent link and is resuming elsewhere; not a goodbye. */
  LinkDead: 4002,
  /** (private range) The client's authorization (its token) expired: reconnect with a fresh one, and resume. */
  AuthExpired: 4003,
} as const;
/** One of the close codes above. */
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Why a pairing request or a signal was refused; each maps to one wire-v1 text. */
export type PairingErrorCode =
  'target_not_found' | 'already_paired' | 'target_already_paired' | 'cannot_pair_with_self' | 'not_paired';

/** The wire-v1 text of each pairing error code: the only place the mapping is written. */
export const pairingErrorText: Readonly<Record<PairingErrorCode, string>> = Object.freeze({
  target_not_found: ErrorText.TargetNotFound,
  already_paired: ErrorText.AlreadyPaired,
  target_already_paired: ErrorText.TargetAlreadyPaired,
  cannot_pair_with_self: ErrorText.CannotPairWithSelf,
  not_paired: ErrorText.NotPaired,
});

/** Whether `code` (an error's v2 `code`) is a pairing error code. */
export function isPairingErrorCode(code: string | undefined): code is PairingErrorCode {
  return code !== undefined && Object.hasOwn(pairingErrorText, code);
}

/** The code of a wire-v1 pairing error text: the fallback for v1 servers, whose errors carry no code. */
export function pairingErrorCodeOf(message: string): PairingErrorCode | null {
  for (const [code, text] of Object.entries(pairingErrorText))
    if (message === text || message.startsWith(`${text}:`)) return code as PairingErrorCode;
  return null;
}

/** The port tandem-server listens on and tandem-client dials by default. */
export const DEFAULT_PORT = 8787;
/** The host tandem-server binds by default (loopback: exposing it is a decision). */
export const DEFAULT_HOST = '127.0.0.1';
/** The URL tandem-client dials by default. */
export const DEFAULT_URL = `ws://${DEFAULT_HOST}:${DEFAULT_PORT}`;

/**
 * WebSocket subprotocols for a token (browsers cannot set an Authorization header): a client
 * offers `tandem` and `tandem.token.<token>`, and a server answers `tandem`, never echoing the
 * token. A server that authorizes no one ignores both; a v1 client offers neither.
 */
export const TANDEM_SUBPROTOCOL = 'tandem';
export const TOKEN_SUBPROTOCOL_PREFIX = 'tandem.token.';
/** The subprotocols a client offers to carry `token`. */
export function tokenSubprotocols(token: string): string[] {
  return [TANDEM_SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${token}`];
}
