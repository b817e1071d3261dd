// STUN/TURN settings for tandem-server: validated at start, and turned into per-client ICE
// servers with short-lived TURN credentials (coturn's `use-auth-secret`, the "TURN REST API"):
// username `<expiry unix time>:<client ID>`, password base64(HMAC-SHA1(secret, username)). The
// secret never leaves the server; the client ID in the username ties TURN logs to a session.
import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IceServer } from '@tandem/protocol';
import { takeToken, type TokenBucketState } from '@tandem/server-core';
import { clientAddress, normalizeAddress, originMatcher } from './gate.js';

export interface IceSettings {
  readonly stunUrls: readonly string[];
  readonly turnUrls: readonly string[];
  readonly turnSecret?: string | undefined;
  /** Lifetime of TURN credentials, seconds. */
  readonly turnTtlS: number;
}

/** Default TURN credential lifetime: one hour (sessions get fresh ones before expiry). */
export const DEFAULT_TURN_TTL_S = 3600;
/** Longest accepted lifetime: one day. */
export const MAX_TURN_TTL_S = 86_400;

const HOST = String.raw`(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)`;
const STUN_URL = new RegExp(`^stuns?:${HOST}(?::\\d{1,5})?$`);
const TURN_URL = new RegExp(`^turns?:${HOST}(?::\\d{1,5})?(?:\\?transport=(?:udp|tcp))?$`);

/** Why the settings cannot work, in words, or null when they can. */
export function checkIceSettings(s: IceSettings): string | null {
  for (const url of s.stunUrls) {
    if (!STUN_URL.test(url))
      return `malformed STUN URL ${JSON.stringify(url)}: expected stun:host[:port] or stuns:host[:port]`;
    if (!portOk(url)) return `STUN URL ${JSON.stringify(url)} has a port outside 1–65535`;
  }
  for (const url of s.turnUrls) {
    if (!TURN_URL.test(url))
      return `malformed TURN URL ${JSON.stringify(url)}: expected turn:host[:port][?transport=udp|tcp] or turns:…`;
    if (!portOk(url)) return `TURN URL ${JSON.stringify(url)} has a port outside 1–65535`;
  }
  if (s.turnUrls.length > 0 && !s.turnSecret)
    return "a TURN URL needs --turn-secret or --turn-secret-file (the static-auth-secret of coturn's use-auth-secret)";
  if (s.turnSecret && s.turnUrls.length === 0) return '--turn-secret needs at least one --turn-url';
  if (!Number.isInteger(s.turnTtlS) || s.turnTtlS < 60 || s.turnTtlS > MAX_TURN_TTL_S)
    return `--turn-ttl must be a whole number of seconds from 60 to ${MAX_TURN_TTL_S} (one day)`;
  return null;
}

function portOk(url: string): boolean {
  const m = /:(\d{1,5})(?:\?|$)/.exec(url.replace(/^\w+:/, '').replace(/^\[[^\]]*\]/, ''));
  return m === null || (Number(m[1]) >= 1 && Number(m[1]) <= 65535);
}

