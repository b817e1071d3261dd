// Who may connect: a signed token checked before the WebSocket upgrade. The ws binding takes any
// `authorize(request)` hook; `jwtAuthorizer` is the one tandem-server uses, on `jose` (HS256 with
// a shared secret, or RS256/ES256 against a JWKS from a file or a URL). The token is read from
// `?token=`, the `tandem.token.<token>` subprotocol (browsers cannot set headers) or an
// `Authorization: Bearer` header, and never reaches a log: refusals say why in words only.
import type { IncomingMessage } from 'node:http';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { TOKEN_SUBPROTOCOL_PREFIX } from '@tandem/protocol';
import type { Principal } from '@tandem/server-core';

export type { Principal } from '@tandem/server-core';

/** Why a connection was not authorized. */
export type AuthRefusalReason = 'token_missing' | 'token_invalid' | 'token_expired' | 'auth_unavailable';

/** An authorization hook's answer: the principal the link is authorized as, or a refusal. */
export type AuthDecision =
  | { readonly ok: true; readonly principal: Principal }
  | {
      readonly ok: false;
      /** 401 (no or bad credentials), 403 (known but not allowed) or 503 (cannot check now). */
      readonly status: 401 | 403 | 503;
      readonly reason: AuthRefusalReason | (string & {});
      /** Body and log text: must not quote the token. */
      readonly message: string;
    };

/** Decide whether an upgrade request may become a tandem connection (before the upgrade). */
export type Authorize = (request: IncomingMessage) => AuthDecision | Promise<AuthDecision>;

/** Longest token accepted (a JWT with a few claims is well under 2 KiB). */
export const MAX_TOKEN_CHARS = 8_192;

/**
 * The token an upgrade request carries: `?token=` on the URL, a `tandem.token.<token>`
 * subprotocol, or `Authorization: Bearer <token>`, in that order; null when none.
 */
export function tokenOf(request: IncomingMessage): string | null {
  const url = request.url ?? '/';
  const q = url.indexOf('?');
  if (q >= 0) {
    const fromQuery = new URLSearchParams(url.slice(q + 1)).get('token');
    if (fromQuery !== null && fromQuery !== '') return fromQuery;
  }
  const offered = request.headers['sec-websocket-protocol'];
  if (offered !== undefined)
    for (const p of offered.split(','))
      if (p.trim().startsWith(TOKEN_SUBPROTOCOL_PREFIX)) return p.trim().slice(TOKEN_SUBPROTOCOL_PREFIX.length);
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return bearer ? bearer[1]! : null;
}

/** How tokens are checked. Give `secret`, `jwks` or `jwksUrl`. */
export interface JwtAuthOptions {
  /** HS256 shared secret (at least 32 bytes). */
  readonly secret?: Uint8Array;
  /** A JSON Web Key Set (RS256/ES256 public keys). */
  readonly jwks?: JSONWebKeySet;
  /** Where to fetch the JWKS from (cached, refetched for an unknown `kid`). */
  readonly jwksUrl?: URL;
  /** Required `iss`, when given. */
  readonly issuer?: string;
  /** Required `aud`, when given. */
  readonly audience?: string;
  /** Clock skew allowed on `exp` and `nbf`, in seconds. Default 30. */
  readonly clockToleranceS?: number;
  /** The claim that names the tenant. Default `tenant`. */
  readonly tenantClaim?: string;
  /** The clock (ms), for tests. Default Date.now. */
  readonly now?: () => number;
}

const HS_ALGORITHMS = ['HS256'];
const KEY_SET_ALGORITHMS = ['RS256', 'ES256'];

/** An `authorize` hook that checks a JWT with `jose`; the principal's subject is `sub`, its tenant the tenant claim. */
export function jwtAuthorizer(options: JwtAuthOptions): Authorize {
  const sources = [options.secret, options.jwks, options.jwksUrl].filter((x) => x !== undefined).length;
  if (sources !== 1) throw new Error('JWT auth needs exactly one of: a secret, a JWKS, a JWKS URL');
  if (options.secret !== undefined && options.secret.byteLength < 32)
    throw new Error(`the HS256 secret must be at least 32 bytes (got ${options.secret.byteLength})`);
  const key: Uint8Array | JWTVerifyGetKey =
    options.secret ??
    (options.jwks !== undefined ? createLocalJWKSet(options.jwks) : createRemoteJWKSet(options.jwksUrl!));
  const toleranceS = options.clockToleranceS ?? 30;
  const tenantClaim = options.tenantClaim ?? 'tenant';
  const now = options.now ?? Date.now;
  const refuse = (reason: AuthRefusalReason, message: string, status: 401 | 503 = 401): AuthDecision => ({
    ok: false,
    status,
    reason,
    message,
  });
  return async (request) => {
    const token = tokenOf(request);
    if (token === null) return refuse('token_missing', 'a token is required to connect');
    if (token.length > MAX_TOKEN_CHARS) return refuse('token_invalid', 'token invalid: too long');
    let payload: JWTPayload;
    try {
      const verified = await jwtVerify(token, key as JWTVerifyGetKey, {
        algorithms: options.secret !== undefined ? HS_ALGORITHMS : KEY_SET_ALGORITHMS,
        clockTolerance: toleranceS,
        currentDate: new Date(now()),
        ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
        ...(options.audience !== undefined ? { audience: options.audience } : {}),
      });
      payload = verified.payload;
    } catch (err) {
      return refusalFor(err, refuse);
    }
    const tenant = payload[tenantClaim];
    if (tenant !== undefined && (typeof tenant !== 'string' || tenant === '' || tenant.length > 256))
      return refuse('token_invalid', `token invalid: the ${tenantClaim} claim must be a non-empty string`);
    if (payload.sub !== undefined && payload.sub.length > 1024)
      return refuse('token_invalid', 'token invalid: sub too long');
    const principal: Principal = {
      ...(payload.sub !== undefined ? { subject: payload.sub } : {}),
      ...(typeof tenant === 'string' ? { tenant } : {}),
      // accepted up to the tolerance past `exp`, so it ends there too (not at once)
      ...(payload.exp !== undefined ? { expiresAt: (payload.exp + toleranceS) * 1000 } : {}),
    };
    return { ok: true, principal };
  };
}

/** jose's verdict in words that never quote the token. */
function refusalFor(
  err: unknown,
  refuse: (reason: AuthRefusalReason, message: string, status?: 401 | 503) => AuthDecision,
): AuthDecision {
  if (err instanceof errors.JWTExpired) return refuse('token_expired', 'token expired');
  if (err instanceof errors.JWTClaimValidationFailed)
    return refuse(
      'token_invalid',
      err.claim === 'nbf' ? 'token not valid yet' : `token invalid: the ${err.claim} claim does not match`,
    );
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid)
    return refuse('auth_unavailable', 'cannot check tokens now: the key set is unavailable', 503);
  if (err instanceof errors.JWKSNoMatchingKey) return refuse('token_invalid', 'token invalid: no key matches it');
  if (err instanceof errors.JOSEAlgNotAllowed) return refuse('token_invalid', 'token invalid: algorithm not allowed');
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return refuse('token_invalid', 'token invalid: bad signature');
  if (err instanceof errors.JOSEError) return refuse('token_invalid', 'token invalid: not a well-formed JWT');
  // a JWKS URL that cannot be fetched (connection refused, bad JSON) is not the client's fault
  return refuse('auth_unavailable', 'cannot check tokens now: the key set is unavailable', 503);
}
