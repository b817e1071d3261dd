// The server engine: events in (open, frame, pong, close, time), effects out (send, ping,
// close, log) through a sink the embedder supplies. No sockets, timers, clock or randomness of
// its own. Rules live in pairing.machine.ts and keepalive.machine.ts, compiled into tables;
// this file keeps the per-connection records, the directory and the timer wheel.
import {
  Capability, DEFAULT_MAX_BYTES, ErrorText, PROTOCOL_VERSION, decodeClientMessage, encode,
  type ClientMessage, type ServerMessage,
} from '@tandem/protocol';
import { compileMachine } from './compile.js';
import { pairingEvents, pairingMachine, type PairingEffect, type PairingEvent } from './pairing.machine.js';
import { keepaliveEvents, keepaliveMachine, type KeepaliveEffect, type KeepaliveEvent } from './keepalive.machine.js';
import { InMemoryDirectory, type ConnectionDirectory } from './directory.js';

/** Tunable limits and timings; every field has a safe default. */
export interface ServerSettings {
  /** Quiet time (ms) after which a client is pinged. Default 25 000. */
  readonly pingIntervalMs: number;
  /** Time (ms) a pinged client has to send anything before it is closed. Default 20 000. */
  readonly pingTimeoutMs: number;
  /** Granularity (ms) of the keepalive timer wheel; timings are late by at most this. Default: a tenth of the shorter of interval and timeout, within [10, 1000]. */
  readonly tickMs: number;
  /** Pings are spread by up to this fraction of the interval so bursts of clients don't ping together. Default 0.1. */
  readonly pingSpread: number;
  /** Largest accepted frame in bytes. Default 65 536. */
  readonly maxFrameBytes: number;
  /** Sustained messages per second per connection before it is closed as a flood. Default 50. */
  readonly rateLimitPerSecond: number;
  /** Burst allowance on top of the sustained rate. Default 200. */
  readonly rateLimitBurst: number;
  /** Advertise v2 extensions in `your_id` (optional fields a v1 client ignores). Default true. */
  readonly advertiseExtensions: boolean;
  /** Offer WebSocket control-frame pings to clients that ask for them (needs transport support). Default true. */
  readonly wsPing: boolean;
}

/** The defaults, exported so embedders and docs can show them. */
export const defaultServerSettings: ServerSettings = Object.freeze({
  pingIntervalMs: 25_000,
  pingTimeoutMs: 20_000,
  tickMs: 1_000,
  pingSpread: 0.1,
  maxFrameBytes: DEFAULT_MAX_BYTES,
  rateLimitPerSecond: 50,
  rateLimitBurst: 200,
  advertiseExtensions: true,
  wsPing: true,
});

/** Why the engine closes a connection. */
export type CloseReason = 'ping timeout' | 'rate limit exceeded' | 'server shutting down';

/** Structured log events; embedders render them (the reference server prints the seed's lines). */
export type ServerLogEvent =
  | { type: 'connected'; id: string }
  | { type: 'disconnected'; id: string; reason: string }
  | { type: 'paired'; id: string; peerId: string }
  | { type: 'pair_failed'; id: string; targetId: string; message: string }
  | { type: 'relayed'; from: string; to: string; messageType: 'offer' | 'answer' | 'candidate' }
  | { type: 'not_paired'; id: string; messageType: string }
  | { type: 'rejected'; id: string; message: string }
  | { type: 'pinged'; id: string; mode: 'json' | 'control' }
  | { type: 'timed_out'; id: string }
  | { type: 'rate_limited'; id: string }
  | { type: 'peer_notified'; id: string; peerId: string };

/** Where the engine's effects go. `H` is the embedder's own handle for a connection (e.g. a socket). */
export interface EffectSink<H> {
  /** Send one text frame. */
  send(handle: H, frame: string): void;
  /** Send a WebSocket control ping (only for clients that negotiated `keepalive.ws-ping`). */
  ping(handle: H): void;
  /** Close the connection; the engine already treats it as gone. */
  close(handle: H, code: number, reason: CloseReason): void;
  /** Optional structured log. */
  log?(event: ServerLogEvent): void;
}

