// The server engine: events in (open, frame, pong, close, time), effects out (send, ping, close, log)
// through a sink the embedder supplies; no sockets, timers, clock or randomness of its own. This file
// is the facade: each host call (and directory answer or node message) becomes a turn, handed to the
// feature that owns it; the rules live in the machines (pairing/, keepalive/) and feature modules.
import { CloseCode, type IceServer } from '@tandem/protocol';
import { AuthGrant, Connection, type Principal } from './connection.js';
import type { Directory } from './directory/directory.js';
import { InMemoryDirectory } from './directory/memory-directory.js';
import { continueAfterAnswer, awaitAnswer } from './directory-turns.js';
import {
  connectionCloses,
  frameTooLargeClose,
  type EffectSink,
  type ServerLogEvent,
  type ServerStats,
  zeroStats,
} from './effects.js';
import { ID_ATTEMPTS, countError, type EngineContext, type IceServerPolicy, type Turn } from './engine-context.js';
import { fromNode, resetCluster } from './from-nodes.js';
import { handleHeldFrame, receive } from './from-clients.js';
import { yourIdExtras } from './hello.js';
import { fileVisit, keepaliveDue, keepaliveEvent, noteHeard, pingDueAt } from './keepalive/keepalive-effects.js';
import { drop, end, finishTurn } from './lifecycle.js';
import { mayDetach } from './detached.js';
import { handover } from './resume/handover.js';
import { liveSessionId } from './resume/session.js';
import { resolveSettings, type ServerSettings } from './settings.js';
import { KeepaliveInput, PairingInput, PairingState } from './tables.js';
import { TimerWheel } from './timer-wheel.js';
import { codesDue, nameplateBook, withCodesDue } from './codes/code-ends.js';

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
  /**
   * How a key a client presents (a pair request's target) is read before it is looked up, e.g.
   * `(k) => k.toLowerCase()` when `generateId` makes lower-case keys, so a key read aloud or typed
   * in capitals still pairs. Default: as presented.
   */
  readonly keyOf?: (presented: string) => string;
  /** The address a link comes from (e.g. the client's IP), for per-address limits (nameplates); default none. */
  readonly addressOf?: (handle: H) => string | null;
}

/** The sans-I/O signaling server. Create one per process (or per shard) and feed it events. */
export class ServerEngine<H> {
  /** Effective settings. */
  readonly settings: ServerSettings;
  /** This engine's name in its cluster. */
  readonly node: string;
  /** Whether `resume` is offered (a token generator and a grace period). */
  readonly resumeOffered: boolean;
  private readonly ctx: EngineContext<H>;
  private readonly generateId: () => string;
  private readonly random: () => number;
  private readonly clock: (() => number) | null;
  private readonly greeting: string;
  private readonly wakeListeners = new Set<() => void>();
  /** Wall-clock ms the engine's own clock starts at (set by the first event). */
  private epoch: number | null = null;
  /** The latest engine time seen: the clock of work no host call carries a time for. */
  private latest = 0;

  constructor(options: ServerEngineOptions<H>) {
    const settings = (this.settings = resolveSettings(options.settings));
    const sink = options.sink;
    const directory = options.directory ?? new InMemoryDirectory();
    this.node = directory.node;
    this.generateId = options.generateId;
    this.random = options.random;
    this.clock = options.clock ?? null;
    this.resumeOffered = options.generateToken !== undefined && settings.resumeGraceMs > 0;
    const wants = (type: ServerLogEvent['type']) => sink.log !== undefined && (sink.wantsLog?.(type) ?? true);
    const iceServers: IceServerPolicy | null = options.iceServers ?? null;
    const codes = nameplateBook(settings, directory);
    this.ctx = {
      settings,
      sink,
      directory,
      node: directory.node,
      iceServers,
      codes,
      addressOf: options.addressOf ?? (() => null),
      local: new Map(),
      sessions: new Map(),
      moved: new Map(),
      wheel: new TimerWheel<Connection<H>>(settings.tickMs),
      counters: zeroStats(),
      closes: Object.freeze({ ...connectionCloses, frame_too_large: frameTooLargeClose(settings.maxFrameBytes) }),
      watchesBuffers: sink.bufferedBytes !== undefined,
      logRelays: wants('relayed'),
      logPings: wants('pinged'),
      generateToken: this.resumeOffered ? options.generateToken! : null,
      hostTime: (t) => (this.epoch ?? 0) + t,
      keyOf: options.keyOf ?? ((k) => k),
      afterAnswer: (conn, work) =>
        this.calledBack((turn) =>
          continueAfterAnswer(
            turn,
            conn,
            work,
            (t, c, frame) => handleHeldFrame(this.ctx, t, c, frame),
            (t) => finishTurn(this.ctx, t),
          ),
        ),
    };
    this.greeting = yourIdExtras(settings, { resume: this.resumeOffered, iceServers: !!iceServers, codes: !!codes });
    directory.listen({
      message: (m) => this.calledBack((turn) => fromNode(this.ctx, turn, m)),
      reset: () => this.calledBack((turn) => resetCluster(this.ctx, turn)),
      handover: (key, secret, received, to, asking) =>
        this.calledBack((turn) => handover(this.ctx, turn, key, secret, received, to, asking)),
    });
  }

