// What a person is told, in plain words, for each error code and for a server that cannot be
// reached: one table for every client (the demo page and tandem-client show the same words; the
// wire text stays beside them, for searching and for scripts).
import type { ClientErrorCode } from './client.vocabulary.js';

/** Each error code a person can act on, in plain words. */
export const plainWords: Readonly<Partial<Record<ClientErrorCode, string>>> = Object.freeze({
  target_not_found: 'No one is online with that key. Check that you copied all of it.',
  cannot_pair_with_self: "That's your own key — paste the other person's key.",
  target_already_paired: 'That person is already talking to someone else.',
  already_paired: 'You are already connected to someone.',
  not_paired: 'You are not connected to anyone yet.',
  not_registered: 'Still connecting to the server — try again in a moment.',
  pair_pending: 'Still waiting for the answer to your last request.',
  already_in_session: 'You are already connected to someone: leave first.',
  no_channel: 'Not connected yet: wait for the chat to open.',
  negotiation_timeout: 'The connection to the other person did not come up in time.',
  peer_failed: 'The connection to the other person failed.',
  signaling_lost: 'Lost the server before the connection was made: try again.',
  signaling_gone: 'Gave up reconnecting to the server.',
  leave_unsupported: 'This server cannot end a pairing: reload to leave.',
});

/**
 * Why a server cannot be reached, in plain words, from the transport's reason (e.g. `connect
 * ECONNREFUSED 127.0.0.1:8787`, `Unexpected server response: 401`).
 */
export function unreachableWords(url: string, reason: string): string {
  if (/ECONNREFUSED/.test(reason))
    return `cannot reach ${url}: connection refused — is a tandem-server running? (npm start)`;
  if (/ENOTFOUND|EAI_AGAIN/.test(reason)) return `cannot reach ${url}: no such host`;
  if (/ETIMEDOUT|timed out/i.test(reason)) return `cannot reach ${url}: no answer (a firewall, or the wrong address?)`;
  if (/\b401\b/.test(reason)) return `${url} wants a token: pass one with --token-file (or --token)`;
  if (/\b403\b/.test(reason)) return `${url} refused this origin or token (403)`;
  if (/\b429\b/.test(reason)) return `${url} has too many connections from this address (429): retrying`;
  if (/\b503\b/.test(reason)) return `${url} is full or draining (503): retrying`;
  if (/certificate|self[- ]signed|CERT_/i.test(reason))
    return `cannot reach ${url}: its TLS certificate is not trusted`;
  return `cannot reach ${url}: ${reason || 'the connection failed'}`;
}
