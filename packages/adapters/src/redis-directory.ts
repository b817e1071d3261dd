// The cluster directory on Redis: every node's clients, pairings, resume sessions and leases live
// in one Redis; nodes talk over Redis pub/sub, one channel per node. Every pairing decision is a
// Lua script, so two nodes racing for one target are decided once. A node holds a lease it renews
// well inside its TTL; any node finds a lapsed lease and, in one script, forgets the dead node's
// clients and publishes `peer_left` to their partners' nodes.
//
// Loss rule: pub/sub drops what a disconnected subscriber misses. So whenever either of this node's
// Redis connections drops (or its lease was found lapsed), the node resets on reconnection: every
// pair that crosses nodes ends with `peer_disconnected` on both sides, and the node registers what
// it holds again. A relayed frame is therefore either delivered in order or its pair is ended.
import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { NodeEnvelope } from '@tandem/protocol/cluster';
import {
  UNKNOWN_TOKEN,
  type Directory,
  type DirectoryListener,
  type HandoverResult,
  type Holder,
  type MaybePromise,
  type NodeMessage,
  type PairOutcome,
  type PeerRef,
} from '@tandem/server-core';
import { decodeChannelTexts, encodeEnvelope, encodeSignal, type ChannelText } from './redis/node-channel.js';
import { DropReport, Outbox } from './redis/outbox.js';
import { loadScripts, type ScriptName } from './redis/scripts.js';

/**
 * A Redis URL as logs may show it: the password (and a user's name) replaced by `***`, so a
 * credential given in `redis://user:password@host` never reaches a log.
 */
export function redisUrlForLogs(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(a Redis URL that does not parse)';
  }
  if (parsed.password !== '') parsed.password = '***';
  if (parsed.username !== '') parsed.username = '***';
  return parsed.toString();
}

/** Settings of a Redis directory. */
export interface RedisDirectoryOptions {
  /** `redis://[user:password@]host:port[/db]`, or `rediss://…` for TLS (ioredis reads both). */
  readonly url: string;
  /** Prefix of every key and channel, so several clusters can share one Redis. Default `tandem:`. */
  readonly prefix?: string;
  /** This node's name; default: a fresh random one per start (a restarted node is a new node). */
  readonly node?: string;
  /** Lease TTL in ms: a node silent this long is dead. Default 5000. Renewed every third of it. */
  readonly leaseTtlMs?: number;
  /** How often this node looks for lapsed leases, ms. Default 1000. */
  readonly reapIntervalMs?: number;
  /** How long a resume waits for the node holding the session, ms. Default 3000. */
  readonly handoverTimeoutMs?: number;
  /**
   * Invalid node-channel texts are reported (an `error` event) at most once per this many ms,
   * the first at once, later ones counted into the next report. Default 10 000.
   */
  readonly invalidReportMs?: number;
  /** Reports connection changes and failures (e.g. to the server log). */
  readonly onEvent?: (event: RedisDirectoryEvent) => void;
  /** Extra ioredis options (tests shorten the reconnect delay). */
  readonly redisOptions?: Partial<RedisOptions>;
}

export type RedisDirectoryEvent =
  | { readonly type: 'ready' }
  | { readonly type: 'lost'; readonly error: string }
  | { readonly type: 'reset'; readonly registered: number; readonly why: string }
  | { readonly type: 'reaped'; readonly nodes: number; readonly clients: number }
  | { readonly type: 'error'; readonly error: string };

/**
 * Where this node stands with Redis, one state at a time:
 * `new` (not started) → `starting` (first connections; their comings and goings are start's
 * business) → `joining` (taking the lease, registering what the engine holds) → `ready`;
 * `lost` after a connection dropped or the lease lapsed (a reset follows on reconnection);
 * `draining` while a ready node closes (still answering), then `closed` (closed or crashed).
 */
type LinkState = 'new' | 'starting' | 'joining' | 'ready' | 'lost' | 'draining' | 'closed';