/** TURN REST credentials for `user`, valid until `nowMs` + `ttlS`. */
export function turnCredentials(
  secret: string,
  user: string,
  ttlS: number,
  nowMs: number,
): { username: string; credential: string } {
  const username = `${Math.floor(nowMs / 1000) + ttlS}:${user}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

/** The ICE servers to hand `user` now, or null when no STUN or TURN server is configured. */
export function iceServersFor(
  s: IceSettings,
  user: string,
  nowMs: number,
): { servers: IceServer[]; ttlMs: number } | null {
  if (s.stunUrls.length === 0 && s.turnUrls.length === 0) return null;
  const servers: IceServer[] = [];
  if (s.stunUrls.length > 0) servers.push({ urls: [...s.stunUrls] });
  if (s.turnUrls.length > 0)
    servers.push({ urls: [...s.turnUrls], ...turnCredentials(s.turnSecret!, user, s.turnTtlS, nowMs) });
  return { servers, ttlMs: s.turnTtlS * 1000 };
}

/** The handle to put in TURN usernames in place of a client's ID (the same as its log handle under that key). */
export { clientHandle, processLogKey, type ClientNaming } from './server-log.js';

/** Who may fetch `GET /ice-servers`, and how often. */
export interface IceRouteLimits {
  /** Browser origins allowed (the server's `--allow-origin`; empty: any). A request without `Origin` is not a browser's. */
  readonly allowOrigins: readonly string[];
  /** Proxies whose `X-Forwarded-For` names the client. */
  readonly trustProxy: readonly string[];
  /** Requests one address may make per minute, sustained, and in a burst. */
  readonly perMinute: number;
  readonly burst: number;
  /** Addresses remembered at once; the least recently seen is forgotten past this. */
  readonly maxAddresses: number;
}

/** The route's defaults: a page load or two a minute per address, never an open relay. */
export const defaultIceRouteLimits: IceRouteLimits = Object.freeze({
  allowOrigins: [],
  trustProxy: [],
  perMinute: 6,
  burst: 10,
  maxAddresses: 10_000,
});

/** Who asks the route, once proven: the name its TURN username carries; or why not. */
export type IceRouteProof =
  | { readonly ok: true; readonly name: string }
  | { readonly ok: false; readonly status: number; readonly message: string };

/** What proves a caller may have TURN credentials. Default: nothing does (every request gets 401). */
export type IceRouteProver = (req: IncomingMessage) => IceRouteProof | Promise<IceRouteProof>;

/**
 * `GET /ice-servers` for apps with their own signaling: `{"iceServers":[…]}`, usable as an
 * RTCConfiguration, with credentials whose username carries the name `prove` gives the caller.
 * A browser origin outside `allowOrigins` gets 403; an address past its rate gets 429 with
 * `Retry-After`; a caller `prove` refuses gets its status (401 by default: knowing a client's ID
 * is no proof, it is the thing protected). tandem's own clients never need it (a v2 client gets
 * its servers in `welcome`). Returns false for other paths.
 */
export function iceServersHandler(
  s: IceSettings,
  limits: Partial<IceRouteLimits> = {},
  prove: IceRouteProver = () => ({ ok: false, status: 401, message: 'proof of a live session required' }),
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const l = { ...defaultIceRouteLimits, ...limits };
  const allows = originMatcher(l.allowOrigins);
  const trusted = new Set(l.trustProxy.map(normalizeAddress));
  /** Token buckets by address, least recently seen first (a Map keeps insertion order). */
  const buckets = new Map<string, TokenBucketState>();
  const text = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) =>
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(`${body}\n`);
  return (req, res) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/ice-servers') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      text(res, 405, 'GET only', { allow: 'GET, HEAD' });
      return true;
    }
    if (!allows(req.headers.origin)) {
      text(res, 403, 'origin not allowed');
      return true;
    }
    const address = clientAddress(req.socket.remoteAddress ?? '', req.headers['x-forwarded-for'], trusted);
    const now = Date.now();
    let bucket = buckets.get(address);
    if (bucket === undefined) bucket = { tokens: l.burst, tokensAt: now };
    buckets.delete(address); // re-inserted below: most recently seen last
    buckets.set(address, bucket);
    if (buckets.size > l.maxAddresses) buckets.delete(buckets.keys().next().value!);
    if (!takeToken(bucket, now, l.perMinute / 60, l.burst)) {
      text(res, 429, 'too many requests for ICE servers from this address', {
        'retry-after': String(Math.ceil(60 / l.perMinute)),
      });
      return true;
    }
    // only a caller that proves it holds a live session (or is authorized) gets credentials;
    // the rate limit comes first, so guessing proofs is as slow as asking
    void (async () => prove(req))().then(
      (proof) => {
        if (!proof.ok)
          return text(res, proof.status, proof.message, proof.status === 401 ? { 'www-authenticate': 'Bearer' } : {});
        const given = iceServersFor(s, proof.name, Date.now());
        const body = JSON.stringify({ iceServers: given?.servers ?? [] });
        res
          .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
          .end(req.method === 'HEAD' ? undefined : body);
      },
      () => text(res, 503, 'cannot check the proof now'),
    );
    return true;
  };
}