  /** Ticks the timer wheel has scanned (empty ones included): clock jumps must stay cheap. */
  get wheelTicksScanned(): number {
    return this.ctx.wheel.ticksScanned;
  }

  /** A snapshot of the counters. */
  stats(): ServerStats {
    const c = this.ctx.counters;
    return {
      ...c,
      connections: this.ctx.local.size - c.detached, // live links; detached sessions are `detached`
      directoryAvailable: this.ctx.directory.available ? 1 : 0,
      nodeMessagesInvalid: this.ctx.directory.invalidMessages ?? 0,
      relayedByType: { ...c.relayedByType },
      errorsByCode: { ...c.errorsByCode },
    };
  }

  /** Look a live connection up by ID. */
  connection(id: string): Connection<H> | undefined {
    return this.ctx.local.get(id);
  }

  /** Whether pairings can be decided now (false while a cluster's shared directory is unreachable). */
  get available(): boolean {
    return this.ctx.directory.available;
  }

  /**
   * Call `listener` after the engine did work no host call started (a directory answer, another
   * node's message) that may have brought `nextWake()` forward, so the host reads it again.
   * Returns the unsubscribe.
   */
  onWake(listener: () => void): () => void {
    this.wakeListeners.add(listener);
    return () => this.wakeListeners.delete(listener);
  }

  /**
   * A WebSocket opened: assign an ID, send `your_id`, start keepalive. Returns the engine's record.
   * `principal` is who the host authorized on the link, when it authorizes clients: pairing stays
   * within its tenant, and the link ends (4003) when it expires.
   */
  open(handle: H, now: number, principal?: Principal): Connection<H> {
    const ctx = this.ctx;
    const turn = this.turn(now);
    const conn = new Connection(this.freshId(), handle);
    if (principal !== undefined) conn.auth = AuthGrant.of(principal, this.epoch ?? 0);
    conn.heardAt = turn.now;
    conn.tokens = this.settings.rateLimitBurst;
    conn.tokensAt = turn.now;
    conn.byteTokens = this.settings.rateLimitBytesBurst;
    conn.byteTokensAt = turn.now;
    const spreadMs = Math.floor(this.settings.pingIntervalMs * this.settings.pingSpread);
    conn.pingJitter = Math.min(spreadMs, Math.floor(this.random() * (spreadMs + 1)));
    ctx.local.set(conn.id, conn);
    ctx.counters.opened++;
    const subject = principal?.subject;
    ctx.sink.log?.(
      subject === undefined ? { type: 'connected', id: conn.id } : { type: 'connected', id: conn.id, subject },
    );
    fileVisit(ctx, conn, pingDueAt(ctx, conn));
    // the key is handed out once any node can find it (a cluster's directory answers later);
    // should the directory fail, the ID is registered again when it is back
    const greet = () => {
      if (conn.pairingState !== PairingState.closed)
        ctx.sink.send(conn.handle, `{"type":"your_id","id":${JSON.stringify(conn.id)}${this.greeting}}`);
    };
    let registered;
    try {
      registered = ctx.directory.register(conn.id, conn.auth?.tenant ?? null);
    } catch {
      registered = undefined;
    }
    awaitAnswer(ctx, turn, conn, registered, greet, greet);
    return conn;
  }

  /**
   * A frame arrived from `conn`. `binary` marks a binary WebSocket frame (not allowed by wire-v1).
   * `byteLength` is its size on the wire when the host knows it (default: the string's length,
   * which never exceeds its UTF-8 size).
   */
  receive(link: Connection<H>, data: string | Uint8Array, now: number, binary = false, byteLength?: number): void {
    const conn = sessionOf(link);
    if (conn === null) return;
    const turn = this.turn(now);
    receive(this.ctx, turn, conn, data, binary, byteLength);
    if (turn.ends !== null) finishTurn(this.ctx, turn);
  }

  /**
   * The transport refused a frame over `maxFrameBytes` without reading it (e.g. a WebSocket
   * stack's payload limit): the connection is closed with 1009 and a reason naming the limit.
   */
  frameTooLarge(link: Connection<H>, now: number): void {
    const conn = sessionOf(link);
    if (conn === null) return;
    const turn = this.turn(now);
    countError(this.ctx, 'too_large');
    this.ctx.sink.log?.({ type: 'rejected', id: conn.id, message: this.ctx.closes.frame_too_large.text });
    drop(this.ctx, turn, conn, 'frame_too_large');
    finishTurn(this.ctx, turn);
  }

