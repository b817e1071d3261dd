// The directory: which node holds each client ID and whom it is paired with, shared by every node
// of a cluster, plus the route for messages between nodes. It is a port: the engine asks, an
// implementation answers — synchronously (the in-memory one, the embedded default) or later (a
// Redis one). The engine never sees Redis; the machines never see the directory at all.
//
// Every pairing decision is taken once, by the directory, atomically: two nodes asking for the same
// free target at once get one `paired` and one `busy`. Each node tells its own clients.
import type { SignalType } from '../effects.js';

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
  | {
      readonly type: 'paired';
      readonly to: string;
      readonly peer: string;
      readonly peerNode: string;
      readonly epoch: string;
    }
  /** A signal from `from` for its partner `to`; `frame` already carries `from_peer`. */
  | {
      readonly type: 'signal';
      readonly to: string;
      readonly from: string;
      readonly epoch: string;
      readonly messageType: SignalType;
      readonly frame: string;
    }
  /** `peer`, partner of `to`, left (closed, timed out, left the pair, or its node died). */
  | { readonly type: 'peer_left'; readonly to: string; readonly peer: string; readonly epoch: string }
  /** `peer`, partner of `to`, now lives on `node` (its session was resumed there). */
  | {
      readonly type: 'peer_moved';
      readonly to: string;
      readonly peer: string;
      readonly node: string;
      readonly epoch: string;
    };

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
export type HandoverResult =
  { readonly ok: true; readonly session: MovedSession } | { readonly ok: false; readonly why: string };

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

/** Whether a directory answer is still to come (the in-memory directory answers at once). */
export function isThenable<T>(value: MaybePromise<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null)?.then === 'function';
}

/** Why a token finds no session, in the same words wherever it is looked up (here, another node, a directory). */
export const UNKNOWN_TOKEN = 'unknown, used or expired token';
