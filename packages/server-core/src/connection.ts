// The engine's record of one connection. Kept small and of fixed shape on purpose: this object,
// its ID string and one timer-wheel filing are all tandem adds to an idle socket. Each field has
// one meaning; state a feature needs only for some clients (resume, ICE servers, frames waiting
// for the directory) hangs off a nullable field whose null says "not in use".
import type { ResumeLedger } from '@tandem/protocol';
import type { ByteBucketState, TokenBucketState } from './rate-limit.js';
import type { WheelEntry } from './timer-wheel.js';
import { KeepaliveState, PairingState } from './tables.js';

/** One connection as the engine sees it. Fields marked internal belong to the engine. */
/** The one empty list every connection that said no hello shares (no array per connection). */
const NOTHING: readonly string[] = Object.freeze([]);

export class Connection<H> implements WheelEntry, TokenBucketState, ByteBucketState {
  /** @internal the partner while paired: a connection of this engine, or a client on another node */
  peer: Connection<H> | RemotePeer | null = null;
  /** @internal the current pairing's epoch, from the directory (null while unpaired) */
  pairEpoch: string | null = null;
  /** @internal pairing machine state index */
  pairingState: number = PairingState.unpaired;
  /** @internal keepalive machine state index */
  keepaliveState: number = KeepaliveState.live;
  /** @internal ms since engine epoch of the last frame or pong */
  heardAt = 0;
  /** @internal ms since engine epoch the ping deadline falls */
  pingDeadline = 0;
  /** @internal timer-wheel tick this connection is filed under (-1: none) */
  wheelSlot = -1;
  /** @internal ms taken off the ping interval to spread pings (the link's: a resume keeps it) */
  pingJitter = 0;
  /** @internal rate-limit tokens left (the link's budget: a resume keeps it) */
  tokens = 0;
  /** @internal when the tokens were counted */
  tokensAt = 0;
  /** @internal byte-rate tokens left */
  byteTokens = 0;
  /** @internal when the byte tokens were counted */
  byteTokensAt = 0;
  /** @internal the client sent `hello` (a v2 client: errors carry their code) */
  saidHello = false;
  /** @internal what its hello asked for, told to its partners in `paired.peer_capabilities` */
  announced: readonly string[] = NOTHING;
  /** @internal uses WebSocket control pings */
  wsPing = false;
  /** @internal the resumable session's state, for clients granted `resume` (null otherwise) */
  resume: ResumeSession | null = null;
  /** @internal ICE servers handed out, for clients granted `ice-servers` (null otherwise) */
  ice: IceGrant | null = null;
  /** @internal pairing by code, for clients granted `codes` (null otherwise) */
  codes: CodeGrant | null = null;
  /** The host's authorization of the link the session is on (null when the host authorizes no one) */
  auth: AuthGrant | null = null;
  /** @internal a directory answer is awaited: later frames wait here, in order (null: none awaited) */
  held: HeldFrames | null = null;
  /** @internal this link's session moved into that one (a resume) */
  resumedInto: Connection<H> | null = null;
  /** @internal the link the session is on now (the handle of the latest link) */
  handle: H;
  constructor(
    /** The client's ID (its shareable key). */
    readonly id: string,
    /** The embedder's handle of the link this record was opened for. */
    readonly link: H,
    /**
     * The record of the same link under another session (a session handed over from another
     * node lands on a fresh link): rate budgets and ping spread belong to the link and carry on.
     */
    sameLink?: Connection<H>,
  ) {
    this.handle = link;
    if (sameLink !== undefined) {
      this.tokens = sameLink.tokens;
      this.tokensAt = sameLink.tokensAt;
      this.byteTokens = sameLink.byteTokens;
      this.byteTokensAt = sameLink.byteTokensAt;
      this.pingJitter = sameLink.pingJitter;
      this.wsPing = sameLink.wsPing;
      this.saidHello = sameLink.saidHello;
      this.announced = sameLink.announced;
      this.auth = sameLink.auth;
    }
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
  /** @internal whether frames for the client go out on a link now (false while its session is detached) */
  get attached(): boolean {
    return this.resume === null || this.resume.attached;
  }
}

/**
 * Who the host says is on a link (e.g. a verified JWT's claims): the host authorizes before the
 * link reaches the engine, which then keeps its rules: clients pair only within their tenant, a
 * link is ended when its authorization expires, and a session resumes only under the same
 * subject and tenant.
 */
export interface Principal {
  /** Who it is (a JWT's `sub`); hosts name the client by it in logs. */
  readonly subject?: string;
  /** Clients pair only with clients of the same tenant (none: only with others without one). */
  readonly tenant?: string;
  /** When (host clock, ms) the authorization ends; the link is closed then (4003). */
  readonly expiresAt?: number;
}

/** A link's principal, with its expiry on the engine's clock. */
export class AuthGrant {
  constructor(
    readonly principal: Principal,
    /** Engine ms the authorization ends (Infinity: never). */
    readonly expiresAt: number,
  ) {}
  /** `principal`'s grant on an engine clock that started at host time `epoch`. */
  static of(principal: Principal, epoch: number): AuthGrant {
    return new AuthGrant(principal, principal.expiresAt === undefined ? Infinity : principal.expiresAt - epoch);
  }
  /** The tenant pairing is confined to (null: none). */
  get tenant(): string | null {
    return this.principal.tenant ?? null;
  }
  /** Who holds it, as a resume elsewhere in the cluster is asked for. */
  get holder(): Holder {
    return { subject: this.principal.subject ?? null, tenant: this.tenant };
  }
}

/** The subject and tenant a link was authorized as: what a resume must match. */
export interface Holder {
  readonly subject: string | null;
  readonly tenant: string | null;
}

/**
 * Whether a session authorized as `granted` may go on on a link authorized as `asking` (a
 * resume): the same subject and tenant. A session the host authorized no one for goes anywhere.
 */
export function mayResume(granted: AuthGrant | null, asking: Holder | null): boolean {
  if (granted === null) return true;
  return asking !== null && asking.subject === (granted.principal.subject ?? null) && asking.tenant === granted.tenant;
}

/** The two halves of a resume token: `<key>.<secret>` on the wire. */
export interface ResumeToken {
  /** Public half: the lookup key. */
  readonly key: string;
  /** Secret half, compared in constant time. */
  readonly secret: string;
}

/** The extra state of a resumable session, allocated only for clients granted `resume`. */
export class ResumeSession {
  /** Whether a link carries the session now (false while detached). */
  attached = true;
  /** When (ms, engine clock) a detached session ends unless resumed. */
  graceDeadline = 0;
  /** Bytes this session adds to the engine's detached total while detached. */
  heldBytes = 0;
  constructor(
    /** The token in force; a resume replaces it (single use). */
    public token: ResumeToken,
    readonly ledger: ResumeLedger,
  ) {}
}

/** A client granted `codes`: the claim its current pairing is made under, if any. */
export class CodeGrant {
  /** The nameplate of that claim (null: none). */
  pairingNameplate: string | null = null;
  /** The partner that claim pairs it with: its `paired` frame names the nameplate only for that one. */
  pairingPeer: string | null = null;
  /** A claim this client made of a nameplate another node holds, once that node accepted it. */
  remoteClaim: { readonly nameplate: string; readonly node: string } | null = null;
}

/** ICE servers handed to a client granted `ice-servers`. */
export interface IceGrant {
  /** When (ms, engine clock) to send fresh ones (80% of the last ones' lifetime). */
  refreshAt: number;
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

/** Frames that arrived while a directory answer was awaited, handled in order once it is in. */
export class HeldFrames {
  readonly frames: WaitingFrame[] = [];
}
