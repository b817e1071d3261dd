// The server engine: events in (open, frame, pong, close, time), effects out (send, ping,
// close, log) through a sink the embedder supplies. No sockets, timers, clock or randomness of
// its own. Rules live in pairing.machine.ts and keepalive.machine.ts, compiled into tables; this
// file runs the tables for each connection and carries out what they emit, with the data each
// effect needs passed down the call as a typed payload.
import {
  Capability, CloseCode, ErrorText, PROTOCOL_VERSION, ResumeLedger, decodeClientMessage, encode, pairingErrorText, uncountedClientTypes,
  type ClientMessage, type IceServer, type PairingErrorCode,
} from '@tandem/protocol';
import type { PairingEffect } from './pairing.machine.js';
import { Connection, RemotePeer, ResumeSession } from './connection.js';
import {
  InMemoryDirectory, type Directory, type HandoverResult, type MaybePromise, type MovedSession, type NodeMessage, type PairOutcome, type PeerRef, type Registration,
} from './directory.js';
import {
  connectionCloses, frameTooLargeClose, type CloseReasonCode, type ConnectionClose, type DisconnectReason, type EffectSink, type ServerLogEvent,
  type ServerStats, type SignalType,
} from './effects.js';
import { takeBytes, takeToken } from './rate-limit.js';
import { addFromPeer } from './relay-frame.js';
import { resolveSettings, type ServerSettings } from './settings.js';
import { KeepaliveInput, KeepaliveState, PairingInput, PairingState, keepaliveTable, pairingTable } from './tables.js';
import { TimerWheel } from './timer-wheel.js';

/** Everything the engine needs from its host. */
export interface ServerEngineOptions<H> {
  readonly sink: EffectSink<H>;
  /** Unguessable ID generator (≥ 122 random bits), e.g. `crypto.randomUUID`. */
  readonly generateId: () => string;
  /** Uniform [0, 1) source for spreading pings; inject a seeded one in tests. */
  readonly random: () => number;
  readonly settings?: Partial<ServerSettings>;
  /**
   * Where client IDs live and how pairs are decided, shared by the nodes of a cluster; a private
   * in-memory one by default (one process, every answer synchronous).
   */
  readonly directory?: Directory;
  /**
   * Secret generator for resume tokens (≥ 128 bits from a CSPRNG each call, URL-safe text, no
   * dots), e.g. `() => randomBytes(18).toString('base64url')`. Without it, `resume` is not offered.
   */
  readonly generateToken?: () => string;
  /**
   * The host's clock (same scale as the `now` of events), read only when the directory calls in:
   * its late answers and other nodes' messages come with no host event to carry a time. Without
   * it, such work is stamped with the last event's time.
   */
  readonly clock?: () => number;
  /**
   * The STUN/TURN servers for a client that asks for `ice-servers`, e.g. TURN REST credentials
   * whose username names it; `now` is the host's time (ms). Without it the capability is not
   * offered. The engine sends fresh ones once 80% of `ttlMs` has passed.
   */
  readonly iceServers?: (clientId: string, now: number) => { readonly servers: IceServer[]; readonly ttlMs: number };
}

/** The data a pairing transition's effects refer to, by what caused it. */
type PairingPayload<H> =
  | { readonly cause: 'request'; readonly targetId: string; readonly target: Connection<H> | RemotePeer | undefined; readonly epoch?: string }
  | { readonly cause: 'signal'; readonly messageType: SignalType; readonly frame: string }
  | { readonly cause: 'peer'; readonly peer: Connection<H> | RemotePeer }
  | { readonly cause: 'end' };

const END: PairingPayload<never> = Object.freeze({ cause: 'end' });

/** How many fresh IDs `open` tries before deciding the generator is broken. */
const ID_ATTEMPTS = 8;

/** Frames a connection may send while it waits for the directory; more means it is not waiting for answers. */
const MAX_WAITING_FRAMES = 256;

function isThenable<T>(value: MaybePromise<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null)?.then === 'function';
}

/** The sans-I/O signaling server. Create one per process (or per shard) and feed it events. */
export class ServerEngine<H> {
  /** Effective settings. */
  readonly settings: ServerSettings;
  private readonly sink: EffectSink<H>;
  private readonly generateId: () => string;
  private readonly random: () => number;
  private readonly directory: Directory;
  /** This engine's connections by ID (the directory knows every node's). */
  private readonly local = new Map<string, Connection<H>>();
  /** This engine's name in its cluster. */
  readonly node: string;
  private readonly clock: (() => number) | null;
  private readonly iceServers: ServerEngineOptions<H>['iceServers'] | null;
  /** Called after the engine did work the directory started (the host re-arms its timer, as after `open`). */
  afterDirectoryWork: (() => void) | null = null;
  private readonly wheel: TimerWheel<Connection<H>>;
  /** Wall-clock ms the engine's own clock starts at (set by the first event). */
  private epoch: number | null = null;
  private readonly counters: ServerStats = {
    connections: 0, pairs: 0, opened: 0, closed: 0, relayed: 0, relayedByType: { offer: 0, answer: 0, candidate: 0 },
    errors: 0, errorsByCode: {}, pings: 0, timeouts: 0, rateLimited: 0, byteRateLimited: 0, slowConsumers: 0,
    detached: 0, resumes: 0, resumeFailures: 0, resumeExpired: 0,
    directoryAvailable: 1, nodeMessagesSent: 0, nodeMessagesReceived: 0, clusterResets: 0, handedOver: 0,
  };
  /** Every close the engine asks for, by reason (the frame-size one names this engine's limit). */
  private readonly closes: Readonly<Record<CloseReasonCode, ConnectionClose>>;
  /** Whether the sink reports queued bytes, so slow consumers can be caught. */
  private readonly watchesBuffers: boolean;
  private readonly generateToken: (() => string) | null;
  /** Whether `resume` is offered (a token generator and a grace period). */
  readonly resumeOffered: boolean;
  /** Resumable sessions by the lookup half of their token. */
  private readonly sessions = new Map<string, Connection<H>>();
  /** Sessions handed to other nodes, by ID: late messages for them are sent on (until `until`, engine ms). */
  private readonly moved = new Map<string, { readonly node: string; readonly until: number }>();
  private readonly yourIdExtras: string;
  private readonly pingFrame = encode({ type: 'ping' });
  /** Keepalive's wheel visitor, bound once rather than per tick. */
  private readonly visitDue = (conn: Connection<H>): void => this.keepaliveDue(conn);
  /** The engine time (ms since epoch) of the event or advance in progress, for effects that arm timers. */
  private advancingAt = 0;
  /** Why the session being detached lost its link (for the log). */
  private detachReason: DisconnectReason = 'connection lost';
  /** Whether the sink wants the hot-path log events (decided once, not per frame). */
  private readonly logRelays: boolean;
  private readonly logPings: boolean;