/** Counters an embedder can export as metrics. */
export interface ServerStats {
  connections: number;
  pairs: number;
  opened: number;
  closed: number;
  relayed: number;
  errors: number;
  pings: number;
  timeouts: number;
  rateLimited: number;
}

/** Everything the engine needs from its host. */
export interface ServerEngineOptions<H> {
  readonly sink: EffectSink<H>;
  /** Unguessable ID generator (≥ 122 random bits), e.g. `crypto.randomUUID`. */
  readonly generateId: () => string;
  /** Uniform [0, 1) source for spreading pings; inject a seeded one in tests. */
  readonly random: () => number;
  readonly settings?: Partial<ServerSettings>;
  /** Directory of connections by ID; in-memory by default. */
  readonly directory?: ConnectionDirectory<Connection<H>>;
}

const pairing = compileMachine<PairingEvent, PairingEffect>(pairingMachine, pairingEvents);
const keepalive = compileMachine<KeepaliveEvent, KeepaliveEffect>(keepaliveMachine, keepaliveEvents);

const P = {
  unpaired: pairing.state('unpaired'),
  paired: pairing.state('paired'),
  closed: pairing.state('closed'),
  evRequest: {
    unknown: pairing.event({ type: 'PAIR_REQUEST', target: 'unknown' }),
    self: pairing.event({ type: 'PAIR_REQUEST', target: 'self' }),
    busy: pairing.event({ type: 'PAIR_REQUEST', target: 'busy' }),
    free: pairing.event({ type: 'PAIR_REQUEST', target: 'free' }),
  },
  evPairedBy: pairing.event({ type: 'PAIRED_BY_PEER' }),
  evSignal: pairing.event({ type: 'SIGNAL' }),
  evPeerLeft: pairing.event({ type: 'PEER_LEFT' }),
  evClose: pairing.event({ type: 'CLOSE' }),
};
const K = {
  live: keepalive.state('live'),
  probing: keepalive.state('probing'),
  evHeard: keepalive.event({ type: 'HEARD' }),
  evDue: keepalive.event({ type: 'DUE' }),
  evDeadline: keepalive.event({ type: 'DEADLINE' }),
  evClose: keepalive.event({ type: 'CLOSE' }),
};

/**
 * One connection as the engine sees it. Kept small and of fixed shape on purpose: this object,
 * its ID string and one timer-wheel slot are all tandem adds to an idle socket.
 */
export class Connection<H> {
  /** @internal */ peer: Connection<H> | null = null;
  /** @internal pairing machine state index */ p: number = P.unpaired;
  /** @internal keepalive machine state index */ k: number = K.live;
  /** @internal ms since engine epoch of the last frame */ heard = 0;
  /** @internal ms since epoch the ping deadline falls */ deadline = 0;
  /** @internal timer-wheel slot this connection is filed under (-1: none) */ slot = -1;
  /** @internal ms subtracted from the interval to spread pings */ jitter = 0;
  /** @internal rate-limit tokens and the time they were counted */ tokens = 0;
  /** @internal */ tokensAt = 0;
  /** @internal uses WebSocket control pings */ wsPing = false;
  constructor(
    /** The client's ID (its shareable key). */
    readonly id: string,
    /** The embedder's handle. */
    readonly handle: H,
  ) {}
  /** Whether the connection is paired. */
  get isPaired(): boolean {
    return this.p === P.paired;
  }
  /** The partner's ID, if paired. */
  get peerId(): string | null {
    return this.peer?.id ?? null;
  }
  /** Whether the engine considers this connection closed. */
  get isClosed(): boolean {
    return this.p === P.closed;
  }
}

