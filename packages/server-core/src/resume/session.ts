// Resume tokens and the one set of checks a presented token must pass, whether its session is
// here (resume.ts) or another node asks for it (handover.ts).
import { mayResume, type Connection, type Holder, type ResumeSession, type ResumeToken } from '../connection.js';
import { ID_ATTEMPTS, type EngineContext } from '../engine-context.js';
import { UNKNOWN_TOKEN } from '../directory/directory.js';
import { settle } from '../to-nodes.js';
import { PairingState } from '../tables.js';

/** A token on the wire: `<lookup key>.<secret>`. */
export function wireToken(token: ResumeToken): string {
  return `${token.key}.${token.secret}`;
}

/** Split a presented token; null when it has no lookup key. */
export function parseToken(token: string): ResumeToken | null {
  const dot = token.indexOf('.');
  return dot > 0 ? { key: token.slice(0, dot), secret: token.slice(dot + 1) } : null;
}

/** A fresh single-use token for `conn`'s session, registered here and in the directory. */
export function newToken<H>(ctx: EngineContext<H>, conn: Connection<H>): ResumeToken {
  const generate = ctx.generateToken!;
  let key = generate();
  for (let i = 0; ctx.sessions.has(key); i++) {
    if (i >= ID_ATTEMPTS)
      throw new Error(`ServerEngine: generateToken returned keys in use ${ID_ATTEMPTS} times in a row`);
    key = generate();
  }
  const token = { key, secret: generate() };
  ctx.sessions.set(key, conn);
  settle(ctx.directory.setSession(key, conn.id));
  return token;
}

/** Replace the session's token (the old one stops working); returns the new one in wire form. */
export function reissueToken<H>(ctx: EngineContext<H>, conn: Connection<H>): string {
  forgetToken(ctx, conn, 'tell directory');
  const r = conn.resume!;
  r.token = newToken(ctx, conn);
  return wireToken(r.token);
}

/** Stop finding `conn` by its token; `quietly` when the directory's record is another node's now. */
export function forgetToken<H>(ctx: EngineContext<H>, conn: Connection<H>, how: 'tell directory' | 'quietly'): void {
  const key = conn.resume!.token.key;
  if (ctx.sessions.get(key) !== conn) return;
  ctx.sessions.delete(key);
  if (how === 'tell directory') settle(ctx.directory.setSession(key, null));
}

/** A token that passed: the session, its resume state, and the frames its client missed. */
export type ResumeCheck<H> =
  | {
      readonly ok: true;
      readonly session: Connection<H>;
      readonly resume: ResumeSession;
      readonly replay: readonly string[];
    }
  | { readonly ok: false; readonly why: string };

/** Why a resume under another subject or tenant is refused (a session never outlives its authorization). */
export const OTHER_HOLDER = 'the session was authorized for another subject or tenant';

/**
 * Whether `secret` opens the session found under its token's key, with `received` frames taken
 * in by the client, for a link authorized as `asking`.
 */
export function checkResume<H>(
  session: Connection<H> | undefined,
  secret: string,
  received: number,
  asking: Holder | null,
): ResumeCheck<H> {
  const r = session?.resume ?? null;
  if (
    session === undefined ||
    r === null ||
    session.pairingState === PairingState.closed ||
    !constantTimeEqual(secret, r.token.secret)
  ) {
    return { ok: false, why: UNKNOWN_TOKEN };
  }
  if (!mayResume(session.auth, asking)) return { ok: false, why: OTHER_HOLDER };
  const replay = r.ledger.replayAfter(received);
  if (replay === null) return { ok: false, why: `received ${received} is outside ${r.ledger.acked}…${r.ledger.sent}` };
  return { ok: true, session, resume: r, replay };
}

/**
 * The ID of the live (attached) session whose current resume token is `presented`, else null:
 * proof that a caller holds that session (e.g. for TURN credentials over HTTP).
 */
export function liveSessionId<H>(ctx: EngineContext<H>, presented: string): string | null {
  const token = parseToken(presented);
  const session = token === null ? undefined : ctx.sessions.get(token.key);
  const r = session?.resume ?? null;
  if (r === null || !r.attached || session!.pairingState === PairingState.closed) return null;
  return constantTimeEqual(token!.secret, r.token.secret) ? session!.id : null;
}

/** Compare two strings in time that depends only on their length (tokens have a fixed length). */
function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
