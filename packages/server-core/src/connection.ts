// The engine's record of one connection. Kept small and of fixed shape on purpose: this object,
// its ID string and one timer-wheel filing are all tandem adds to an idle socket.
import type { ResumeLedger } from '@tandem/protocol';
import type { ByteBucketState, TokenBucketState } from './rate-limit.js';
import type { WheelEntry } from './timer-wheel.js';
import { KeepaliveState, PairingState } from './tables.js';

/** One connection as the engine sees it. Fields marked internal belong to the engine. */
export class Connection<H> implements WheelEntry, TokenBucketState, ByteBucketState {
  /** @internal the partner while paired: a connection of this engine, or a client on another node */ peer: Connection<H> | RemotePeer | null = null;
  /** @internal pairing machine state index */ pairingState: number = PairingState.unpaired;
  /** @internal keepalive machine state index */ keepaliveState: number = KeepaliveState.live;
  /** @internal ms since engine epoch of the last frame or pong */ heardAt = 0;
  /** @internal ms since engine epoch the ping deadline falls */ pingDeadline = 0;
  /** @internal timer-wheel tick this connection is filed under (-1: none) */ wheelSlot = -1;
  /** @internal ms taken off the ping interval to spread pings */ pingJitter = 0;
  /** @internal rate-limit tokens left */ tokens = 0;
  /** @internal when the tokens were counted */ tokensAt = 0;
  /** @internal byte-rate tokens left */ byteTokens = 0;
  /** @internal when the byte tokens were counted */ byteTokensAt = 0;
  /** @internal uses WebSocket control pings */ wsPing = false;
  /** @internal the resumable session's state, for clients granted `resume` (null otherwise) */ resume: ResumeSession | null = null;
  /** @internal this link's session moved into that one (a resume) */ resumedInto: Connection<H> | null = null;
  /** @internal the link the session is on now (the handle of the latest link) */ handle: H;
  /** @internal when (ms, engine clock) to send fresh ICE servers (0: never asked for) */ iceRefreshAt = 0;
  /** @internal the current pairing's epoch (from the directory; '' while unpaired) */ pairEpoch = '';
  /** @internal frames that arrived while a directory answer was awaited, handled in order after it (null: not waiting) */ waiting: WaitingFrame[] | null = null;
  constructor(
    /** The client's ID (its shareable key). */
    readonly id: string,
    /** The embedder's handle of the link this record was opened for. */
    readonly link: H,
  ) {
    this.handle = link;
  }
  /** Whether the connection is paired. */
  get isPaired(): boolean {
    return this.pairingState === PairingState.paired;
  }
  /** The partner's ID, if paired. */
  get peerId(): string | null {
    return this.peer?.id ?? null;
  }
  /** Whether the engine considers this connection closed. */
  get isClosed(): boolean {
    return this.pairingState === PairingState.closed;
  }
}

/** The extra state of a resumable session, allocated only for clients granted `resume`. */
export class ResumeSession {
  /** Whether a link carries the session now (false while detached). */
  attached = true;
  /** When (ms, engine clock) a detached session ends unless resumed. */
  graceDeadline = 0;
  constructor(
    /** Public half of the token: the lookup key. */
    public key: string,
    /** Secret half, compared in constant time. */
    public secret: string,
    readonly ledger: ResumeLedger,
  ) {}
}

/** A partner held by another node of the cluster. */
export class RemotePeer {
  constructor(
    readonly id: string,
    /** The node that holds it. */
    readonly node: string,
  ) {}
}

/** A frame held back while its connection waits for the directory. */
export interface WaitingFrame {
  readonly data: string | Uint8Array;
  readonly binary: boolean;
  readonly bytes: number;
}
