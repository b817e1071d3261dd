// The two things a client needs from its host, as interfaces: a signaling transport and a
// WebRTC peer. Adapters implement them (ws / werift in Node, WebSocket / RTCPeerConnection in the
// browser); tests implement them in memory. The machine never touches either directly.
import type { IceCandidate } from '@tandem/protocol';

/** A timer source, as XState's actor system takes it (a SimulatedClock fits). */
export interface Clock {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown;
  clearTimeout(id: unknown): void;
}

/** Callbacks a transport calls; the client supplies them when it connects. */
export interface TransportHandlers {
  open(): void;
  message(text: string): void;
  /** The socket is gone (after an open or a failed connect). */
  close(code: number, reason: string): void;
}

/** One signaling connection. */
export interface SignalingTransport {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

/** How to open one signaling connection. */
export interface TransportOptions {
  /**
   * A token for a server that authorizes clients: sent as the `tandem.token.<token>` WebSocket
   * subprotocol (with `tandem`), never in the URL, which proxies log.
   */
  readonly token?: string;
}

/** Opens a signaling connection to `url`; must call `handlers.close` if it cannot. */
export type TransportFactory = (
  url: string,
  handlers: TransportHandlers,
  options?: TransportOptions,
) => SignalingTransport;

/** A token, or a provider asked again before every connect (so a long session can refresh it). */
export type TokenSource = string | (() => string | Promise<string>);

/** An ICE server, as in RTCIceServer. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** Callbacks a peer calls; the client supplies them when it creates the peer. */
export interface PeerHandlers {
  /** A local ICE candidate was gathered; `null` means gathering is complete. */
  iceCandidate(candidate: IceCandidate | null): void;
  /** The first (chat) channel opened; `protocol` is its DCEP subprotocol (a tandem peer names itself there). */
  channelOpen(protocol?: string): void;
  channelMessage(data: string | Uint8Array): void;
  channelClose(): void;
  /**
   * The peer opened another data channel (any but the first, which is chat). Only a stack with
   * `openChannel` calls it; the channel starts without handlers.
   */
  channel?(port: DataChannelPort): void;
  /** The connection closed for good (not an ICE failure: that is `iceState`, and can be restarted). */
  failed(reason: string): void;
  /** The ICE connection state changed (RTCIceConnectionState); `disconnected`/`failed` ask for an ICE restart. */
  iceState(state: IceConnectionState): void;
  /** A remote media track arrived (a stack with `addTrack` calls it). */
  track?(track: RemoteTrack): void;
  /** A remote media track ended (the peer removed it, or hung up). */
  trackEnded?(id: string): void;
  /** Media arrived on a remote track (it unmuted: the peer sends on it now). */
  trackFlowing?(id: string): void;
}

/** Audio or video. */
export type MediaKind = 'audio' | 'video';

/**
 * A local media track as the stack holds it (a MediaStreamTrack in a browser); the core reads
 * only these fields and hands the object back to the stack as it is.
 */
export interface LocalTrack {
  readonly id: string;
  /** 'audio' or 'video' (typed as a string so a browser's MediaStreamTrack is a LocalTrack as it is). */
  readonly kind: string;
  /** False: the track sends silence or black (mute without renegotiation). */
  enabled: boolean;
  /** Release the camera or microphone. */
  stop(): void;
}

/** A local track's kind as the core uses it; a kind other than audio or video is refused (TypeError). */
export function mediaKindOf(track: LocalTrack): MediaKind {
  if (track.kind === 'audio' || track.kind === 'video') return track.kind;
  throw new TypeError(`not an audio or video track (kind ${JSON.stringify(track.kind)})`);
}

/** A remote media track, and the stream it came in, as the stack received them. */
export interface RemoteTrack {
  readonly id: string;
  readonly kind: MediaKind;
  /** The stack's own objects (MediaStreamTrack and MediaStream in a browser), for the app to render. */
  readonly track: unknown;
  readonly stream: unknown;
}

/** A call's live quality, as a stack's statistics tell it. */
export interface MediaStats {
  /** The received video's size and rate (0 when no video comes). */
  readonly width: number;
  readonly height: number;
  readonly framesPerSecond: number;
  /** Round trip of the connection's selected candidate pair, ms (null: not measured yet). */
  readonly roundTripMs: number | null;
  /** Packets of the received tracks lost so far. */
  readonly packetsLost: number;
}

/** How the stack sends one local track (an RTCRtpSender). */
export interface TrackSender {
  readonly kind: MediaKind;
  /** Send another track in its place (camera ↔ screen), with no renegotiation; null: send nothing. */
  replaceTrack(track: LocalTrack | null): Promise<void>;
}

/** RTCIceConnectionState. */
export type IceConnectionState = 'new' | 'checking' | 'connected' | 'completed' | 'disconnected' | 'failed' | 'closed';

/** How a data channel is opened (RTCDataChannelInit, as far as tandem passes it on). */
export interface DataChannelInit {
  /** In order (default true). */
  readonly ordered?: boolean;
  /** Partial reliability: give up after this many retransmissions. */
  readonly maxRetransmits?: number;
  /** Partial reliability: give up after this many milliseconds. */
  readonly maxPacketLifeTime?: number;
  /** The DCEP subprotocol. */
  readonly protocol?: string;
}

/** Callbacks of one data channel. */
export interface DataChannelHandlers {
  open(): void;
  message(data: string | Uint8Array): void;
  /** The buffered amount fell to or below `bufferedAmountLowThreshold`. */
  bufferedAmountLow(): void;
  close(): void;
}

/** One data channel of a stack, as thin as RTCDataChannel (the port a tandem channel wraps). */
export interface DataChannelPort {
  readonly label: string;
  readonly protocol: string;
  readonly readyState: 'connecting' | 'open' | 'closing' | 'closed';
  /** Bytes queued in the stack, not yet handed to the network. */
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  /** Throws when the channel is not open. */
  send(data: string | Uint8Array): void;
  close(): void;
  /** Set (or, with null, detach) the callbacks; a channel that is already open gets `open` once set. */
  setHandlers(handlers: DataChannelHandlers | null): void;
}

/** One WebRTC peer connection: the chat channel, and more channels where the stack has `openChannel`. */
export interface PeerSession {
  /** Initiator only: create the (chat) data channel, before the offer. */
  createDataChannel(label: string, init?: DataChannelInit): void;
  /**
   * Open another data channel on the connected session (SCTP needs no renegotiation once the
   * first channel is up). Stacks without it carry chat only.
   */
  openChannel?(label: string, init?: DataChannelInit): DataChannelPort;
  /** Create an offer and set it as the local description; resolves to its SDP. */
  createOffer(): Promise<string>;
  /** Set a remote offer, create and set the answer; resolves to the answer's SDP. */
  acceptOffer(sdp: string): Promise<string>;
  /** Set the remote answer. */
  acceptAnswer(sdp: string): Promise<void>;
  /** Restart ICE: create an ICE-restart offer and set it as the local description; resolves to its SDP. */
  restartIce(): Promise<string>;
  /** Roll a local offer back (perfect negotiation, polite side, on glare). */
  rollback(): Promise<void>;
  /** The candidate pair in use once connected (null before, or if the stack cannot tell). */
  selectedPath?(): Promise<SelectedPath | null>;
  /**
   * The DTLS certificate fingerprints of the call: this side's own (`local`), and every one its
   * stack would accept from the peer (`remote`; a stack that keeps fingerprints of earlier remote
   * descriptions lists those too), as `sha-256 AB:CD:…`. Stacks without it get no safety code.
   */
  fingerprints?(): PeerFingerprints;
  /**
   * Send `track` to the peer (`sendonly`: receive nothing back on it); takes effect with the next
   * offer (`renegotiate`). Stacks without it carry no media.
   */
  addTrack?(track: LocalTrack, direction?: 'sendrecv' | 'sendonly'): TrackSender;
  /** Stop sending what `sender` sends; takes effect with the next offer. */
  removeTrack?(sender: TrackSender): void;
  /**
   * Let the transceiver `remote` arrived on send back too, with no track yet, so that the answer
   * being made to the remote offer carries a sender there: a track put on it later (its
   * `replaceTrack`) flows with no new offer, as a callee answering with its camera. Called from
   * the `track` handler, before the offer is answered; null when the transceiver cannot (it sends
   * already, or was offered receive-only). Stacks without it send back with an offer of their own.
   */
  replyOn?(remote: RemoteTrack): TrackSender | null;
  /** Create an offer for what changed (tracks), without an ICE restart, and set it locally; resolves to its SDP. */
  renegotiate?(): Promise<string>;
  /** How the received video is doing (from the stack's statistics), or null when nothing is received. */
  mediaStats?(): Promise<MediaStats | null>;
  /** Add a remote candidate (only after the remote description is set). */
  addCandidate(candidate: IceCandidate): Promise<void>;
  /** Send over the open data channel. */
  send(data: string | Uint8Array): void;
  /** Close the channel and the connection; must be idempotent and detach all handlers. */
  close(): void;
}

/** A call's DTLS fingerprints, as `PeerSession.fingerprints` tells them. */
export interface PeerFingerprints {
  readonly local: readonly string[];
  readonly remote: readonly string[];
}

/** Creates a peer session for one pairing. */
export type PeerFactory = (options: {
  iceServers: readonly IceServer[];
  /** 'relay': only TURN relay candidates, so the peer never learns this host's addresses. */
  iceTransportPolicy: 'all' | 'relay';
  handlers: PeerHandlers;
}) => PeerSession;

/** Kinds of ICE candidate (RTCIceCandidateType). */
export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';

/** The candidate pair a connected peer session uses. */
export interface SelectedPath {
  readonly local: CandidateType;
  readonly remote: CandidateType;
}

/** Context a reconnect policy decides on. */
export interface ReconnectContext {
  /** 1 for the first retry after a loss. */
  attempt: number;
  /** Close code and reason of the last loss. */
  code: number;
  reason: string;
  /** The server holds this client's session for a grace period: retrying often is worth it. */
  resuming?: boolean;
}

/** Decides how long to wait before the next signaling reconnect, or `null` to give up. */
export interface ReconnectPolicy {
  nextDelayMs(context: ReconnectContext): number | null;
}

/** The default policy: the first retry at once, then exponential backoff with jitter, capped. */
export function exponentialBackoff(
  options: {
    baseMs?: number;
    maxMs?: number;
    /** Cap while resuming (the session waits on the server, and each retry is one cheap connect). Default 1 000. */
    resumeMaxMs?: number;
    maxAttempts?: number;
    /** Uniform [0, 1); inject a seeded source in tests. */
    random?: () => number;
  } = {},
): ReconnectPolicy {
  const { baseMs = 500, maxMs = 30_000, resumeMaxMs = 1_000, maxAttempts = Infinity, random = Math.random } = options;
  return {
    nextDelayMs({ attempt, resuming }) {
      if (attempt > maxAttempts) return null;
      // the first retry goes at once (most drops are blips); later ones back off
      if (attempt === 1) return 0;
      const ceiling = Math.min(resuming ? resumeMaxMs : maxMs, baseMs * 2 ** Math.min(attempt - 2, 30));
      // full jitter, but never below half the ceiling so retries don't stampede at 0 ms
      return Math.round(ceiling / 2 + (random() * ceiling) / 2);
    },
  };
}