  constructor(options: ServerEngineOptions<H>) {
    this.settings = resolveSettings(options.settings);
    this.sink = options.sink;
    this.generateId = options.generateId;
    this.random = options.random;
    this.directory = options.directory ?? new InMemoryDirectory();
    this.node = this.directory.node;
    this.clock = options.clock ?? null;
    this.iceServers = options.iceServers ?? null;
    this.directory.listen({
      message: (m) => this.directoryTurn(() => this.fromNode(m)),
      reset: () => this.directoryTurn(() => this.resetCluster()),
      handover: (key, secret, received, to) => this.directoryTurn(() => this.handover(key, secret, received, to)),
    });
    this.wheel = new TimerWheel<Connection<H>>(this.settings.tickMs);
    const wants = (type: ServerLogEvent['type']) => this.sink.log !== undefined && (this.sink.wantsLog?.(type) ?? true);
    this.logRelays = wants('relayed');
    this.logPings = wants('pinged');
    this.closes = Object.freeze({ ...connectionCloses, frame_too_large: frameTooLargeClose(this.settings.maxFrameBytes) });
    this.watchesBuffers = this.sink.bufferedBytes !== undefined;
    this.generateToken = options.generateToken ?? null;
    this.resumeOffered = this.generateToken !== null && this.settings.resumeGraceMs > 0;
    const capabilities: string[] = this.settings.wsPing ? [Capability.WsPing] : [];
    if (this.resumeOffered) capabilities.push(Capability.Resume);
    capabilities.push(Capability.Leave);
    if (options.iceServers) capabilities.push(Capability.IceServers);
    this.yourIdExtras = this.settings.advertiseExtensions ? `,"version":${PROTOCOL_VERSION},"capabilities":${JSON.stringify(capabilities)}` : '';
  }

  /** Ticks the timer wheel has scanned (empty ones included), to check that clock jumps stay cheap. */
  get wheelTicksScanned(): number {
    return this.wheel.ticksScanned;
  }

  /** A snapshot of the counters. */
  stats(): ServerStats {
    const c = this.counters;
    return { ...c, connections: this.local.size, directoryAvailable: this.directory.available ? 1 : 0, relayedByType: { ...c.relayedByType }, errorsByCode: { ...c.errorsByCode } };
  }

  /** Look a live connection up by ID. */
  connection(id: string): Connection<H> | undefined {
    return this.local.get(id);
  }

  /** Whether pairings can be decided now (false while a cluster's shared directory is unreachable). */
  get available(): boolean {
    return this.directory.available;
  }

  /** A WebSocket opened: assign an ID, send `your_id`, start keepalive. Returns the engine's record. */
  open(handle: H, now: number): Connection<H> {
    const t = this.time(now);
    const conn = new Connection(this.freshId(), handle);
    conn.heardAt = t;
    conn.tokens = this.settings.rateLimitBurst;
    conn.tokensAt = t;
    conn.byteTokens = this.settings.rateLimitBytesBurst;
    conn.byteTokensAt = t;
    const spreadMs = Math.floor(this.settings.pingIntervalMs * this.settings.pingSpread);
    conn.pingJitter = Math.min(spreadMs, Math.floor(this.random() * (spreadMs + 1)));
    this.local.set(conn.id, conn);
    this.counters.opened++;
    this.sink.log?.({ type: 'connected', id: conn.id });
    this.wheel.file(conn, this.pingDueAt(conn));
    // the key is handed out once any node can find it (a cluster's directory answers later);
    // should the directory fail, the ID is registered again when it is back
    const greet = () => {
      if (conn.pairingState !== PairingState.closed) this.sink.send(conn.handle, `{"type":"your_id","id":${JSON.stringify(conn.id)}${this.yourIdExtras}}`);
    };
    let registered: MaybePromise<void>;
    try {
      registered = this.directory.register(conn.id);
    } catch {
      registered = undefined;
    }
    this.await(conn, registered, greet, greet);
    return conn;
  }

  /**
   * A frame arrived from `conn`. `binary` marks a binary WebSocket frame (not allowed by wire-v1).
   * `byteLength` is its size on the wire when the host knows it (default: the string's length,
   * which never exceeds its UTF-8 size).
   */
  receive(link: Connection<H>, data: string | Uint8Array, now: number, binary = false, byteLength?: number): void {
    const conn = this.sessionOf(link);
    if (conn === null || conn.pairingState === PairingState.closed) return;
    const t = this.time(now);
    this.advancingAt = t;
    this.noteHeard(conn, t); // any frame is proof of life
    const s = this.settings;
    if (!takeToken(conn, t, s.rateLimitPerSecond, s.rateLimitBurst)) {
      this.counters.rateLimited++;
      this.sink.log?.({ type: 'rate_limited', id: conn.id, unit: 'messages' });
      return this.drop(conn, 'rate_limited');
    }
    // a frame over the size limit is refused by the decoder below (in words); it is charged as
    // a largest frame, which the byte burst always allows, so the refusal is what the client sees
    const bytes = Math.min(byteLength ?? (typeof data === 'string' ? data.length : data.byteLength), s.maxFrameBytes);
    if (!takeBytes(conn, t, bytes, s.rateLimitBytesPerSecond, s.rateLimitBytesBurst)) {
      this.counters.byteRateLimited++;
      this.sink.log?.({ type: 'rate_limited', id: conn.id, unit: 'bytes' });
      return this.drop(conn, 'byte_rate_limited');
    }
    if (conn.waiting !== null) {
      // an earlier frame waits for the directory: this one is handled after it, in order
      if (conn.waiting.length >= MAX_WAITING_FRAMES) return this.drop(conn, 'rate_limited');
      conn.waiting.push({ data, binary, bytes });
      return;
    }
    this.handleFrame(conn, data, binary, bytes);
  }

