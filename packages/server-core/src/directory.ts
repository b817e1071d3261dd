// The directory: which node holds each client ID and whom it is paired with, shared by every node
// of a cluster, plus the route for messages between nodes. It is a port: the engine asks, an
// implementation answers — synchronously (the in-memory one, the embedded default) or later (a
// Redis one). The engine never sees Redis; the machines never see the directory at all.
//
// Every pairing decision is taken once, by the directory, atomically: two nodes asking for the same
// free target at once get one `paired` and one `busy`. Each node tells its own clients.
import type { SignalType } from './effects.js';

/** A value now or later: the in-memory directory answers at once, so one node stays synchronous. */
export type MaybePromise<T> = T | PromiseLike<T>;

/** A partner as the directory knows it: its ID, the node that holds it, and the pairing's epoch. */
export interface PeerRef {
  readonly id: string;
  readonly node: string;
  /**
   * Names one pairing: unique among every pairing the directory decides. The same two clients
   * paired twice have two epochs, so news of the first pairing never ends the second.
   */
  readonly epoch: string;
}

/** The directory's verdict on `pair(requester, target)`. */
export type PairOutcome =
  /** Both are now paired; `node` holds the target. */
  | { readonly verdict: 'paired'; readonly node: string; readonly epoch: string }
  /** The target is not registered (or its node's lease ran out). */
  | { readonly verdict: 'unknown' }
  /** The target is paired already. */
  | { readonly verdict: 'busy' }
  /** The requester itself was paired in the meantime (by a request from another node). */
  | { readonly verdict: 'requester_busy' };

/**
 * Messages between nodes, posted by one engine and delivered to another in order per sender.
 * Every message names its addressee (`to`); a node ignores one for a client it no longer holds
 * or that is no longer paired with the sender's client, so a late or repeated message is harmless.
 */
export type NodeMessage =
  /** `to` was paired by `peer` (on `peerNode`), the initiator. */
  | { readonly type: 'paired'; readonly to: string; readonly peer: string; readonly peerNode: string; readonly epoch: string }
  /** A signal from `from` for its partner `to`; `frame` already carries `from_peer`. */
  | { readonly type: 'signal'; readonly to: string; readonly from: string; readonly epoch: string; readonly messageType: SignalType; readonly frame: string }
  /** `peer`, partner of `to`, left (closed, timed out, left the pair, or its node died). */
  | { readonly type: 'peer_left'; readonly to: string; readonly peer: string; readonly epoch: string }
  /** `peer`, partner of `to`, now lives on `node` (its session was resumed there). */
  | { readonly type: 'peer_moved'; readonly to: string; readonly peer: string; readonly node: string; readonly epoch: string };

/** A resumable session moving between nodes: everything its new node needs to carry on. */
export interface MovedSession {
  readonly id: string;
  readonly peer: PeerRef | null;
  readonly wsPing: boolean;
  /** The ledger: frames counted each way; `retained` are frames `acked + 1 … sent`, to replay now. */
  readonly sent: number;
  readonly acked: number;
  readonly received: number;
  readonly retained: readonly string[];
  /** The client was granted `ice-servers`: its new node sends it fresh ones at once. */
  readonly iceServers?: boolean;
}

/** A session handed over, or why not (a sentence for the client). */
export type HandoverResult = { readonly ok: true; readonly session: MovedSession } | { readonly ok: false; readonly why: string };

/** A live client a node holds, for registering again after the directory lost its state. */
export interface Registration {
  readonly id: string;
  /** Its partner when both are on this node (cross-node pairs do not survive a reset). */
  readonly localPeer: string | null;
  /** That pairing's epoch. */
  readonly epoch: string | null;
  /** The lookup key of its resume token, if it has one. */
  readonly sessionKey: string | null;
}

/** What a directory reports to the engine it serves. */
export interface DirectoryListener {
  /** A message from another node. */
  message(message: NodeMessage): void;
  /**
   * The directory lost its shared state or could not tell whether messages were lost (e.g. its
   * Redis connection dropped). The engine ends every cross-node pair (its clients are told) and
   * returns what it still holds, for the directory to register again.
   */
  reset(): Registration[];
  /**
   * A client on node `to` presents resume token `key`.`secret` (having received `received` frames)
   * for a session this engine holds: hand it over (it leaves this engine) or say why not.
   */
  handover(key: string, secret: string, received: number, to: string): HandoverResult;
}

