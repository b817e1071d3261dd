// The in-memory directory: the embedded default for one process, and any number of nodes sharing
// a MemoryHub in tests, where `deferred` lets a test choose the interleaving as a slow network would.
import {
  UNKNOWN_TOKEN,
  type Directory,
  type DirectoryListener,
  type HandoverResult,
  type MaybePromise,
  type NodeMessage,
  type PairOutcome,
  type PeerRef,
} from './directory.js';
import type { Holder } from '../connection.js';

/** A client's record; records are replaced, never changed, so every unpaired client of a node shares one. */
interface MemoryRecord {
  readonly node: string;
  readonly peer: string | null;
  readonly epoch: string;
}

/**
 * The shared state of in-memory directories: one per process. With one node it is the embedded
 * default; with several (one engine each) it lets tests run cross-node rules deterministically.
 * `deferred` makes every answer and message wait for `flush()`/`step()`, so tests choose the
 * interleaving the way a slow network would.
 */
export class MemoryHub {
  readonly records = new Map<string, MemoryRecord>();
  /** The tenant of each client that has one (most have none: no entry). */
  readonly tenants = new Map<string, string>();
  private readonly unpaired = new Map<string, MemoryRecord>();
  readonly sessions = new Map<string, { id: string; node: string }>();
  /** Nameplate numbers taken, and the node each is on (expiry is the taker's to keep). */
  readonly nameplates = new Map<string, string>();
  readonly nodes = new Map<string, InMemoryDirectory>();
  private readonly queue: (() => void)[] = [];
  /** Pairings decided so far (the epoch counter). */
  pairings = 0;
  constructor(readonly options: { readonly deferred?: boolean } = {}) {}

  /** The record of every unpaired client on `node` (shared: an idle client costs a map entry, not an object). */
  idle(node: string): MemoryRecord {
    let record = this.unpaired.get(node);
    if (record === undefined) this.unpaired.set(node, (record = Object.freeze({ node, peer: null, epoch: '' })));
    return record;
  }

  /** Run `work` now, or queue it in deferred mode. */
  later<T>(work: () => T): MaybePromise<T> {
    if (!this.options.deferred) return work();
    return new Promise<T>((resolve, reject) =>
      this.queue.push(() => {
        try {
          resolve(work());
        } catch (e) {
          reject(e as Error);
        }
      }),
    );
  }

  /** Deferred mode: run the oldest queued answer or message; false when none is left. */
  step(): boolean {
    const next = this.queue.shift();
    next?.();
    return next !== undefined;
  }

  /** How many answers and messages wait. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Deferred mode: run queued work (and what it queues) until none is left; returns how many ran.
   * `macrotask` lets the continuations of answers just resolved run (the host's, e.g. setImmediate:
   * the core owns no scheduler).
   */
  async flush(macrotask: () => Promise<void>, limit = 100_000): Promise<number> {
    let n = 0;
    for (;;) {
      await Promise.resolve();
      if (!this.step()) {
        // continuations of answers just resolved may queue more
        await macrotask();
        if (this.pending === 0) return n;
        continue;
      }
      if (++n > limit) throw new Error('MemoryHub.flush: still busy after many steps');
    }
  }

  /** A node dies without a word (kill -9): its clients vanish and their partners elsewhere are told. */
  kill(node: string): void {
    for (const [id, record] of [...this.records]) {
      if (record.node !== node) continue;
      this.records.delete(id);
      this.tenants.delete(id);
      if (record.peer === null) continue;
      const partner = this.records.get(record.peer);
      if (partner === undefined || partner.node === node) continue;
      this.records.set(record.peer, this.idle(partner.node));
      this.deliver(partner.node, { type: 'peer_left', to: record.peer, peer: id, epoch: record.epoch });
    }
    for (const [key, s] of [...this.sessions]) if (s.node === node) this.sessions.delete(key);
    for (const [n, holder] of [...this.nameplates]) if (holder === node) this.nameplates.delete(n);
    this.nodes.delete(node);
  }

  deliver(node: string, message: NodeMessage): void {
    const target = this.nodes.get(node);
    if (target === undefined) return;
    if (this.options.deferred) this.queue.push(() => target.listener?.message(message));
    else target.listener?.message(message);
  }
}

/** The in-memory directory: the default for one process, and any number of nodes sharing a MemoryHub in tests. */
export class InMemoryDirectory implements Directory {
  readonly available = true;
  /** @internal */ listener: DirectoryListener | null = null;
  constructor(
    readonly hub: MemoryHub = new MemoryHub(),
    readonly node: string = 'local',
  ) {
    if (hub.nodes.has(node)) throw new Error(`InMemoryDirectory: node ${node} exists already`);
    hub.nodes.set(node, this);
  }