  /** One frame that passed the rate limits, in its turn. */
  private handleFrame(conn: Connection<H>, data: string | Uint8Array, binary: boolean, bytes: number): void {
    if (binary) {
      if (conn.resume !== null) this.countIncoming(conn, bytes);
      return this.rejectFrame(conn, `${ErrorText.InvalidJson}: binary frames are not supported, send JSON text frames`, 'binary');
    }
    const result = decodeClientMessage(data, { maxBytes: this.settings.maxFrameBytes });
    // a resumable client counted this frame when it sent it, unless it is a control frame
    if (conn.resume !== null && !(result.ok && uncountedClientTypes.has(result.value.type))) this.countIncoming(conn, bytes);
    if (!result.ok) return this.rejectFrame(conn, result.error.message, result.error.code);
    this.dispatch(conn, result.value, typeof data === 'string' ? data : null);
  }

  /**
   * The transport refused a frame over `maxFrameBytes` without reading it (e.g. a WebSocket
   * stack's payload limit): the connection is closed with 1009 and a reason naming the limit.
   */
  frameTooLarge(link: Connection<H>, now: number): void {
    const conn = this.sessionOf(link);
    if (conn === null || conn.pairingState === PairingState.closed) return;
    this.time(now);
    const close = this.closes.frame_too_large;
    this.countError('too_large');
    this.sink.log?.({ type: 'rejected', id: conn.id, message: close.text });
    this.drop(conn, 'frame_too_large');
  }

  /** The transport saw a sign of life that is not a frame (a WebSocket pong); frames count by themselves. */
  heard(link: Connection<H>, now: number): void {
    const conn = this.sessionOf(link);
    if (conn === null || conn.pairingState === PairingState.closed) return;
    this.noteHeard(conn, this.time(now));
  }

  /**
   * The transport closed, with the WebSocket close code it saw (1006 when the link was lost).
   * A resumable session is detached rather than ended, unless the client closed on purpose
   * (1000, 1001). Idempotent; a link whose session moved to a newer link is ignored.
   */
  closed(link: Connection<H>, now: number, code: number = CloseCode.Normal): void {
    const t = this.time(now);
    const conn = this.sessionOf(link);
    if (conn === null || conn.pairingState === PairingState.closed) return;
    const reason = code === CloseCode.Abnormal ? 'connection lost' : 'closed';
    const r = conn.resume;
    if (r !== null && !r.attached) return; // already detached: this is its old link's close
    if (r !== null && code !== CloseCode.Normal && code !== CloseCode.GoingAway) {
      this.advancingAt = t;
      this.detachReason = reason;
      return this.keepaliveEvent(conn, KeepaliveInput.lost);
    }
    this.end(conn, reason, PairingInput.close);
  }

  /** Time passed: send due pings and close connections whose ping deadline passed. */
  advance(now: number): void {
    this.advancingAt = this.time(now);
    this.wheel.advance(this.advancingAt, this.visitDue);
  }

  /** When `advance` next has work to do (absolute ms, same clock as `now`), or null if never. */
  nextWake(): number | null {
    const due = this.wheel.nextWake();
    return due === null || this.epoch === null ? null : this.epoch + due;
  }

  /**
   * Close every connection; partners are not told, since they close too. `shutdown` says the
   * server is going away (1001); `drain` tells clients to reconnect at once, elsewhere (1012).
   */
  shutdown(reason: 'shutdown' | 'drain' = 'shutdown'): void {
    const close = this.closes[reason];
    for (const conn of [...this.local.values()]) {
      if (conn.pairingState === PairingState.closed) continue;
      const attached = conn.resume === null || conn.resume.attached;
      this.end(conn, close.text, PairingInput.shutdown);
      if (attached) this.sink.close(conn.handle, close);
    }
    this.wheel.clear();
  }

  // ------------------------------------------------------------------ internals

  /** The session a link's event is for; null when a resume moved the session to a newer link. */
  private sessionOf(link: Connection<H>): Connection<H> | null {
    const session = link.resumedInto ?? link;
    return session.handle === link.link ? session : null;
  }

  private time(now: number): number {
    if (this.epoch === null) this.epoch = now - (now % this.settings.tickMs);
    return now - this.epoch;
  }

  private freshId(): string {
    for (let attempt = 0; attempt < ID_ATTEMPTS; attempt++) {
      const id = this.generateId();
      if (!this.local.has(id)) return id;
    }
    throw new Error(`ServerEngine: generateId returned IDs in use ${ID_ATTEMPTS} times in a row`);
  }

  private dispatch(conn: Connection<H>, message: ClientMessage, raw: string | null): void {
    switch (message.type) {
      case 'offer':
      case 'answer':
      case 'candidate':
        return this.pairingEvent(conn, PairingInput.signal, { cause: 'signal', messageType: message.type, frame: raw ?? encode(message) });
      case 'pair_request':
        return this.pairRequest(conn, message.target_id);
      case 'pong':
        return; // proof of life already recorded
      case 'hello':
        return this.hello(conn, message.capabilities);
      case 'resume':
        return this.resumeSession(conn, message.token, message.received);
      case 'leave':
        return this.pairingEvent(conn, PairingInput.leave, END);
      case 'ack':
        if (conn.resume === null || conn.resume.ledger.acknowledged(message.received)) return;
        return this.rejectFrame(conn, `Invalid ack: received ${message.received} is outside ${conn.resume.ledger.acked}…${conn.resume.ledger.sent}`, 'invalid_ack');
    }
  }