/** The directory port. One instance per engine; `node` names that engine in the cluster. */
export interface Directory {
  /** This node's unique name (a fresh one per process start). */
  readonly node: string;
  /** Whether pairing can be decided now (false while the shared store is unreachable). */
  readonly available: boolean;
  /** Start delivering messages and resets to `listener` (called once, by the engine). */
  listen(listener: DirectoryListener): void;
  /** Make `id` findable on this node. A failure is not fatal: a reset registers it again. */
  register(id: string): MaybePromise<void>;
  /** Forget `id`. If it was paired, its partner's pairing is cleared too and the partner returned. */
  unregister(id: string): MaybePromise<PeerRef | null>;
  /** Pair `requester` (on this node) with `target`, atomically. Rejects when the store is unreachable. */
  pair(requester: string, target: string): MaybePromise<PairOutcome>;
  /**
   * End `id`'s pairing of epoch `epoch` (both sides); returns that partner. Nothing happens when
   * the directory has since paired `id` anew (its node hears of that pairing next).
   */
  unpair(id: string, epoch: string): MaybePromise<PeerRef | null>;
  /** Record that resume token key `key` belongs to a session on this node (null key: forget it). */
  setSession(key: string, id: string | null): MaybePromise<void>;
  /**
   * Ask whichever node holds the session of resume token key `key` to hand it to this node. Resolves
   * with the session, or why not (unknown key, wrong secret, its node gone or silent).
   */
  takeSession(key: string, secret: string, received: number): MaybePromise<HandoverResult>;
  /** Session `id` now lives on this node (it was handed over); its pairing record is kept. */
  adopt(id: string): MaybePromise<void>;
  /** Send `message` to the engine on `node`, in order after this node's earlier messages to it. */
  post(node: string, message: NodeMessage): void;
}

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
  private readonly unpaired = new Map<string, MemoryRecord>();
  readonly sessions = new Map<string, { id: string; node: string }>();
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

  /** Deferred mode: run queued work (and what it queues) until none is left; returns how many ran. */
  async flush(limit = 100_000): Promise<number> {
    let n = 0;
    for (;;) {
      await Promise.resolve();
      if (!this.step()) {
        // continuations of answers just resolved may queue more
        await new Promise((r) => setImmediate(r));
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
      if (record.peer === null) continue;
      const partner = this.records.get(record.peer);
      if (partner === undefined || partner.node === node) continue;
      this.records.set(record.peer, this.idle(partner.node));
      this.deliver(partner.node, { type: 'peer_left', to: record.peer, peer: id, epoch: record.epoch });
    }
    for (const [key, s] of [...this.sessions]) if (s.node === node) this.sessions.delete(key);
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

  register(id: string): MaybePromise<void> {
    return this.hub.later(() => {
      this.hub.records.set(id, this.hub.idle(this.node));
    });
  }

  unregister(id: string): MaybePromise<PeerRef | null> {
    return this.hub.later(() => {
      const partner = this.clearPair(id);
      this.hub.records.delete(id);
      return partner;
    });
  }

  pair(requester: string, target: string): MaybePromise<PairOutcome> {
    return this.hub.later((): PairOutcome => {
      const records = this.hub.records;
      let mine = records.get(requester);
      if (mine === undefined) records.set(requester, (mine = this.hub.idle(this.node)));
      if (mine.peer !== null) return { verdict: 'requester_busy' };
      const theirs = records.get(target);
      if (theirs === undefined || requester === target) return { verdict: 'unknown' };
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

  takeSession(key: string, secret: string, received: number): MaybePromise<HandoverResult> {
    return this.hub.later((): HandoverResult => {
      const holder = this.hub.sessions.get(key);
      const engine = holder === undefined ? undefined : this.hub.nodes.get(holder.node)?.listener;
      if (engine === undefined || engine === null || holder!.node === this.node) return { ok: false, why: 'unknown, used or expired token' };
      return engine.handover(key, secret, received, this.node);
    });
  }

  adopt(id: string): MaybePromise<void> {
    return this.hub.later(() => {
      const record = this.hub.records.get(id);
      this.hub.records.set(id, record === undefined || record.peer === null ? this.hub.idle(this.node) : { ...record, node: this.node });
    });
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
