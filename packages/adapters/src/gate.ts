// Admission before the WebSocket upgrade: connection caps (global and per client address), the
// Origin allowlist, and the client address behind trusted reverse proxies. Pure bookkeeping, no
// sockets: createWsServer asks `admit` for each upgrade and answers refusals with plain HTTP.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

/** Who may connect, and how many. */
export interface ConnectionLimits {
  /** Open WebSocket connections (and upgrades in progress) across all clients. Default: the process's file limit less a reserve. */
  readonly maxConnections: number;
  /** Open connections from one client address. Default 1 024. */
  readonly maxConnectionsPerIp: number;
  /** Proxy addresses whose `X-Forwarded-For` is believed; from anyone else the header is ignored. Default none. */
  readonly trustProxy: readonly string[];
  /**
   * Browser origins allowed to connect: exact (`https://chat.example.com`) or a subdomain pattern
   * (`*.example.com`, `https://*.example.com`). Empty: any origin. Clients that send no Origin
   * (non-browser clients: tandem-client, werift, curl) are not browsers and are not checked.
   */
  readonly allowOrigins: readonly string[];
  /**
   * Sockets from one address that have not become WebSockets (an HTTP request on its way, or none
   * yet): past it, a new socket from that address is closed at accept. Trusted proxies are
   * exempt (every client behind them shares their address). Default: a quarter of
   * `maxConnections`, at most 256, at least 16.
   */
  readonly maxPendingPerIp: number;
  /**
   * Sockets past `maxConnections` (live and pending together) before new sockets are closed at
   * accept: room to answer a burst's upgrades with 503 and the reason while the files last. Default:
   * half the files kept in reserve beyond `maxConnections`, at least 16.
   */
  readonly maxPending: number;
}

/** Files the process keeps for itself beyond client sockets (listening sockets, logs, Redis, DNS): 256, or a quarter of a small limit. */
const fileReserve = (limit: number) => Math.min(256, Math.floor(limit / 4));
/** When the file limit cannot be read (not Linux). */
const FALLBACK_MAX_CONNECTIONS = 10_000;

/** The soft limit on open files of this process, or null where /proc is not there. */
export function openFileLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    return soft === undefined || soft === 'unlimited' ? null : Number(soft) || null;
  } catch {
    return null;
  }
}

/** Defaults that keep the process under its file limit. */
export function defaultConnectionLimits(fileLimit: number | null = openFileLimit()): ConnectionLimits {
  const maxConnections =
    fileLimit === null ? FALLBACK_MAX_CONNECTIONS : Math.max(1, fileLimit - fileReserve(fileLimit));
  return Object.freeze({
    maxConnections,
    maxConnectionsPerIp: 1_024,
    // room for a burst of handshakes from one address (a NAT, a load test), never most of the server
    maxPendingPerIp: Math.max(16, Math.min(256, Math.floor(maxConnections / 4))),
    maxPending: Math.max(16, Math.floor(fileReserve(fileLimit ?? FALLBACK_MAX_CONNECTIONS) / 2)),
    trustProxy: [],
    allowOrigins: [],
  });
}

/** Why an upgrade was refused, with the HTTP status it gets. */
export type RefusalReason = 'max_connections' | 'max_connections_per_ip' | 'origin' | 'draining' | 'unauthorized';
export interface Refusal {
  readonly reason: RefusalReason;
  readonly status: 503 | 429 | 403 | 401;
  /** Body and log text. */
  readonly message: string;
  /** The client address the decision was about (after X-Forwarded-For from a trusted proxy). */
  readonly address: string;
  readonly origin: string | undefined;
}

/** `::ffff:1.2.3.4` → `1.2.3.4`, so one client is one key whichever socket family it came in on. */
export function normalizeAddress(address: string): string {
  const a = address.trim();
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

/**
 * The client's address: the socket's peer, unless that peer is a trusted proxy, in which case
 * `X-Forwarded-For` is read from the right, skipping trusted proxies, and the first other
 * address is the client. A malformed entry stops the walk at the last trusted hop.
 */
export function clientAddress(
  remote: string,
  forwardedFor: string | string[] | undefined,
  trusted: ReadonlySet<string>,
): string {
  let address = normalizeAddress(remote);
  if (!trusted.has(address) || forwardedFor === undefined) return address;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(hops[i]!);
    if (isIP(hop) === 0) break;
    address = hop;
    if (!trusted.has(hop)) break;
  }
  return address;
}