  private hello(conn: Connection<H>, requested: readonly string[]): void {
    const granted: string[] = [];
    if (this.settings.wsPing && requested.includes(Capability.WsPing)) {
      conn.wsPing = true;
      granted.push(Capability.WsPing);
    }
    if (requested.includes(Capability.Leave)) granted.push(Capability.Leave);
    const s = this.settings;
    let resume = {};
    if (this.resumeOffered && requested.includes(Capability.Resume) && conn.resume === null) {
      granted.push(Capability.Resume);
      conn.resume = new ResumeSession('', '', new ResumeLedger());
      resume = { resume_token: this.issueToken(conn, conn.resume), resume_grace_ms: s.resumeGraceMs };
    } else if (conn.resume !== null) granted.push(Capability.Resume);
    let ice = {};
    if (this.iceServers !== null && requested.includes(Capability.IceServers)) {
      granted.push(Capability.IceServers);
      const given = this.giveIceServers(conn);
      ice = { ice_servers: given.servers, ice_servers_ttl_ms: given.ttlMs };
    }
    this.sink.send(conn.handle, encode({ type: 'welcome', version: PROTOCOL_VERSION, capabilities: granted, ...resume, ping_interval_ms: s.pingIntervalMs, ping_timeout_ms: s.pingTimeoutMs, ...ice }));
  }

  /** Send `conn` fresh ICE servers (`ice_servers`, counted). */
  private sendIceServers(conn: Connection<H>): void {
    const given = this.giveIceServers(conn);
    this.deliver(conn, encode({ type: 'ice_servers', ice_servers: given.servers, ttl_ms: given.ttlMs }));
  }

  /** Fresh ICE servers for `conn`, and when to send the next ones (80% of their lifetime). */
  private giveIceServers(conn: Connection<H>): { servers: IceServer[]; ttlMs: number } {
    const t = this.advancingAt;
    const given = this.iceServers!(conn.id, (this.epoch ?? 0) + t);
    conn.iceRefreshAt = t + Math.max(1, Math.floor(given.ttlMs * 0.8));
    return { servers: given.servers, ttlMs: given.ttlMs };
  }

  /** A fresh single-use token for `session`: `<lookup key>.<secret>`; the old one stops working. */
  private issueToken(conn: Connection<H>, session: ResumeSession): string {
    if (this.sessions.get(session.key) === conn) {
      this.sessions.delete(session.key);
      this.settle(this.directory.setSession(session.key, null));
    }
    let key = this.generateToken!();
    for (let i = 0; this.sessions.has(key); i++) {
      if (i >= ID_ATTEMPTS) throw new Error(`ServerEngine: generateToken returned keys in use ${ID_ATTEMPTS} times in a row`);
      key = this.generateToken!();
    }
    session.key = key;
    session.secret = this.generateToken!();
    this.sessions.set(key, conn);
    this.settle(this.directory.setSession(key, conn.id));
    return `${key}.${session.secret}`;
  }

  /** `resume` on link `fresh`: move the detached (or half-open) session onto it, then replay what its client missed. */
  private resumeSession(fresh: Connection<H>, token: string, received: number): void {
    const fail = (why: string) => {
      this.counters.resumeFailures++;
      this.sink.log?.({ type: 'resume_failed', id: fresh.id, why });
      this.deliver(fresh, encode({ type: 'error', message: `${ErrorText.ResumeFailed}: ${why}`, code: 'resume_failed' }));
    };
    if (!this.resumeOffered) return fail('this server does not offer resume');
    if (fresh.resume !== null || fresh.pairingState !== PairingState.unpaired) return fail('resume must be the first message on a new connection');
    const dot = token.indexOf('.');
    const session = dot > 0 ? this.sessions.get(token.slice(0, dot)) : undefined;
    if (session === undefined && dot > 0) {
      // not here: perhaps another node of the cluster holds it
      let answer: MaybePromise<HandoverResult>;
      try {
        answer = this.directory.takeSession(token.slice(0, dot), token.slice(dot + 1), received);
      } catch {
        return fail('the cluster directory is unreachable');
      }
      return this.await(fresh, answer, (result) => (result.ok ? this.adoptSession(fresh, result.session) : fail(result.why)), () => fail('the cluster directory is unreachable'));
    }
    const r = session?.resume ?? null;
    if (session === undefined || r === null || session === fresh || session.pairingState === PairingState.closed || !constantTimeEqual(token.slice(dot + 1), r.secret)) {
      return fail('unknown, used or expired token');
    }
    const replay = r.ledger.replayAfter(received);
    if (replay === null) return fail(`received ${received} is outside ${r.ledger.acked}…${r.ledger.sent}`);
    const t = this.advancingAt;
    const tookOver = r.attached;
    if (tookOver) this.sink.close(session.handle, this.closes.taken_over);
    this.retireFreshLink(fresh);
    fresh.resumedInto = session;
    session.handle = fresh.link;
    session.heardAt = t;
    r.attached = true;
    if (tookOver) this.noteHeard(session, t);
    else {
      this.counters.detached--;
      this.keepaliveEvent(session, KeepaliveInput.resumed);
    }
    this.counters.resumes++;
    const newToken = this.issueToken(session, r);
    r.ledger.ackSent();
    this.sendResumed(session, newToken, replay, tookOver);
  }

  /** `resumed` on the session's new link, then the frames its client missed, in order. */
  private sendResumed(session: Connection<H>, token: string, replay: readonly string[], tookOver: boolean): void {
    this.sink.send(session.handle, encode({
      type: 'resumed', id: session.id, peer_id: session.peer?.id ?? null, received: session.resume!.ledger.received, resume_token: token, resume_grace_ms: this.settings.resumeGraceMs,
    }));
    for (const frame of replay) this.sink.send(session.handle, frame);
    this.sink.log?.({ type: 'resumed', id: session.id, replayed: replay.length, tookOver });
  }

  /** A resume took over: the fresh link's own identity was never shared, so it is retired quietly. */
  private retireFreshLink(fresh: Connection<H>): void {
    this.wheel.unfile(fresh);
    if (this.local.get(fresh.id) === fresh) {
      this.local.delete(fresh.id);
      this.settle(this.directory.unregister(fresh.id));
    }
    fresh.pairingState = PairingState.closed;
    fresh.keepaliveState = KeepaliveState.dead;
    this.counters.closed++;
  }