  /** The transport saw a sign of life that is not a frame (a WebSocket pong); frames count by themselves. */
  heard(link: Connection<H>, now: number): void {
    const conn = sessionOf(link);
    if (conn !== null) noteHeard(this.ctx, this.turn(now), conn);
  }

  /**
   * The transport closed, with the WebSocket close code it saw (1006 when the link was lost).
   * A resumable session is detached rather than ended, unless the client closed on purpose
   * (1000, 1001), the host says not to (`detach` false: e.g. its per-address cap is full), or
   * maxDetachedSessions are detached. Idempotent; a link whose session moved on is ignored.
   */
  closed(link: Connection<H>, now: number, code: number = CloseCode.Normal, detach = true): void {
    const turn = this.turn(now);
    const conn = sessionOf(link);
    if (conn === null) return;
    const reason = code === CloseCode.Abnormal ? 'connection lost' : 'closed';
    const r = conn.resume;
    if (r !== null && !r.attached) return; // already detached: this is its old link's close
    if (r !== null && code !== CloseCode.Normal && code !== CloseCode.GoingAway && mayDetach(this.ctx, detach))
      keepaliveEvent(this.ctx, turn, conn, KeepaliveInput.lost, reason);
    else end(this.ctx, turn, conn, reason);
    finishTurn(this.ctx, turn);
  }

  /** The ID of the live session whose current resume token is `token` (proof a caller holds it), else null. */
  sessionWithToken(token: string): string | null {
    return liveSessionId(this.ctx, token);
  }

  /** Whether a detached session still sits on `link` (its client may come back to resume it). */
  detachedOn(link: Connection<H>): boolean {
    const session = link.resumedInto ?? link;
    return session.handle === link.link && session.resume !== null && !session.resume.attached && !session.isClosed;
  }

  /** Time passed: send due pings and close connections whose ping deadline passed. */
  advance(now: number): void {
    const turn = this.turn(now);
    this.ctx.wheel.advance(turn.now, (conn) => keepaliveDue(this.ctx, turn, conn));
    codesDue(this.ctx, turn);
    finishTurn(this.ctx, turn);
  }

  /** When `advance` next has work to do (absolute ms, same clock as `now`), or null if never. */
  nextWake(): number | null {
    const due = withCodesDue(this.ctx, this.ctx.wheel.nextWake());
    return due === null || this.epoch === null ? null : this.epoch + due;
  }

  /**
   * Close every connection; partners are not told, since they close too. `shutdown` says the
   * server is going away (1001); `drain` tells clients to reconnect at once, elsewhere (1012).
   */
  shutdown(reason: 'shutdown' | 'drain' = 'shutdown'): void {
    const turn: Turn<H> = { now: this.latest, ends: null };
    for (const conn of [...this.ctx.local.values()]) drop(this.ctx, turn, conn, reason, PairingInput.shutdown);
    this.ctx.wheel.clear();
    finishTurn(this.ctx, turn);
  }

  // ------------------------------------------------------------------ internals
  /** A turn for a host call at host time `now`. */
  private turn(now: number): Turn<H> {
    if (this.epoch === null) this.epoch = now - (now % this.settings.tickMs);
    const t = now - this.epoch;
    if (t > this.latest) this.latest = t;
    return { now: t, ends: null };
  }

  /** Work the directory started (an answer, a node message), in a turn at the host's time, with the host told afterwards. */
  private calledBack<T>(work: (turn: Turn<H>) => T): T {
    const turn: Turn<H> =
      this.clock !== null && this.epoch !== null
        ? this.turn(Math.max(this.clock(), this.epoch + this.latest))
        : { now: this.latest, ends: null };
    const [filings, codesDue] = [this.ctx.wheel.filings, this.ctx.codes?.nextDue()];
    try {
      const result = work(turn);
      finishTurn(this.ctx, turn);
      return result;
    } finally {
      // only a filing (or a claim's deadline) brings the next wake forward: a relayed signal files nothing
      if (this.ctx.wheel.filings !== filings || this.ctx.codes?.nextDue() !== codesDue)
        for (const listener of this.wakeListeners) listener();
    }
  }

  private freshId(): string {
    for (let attempt = 0; attempt < ID_ATTEMPTS; attempt++) {
      const id = this.generateId();
      if (!this.ctx.local.has(id)) return id;
    }
    throw new Error(`ServerEngine: generateId returned IDs in use ${ID_ATTEMPTS} times in a row`);
  }
}

/** The open session a link's event is for; null when it closed or a resume moved it to a newer link. */
function sessionOf<H>(link: Connection<H>): Connection<H> | null {
  const session = link.resumedInto ?? link;
  return session.handle === link.link && session.pairingState !== PairingState.closed ? session : null;
}