/** A compiled origin allowlist: `allows(origin)`. Throws on a pattern that is not an origin. */
export function originMatcher(patterns: readonly string[]): (origin: string | undefined) => boolean {
  if (patterns.length === 0) return () => true;
  const exact = new Set<string>();
  const wild: { scheme: string | null; suffix: string }[] = [];
  for (const raw of patterns) {
    const pattern = raw.trim().toLowerCase();
    const m = /^(?:([a-z][a-z0-9+.-]*):\/\/)?(\*\.)?([a-z0-9.-]+(?::\d+)?)$/.exec(pattern);
    if (!m) throw new Error(`--allow-origin: not an origin or *.domain pattern: ${JSON.stringify(raw)}`);
    const [, scheme, star, host] = m;
    if (star) wild.push({ scheme: scheme ?? null, suffix: `.${host}` });
    else if (scheme) exact.add(`${scheme}://${host}`);
    else throw new Error(`--allow-origin: an exact origin needs its scheme (https://${host}): ${JSON.stringify(raw)}`);
  }
  return (origin) => {
    if (origin === undefined) return true; // not a browser: nothing for an Origin check to protect
    const o = origin.toLowerCase();
    if (exact.has(o)) return true;
    const m = /^([a-z][a-z0-9+.-]*):\/\/([^/]+)$/.exec(o);
    if (!m) return false;
    const [, scheme, host] = m;
    return wild.some(
      (w) => (w.scheme === null || w.scheme === scheme) && host!.endsWith(w.suffix) && host!.length > w.suffix.length,
    );
  };
}

/** Counts connections by address and decides admissions. */
export class ConnectionGate {
  readonly limits: ConnectionLimits;
  private readonly trusted: ReadonlySet<string>;
  private readonly allows: (origin: string | undefined) => boolean;
  private readonly byAddress = new Map<string, number>();
  private total = 0;
  /** Detached sessions (resumable, link-less) by the address their link came from: they hold their slot. */
  private readonly heldByAddress = new Map<string, number>();
  private heldTotal = 0;
  /** Links admitted over a cap on the strength of a detached session of their address (they must resume it). */
  private readonly borrowedByAddress = new Map<string, number>();
  /** Sockets accepted that are not WebSockets (yet), by their peer address. */
  private readonly pendingByAddress = new Map<string, number>();
  private pendingTotal = 0;
  /** Set while draining: every upgrade is refused with 503. */
  draining = false;

  constructor(limits: Partial<ConnectionLimits> = {}) {
    this.limits = Object.freeze({ ...defaultConnectionLimits(), ...limits });
    for (const name of ['maxConnections', 'maxConnectionsPerIp', 'maxPendingPerIp', 'maxPending'] as const) {
      const v = this.limits[name];
      if (!(Number.isInteger(v) && v > 0))
        throw new RangeError(`ConnectionLimits.${name} must be a positive integer, got ${v}`);
    }
    for (const a of this.limits.trustProxy)
      if (isIP(normalizeAddress(a)) === 0) throw new Error(`--trust-proxy: not an IP address: ${JSON.stringify(a)}`);
    this.trusted = new Set(this.limits.trustProxy.map(normalizeAddress));
    this.allows = originMatcher(this.limits.allowOrigins);
  }

  /** Open connections counted now. */
  get connections(): number {
    return this.total;
  }

  /** Sockets accepted that are not WebSockets (yet). */
  get pending(): number {
    return this.pendingTotal;
  }