const FROM_PEER_SUFFIX = ',"from_peer":true}';

/**
 * Adds `from_peer: true` to a validated frame without re-serialising it: the frame parsed as a
 * JSON object, so its last non-space character is `}`; JSON.parse keeps the last of duplicate
 * keys, so appending wins even if the sender put its own `from_peer` in. This keeps the relay
 * at one JSON.parse per frame and the SDP byte-for-byte as the peer sent it.
 */
export function addFromPeer(frame: string): string {
  let end = frame.length - 1;
  while (end > 0 && frame.charCodeAt(end) !== 125 /* } */) end--;
  let inner = end - 1;
  while (inner > 0 && isJsonSpace(frame.charCodeAt(inner))) inner--;
  const empty = frame.charCodeAt(inner) === 123; /* { : object had no members */
  return frame.slice(0, end) + (empty ? FROM_PEER_SUFFIX.slice(1) : FROM_PEER_SUFFIX);
}
function isJsonSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** The sans-I/O signaling server. Create one per process (or per shard) and feed it events. */
export class ServerEngine<H> {
  /** Effective settings. */
  readonly settings: ServerSettings;
  private readonly sink: EffectSink<H>;
  private readonly generateId: () => string;
  private readonly random: () => number;
  private readonly directory: ConnectionDirectory<Connection<H>>;
  private epoch: number | null = null;
  /** Timer wheel: slot number (ceil(time / tick)) → connections filed there (stale entries skipped lazily). */
  private readonly wheel = new Map<number, Connection<H>[]>();
  private nextSlot = 0;
  // What the effect being carried out refers to; engine fields, not per-connection ones, so an
  // idle connection does not pay for them.
  private pendingTarget: Connection<H> | null = null;
  private pendingRelay: string | null = null;
  private shuttingDown = false;
  private readonly counters: ServerStats = { connections: 0, pairs: 0, opened: 0, closed: 0, relayed: 0, errors: 0, pings: 0, timeouts: 0, rateLimited: 0 };
  private readonly yourIdExtras: string;
  private readonly pingFrame = encode({ type: 'ping' });

  constructor(options: ServerEngineOptions<H>) {
    const merged = { ...defaultServerSettings, ...options.settings };
    if (options.settings?.tickMs === undefined) merged.tickMs = defaultTickMs(merged.pingIntervalMs, merged.pingTimeoutMs);
    this.settings = Object.freeze(merged);
    validateSettings(this.settings);
    this.sink = options.sink;
    this.generateId = options.generateId;
    this.random = options.random;
    this.directory = options.directory ?? new InMemoryDirectory<Connection<H>>();
    const caps = this.settings.wsPing ? [Capability.WsPing] : [];
    this.yourIdExtras = this.settings.advertiseExtensions ? `,"version":${PROTOCOL_VERSION},"capabilities":${JSON.stringify(caps)}` : '';
  }

  /** A snapshot of the counters. */
  stats(): ServerStats {
    return { ...this.counters, connections: this.directory.size };
  }

  /** Look a live connection up by ID. */
  connection(id: string): Connection<H> | undefined {
    return this.directory.get(id);
  }

  /** A WebSocket opened: assign an ID, send `your_id`, start keepalive. Returns the engine's record. */
  open(handle: H, now: number): Connection<H> {
    const t = this.time(now);
    let id = this.generateId();
    for (let tries = 0; this.directory.get(id) !== undefined; tries++) {
      if (tries > 8) throw new Error('ServerEngine: generateId keeps returning IDs in use');
      id = this.generateId();
    }
    const conn = new Connection(id, handle);
    conn.heard = t;
    conn.tokens = this.settings.rateLimitBurst;
    conn.tokensAt = t;
    const spreadMs = Math.floor(this.settings.pingIntervalMs * this.settings.pingSpread);
    conn.jitter = Math.min(spreadMs, Math.floor(this.random() * (spreadMs + 1)));
    this.directory.set(id, conn);
    this.counters.opened++;
    this.sink.send(handle, `{"type":"your_id","id":${JSON.stringify(id)}${this.yourIdExtras}}`);
    this.sink.log?.({ type: 'connected', id });
    this.file(conn, t + this.settings.pingIntervalMs - conn.jitter);
    return conn;
  }

