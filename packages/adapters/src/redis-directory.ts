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
import type {
  Directory,
  DirectoryListener,
  HandoverResult,
  MaybePromise,
  NodeMessage,
  PairOutcome,
  PeerRef,
} from '@tandem/server-core';

/** Settings of a Redis directory. */
export interface RedisDirectoryOptions {
  /** `redis://host:port[/db]` (or `rediss://`). */
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

// Lua: every script gets the key prefix as ARGV[1]; the keys it touches depend on the records it
// reads (partners), so they are built inside, which a single Redis (not Redis Cluster) allows.
const lua = {
  // ARGV: prefix, id, node
  register: `
local p, id, node = ARGV[1], ARGV[2], ARGV[3]
redis.call('HSET', p..'c:'..id, 'n', node)
redis.call('SADD', p..'nc:'..node, id)
return 1`,
  // ARGV: prefix, id, node, delete(1|0), epoch of the pairing to end ('' for any)
  // → partner id, node and epoch, or false
  release: `
local p, id, node, delete, expected = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local key = p..'c:'..id
local rec = redis.call('HMGET', key, 'n', 'p', 'k', 'e')
if not rec[1] or rec[1] ~= node then return false end
if delete ~= '1' and (not rec[2] or rec[4] ~= expected) then return false end
if delete == '1' then
  redis.call('DEL', key)
  redis.call('SREM', p..'nc:'..node, id)
  if rec[3] and redis.call('GET', p..'s:'..rec[3]) == node then redis.call('DEL', p..'s:'..rec[3]) end
else
  redis.call('HDEL', key, 'p', 'e')
end
if not rec[2] then return false end
local pkey = p..'c:'..rec[2]
local partner = redis.call('HMGET', pkey, 'n', 'p', 'e')
if partner[1] and partner[2] == id and partner[3] == rec[4] then
  redis.call('HDEL', pkey, 'p', 'e')
  return {rec[2], partner[1], rec[4]}
end
return false`,
  // ARGV: prefix, requester, target, node → {verdict[, node]}
  pair: `
local p, a, b, node = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ka = p..'c:'..a
local ra = redis.call('HMGET', ka, 'n', 'p')
if not ra[1] then
  redis.call('HSET', ka, 'n', node)
  redis.call('SADD', p..'nc:'..node, a)
elseif ra[2] then
  return {'requester_busy'}
end
if a == b then return {'unknown'} end
local kb = p..'c:'..b
local rb = redis.call('HMGET', kb, 'n', 'p')
if not rb[1] or redis.call('EXISTS', p..'lease:'..rb[1]) == 0 then return {'unknown'} end
if rb[2] then return {'busy'} end
local e = tostring(redis.call('INCR', p..'epoch'))
redis.call('HSET', ka, 'p', b, 'e', e)
redis.call('HSET', kb, 'p', a, 'e', e)
return {'paired', rb[1], e}`,
  // ARGV: prefix, key, node, id ('' to forget)
  session: `
local p, key, node, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if id == '' then
  if redis.call('GET', p..'s:'..key) == node then redis.call('DEL', p..'s:'..key) end
  return 0
end
redis.call('SET', p..'s:'..key, node)
redis.call('HSET', p..'c:'..id, 'k', key)
return 1`,
  // ARGV: prefix, id, node → moves the record to this node
  adopt: `
local p, id, node = ARGV[1], ARGV[2], ARGV[3]
local key = p..'c:'..id
local old = redis.call('HGET', key, 'n')
if old then redis.call('SREM', p..'nc:'..old, id) end
redis.call('HSET', key, 'n', node)
redis.call('SADD', p..'nc:'..node, id)
return 1`,
  // ARGV: prefix, node, ttl → 1 renewed, 0 lapsed (reaped or Redis lost its data)
  renew: `
local p, node, ttl = ARGV[1], ARGV[2], ARGV[3]
if redis.call('SET', p..'lease:'..node, '1', 'PX', ttl, 'XX') then return 1 end
return 0`,
  // ARGV: prefix → {dead nodes, clients forgotten}; partners' nodes get peer_left by publish
  reap: `
local p = ARGV[1]
local nodes, clients = 0, 0
for _, n in ipairs(redis.call('SMEMBERS', p..'nodes')) do
  if redis.call('EXISTS', p..'lease:'..n) == 0 then
    nodes = nodes + 1
    for _, id in ipairs(redis.call('SMEMBERS', p..'nc:'..n)) do
      local key = p..'c:'..id
      local rec = redis.call('HMGET', key, 'n', 'p', 'k', 'e')
      if rec[1] == n then
        clients = clients + 1
        redis.call('DEL', key)
        if rec[3] and redis.call('GET', p..'s:'..rec[3]) == n then redis.call('DEL', p..'s:'..rec[3]) end
        if rec[2] then
          local pkey = p..'c:'..rec[2]
          local partner = redis.call('HMGET', pkey, 'n', 'p', 'e')
          if partner[1] and partner[2] == id and partner[3] == rec[4] then
            redis.call('HDEL', pkey, 'p', 'e')
            redis.call('PUBLISH', p..'ch:'..partner[1], cjson.encode({t = 'm', m = {type = 'peer_left', to = rec[2], peer = id, epoch = rec[4]}}))
          end
        end
      end
    end
    redis.call('DEL', p..'nc:'..n)
    redis.call('SREM', p..'nodes', n)
  end
end
return {nodes, clients}`,
  // ARGV: prefix, node, ttl, then (id, local peer or '', its pairing's epoch or '', session key or '') per client.
  // Takes the lease, forgets this node's records that are not listed, ends every pairing that is
  // not a listed local one (publishing peer_left to the partner's node), registers the listed.
  rejoin: `
local p, node, ttl = ARGV[1], ARGV[2], ARGV[3]
redis.call('SET', p..'lease:'..node, '1', 'PX', ttl)
redis.call('SADD', p..'nodes', node)
local function release(id, keep)
  local key = p..'c:'..id
  local rec = redis.call('HMGET', key, 'n', 'p', 'e')
  if rec[2] and rec[2] ~= keep then
    local pkey = p..'c:'..rec[2]
    local partner = redis.call('HMGET', pkey, 'n', 'p', 'e')
    if partner[1] and partner[2] == id and partner[3] == rec[3] then
      redis.call('HDEL', pkey, 'p', 'e')
      if partner[1] ~= node then
        redis.call('PUBLISH', p..'ch:'..partner[1], cjson.encode({t = 'm', m = {type = 'peer_left', to = rec[2], peer = id, epoch = rec[3]}}))
      end
    end
  end
end
local live = {}
for i = 4, #ARGV, 4 do live[ARGV[i]] = true end
for _, id in ipairs(redis.call('SMEMBERS', p..'nc:'..node)) do
  if not live[id] then
    local key = p..'c:'..id
    if redis.call('HGET', key, 'n') == node then
      release(id, false)
      redis.call('DEL', key)
    end
    redis.call('SREM', p..'nc:'..node, id)
  end
end
for i = 4, #ARGV, 4 do
  local id, peer, epoch, skey = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  release(id, peer ~= '' and peer or false)
  local key = p..'c:'..id
  redis.call('HSET', key, 'n', node)
  if peer ~= '' then redis.call('HSET', key, 'p', peer, 'e', epoch) else redis.call('HDEL', key, 'p', 'e') end
  redis.call('SADD', p..'nc:'..node, id)
  if skey ~= '' then
    redis.call('SET', p..'s:'..skey, node)
    redis.call('HSET', key, 'k', skey)
  end
end
return (#ARGV - 3) / 4`,
  // ARGV: prefix, node: leave the cluster cleanly (the engine already unregistered its clients)
  leave: `
local p, node = ARGV[1], ARGV[2]
redis.call('DEL', p..'lease:'..node)
redis.call('SREM', p..'nodes', node)
return 1`,
} as const;

type Envelope =
  | { readonly t: 'm'; readonly m: NodeMessage }
  | {
      readonly t: 'take';
      readonly ticket: string;
      readonly from: string;
      readonly key: string;
      readonly secret: string;
      readonly received: number;
    }
  | { readonly t: 'given'; readonly ticket: string; readonly result: HandoverResult };

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
  /** Joined, both connections up, and no reset pending. */
  private ready = false;
  /** A connection dropped (or the lease lapsed) since the last rejoin: reset on reconnection. */
  private lost = false;
  private rejoining: Promise<void> | null = null;
  private closing = false;
  /** `start()` ran its first join attempt (until then, connections coming up are its business). */
  private started = false;
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
    for (const [name, script] of Object.entries(lua))
      this.cmd.defineCommand(`tandem_${name}`, { numberOfKeys: 0, lua: script });
    for (const conn of [this.cmd, this.sub]) {
      conn.on('close', () => this.connectionLost('connection closed'));
      conn.on('error', (e: Error) => this.onEvent({ type: 'error', error: e.message }));
      conn.on('ready', () => this.connectionReady());
    }
    this.sub.on('messageBuffer', (_channel: Buffer, payload: Buffer) => {
      const text = payload.toString('utf8');
      // at once, unless a resume waits for its session: then in turn, so the handover is
      // taken in (a promise) before the messages that follow it
      if (this.queued === 0 && this.tickets.size === 0) return this.incoming(text);
      this.queued++;
      this.inbox = this.inbox.then(() => {
        this.queued--;
        this.incoming(text);
      });
    });
  }

  get available(): boolean {
    return this.ready;
  }

  /** Connect, subscribe, join the cluster; resolves once this node can pair. */
  async start(): Promise<void> {
    this.lost = true; // until the first join
    try {
      await Promise.all([this.cmd.connect(), this.sub.connect()]);
    } catch (e) {
      // ioredis keeps trying; the node joins on the first 'ready' of both connections
      this.onEvent({ type: 'lost', error: `cannot reach Redis: ${(e as Error).message}` });
    }
    this.started = true;
    if (this.cmd.status === 'ready' && this.sub.status === 'ready') await this.rejoin('start');
    this.renewTimer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.leaseTtlMs / 3)));
    this.reapTimer = setInterval(() => void this.reap(), this.reapIntervalMs);
    this.renewTimer.unref();
    this.reapTimer.unref();
  }

  listen(listener: DirectoryListener): void {
    this.listener = listener;
  }

  register(id: string): MaybePromise<void> {
    return this.track(this.call('tandem_register', id, this.node)).then(() => undefined);
  }

  unregister(id: string): MaybePromise<PeerRef | null> {
    return this.track(this.call('tandem_release', id, this.node, '1', '')).then(toPeerRef);
  }

  unpair(id: string, epoch: string): MaybePromise<PeerRef | null> {
    return this.track(this.call('tandem_release', id, this.node, '0', epoch)).then(toPeerRef);
  }

  pair(requester: string, target: string): MaybePromise<PairOutcome> {
    if (!this.ready) return Promise.reject(new Error('the Redis directory is not connected'));
    return this.track(this.call('tandem_pair', requester, target, this.node)).then((reply): PairOutcome => {
      const [verdict, node, epoch] = reply as [string, string?, string?];
      if (verdict === 'paired') return { verdict: 'paired', node: node!, epoch: epoch! };
      if (verdict === 'busy' || verdict === 'unknown' || verdict === 'requester_busy') return { verdict };
      throw new Error(`unexpected pair verdict ${String(verdict)}`);
    });
  }

  setSession(key: string, id: string | null): MaybePromise<void> {
    return this.track(this.call('tandem_session', key, this.node, id ?? '')).then(() => undefined);
  }

  adopt(id: string): MaybePromise<void> {
    return this.track(this.call('tandem_adopt', id, this.node)).then(() => undefined);
  }

  takeSession(key: string, secret: string, received: number): MaybePromise<HandoverResult> {
    return new Promise<HandoverResult>((resolve, reject) => {
      this.cmd.get(`${this.prefix}s:${key}`).then((holder) => {
        if (holder === null || holder === this.node)
          return resolve({ ok: false, why: 'unknown, used or expired token' });
        const ticket = randomBytes(9).toString('base64url');
        const timer = setTimeout(() => {
          this.tickets.delete(ticket);
          resolve({ ok: false, why: 'the node holding the session did not answer' });
        }, this.handoverTimeoutMs);
        this.tickets.set(ticket, (result) => {
          clearTimeout(timer);
          resolve(result);
        });
        this.publish(holder, { t: 'take', ticket, from: this.node, key, secret, received });
      }, reject);
    });
  }

  post(node: string, message: NodeMessage): void {
    if (message.type !== 'signal') return this.publish(node, { t: 'm', m: message });
    // the hot path: the relayed frame goes as it is, not escaped into JSON again (IDs and epochs hold no newline)
    this.publishText(
      node,
      `S${message.to}\n${message.from}\n${message.epoch}\n${message.messageType}\n${message.frame}`,
    );
  }

  /** Stop: wait for what is in flight, leave the cluster (lease dropped at once), disconnect. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (this.reapTimer) clearInterval(this.reapTimer);
    for (let i = 0; i < 10 && this.inflight.size > 0; i++) {
      await Promise.allSettled([...this.inflight]);
      await new Promise((r) => setImmediate(r));
    }
    if (this.ready) await this.call('tandem_leave', this.node).catch(() => undefined);
    this.ready = false;
    await Promise.allSettled([this.cmd.quit(), this.sub.quit()]);
    this.cmd.disconnect();
    this.sub.disconnect();
  }

  /** Tests: die as kill -9 would: no goodbye, the lease just stops being renewed. */
  crash(): void {
    this.closing = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (this.reapTimer) clearInterval(this.reapTimer);
    this.ready = false;
    this.cmd.disconnect();
    this.sub.disconnect();
  }

  // ---------------------------------------------------------------- internals

  private call(
    command: keyof typeof lua extends infer K ? `tandem_${K & string}` : never,
    ...args: string[]
  ): Promise<unknown> {
    const fn = (this.cmd as unknown as Record<string, (...a: string[]) => Promise<unknown>>)[command]!;
    return fn.call(this.cmd, this.prefix, ...args);
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inflight.add(promise);
    const done = () => this.inflight.delete(promise);
    promise.then(done, done);
    return promise;
  }

  private publish(node: string, envelope: Envelope): void {
    this.publishText(node, JSON.stringify(envelope));
  }

  private publishText(node: string, text: string): void {
    // a publish that fails leaves its pair to the reset that follows the reconnection
    this.track(this.cmd.publish(`${this.prefix}ch:${node}`, text)).catch(() => undefined);
  }

  private incoming(text: string): void {
    if (text.charCodeAt(0) === 83 /* S */) {
      const a = text.indexOf('\n');
      const b = text.indexOf('\n', a + 1);
      const c = text.indexOf('\n', b + 1);
      const d = text.indexOf('\n', c + 1);
      const messageType = text.slice(c + 1, d);
      if (
        a < 0 ||
        b < 0 ||
        c < 0 ||
        d < 0 ||
        (messageType !== 'offer' && messageType !== 'answer' && messageType !== 'candidate')
      ) {
        return this.onEvent({ type: 'error', error: 'unreadable signal on the node channel' });
      }
      this.listener?.message({
        type: 'signal',
        to: text.slice(1, a),
        from: text.slice(a + 1, b),
        epoch: text.slice(b + 1, c),
        messageType,
        frame: text.slice(d + 1),
      });
      return;
    }
    let envelope: Envelope;
    try {
      envelope = JSON.parse(text) as Envelope;
    } catch {
      return this.onEvent({ type: 'error', error: 'unreadable message on the node channel' });
    }
    if (envelope.t === 'm') this.listener?.message(envelope.m);
    else if (envelope.t === 'take') {
      const result = this.listener?.handover(envelope.key, envelope.secret, envelope.received, envelope.from) ?? {
        ok: false,
        why: 'the node holding the session is not serving',
      };
      this.publish(envelope.from, { t: 'given', ticket: envelope.ticket, result });
    } else if (envelope.t === 'given') {
      const resolve = this.tickets.get(envelope.ticket);
      this.tickets.delete(envelope.ticket);
      resolve?.(envelope.result);
    }
  }

  private connectionLost(why: string): void {
    if (this.closing) return;
    if (this.ready) this.onEvent({ type: 'lost', error: why });
    this.ready = false;
    this.lost = true;
  }

  private connectionReady(): void {
    if (this.closing || !this.lost || !this.started) return;
    if (this.cmd.status !== 'ready' || this.sub.status !== 'ready') return;
    void this.rejoin('reconnected');
  }

  /** Take the lease and register what the engine holds; after a loss, end the cross-node pairs first. */
  private rejoin(why: string): Promise<void> {
    this.rejoining ??= (async () => {
      try {
        for (;;) {
          this.lost = false;
          // make sure the channel is subscribed before anyone can pair with us again
          await this.sub.subscribe(`${this.prefix}ch:${this.node}`);
          const registrations = this.listener?.reset() ?? [];
          const args: string[] = [this.node, String(this.leaseTtlMs)];
          for (const r of registrations) args.push(r.id, r.localPeer ?? '', r.epoch ?? '', r.sessionKey ?? '');
          try {
            await this.call('tandem_rejoin', ...args);
          } catch (e) {
            this.onEvent({ type: 'error', error: `rejoin failed: ${(e as Error).message}` });
            this.lost = true;
            return; // the next 'ready' tries again
          }
          if (!this.lost) {
            this.ready = true;
            this.onEvent({ type: 'reset', registered: registrations.length, why });
            this.onEvent({ type: 'ready' });
            return;
          }
        }
      } finally {
        this.rejoining = null;
      }
    })();
    return this.rejoining;
  }

  private async renew(): Promise<void> {
    if (!this.ready) return;
    try {
      const ok = await this.call('tandem_renew', this.node, String(this.leaseTtlMs));
      if (ok === 0 && this.ready) {
        // our lease lapsed (we were too slow, or Redis lost its data): we may have been reaped
        this.ready = false;
        this.lost = true;
        await this.rejoin('lease lapsed');
      }
    } catch {
      // the connection's close event starts the reset
    }
  }

  private async reap(): Promise<void> {
    if (!this.ready) return;
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