  /** Another node asks for a session this engine holds (its client came back there): hand it over, or say why not. */
  private handover(key: string, secret: string, received: number, to: string): HandoverResult {
    const session = this.sessions.get(key);
    const r = session?.resume ?? null;
    if (session === undefined || r === null || session.pairingState === PairingState.closed || !constantTimeEqual(secret, r.secret)) {
      return { ok: false, why: 'unknown, used or expired token' };
    }
    const replay = r.ledger.replayAfter(received);
    if (replay === null) return { ok: false, why: `received ${received} is outside ${r.ledger.acked}…${r.ledger.sent}` };
    if (r.attached) this.sink.close(session.handle, this.closes.taken_over);
    else this.counters.detached--;
    const peer = session.peer;
    let peerRef: PeerRef | null = null;
    if (peer instanceof RemotePeer) {
      peerRef = { id: peer.id, node: peer.node, epoch: session.pairEpoch };
      this.counters.pairs--;
      if (peer.node !== to) this.post(peer.node, { type: 'peer_moved', to: peer.id, peer: session.id, node: to, epoch: session.pairEpoch });
    } else if (peer !== null) {
      peerRef = { id: peer.id, node: this.node, epoch: session.pairEpoch };
      peer.peer = new RemotePeer(session.id, to); // the pair now crosses nodes; it is still counted here
    }
    // the session leaves this engine without ending: the directory keeps its ID and pairing
    this.wheel.unfile(session);
    this.local.delete(session.id);
    this.sessions.delete(key);
    session.pairingState = PairingState.closed;
    session.keepaliveState = KeepaliveState.dead;
    session.peer = null;
    session.waiting = null;
    r.attached = false;
    this.counters.closed++;
    this.counters.handedOver++;
    const now = this.advancingAt;
    for (const [id, m] of this.moved) if (m.until <= now) this.moved.delete(id);
    this.moved.set(session.id, { node: to, until: now + Math.max(this.settings.resumeGraceMs, 60_000) });
    this.sink.log?.({ type: 'handed_over', id: session.id, node: to });
    return {
      ok: true,
      session: {
        id: session.id, peer: peerRef, wsPing: session.wsPing, sent: r.ledger.sent, acked: r.ledger.acked, received: r.ledger.received, retained: replay,
        ...(session.iceRefreshAt > 0 ? { iceServers: true } : {}),
      },
    };
  }

  /** Another node handed over the session `fresh`'s client asked to resume: it lives here now. */
  private adoptSession(fresh: Connection<H>, moved: MovedSession): void {
    const t = this.advancingAt;
    const session = new Connection<H>(moved.id, fresh.link);
    session.heardAt = t;
    session.tokens = fresh.tokens;
    session.tokensAt = fresh.tokensAt;
    session.byteTokens = fresh.byteTokens;
    session.byteTokensAt = fresh.byteTokensAt;
    session.pingJitter = fresh.pingJitter;
    session.wsPing = moved.wsPing || fresh.wsPing;
    const r = new ResumeSession('', '', ResumeLedger.restore(moved));
    session.resume = r;
    if (moved.peer !== null) {
      if (moved.peer.node === this.node) {
        const partner = this.local.get(moved.peer.id);
        if (partner !== undefined && partner.pairingState === PairingState.paired && partner.peer?.id === session.id && partner.pairEpoch === moved.peer.epoch) {
          partner.peer = session; // the pair is whole on this node again, still counted once
          session.peer = partner;
          session.pairEpoch = moved.peer.epoch;
          session.pairingState = PairingState.paired;
        }
      } else {
        session.peer = new RemotePeer(moved.peer.id, moved.peer.node);
        session.pairEpoch = moved.peer.epoch;
        session.pairingState = PairingState.paired;
        this.counters.pairs++;
      }
    }
    const linkGone = fresh.pairingState === PairingState.closed;
    if (!linkGone) this.retireFreshLink(fresh);
    fresh.resumedInto = session;
    this.local.set(session.id, session);
    this.settle(this.directory.adopt(session.id));
    this.counters.resumes++;
    const newToken = this.issueToken(session, r);
    r.ledger.ackSent();
    if (linkGone) {
      // its new link closed while the session was on its way: it waits here for the client
      this.detachReason = 'connection lost';
      r.attached = true;
      return this.keepaliveEvent(session, KeepaliveInput.lost);
    }
    this.wheel.file(session, this.pingDueAt(session));
    this.sendResumed(session, newToken, moved.retained, false);
    // its TURN credentials came from the old node: this node's, now, and on its own schedule after
    if (moved.iceServers === true && this.iceServers !== null) this.sendIceServers(session);
  }

  /** A counted frame arrived on a resumable session: acknowledge once enough are unacknowledged. */
  private countIncoming(conn: Connection<H>, bytes: number): void {
    const ledger = conn.resume!.ledger;
    if (ledger.receiving(bytes)) this.sink.send(conn.handle, `{"type":"ack","received":${ledger.received}}`);
  }

  /**
   * Send a counted frame. A resumable session keeps it until acknowledged (and only keeps it
   * while detached); one whose kept frames pass the buffer limits is ended.
   */
  private deliver(conn: Connection<H>, frame: string): void {
    const r = conn.resume;
    if (r === null) return this.sink.send(conn.handle, frame);
    r.ledger.sending(frame);
    if (r.attached) this.sink.send(conn.handle, frame);
    if (r.ledger.retainedCount > this.settings.resumeBufferFrames || r.ledger.retainedSize > this.settings.resumeBufferBytes) this.overflow(conn);
  }

  /** Too many frames kept for replay: a detached session ends (its partner is told); an attached client that never acknowledges is closed. */
  private overflow(conn: Connection<H>): void {
    if (conn.pairingState === PairingState.closed) return;
    if (conn.resume!.attached) return this.drop(conn, 'unacknowledged');
    this.counters.resumeExpired++;
    this.end(conn, 'resume buffer full', PairingInput.close);
  }

  private pairRequest(conn: Connection<H>, targetId: string): void {
    // the rules that need no directory: already paired, or yourself
    if (conn.pairingState !== PairingState.unpaired || targetId === conn.id) {
      const input = conn.pairingState === PairingState.unpaired ? PairingInput.requestSelf : PairingInput.requestUnknown;
      return this.pairingEvent(conn, input, { cause: 'request', targetId, target: undefined });
    }
    if (!this.directory.available) return this.unavailable(conn);
    let answer: MaybePromise<PairOutcome>;
    try {
      answer = this.directory.pair(conn.id, targetId);
    } catch {
      return this.unavailable(conn);
    }
    this.await(conn, answer, (outcome) => this.pairAnswered(conn, targetId, outcome), () => this.unavailable(conn));
  }