  /** A frame arrived from `conn`. `binary` marks a binary WebSocket frame (not allowed by wire-v1). */
  receive(conn: Connection<H>, data: string | Uint8Array, now: number, binary = false): void {
    if (conn.p === P.closed) return;
    const t = this.time(now);
    this.heardAt(conn, t);
    if (!this.takeToken(conn, t)) return;
    if (binary) return this.replyError(conn, `${ErrorText.InvalidJson}: binary frames are not supported, send JSON text frames`, 'binary');
    const result = decodeClientMessage(data, { maxBytes: this.settings.maxFrameBytes });
    if (!result.ok) return this.replyError(conn, result.error.message, result.error.code);
    this.dispatch(conn, result.value, typeof data === 'string' ? data : null);
  }

  /** The transport saw a WebSocket pong (or any other sign of life that is not a frame). */
  heard(conn: Connection<H>, now: number): void {
    if (conn.p === P.closed) return;
    this.heardAt(conn, this.time(now));
  }

  /** The transport closed (cleanly, abruptly, or because we asked). Idempotent. */
  closed(conn: Connection<H>, now: number, reason = 'closed'): void {
    this.time(now);
    this.end(conn, reason);
  }

  /** Time passed: send due pings and close connections whose ping deadline passed. */
  advance(now: number): void {
    const t = this.time(now);
    const last = Math.floor(t / this.settings.tickMs);
    if (this.nextSlot > last) return;
    if (last - this.nextSlot > this.wheel.size) {
      // a big jump (simulated clocks, a stalled event loop): visit only slots that exist
      const due = [...this.wheel.keys()].filter((s) => s <= last).sort((a, b) => a - b);
      for (const s of due) this.fire(s, t);
    } else {
      for (let s = this.nextSlot; s <= last; s++) this.fire(s, t);
    }
    this.nextSlot = last + 1;
  }

  /** When `advance` next has work to do (absolute ms, same clock as `now`), or null if never. */
  nextWake(): number | null {
    if (this.epoch === null || this.wheel.size === 0) return null;
    let min = Infinity;
    for (const s of this.wheel.keys()) if (s < min) min = s;
    return this.epoch + Math.max(min, this.nextSlot) * this.settings.tickMs;
  }

  /** Close every connection (graceful shutdown); partners are not notified since they close too. */
  shutdown(): void {
    this.shuttingDown = true;
    for (const c of [...this.directory.values()]) if (c.p !== P.closed) this.drop(c, 1001, 'server shutting down');
    this.wheel.clear();
    this.shuttingDown = false;
  }

  // ------------------------------------------------------------------ internals

  private time(now: number): number {
    if (this.epoch === null) this.epoch = now - (now % this.settings.tickMs);
    return now - this.epoch;
  }

  private dispatch(conn: Connection<H>, msg: ClientMessage, raw: string | null): void {
    switch (msg.type) {
      case 'offer':
      case 'answer':
      case 'candidate':
        return this.signal(conn, msg.type, raw ?? encode(msg));
      case 'pair_request':
        return this.pairRequest(conn, msg.target_id);
      case 'pong':
        return; // proof of life already recorded
      case 'hello':
        return this.hello(conn, msg.capabilities);
    }
  }

  private hello(conn: Connection<H>, requested: readonly string[]): void {
    const granted: string[] = [];
    if (this.settings.wsPing && requested.includes(Capability.WsPing)) {
      conn.wsPing = true;
      granted.push(Capability.WsPing);
    }
    this.sink.send(conn.handle, encode({ type: 'welcome', version: PROTOCOL_VERSION, capabilities: granted }));
  }

