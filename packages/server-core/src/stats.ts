// The engine's counters, as an embedder exports them (metrics): their meanings and a fresh set.
/** Signals the engine relays inside a pair. */
export type SignalType = 'offer' | 'answer' | 'candidate';

/** Counters an embedder can export as metrics. */
export interface ServerStats {
  connections: number;
  pairs: number;
  opened: number;
  closed: number;
  relayed: number;
  /** Relayed signals by type. */
  relayedByType: Record<SignalType, number>;
  /** Error replies and refused frames. */
  errors: number;
  /** Errors by code: pairing error codes and frame decode error codes. */
  errorsByCode: Record<string, number>;
  pings: number;
  timeouts: number;
  /** Closed for the message rate limit. */
  rateLimited: number;
  /** Closed for the byte rate limit. */
  byteRateLimited: number;
  /** Closed as slow consumers. */
  slowConsumers: number;
  /** Sessions detached now, waiting for their client. */
  detached: number;
  /** Successful resumes. */
  resumes: number;
  /** Refused resumes. */
  resumeFailures: number;
  /** Detached sessions ended: grace over, or replay buffer full. */
  resumeExpired: number;
  /** 1 while pairings can be decided (a cluster's directory is reachable), else 0. */
  directoryAvailable: number;
  /** Messages to and from other nodes of the cluster (0 for one process). */
  nodeMessagesSent: number;
  nodeMessagesReceived: number;
  /** Texts on this node's channel dropped because they were not node messages. */
  nodeMessagesInvalid: number;
  /** Times the directory lost its shared state and cross-node pairs were ended. */
  clusterResets: number;
  /** Sessions whose client resumed through another node, which took them over. */
  handedOver: number;
  /** Links closed because their authorization expired. */
  authExpired: number;
  /** Bytes held for replay by detached sessions now. */
  detachedBytes: number;
  /** Sessions ended on a lost link because maxDetachedSessions (or the host's per-address cap) was full. */
  detachRefused: number;
  /** Code pairings both sides confirmed (codes). */
  codesConfirmed: number;
  /** Nameplates burnt: a claim that did not end in mutual confirmation (a wrong code, an abort, a timeout). */
  nameplatesBurnt: number;
}

/** Every counter at zero: a fresh engine's stats. */
export function zeroStats(): ServerStats {
  return {
    connections: 0,
    pairs: 0,
    opened: 0,
    closed: 0,
    relayed: 0,
    relayedByType: { offer: 0, answer: 0, candidate: 0 },
    errors: 0,
    errorsByCode: {},
    pings: 0,
    timeouts: 0,
    rateLimited: 0,
    byteRateLimited: 0,
    slowConsumers: 0,
    detached: 0,
    resumes: 0,
    resumeFailures: 0,
    resumeExpired: 0,
    directoryAvailable: 1,
    nodeMessagesInvalid: 0,
    nodeMessagesSent: 0,
    nodeMessagesReceived: 0,
    clusterResets: 0,
    codesConfirmed: 0,
    nameplatesBurnt: 0,
    handedOver: 0,
    authExpired: 0,
    detachedBytes: 0,
    detachRefused: 0,
  };
}