  /** The directory decided `conn`'s request for `targetId`. */
  private pairAnswered(conn: Connection<H>, targetId: string, outcome: PairOutcome): void {
    // a requester that closed meanwhile is unregistered after the pairing, which clears its target too
    if (conn.pairingState === PairingState.closed) return;
    if (outcome.verdict !== 'paired') {
      if (conn.pairingState !== PairingState.unpaired) {
        // paired (by a message from another node) since it asked: the directory's verdict still answers the request
        return this.replyPairingError(conn, outcome.verdict === 'busy' ? 'target_already_paired' : outcome.verdict === 'unknown' ? 'target_not_found' : 'already_paired', { cause: 'request', targetId, target: undefined });
      }
      const input = outcome.verdict === 'busy' ? PairingInput.requestBusy : outcome.verdict === 'unknown' ? PairingInput.requestUnknown : PairingInput.requestRequesterBusy;
      return this.pairingEvent(conn, input, { cause: 'request', targetId, target: undefined });
    }
    // the directory found it free: a pairing it still holds is one whose end is on its way
    this.endStalePairing(conn);
    if (conn.pairingState !== PairingState.unpaired) return;
    let target: Connection<H> | RemotePeer;
    if (outcome.node === this.node) {
      const local = this.local.get(targetId);
      // it closed after the directory paired it: its unregistration clears the pairing again
      if (local === undefined || local.pairingState === PairingState.closed) {
        return this.pairingEvent(conn, PairingInput.requestUnknown, { cause: 'request', targetId, target: undefined });
      }
      this.endStalePairing(local);
      target = local;
    } else target = new RemotePeer(targetId, outcome.node);
    this.pairingEvent(conn, PairingInput.requestFree, { cause: 'request', targetId, target, epoch: outcome.epoch });
  }

  /**
   * The directory paired `conn` anew while the news that its last partner (on another node) left
   * is still on its way: end that pairing first, so the client hears it before `paired`.
   */
  private endStalePairing(conn: Connection<H>): void {
    if (conn.pairingState !== PairingState.paired || !(conn.peer instanceof RemotePeer)) return;
    this.counters.pairs--;
    this.pairingEvent(conn, PairingInput.peerLeft, { cause: 'peer', peer: conn.peer });
  }

  private unavailable(conn: Connection<H>): void {
    if (conn.pairingState === PairingState.closed) return;
    this.rejectFrame(conn, `${ErrorText.Unavailable}: the cluster directory is unreachable, try again shortly`, 'unavailable');
  }

  /**
   * Carry on with `then` when `answer` is in: at once for a value; for a promise, `conn` holds its
   * later frames back until the answer is handled, so they keep their order.
   */
  private await<T>(conn: Connection<H>, answer: MaybePromise<T>, then: (value: T) => void, failed: (error: unknown) => void): void {
    if (!isThenable(answer)) return then(answer);
    conn.waiting = [];
    answer.then(
      (value) => this.directoryTurn(() => this.continueAfter(conn, () => then(value))),
      (error: unknown) => this.directoryTurn(() => this.continueAfter(conn, () => failed(error))),
    );
  }

  /** Work the directory started, at the host's time, with the host told afterwards. */
  private directoryTurn<T>(work: () => T): T {
    if (this.clock !== null && this.epoch !== null) this.advancingAt = Math.max(this.advancingAt, this.time(this.clock()));
    try {
      return work();
    } finally {
      this.afterDirectoryWork?.();
    }
  }

  private continueAfter(conn: Connection<H>, work: () => void): void {
    const queue = conn.waiting ?? [];
    conn.waiting = null;
    work();
    while (queue.length > 0) {
      if (conn.pairingState === PairingState.closed) return;
      if (conn.waiting !== null) {
        (conn.waiting as unknown[]).unshift(...queue);
        return;
      }
      const frame = queue.shift()!;
      this.handleFrame(conn, frame.data, frame.binary, frame.bytes);
    }
  }

  /** A directory write whose answer the engine does not need; a failure is repaired by the next reset. */
  private settle(answer: MaybePromise<unknown>): void {
    if (isThenable(answer)) answer.then(undefined, () => undefined);
  }

  /** The directory ended a pairing (an unregister or unpair): a partner on another node is told by its own node. */
  private tellRemotePartner(id: string, answer: MaybePromise<PeerRef | null>): void {
    const tell = (partner: PeerRef | null) => {
      if (partner !== null && partner.node !== this.node) this.post(partner.node, { type: 'peer_left', to: partner.id, peer: id, epoch: partner.epoch });
    };
    if (isThenable(answer)) answer.then(tell, () => undefined);
    else tell(answer);
  }

  /** Send a message to another node (counted). */
  private post(node: string, message: NodeMessage): void {
    this.counters.nodeMessagesSent++;
    this.directory.post(node, message);
  }

  /** A message from another node. Ones about clients or pairings this engine no longer has are ignored. */
  private fromNode(message: NodeMessage): void {
    this.counters.nodeMessagesReceived++;
    const conn = this.local.get(message.to);
    if (conn === undefined) {
      const moved = this.moved.get(message.to);
      if (moved !== undefined) this.post(moved.node, message); // it was resumed elsewhere: send it on
      return;
    }
    if (conn.pairingState === PairingState.closed) return;
    const peer = conn.peer;
    switch (message.type) {
      case 'paired': {
        if (peer !== null && conn.pairEpoch === message.epoch) return;
        this.endStalePairing(conn);
        if (conn.pairingState !== PairingState.unpaired) return;
        const remote = new RemotePeer(message.peer, message.peerNode);
        conn.peer = remote;
        conn.pairEpoch = message.epoch;
        this.counters.pairs++;
        this.sink.log?.({ type: 'paired', id: message.peer, peerId: conn.id });
        return this.pairingEvent(conn, PairingInput.pairedByPeer, { cause: 'peer', peer: remote });
      }
      case 'signal':
        if (peer === null || peer.id !== message.from || conn.pairEpoch !== message.epoch || conn.pairingState !== PairingState.paired) return;
        this.deliver(conn, message.frame);
        return this.watchQueue(conn);
      case 'peer_left':
        if (peer === null || peer.id !== message.peer || conn.pairEpoch !== message.epoch || conn.pairingState !== PairingState.paired) return;
        this.counters.pairs--;
        return this.pairingEvent(conn, PairingInput.peerLeft, { cause: 'peer', peer });
      case 'peer_moved':
        if (peer === null || peer.id !== message.peer || conn.pairEpoch !== message.epoch) return;
        conn.peer = message.node === this.node ? (this.local.get(message.peer) ?? new RemotePeer(message.peer, message.node)) : new RemotePeer(message.peer, message.node);
        return;
    }
  }

