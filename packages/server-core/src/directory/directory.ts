// The directory: which node holds each client ID and whom it is paired with, shared by every node
// of a cluster, plus the route for messages between nodes. It is a port: the engine asks, an
// implementation answers — synchronously (the in-memory one, the embedded default) or later (a
// Redis one). The engine never sees Redis; the machines never see the directory at all.
//
// Every pairing decision is taken once, by the directory, atomically: two nodes asking for the same
// free target at once get one `paired` and one `busy`. Each node tells its own clients.

/** A value now or later: the in-memory directory answers at once, so one node stays synchronous. */
export type MaybePromise<T> = T | PromiseLike<T>;

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
 * Messages between nodes, a resumable session on the move, and the handover's answer: schemas in
 * @tandem/protocol/cluster, checked there at a shared store's boundary.
 */
export type { HandoverResult, MovedSession, NodeMessage, PeerRef } from '@tandem/protocol/cluster';
import type { HandoverResult, NodeMessage, PeerRef } from '@tandem/protocol/cluster';
import type { Holder } from '../connection.js';

/** A live client a node holds, for registering again after the directory lost its state. */
export interface Registration {
  readonly id: string;
  /** Its partner when both are on this node (cross-node pairs do not survive a reset). */
  readonly localPeer: string | null;
  /** That pairing's epoch. */
  readonly epoch: string | null;
  /** The lookup key of its resume token, if it has one. */
  readonly sessionKey: string | null;
  /** Its tenant, if it has one. */
  readonly tenant: string | null;
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
   * A client on node `to` presents resume token `key`.`secret` (having received `received` frames,
   * on a link authorized as `asking`) for a session this engine holds: hand it over (it leaves
   * this engine) or say why not.
   */
  handover(key: string, secret: string, received: number, to: string, asking: Holder | null): HandoverResult;
}

/** The directory port. One instance per engine; `node` names that engine in the cluster. */
export interface Directory {
  /** This node's unique name (a fresh one per process start). */
  readonly node: string;
  /** Whether pairing can be decided now (false while the shared store is unreachable). */
  readonly available: boolean;
  /** Messages from other nodes dropped because they were not node messages (a shared store's boundary check). */
  readonly invalidMessages?: number;
  /** Start delivering messages and resets to `listener` (called once, by the engine). */
  listen(listener: DirectoryListener): void;
  /**
   * Make `id` findable on this node, by clients of the same `tenant` only (null: by clients
   * without one). A failure is not fatal: a reset registers it again.
   */
  register(id: string, tenant?: string | null): MaybePromise<void>;
  /** Forget `id`. If it was paired, its partner's pairing is cleared too and the partner returned. */
  unregister(id: string): MaybePromise<PeerRef | null>;
  /**
   * Pair `requester` (on this node, of `tenant`) with `target`, atomically; a target of another
   * tenant is `unknown`, as if it were not there. Rejects when the store is unreachable.
   */
  pair(requester: string, target: string, tenant?: string | null): MaybePromise<PairOutcome>;
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
  takeSession(key: string, secret: string, received: number, asking?: Holder | null): MaybePromise<HandoverResult>;
  /** Session `id` now lives on this node (it was handed over); its pairing record is kept. */
  adopt(id: string): MaybePromise<void>;
  /** Send `message` to the engine on `node`, in order after this node's earlier messages to it. */
  post(node: string, message: NodeMessage): void;
  /**
   * Pairing by code, cluster-wide (optional: a directory without them offers no codes): the
   * smallest nameplate number free on every node, taken for this node for `ttlMs` (null: `max`
   * are taken). The node that took it decides every claim of it, so one claim (and one burn) is
   * decided once, whichever node the claimer is on.
   */
  takeNameplate?(max: number, ttlMs: number): MaybePromise<string | null>;
  /** The number is free again (its nameplate was confirmed, expired, or forgotten); only this node's. */
  releaseNameplate?(number: string): MaybePromise<void>;
  /** The node that holds nameplate `number`, or null. */
  findNameplate?(number: string): MaybePromise<string | null>;
}

/** Whether a directory answer is still to come (the in-memory directory answers at once). */
export function isThenable<T>(value: MaybePromise<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null)?.then === 'function';
}

/** Why a token finds no session, in the same words wherever it is looked up (here, another node, a directory). */
export const UNKNOWN_TOKEN = 'unknown, used or expired token';