/** The Redis directory. `start()` it before the engine takes connections; `close()` it last. */
export class RedisDirectory implements Directory {
  readonly node: string;
  private readonly prefix: string;
  private readonly leaseTtlMs: number;
  private readonly reapIntervalMs: number;
  private readonly handoverTimeoutMs: number;
  private readonly cmd: Redis;
  private readonly sub: Redis;
  private listener: DirectoryListener | null = null;
  private state: LinkState = 'new';
  /** The join in progress (while `joining`, and while `lost` after a loss during it). */
  private rejoining: Promise<void> | null = null;
  /** Texts for other nodes until the work in hand is done. */
  private readonly outbox = new Outbox((node, text) => this.publishNow(node, text));
  /** Node-channel texts dropped because they were not node messages (reported, rate-limited, as `error` events). */
  private readonly invalid: DropReport;
  private renewTimer: NodeJS.Timeout | null = null;
  private reapTimer: NodeJS.Timeout | null = null;
  private readonly tickets = new Map<string, (result: HandoverResult) => void>();
  /** Incoming messages go through one chain, so a resume's answer is handled before what follows it. */
  private inbox: Promise<void> = Promise.resolve();
  private queued = 0;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly onEvent: (event: RedisDirectoryEvent) => void;

  constructor(options: RedisDirectoryOptions) {
    this.node = options.node ?? `n-${randomBytes(6).toString('hex')}`;
    this.prefix = options.prefix ?? 'tandem:';
    this.leaseTtlMs = options.leaseTtlMs ?? 5000;
    this.reapIntervalMs = options.reapIntervalMs ?? 1000;
    this.handoverTimeoutMs = options.handoverTimeoutMs ?? 3000;
    this.invalid = new DropReport(options.invalidReportMs ?? 10_000, (error) => this.onEvent({ type: 'error', error }));
    this.onEvent = options.onEvent ?? (() => undefined);
    const base: RedisOptions = {
      lazyConnect: true,
      // fail fast while Redis is away: a pairing gets a clear error now, not a late answer
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 5000,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
      enableAutoPipelining: true,
      ...options.redisOptions,
    };
    this.cmd = new Redis(options.url, { ...base, connectionName: `tandem-${this.node}` });
    this.sub = new Redis(options.url, {
      ...base,
      connectionName: `tandem-${this.node}-sub`,
      enableAutoPipelining: false,
    });
    for (const [name, script] of Object.entries(loadScripts()))
      this.cmd.defineCommand(`tandem_${name}`, { numberOfKeys: 0, lua: script });
    for (const conn of [this.cmd, this.sub]) {
      conn.on('close', () => this.connectionLost('connection closed'));
      conn.on('error', (e: Error) => this.onEvent({ type: 'error', error: e.message }));
      conn.on('ready', () => this.connectionReady());
    }
    this.sub.on('messageBuffer', (_channel: Buffer, payload: Buffer) => {
      for (const read of decodeChannelTexts(payload.toString('utf8'))) {
        // at once, unless a resume waits for its session: then in turn, so the handover is
        // taken in (a promise) before the messages that follow it
        if (this.queued === 0 && this.tickets.size === 0) this.incoming(read);
        else {
          this.queued++;
          this.inbox = this.inbox.then(() => {
            this.queued--;
            this.incoming(read);
          });
        }
      }
    });
  }

  /** Node-channel texts dropped because they were not node messages. */
  get invalidMessages(): number {
    return this.invalid.count;
  }

  get available(): boolean {
    return this.state === 'ready' || this.state === 'draining';
  }