  private signal(conn: Connection<H>, type: 'offer' | 'answer' | 'candidate', raw: string): void {
    this.pendingRelay = raw;
    this.pairingEvent(conn, P.evSignal, type);
    this.pendingRelay = null;
  }

  private pairRequest(conn: Connection<H>, targetId: string): void {
    const target = this.directory.get(targetId);
    const verdict = target === conn ? 'self' : target === undefined || target.p === P.closed ? 'unknown' : target.p === P.paired ? 'busy' : 'free';
    this.pendingTarget = target ?? null;
    this.pairingEvent(conn, P.evRequest[verdict], targetId);
    this.pendingTarget = null;
  }

  /** Run one pairing-machine transition for `conn` and carry out what it emitted. */
  private pairingEvent(conn: Connection<H>, event: number, detail: string): void {
    const row = pairing.table[conn.p]![event]!;
    conn.p = row.next;
    for (const effect of row.emitted) this.pairingEffect(conn, effect, detail);
  }

  private pairingEffect(conn: Connection<H>, effect: PairingEffect, detail: string): void {
    switch (effect.type) {
      case 'reply_error':
        if (effect.message === ErrorText.NotPaired) this.sink.log?.({ type: 'not_paired', id: conn.id, messageType: detail });
        else this.sink.log?.({ type: 'pair_failed', id: conn.id, targetId: detail, message: effect.message });
        this.counters.errors++;
        this.sink.send(conn.handle, encode({ type: 'error', message: effect.message }));
        return;
      case 'pair_with_target': {
        const target = this.pendingTarget!;
        conn.peer = target;
        target.peer = conn;
        this.counters.pairs++;
        this.sink.log?.({ type: 'paired', id: conn.id, peerId: target.id });
        this.pairingEvent(target, P.evPairedBy, conn.id);
        return;
      }
      case 'send_paired':
        this.sink.send(conn.handle, encode({ type: 'paired', peer_id: conn.peer!.id, initiator: effect.initiator }));
        return;
      case 'relay_to_peer': {
        const peer = conn.peer!;
        this.counters.relayed++;
        this.sink.send(peer.handle, addFromPeer(this.pendingRelay!));
        this.sink.log?.({ type: 'relayed', from: conn.id, to: peer.id, messageType: detail as 'offer' });
        return;
      }
      case 'release_peer': {
        const peer = conn.peer;
        conn.peer = null;
        if (peer !== null && peer.p === P.paired) {
          this.counters.pairs--;
          this.pairingEvent(peer, P.evPeerLeft, conn.id);
        }
        return;
      }
      case 'send_peer_disconnected': {
        conn.peer = null;
        if (this.shuttingDown) return; // it is being closed too
        this.sink.send(conn.handle, encode({ type: 'peer_disconnected', peer_id: detail }));
        this.sink.log?.({ type: 'peer_notified', id: conn.id, peerId: detail });
        return;
      }
    }
  }

  private replyError(conn: Connection<H>, message: string, code: string): void {
    this.counters.errors++;
    this.sink.log?.({ type: 'rejected', id: conn.id, message });
    const msg: ServerMessage = { type: 'error', message, code };
    this.sink.send(conn.handle, encode(msg));
  }

  private heardAt(conn: Connection<H>, t: number): void {
    conn.heard = t;
    if (conn.k === K.probing) this.keepaliveEvent(conn, K.evHeard, t);
  }