  /**
   * The directory lost its shared state, or cannot vouch that no message was lost: every pair with
   * a partner on another node ends (the client is told `peer_disconnected` and may pair again), and
   * what this engine holds is handed back to be registered again.
   */
  private resetCluster(): Registration[] {
    this.counters.clusterResets++;
    const registrations: Registration[] = [];
    for (const conn of [...this.local.values()]) {
      if (conn.pairingState === PairingState.closed) continue;
      if (conn.peer instanceof RemotePeer && conn.pairingState === PairingState.paired) {
        this.counters.pairs--;
        this.pairingEvent(conn, PairingInput.peerLeft, { cause: 'peer', peer: conn.peer });
      }
      const localPeer = conn.peer instanceof Connection ? conn.peer.id : null;
      registrations.push({ id: conn.id, localPeer, epoch: localPeer === null ? null : conn.pairEpoch, sessionKey: conn.resume?.key || null });
    }
    return registrations;
  }

  /** Run one pairing-machine transition for `conn` and carry out what it emitted. */
  private pairingEvent(conn: Connection<H>, input: number, payload: PairingPayload<H>): void {
    const row = pairingTable.table[conn.pairingState]![input]!;
    conn.pairingState = row.next;
    for (const effect of row.emitted) this.pairingEffect(conn, effect, payload);
  }

  private pairingEffect(conn: Connection<H>, effect: PairingEffect, payload: PairingPayload<H>): void {
    switch (effect.type) {
      case 'reply_error':
        return this.replyPairingError(conn, effect.error, payload);
      case 'pair_with_target': {
        if (payload.cause !== 'request' || payload.target === undefined) throw unexpected(effect, payload);
        const target = payload.target;
        conn.peer = target;
        conn.pairEpoch = payload.epoch ?? '';
        this.counters.pairs++;
        this.sink.log?.({ type: 'paired', id: conn.id, peerId: target.id });
        if (target instanceof RemotePeer) return this.post(target.node, { type: 'paired', to: target.id, peer: conn.id, peerNode: this.node, epoch: conn.pairEpoch });
        target.peer = conn;
        target.pairEpoch = conn.pairEpoch;
        return this.pairingEvent(target, PairingInput.pairedByPeer, { cause: 'peer', peer: conn });
      }
      case 'send_paired':
        return this.deliver(conn, encode({ type: 'paired', peer_id: conn.peer!.id, initiator: effect.initiator }));
      case 'relay_to_peer': {
        if (payload.cause !== 'signal') throw unexpected(effect, payload);
        const peer = conn.peer!;
        this.counters.relayed++;
        this.counters.relayedByType[payload.messageType]++;
        const frame = addFromPeer(payload.frame);
        const remote = peer instanceof RemotePeer;
        if (remote) this.post(peer.node, { type: 'signal', to: peer.id, from: conn.id, epoch: conn.pairEpoch, messageType: payload.messageType, frame });
        else this.deliver(peer, frame);
        if (this.logRelays) this.sink.log!({ type: 'relayed', from: conn.id, to: peer.id, messageType: payload.messageType });
        if (!remote) this.watchQueue(peer);
        return;
      }
      case 'release_peer': {
        const peer = conn.peer;
        conn.peer = null;
        // the directory clears both sides (a closing connection's unregistration does it); its
        // answer names the partner, whose node tells it when it is elsewhere
        if (conn.pairingState !== PairingState.closed && peer !== null) this.tellRemotePartner(conn.id, this.directory.unpair(conn.id, conn.pairEpoch));
        if (peer instanceof RemotePeer) {
          this.counters.pairs--;
          return;
        }
        if (peer !== null && peer.pairingState === PairingState.paired) {
          this.counters.pairs--;
          this.pairingEvent(peer, PairingInput.peerLeft, { cause: 'peer', peer: conn });
        }
        return;
      }
      case 'forget_peer': {
        const peer = conn.peer;
        conn.peer = null;
        if (peer instanceof RemotePeer) this.counters.pairs--; // the partner stays up: unregistering tells it
        else if (peer !== null && peer.pairingState === PairingState.paired) this.counters.pairs--;
        return;
      }
      case 'send_peer_disconnected': {
        if (payload.cause !== 'peer') throw unexpected(effect, payload);
        conn.peer = null;
        this.deliver(conn, encode({ type: 'peer_disconnected', peer_id: payload.peer.id }));
        this.sink.log?.({ type: 'peer_notified', id: conn.id, peerId: payload.peer.id });
        return;
      }
    }
  }

  private replyPairingError(conn: Connection<H>, error: PairingErrorCode, payload: PairingPayload<H>): void {
    const message = pairingErrorText[error];
    this.countError(error);
    if (payload.cause === 'signal') this.sink.log?.({ type: 'not_paired', id: conn.id, messageType: payload.messageType });
    else if (payload.cause === 'request') this.sink.log?.({ type: 'pair_failed', id: conn.id, targetId: payload.targetId, error, message });
    this.deliver(conn, encode({ type: 'error', message }));
  }

  private rejectFrame(conn: Connection<H>, message: string, code: string): void {
    this.countError(code);
    this.sink.log?.({ type: 'rejected', id: conn.id, message });
    this.deliver(conn, encode({ type: 'error', message, code }));
  }

  private countError(code: string): void {
    this.counters.errors++;
    this.counters.errorsByCode[code] = (this.counters.errorsByCode[code] ?? 0) + 1;
  }