  /** Connect, subscribe, join the cluster; resolves once this node can pair. */
  async start(): Promise<void> {
    this.state = 'starting';
    try {
      await Promise.all([this.cmd.connect(), this.sub.connect()]);
    } catch (e) {
      // ioredis keeps trying; the node joins on the first 'ready' of both connections
      this.onEvent({ type: 'lost', error: `cannot reach Redis: ${(e as Error).message}` });
    }
    if (this.state !== 'starting') return; // closed meanwhile
    if (this.cmd.status === 'ready' && this.sub.status === 'ready') await this.rejoin('start');
    else this.state = 'lost'; // the first 'ready' of both connections joins
    this.renewTimer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.leaseTtlMs / 3)));
    this.reapTimer = setInterval(() => void this.reap(), this.reapIntervalMs);
    this.renewTimer.unref();
    this.reapTimer.unref();
  }

  listen(listener: DirectoryListener): void {
    this.listener = listener;
  }

  register(id: string, tenant: string | null = null): MaybePromise<void> {
    return this.track(this.call('tandem_register', id, this.node, tenant ?? '')).then(() => undefined);
  }

  unregister(id: string): MaybePromise<PeerRef | null> {
    return this.track(this.call('tandem_release', id, this.node, '1', '')).then(toPeerRef);
  }

  unpair(id: string, epoch: string): MaybePromise<PeerRef | null> {
    return this.track(this.call('tandem_release', id, this.node, '0', epoch)).then(toPeerRef);
  }

  pair(requester: string, target: string, tenant: string | null = null): MaybePromise<PairOutcome> {
    if (this.state !== 'ready') return Promise.reject(new Error('the Redis directory is not connected'));
    return this.track(this.call('tandem_pair', requester, target, this.node, tenant ?? '')).then(
      (reply): PairOutcome => {
        const [verdict, node, epoch] = reply as [string, string?, string?];
        if (verdict === 'paired') return { verdict: 'paired', node: node!, epoch: epoch! };
        if (verdict === 'busy' || verdict === 'unknown' || verdict === 'requester_busy') return { verdict };
        throw new Error(`unexpected pair verdict ${String(verdict)}`);
      },
    );
  }

  setSession(key: string, id: string | null): MaybePromise<void> {
    return this.track(this.call('tandem_session', key, this.node, id ?? '')).then(() => undefined);
  }

  adopt(id: string): MaybePromise<void> {
    return this.track(this.call('tandem_adopt', id, this.node)).then(() => undefined);
  }

  takeSession(
    key: string,
    secret: string,
    received: number,
    asking: Holder | null = null,
  ): MaybePromise<HandoverResult> {
    return new Promise<HandoverResult>((resolve, reject) => {
      this.cmd.get(`${this.prefix}s:${key}`).then((holder) => {
        if (holder === null || holder === this.node) return resolve({ ok: false, why: UNKNOWN_TOKEN });
        const ticket = randomBytes(9).toString('base64url');
        const timer = setTimeout(() => {
          this.tickets.delete(ticket);
          resolve({ ok: false, why: 'the node holding the session did not answer' });
        }, this.handoverTimeoutMs);
        this.tickets.set(ticket, (result) => {
          clearTimeout(timer);
          resolve(result);
        });
        this.publish(holder, {
          t: 'take',
          ticket,
          from: this.node,
          key,
          secret,
          received,
          ...(asking ? { asking } : {}),
        });
      }, reject);
    });
  }

  takeNameplate(max: number, ttlMs: number): MaybePromise<string | null> {
    if (this.state !== 'ready') return Promise.reject(new Error('the Redis directory is not connected'));
    const ttl = String(Math.max(1, Math.ceil(ttlMs)));
    return this.track(this.call('tandem_nameplate', 'take', this.node, String(max), ttl)).then((n) =>
      typeof n === 'string' ? n : null,
    );
  }

  releaseNameplate(number: string): MaybePromise<void> {
    return this.track(this.call('tandem_nameplate', 'release', this.node, number)).then(() => undefined);
  }

  findNameplate(number: string): MaybePromise<string | null> {
    if (!/^[0-9]{1,9}$/.test(number)) return null;
    return this.track(this.cmd.get(`${this.prefix}np:${number}`));
  }

  post(node: string, message: NodeMessage): void {
    if (message.type === 'signal') this.publishText(node, encodeSignal(message));
    else this.publish(node, { t: 'm', m: message });
  }

  /** Stop: wait for what is in flight, leave the cluster (lease dropped at once), disconnect. */
  async close(): Promise<void> {
    this.state = this.state === 'ready' ? 'draining' : 'closed';
    this.stopTimers();
    this.outbox.flush(); // what the engine posted last goes out before the goodbye
    for (let i = 0; i < 10 && this.inflight.size > 0; i++) {
      await Promise.allSettled([...this.inflight]);
      await new Promise((r) => setImmediate(r));
    }
    if (this.state === 'draining') await this.call('tandem_leave', this.node).catch(() => undefined);
    this.state = 'closed';
    await Promise.allSettled([this.cmd.quit(), this.sub.quit()]);
    this.cmd.disconnect();
    this.sub.disconnect();
  }

  /** Tests: die as kill -9 would: no goodbye, the lease just stops being renewed. */
  crash(): void {
    this.state = 'closed';
    this.outbox.clear();
    this.stopTimers();
    this.cmd.disconnect();
    this.sub.disconnect();
  }

  // ---------------------------------------------------------------- internals

  /** The state as it is now (read after an await, when it may have moved). */
  private linkState(): LinkState {
    return this.state;
  }

  private stopTimers(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (this.reapTimer) clearInterval(this.reapTimer);
  }

  private call(command: `tandem_${ScriptName}`, ...args: string[]): Promise<unknown> {
    const fn = (this.cmd as unknown as Record<string, (...a: string[]) => Promise<unknown>>)[command]!;
    return fn.call(this.cmd, this.prefix, ...args);
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inflight.add(promise);
    const done = () => this.inflight.delete(promise);
    promise.then(done, done);
    return promise;
  }

  private publish(node: string, envelope: NodeEnvelope): void {
    this.publishText(node, encodeEnvelope(envelope));
  }

  /** Queue `text` for `node`: what this node has for it while it handles one piece of work goes in one PUBLISH. */
  private publishText(node: string, text: string): void {
    this.outbox.add(node, text);
  }

  private publishNow(node: string, text: string): void {
    // a publish that fails leaves its pair to the reset that follows the reconnection
    this.track(this.cmd.publish(`${this.prefix}ch:${node}`, text)).catch(() => undefined);
  }

  /** One text from this node's channel, checked before anything reads it: an unreadable one is dropped and counted. */
  private incoming(read: ChannelText): void {
    if (read.kind === 'malformed') return this.invalid.drop(read.error);
    if (read.kind === 'signal') return this.listener?.message(read.signal);
    const envelope = read.envelope;
    if (envelope.t === 'm') this.listener?.message(envelope.m);
    else if (envelope.t === 'take') {
      const { key, secret, received, from } = envelope;
      const result = this.listener?.handover(key, secret, received, from, envelope.asking ?? null) ?? {
        ok: false,
        why: 'the node holding the session is not serving',
      };
      this.publish(envelope.from, { t: 'given', ticket: envelope.ticket, result });
    } else {
      const resolve = this.tickets.get(envelope.ticket);
      this.tickets.delete(envelope.ticket);
      resolve?.(envelope.result);
    }
  }

  private connectionLost(why: string): void {
    if (this.state === 'ready') this.onEvent({ type: 'lost', error: why });
    // before the first join, losses are start's business; while closing they no longer matter
    if (this.state === 'ready' || this.state === 'joining') this.state = 'lost';
  }

  private connectionReady(): void {
    if (this.state !== 'lost' || this.cmd.status !== 'ready' || this.sub.status !== 'ready') return;
    void this.rejoin('reconnected');
  }

  /** Take the lease and register what the engine holds; after a loss, end the cross-node pairs first. */
  private rejoin(why: string): Promise<void> {
    this.rejoining ??= (async () => {
      try {
        for (;;) {
          this.state = 'joining';
          // make sure the channel is subscribed before anyone can pair with us again
          await this.sub.subscribe(`${this.prefix}ch:${this.node}`);
          const registrations = this.listener?.reset() ?? [];
          const args: string[] = [this.node, String(this.leaseTtlMs)];
          for (const r of registrations)
            args.push(r.id, r.localPeer ?? '', r.epoch ?? '', r.sessionKey ?? '', r.tenant ?? '');
          try {
            await this.call('tandem_rejoin', ...args);
          } catch (e) {
            this.onEvent({ type: 'error', error: `rejoin failed: ${(e as Error).message}` });
            if (this.state === 'joining') this.state = 'lost';
            return; // the next 'ready' tries again
          }
          const now = this.linkState(); // a connection may have dropped, or the node closed, while Redis answered
          if (now === 'lost') continue; // what it missed is unknown: join again
          if (now !== 'joining') return;
          this.state = 'ready';
          this.onEvent({ type: 'reset', registered: registrations.length, why });
          this.onEvent({ type: 'ready' });
          return;
        }
      } finally {
        this.rejoining = null;
      }
    })();
    return this.rejoining;
  }

  private async renew(): Promise<void> {
    if (this.state !== 'ready') return;
    try {
      const ok = await this.call('tandem_renew', this.node, String(this.leaseTtlMs));
      if (ok === 0 && this.state === 'ready') {
        // our lease lapsed (we were too slow, or Redis lost its data): we may have been reaped
        this.state = 'lost';
        await this.rejoin('lease lapsed');
      }
    } catch {
      // the connection's close event starts the reset
    }
  }

  private async reap(): Promise<void> {
    if (this.state !== 'ready') return;
    try {
      const [nodes, clients] = (await this.call('tandem_reap')) as [number, number];
      if (nodes > 0) this.onEvent({ type: 'reaped', nodes, clients });
    } catch {
      // next round
    }
  }
}

function toPeerRef(reply: unknown): PeerRef | null {
  if (!Array.isArray(reply)) return null;
  const [id, node, epoch] = reply as [string, string, string];
  return { id, node, epoch };
}