  private keepaliveEvent(conn: Connection<H>, event: number, t: number): void {
    const row = keepalive.table[conn.k]![event]!;
    conn.k = row.next;
    for (const effect of row.emitted) {
      switch (effect.type) {
        case 'send_ping':
          this.counters.pings++;
          if (conn.wsPing) this.sink.ping(conn.handle);
          else this.sink.send(conn.handle, this.pingFrame);
          this.sink.log?.({ type: 'pinged', id: conn.id, mode: conn.wsPing ? 'control' : 'json' });
          break;
        case 'arm_deadline':
          conn.deadline = t + this.settings.pingTimeoutMs;
          this.file(conn, conn.deadline);
          break;
        case 'arm_interval':
          this.file(conn, conn.heard + this.settings.pingIntervalMs - conn.jitter);
          break;
        case 'close_timed_out':
          this.counters.timeouts++;
          this.sink.log?.({ type: 'timed_out', id: conn.id });
          this.drop(conn, 1001, 'ping timeout');
          break;
      }
    }
  }

  /** File `conn` in the wheel slot that is due at or after `due` (ms since epoch). */
  private file(conn: Connection<H>, due: number): void {
    const slot = Math.max(Math.ceil(due / this.settings.tickMs), this.nextSlot);
    conn.slot = slot;
    const list = this.wheel.get(slot);
    if (list === undefined) this.wheel.set(slot, [conn]);
    else list.push(conn);
  }

  private fire(slot: number, t: number): void {
    const list = this.wheel.get(slot);
    if (list === undefined) return;
    this.wheel.delete(slot);
    for (const conn of list) {
      if (conn.slot !== slot || conn.p === P.closed) continue; // refiled or gone: stale entry
      conn.slot = -1;
      if (conn.k === K.live) {
        const due = conn.heard + this.settings.pingIntervalMs - conn.jitter;
        if (due > t) this.file(conn, due); // heard since it was filed: look again later, no ping
        else this.keepaliveEvent(conn, K.evDue, t);
      } else if (conn.k === K.probing) {
        if (conn.deadline > t) this.file(conn, conn.deadline);
        else this.keepaliveEvent(conn, K.evDeadline, t);
      }
    }
  }

  private takeToken(conn: Connection<H>, t: number): boolean {
    const { rateLimitPerSecond: rate, rateLimitBurst: burst } = this.settings;
    conn.tokens = Math.min(burst, conn.tokens + ((t - conn.tokensAt) * rate) / 1000);
    conn.tokensAt = t;
    if (conn.tokens >= 1) {
      conn.tokens -= 1;
      return true;
    }
    this.counters.rateLimited++;
    this.sink.log?.({ type: 'rate_limited', id: conn.id });
    this.drop(conn, 1008, 'rate limit exceeded');
    return false;
  }

  private drop(conn: Connection<H>, code: number, reason: CloseReason): void {
    this.end(conn, reason);
    this.sink.close(conn.handle, code, reason);
  }

  private end(conn: Connection<H>, reason: string): void {
    if (conn.p === P.closed) return;
    this.pairingEvent(conn, P.evClose, '');
    conn.k = keepalive.table[conn.k]![K.evClose]!.next;
    conn.slot = -1;
    if (this.directory.get(conn.id) === conn) this.directory.delete(conn.id);
    this.counters.closed++;
    this.sink.log?.({ type: 'disconnected', id: conn.id, reason });
  }
}

/** A wheel fine enough for short test timings, coarse (1 s) for production ones. */
function defaultTickMs(intervalMs: number, timeoutMs: number): number {
  return Math.min(1000, Math.max(10, Math.floor(Math.min(intervalMs, timeoutMs) / 10)));
}

function validateSettings(s: ServerSettings): void {
  const positive = ['pingIntervalMs', 'pingTimeoutMs', 'tickMs', 'maxFrameBytes', 'rateLimitPerSecond', 'rateLimitBurst'] as const;
  for (const k of positive) if (!(Number.isFinite(s[k]) && s[k] > 0)) throw new RangeError(`ServerSettings.${k} must be a positive number, got ${s[k]}`);
  if (!(s.pingSpread >= 0 && s.pingSpread < 1)) throw new RangeError(`ServerSettings.pingSpread must be in [0, 1), got ${s.pingSpread}`);
}