  /**
   * A TCP socket was accepted from `remote`: whether to keep it (counted as pending until
   * `settled`) or close it at once: too many pending from its address, or no file to spare (live
   * and pending past maxConnections + maxPending). Within that, a full server keeps it to answer
   * its upgrade with 503 and the reason.
   */
  accept(remote: string): { address: string; keep: boolean } {
    const address = normalizeAddress(remote);
    const mine = this.pendingByAddress.get(address) ?? 0;
    const noFile = this.total + this.pendingTotal >= this.limits.maxConnections + this.limits.maxPending;
    if (noFile || (mine >= this.limits.maxPendingPerIp && !this.trusted.has(address))) return { address, keep: false };
    this.pendingByAddress.set(address, mine + 1);
    this.pendingTotal++;
    return { address, keep: true };
  }

  /** A pending socket became a WebSocket request (it is admitted or refused next) or closed. */
  settled(address: string): void {
    if (decrement(this.pendingByAddress, address)) this.pendingTotal--;
  }

  /** Detached sessions holding a slot now. */
  get held(): number {
    return this.heldTotal;
  }

  /** Detached sessions holding a slot of `address`. */
  heldFrom(address: string): number {
    return this.heldByAddress.get(address) ?? 0;
  }

  /** Open connections from `address`. */
  connectionsFrom(address: string): number {
    return this.byAddress.get(address) ?? 0;
  }

  /** Decide an upgrade; when admitted, the connection is counted until `release(address)`. */
  admit(
    remote: string,
    forwardedFor: string | string[] | undefined,
    origin: string | undefined,
  ): { address: string; refusal: Refusal | null; borrowed: boolean } {
    const address = clientAddress(remote, forwardedFor, this.trusted);
    const refuse = (reason: RefusalReason, status: Refusal['status'], message: string) => ({
      address,
      refusal: { reason, status, message, address, origin },
      borrowed: false,
    });
    if (this.draining) return refuse('draining', 503, 'server draining: connect to another node');
    if (!this.allows(origin)) return refuse('origin', 403, `origin not allowed: ${origin}`);
    // detached sessions count against the caps; a link over them is let in only while its address
    // has a detached session no other such link came for (it may be that session's client, resuming)
    const mine = this.byAddress.get(address) ?? 0;
    const held = this.heldByAddress.get(address) ?? 0;
    const borrowed = this.borrowedByAddress.get(address) ?? 0;
    const overTotal = this.total + this.heldTotal >= this.limits.maxConnections;
    const overMine = mine + held >= this.limits.maxConnectionsPerIp;
    const borrow = (overTotal || overMine) && held > borrowed;
    if (overTotal && !borrow)
      return refuse('max_connections', 503, `server full (limit ${this.limits.maxConnections} connections)`);
    if (overMine && !borrow)
      return refuse(
        'max_connections_per_ip',
        429,
        `too many connections from ${address} (limit ${this.limits.maxConnectionsPerIp})`,
      );
    this.byAddress.set(address, mine + 1);
    this.total++;
    if (borrow) this.borrowedByAddress.set(address, borrowed + 1);
    return { address, refusal: null, borrowed: borrow };
  }

  /** A link admitted over a cap resumed its address's detached session, or closed: it borrows no more. */
  unborrow(address: string): void {
    decrement(this.borrowedByAddress, address);
  }

  /** A counted connection's link closed but its session waits, detached: it keeps its slot. */
  hold(address: string): void {
    this.release(address);
    this.heldByAddress.set(address, (this.heldByAddress.get(address) ?? 0) + 1);
    this.heldTotal++;
  }

  /** A detached session that held a slot resumed elsewhere, moved or ended. */
  releaseHeld(address: string): void {
    if (decrement(this.heldByAddress, address)) this.heldTotal--;
  }

  /** A counted connection ended. */
  release(address: string): void {
    if (decrement(this.byAddress, address)) this.total--;
  }
}

/** Count one off `address` in `counts`; false when it had none. */
function decrement(counts: Map<string, number>, address: string): boolean {
  const n = counts.get(address);
  if (n === undefined) return false;
  if (n <= 1) counts.delete(address);
  else counts.set(address, n - 1);
  return true;
}