  /** A relayed signal was just queued for `conn` (from a partner here or on another node): watch its queue. */
  private watchQueue(conn: Connection<H>): void {
    if (this.watchesBuffers && (conn.resume === null || conn.resume.attached) && conn.pairingState !== PairingState.closed) this.checkBuffered(conn);
  }

  /** A relay just queued bytes for `conn`: a client that does not read them is closed before they pile up. */
  private checkBuffered(conn: Connection<H>): void {
    const queued = this.sink.bufferedBytes!(conn.handle);
    if (queued <= this.settings.maxBufferedBytes) return;
    this.counters.slowConsumers++;
    this.sink.log?.({ type: 'slow_consumer', id: conn.id, bufferedBytes: queued, limit: this.settings.maxBufferedBytes });
    this.drop(conn, 'slow_consumer');
  }

  /** Stamp proof of life; a probed connection goes back to live. */
  private noteHeard(conn: Connection<H>, t: number): void {
    conn.heardAt = t;
    if (conn.keepaliveState === KeepaliveState.probing) this.keepaliveEvent(conn, KeepaliveInput.heard);
  }

  /** When a live connection heard at `heardAt` is next due a ping (ms since epoch). */
  private pingDueAt(conn: Connection<H>): number {
    return conn.heardAt + this.settings.pingIntervalMs - conn.pingJitter;
  }

  /** The wheel reached `conn`'s filing: ping it, close it, or (heard since) look again later. */
  private keepaliveDue(conn: Connection<H>): void {
    const t = this.advancingAt;
    if (conn.pairingState === PairingState.closed) return;
    // long sessions get new TURN credentials before theirs expire (checked whenever keepalive looks)
    if (conn.iceRefreshAt > 0 && t >= conn.iceRefreshAt && (conn.resume === null || conn.resume.attached)) {
      this.sendIceServers(conn);
      if (conn.pairingState === PairingState.closed) return;
    }
    if (conn.keepaliveState === KeepaliveState.live) {
      const due = this.pingDueAt(conn);
      if (due > t) this.wheel.file(conn, due); // heard since it was filed: no ping yet
      else this.keepaliveEvent(conn, KeepaliveInput.due);
    } else if (conn.keepaliveState === KeepaliveState.probing) {
      if (conn.pingDeadline > t) this.wheel.file(conn, conn.pingDeadline);
      else {
        this.detachReason = 'ping timeout';
        this.keepaliveEvent(conn, conn.resume !== null ? KeepaliveInput.deadlineResumable : KeepaliveInput.deadline);
      }
    } else if (conn.keepaliveState === KeepaliveState.detached) {
      if (conn.resume!.graceDeadline > t) this.wheel.file(conn, conn.resume!.graceDeadline);
      else this.keepaliveEvent(conn, KeepaliveInput.graceOver);
    }
  }

  private keepaliveEvent(conn: Connection<H>, input: number): void {
    const row = keepaliveTable.table[conn.keepaliveState]![input]!;
    conn.keepaliveState = row.next;
    for (const effect of row.emitted) {
      switch (effect.type) {
        case 'send_ping':
          this.counters.pings++;
          if (conn.wsPing) this.sink.ping(conn.handle);
          else this.sink.send(conn.handle, this.pingFrame);
          if (this.logPings) this.sink.log!({ type: 'pinged', id: conn.id, mode: conn.wsPing ? 'control' : 'json' });
          break;
        case 'arm_deadline':
          conn.pingDeadline = this.advancingAt + this.settings.pingTimeoutMs;
          this.wheel.file(conn, conn.pingDeadline);
          break;
        case 'arm_interval':
          this.wheel.file(conn, this.pingDueAt(conn));
          break;
        case 'close_timed_out':
          this.counters.timeouts++;
          this.sink.log?.({ type: 'timed_out', id: conn.id });
          this.drop(conn, 'ping_timeout');
          break;
        case 'drop_link_timed_out':
          this.counters.timeouts++;
          this.sink.log?.({ type: 'timed_out', id: conn.id });
          this.sink.close(conn.handle, this.closes.ping_timeout);
          break;
        case 'arm_grace': {
          const r = conn.resume!;
          r.attached = false;
          r.graceDeadline = this.advancingAt + this.settings.resumeGraceMs;
          this.wheel.file(conn, r.graceDeadline);
          this.counters.detached++;
          this.sink.log?.({ type: 'detached', id: conn.id, reason: this.detachReason, graceMs: this.settings.resumeGraceMs });
          break;
        }
        case 'end_detached':
          this.counters.resumeExpired++;
          this.end(conn, 'resume grace expired', PairingInput.close);
          break;
      }
    }
  }

  /** The engine ends a connection and asks the host to close it. */
  private drop(conn: Connection<H>, reason: CloseReasonCode): void {
    const close = this.closes[reason];
    const attached = conn.resume === null || conn.resume.attached;
    this.end(conn, close.text, PairingInput.close);
    if (attached) this.sink.close(conn.handle, close);
  }

  private end(conn: Connection<H>, reason: DisconnectReason, input: number): void {
    if (conn.pairingState === PairingState.closed) return;
    this.pairingEvent(conn, input, END);
    conn.keepaliveState = keepaliveTable.table[conn.keepaliveState]![KeepaliveInput.close]!.next;
    this.wheel.unfile(conn);
    conn.waiting = null;
    if (this.local.get(conn.id) === conn) {
      this.local.delete(conn.id);
      this.tellRemotePartner(conn.id, this.directory.unregister(conn.id));
    }
    const r = conn.resume;
    if (r !== null) {
      if (this.sessions.get(r.key) === conn) {
        this.sessions.delete(r.key);
        this.settle(this.directory.setSession(r.key, null));
      }
      if (!r.attached) this.counters.detached--;
      r.attached = false; // nothing more goes out on its link
    }
    this.counters.closed++;
    this.sink.log?.({ type: 'disconnected', id: conn.id, reason });
  }
}

/** Compare two strings in time that depends only on their length (tokens have a fixed length). */
function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

function unexpected(effect: PairingEffect, payload: { cause: string }): Error {
  return new Error(`ServerEngine: effect ${effect.type} cannot follow a ${payload.cause} event`);
}