  listen(listener: DirectoryListener): void {
    this.listener = listener;
  }

  register(id: string, tenant: string | null = null): MaybePromise<void> {
    return this.hub.later(() => {
      this.hub.records.set(id, this.hub.idle(this.node));
      this.setTenant(id, tenant);
    });
  }

  private setTenant(id: string, tenant: string | null): void {
    if (tenant === null) this.hub.tenants.delete(id);
    else this.hub.tenants.set(id, tenant);
  }

  unregister(id: string): MaybePromise<PeerRef | null> {
    return this.hub.later(() => {
      const partner = this.clearPair(id);
      this.hub.records.delete(id);
      this.hub.tenants.delete(id);
      return partner;
    });
  }

  pair(requester: string, target: string, tenant: string | null = null): MaybePromise<PairOutcome> {
    return this.hub.later((): PairOutcome => {
      const records = this.hub.records;
      let mine = records.get(requester);
      if (mine === undefined) {
        records.set(requester, (mine = this.hub.idle(this.node)));
        this.setTenant(requester, tenant);
      }
      if (mine.peer !== null) return { verdict: 'requester_busy' };
      const theirs = records.get(target);
      // another tenant's client is not there for this one: the same answer, so tenants cannot probe each other
      if (theirs === undefined || requester === target || (this.hub.tenants.get(target) ?? null) !== tenant)
        return { verdict: 'unknown' };
      if (theirs.peer !== null) return { verdict: 'busy' };
      const epoch = String(++this.hub.pairings);
      records.set(requester, { node: mine.node, peer: target, epoch });
      records.set(target, { node: theirs.node, peer: requester, epoch });
      return { verdict: 'paired', node: theirs.node, epoch };
    });
  }

  unpair(id: string, epoch: string): MaybePromise<PeerRef | null> {
    return this.hub.later(() => {
      const record = this.hub.records.get(id);
      return record?.peer != null && record.epoch === epoch ? this.clearPair(id) : null;
    });
  }

  setSession(key: string, id: string | null): MaybePromise<void> {
    return this.hub.later(() => {
      if (id === null) {
        if (this.hub.sessions.get(key)?.node === this.node) this.hub.sessions.delete(key);
      } else this.hub.sessions.set(key, { id, node: this.node });
    });
  }

  takeSession(
    key: string,
    secret: string,
    received: number,
    asking: Holder | null = null,
  ): MaybePromise<HandoverResult> {
    return this.hub.later((): HandoverResult => {
      const holder = this.hub.sessions.get(key);
      const engine = holder === undefined ? undefined : this.hub.nodes.get(holder.node)?.listener;
      if (engine === undefined || engine === null || holder!.node === this.node)
        return { ok: false, why: UNKNOWN_TOKEN };
      return engine.handover(key, secret, received, this.node, asking);
    });
  }

  adopt(id: string): MaybePromise<void> {
    return this.hub.later(() => {
      const record = this.hub.records.get(id);
      this.hub.records.set(
        id,
        record === undefined || record.peer === null ? this.hub.idle(this.node) : { ...record, node: this.node },
      );
    });
  }

  takeNameplate(max: number): MaybePromise<string | null> {
    return this.hub.later(() => {
      let n = 1;
      while (this.hub.nameplates.has(String(n)) && n <= max) n++;
      return n > max ? null : (this.hub.nameplates.set(String(n), this.node), String(n));
    });
  }
  releaseNameplate(number: string): MaybePromise<void> {
    return this.hub.later(() => {
      if (this.hub.nameplates.get(number) === this.node) this.hub.nameplates.delete(number);
    });
  }
  findNameplate(number: string): MaybePromise<string | null> {
    return this.hub.later(() => this.hub.nameplates.get(number) ?? null);
  }

  post(node: string, message: NodeMessage): void {
    this.hub.deliver(node, message);
  }

  private clearPair(id: string): PeerRef | null {
    const record = this.hub.records.get(id);
    if (record === undefined || record.peer === null) return null;
    const partner = this.hub.records.get(record.peer);
    const peerId = record.peer;
    this.hub.records.set(id, this.hub.idle(record.node));
    if (partner === undefined || partner.peer !== id) return null;
    this.hub.records.set(peerId, this.hub.idle(partner.node));
    return { id: peerId, node: partner.node, epoch: record.epoch };
  }
}
