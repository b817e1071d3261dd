// What the engine asks of its host: the effect sink (send, ping, close, log) and the typed values
// those effects carry. The host decides how; the engine decides what, including whether a close
// is abrupt, so no host ever has to read a reason text to choose.
import { CloseCode, type PairingErrorCode } from '@tandem/protocol';

/** Why the engine closes a connection, as codes. */
export type CloseReasonCode =
  | 'ping_timeout'
  | 'rate_limited'
  | 'byte_rate_limited'
  | 'slow_consumer'
  | 'frame_too_large'
  | 'shutdown'
  | 'drain'
  | 'taken_over'
  | 'unacknowledged'
  | 'auth_expired';

/** A close the engine asks for: the WebSocket code and reason to send, and whether to skip the closing handshake. */
export interface ConnectionClose {
  readonly reason: CloseReasonCode;
  /** WebSocket close code. */
  readonly code: CloseCode;
  /** Close reason text sent to the client (also the disconnect reason logged); at most 123 bytes. */
  readonly text: string;
  /** Cut the connection without a closing handshake (the client is presumed gone). */
  readonly abrupt: boolean;
}

/** Every close whose words do not depend on settings, once; frozen so effects allocate nothing. */
export const connectionCloses = Object.freeze({
  // a client that missed its ping deadline is gone: waiting for its closing handshake is pointless
  ping_timeout: Object.freeze({
    reason: 'ping_timeout',
    code: CloseCode.GoingAway,
    text: 'ping timeout',
    abrupt: true,
  }),
  rate_limited: Object.freeze({
    reason: 'rate_limited',
    code: CloseCode.PolicyViolation,
    text: 'rate limit exceeded',
    abrupt: false,
  }),
  byte_rate_limited: Object.freeze({
    reason: 'byte_rate_limited',
    code: CloseCode.PolicyViolation,
    text: 'byte rate limit exceeded',
    abrupt: false,
  }),
  // the close frame queues behind what the client did not read; the host cuts the link if the
  // handshake does not finish within closeHandshakeTimeoutMs
  slow_consumer: Object.freeze({
    reason: 'slow_consumer',
    code: CloseCode.PolicyViolation,
    text: 'slow consumer: too many bytes queued unread',
    abrupt: false,
  }),
  shutdown: Object.freeze({
    reason: 'shutdown',
    code: CloseCode.GoingAway,
    text: 'server shutting down',
    abrupt: false,
  }),
  drain: Object.freeze({
    reason: 'drain',
    code: CloseCode.ServiceRestart,
    text: 'server draining: reconnect',
    abrupt: false,
  }),
  unacknowledged: Object.freeze({
    reason: 'unacknowledged',
    code: CloseCode.PolicyViolation,
    text: 'too many frames left unacknowledged',
    abrupt: false,
  }),
  // the client reconnects with a fresh token (and resumes, when it can)
  auth_expired: Object.freeze({
    reason: 'auth_expired',
    code: CloseCode.AuthExpired,
    text: 'authorization expired: reconnect with a fresh token',
    abrupt: false,
  }),
  // a half-open link whose session a newer connection resumed
  taken_over: Object.freeze({
    reason: 'taken_over',
    code: CloseCode.SessionTakenOver,
    text: 'session resumed on another connection',
    abrupt: false,
  }),
} satisfies Record<Exclude<CloseReasonCode, 'frame_too_large'>, ConnectionClose>);

/** The close for a frame over the limit; its words name the limit. */
export function frameTooLargeClose(maxFrameBytes: number): ConnectionClose {
  return Object.freeze({
    reason: 'frame_too_large',
    code: CloseCode.MessageTooBig,
    text: `frame too large (limit ${maxFrameBytes} bytes)`,
    abrupt: false,
  });
}

/** Why a connection ended, as the log reports it: 'closed', 'connection lost', or the text of the engine's close. */
export type DisconnectReason = string;

/** Structured log events; embedders render them (the reference server prints the seed's lines). */
export type ServerLogEvent =
  /** `subject`: the host's principal for the link (e.g. a JWT's `sub`), when it authorizes clients. */
  | { type: 'connected'; id: string; subject?: string }
  | { type: 'disconnected'; id: string; reason: DisconnectReason }
  | { type: 'paired'; id: string; peerId: string }
  /** A nameplate event (codes): handed out, claimed, refused, confirmed, burnt, expired, replaced. Never the code. */
  | {
      type: 'nameplate';
      id: string;
      event: 'allocated' | 'claimed' | 'claim_refused' | 'confirmed' | 'burnt' | 'expired' | 'replaced';
    }
  | { type: 'pair_failed'; id: string; targetId: string; error: PairingErrorCode; message: string }
  | { type: 'relayed'; from: string; to: string; messageType: SignalType }
  | { type: 'not_paired'; id: string; messageType: SignalType }
  | { type: 'rejected'; id: string; message: string }
  | { type: 'pinged'; id: string; mode: 'json' | 'control' }
  | { type: 'timed_out'; id: string }
  | { type: 'rate_limited'; id: string; unit: 'messages' | 'bytes' }
  | { type: 'slow_consumer'; id: string; bufferedBytes: number; limit: number }
  | { type: 'peer_notified'; id: string; peerId: string }
  /** A resumable session lost its link and waits `graceMs` for its client (the partner is not told). */
  | { type: 'detached'; id: string; reason: DisconnectReason; graceMs: number }
  /** A new link took the session over; `replayed` frames it had missed were sent again. */
  | { type: 'resumed'; id: string; replayed: number; tookOver: boolean }
  /** A `resume` was refused; the connection goes on as a fresh session. */
  | { type: 'resume_failed'; id: string; why: string }
  /** A session's client resumed through another node of the cluster, which now holds it. */
  | { type: 'handed_over'; id: string; node: string }
  /** The link's authorization expired: closed with 4003 (a resumable session waits, detached, for a re-authorized resume). */
  | { type: 'auth_expired'; id: string };

/** Where the engine's effects go. `H` is the embedder's own handle for a connection (e.g. a socket). */
export interface EffectSink<H> {
  /** Send one text frame. */
  send(handle: H, frame: string): void;
  /** Send a WebSocket control ping (only for clients that negotiated `keepalive.ws-ping`). */
  ping(handle: H): void;
  /** Close the connection as `close` says; the engine already treats it as gone. */
  close(handle: H, close: ConnectionClose): void;
  /**
   * Bytes queued for `handle` and not yet written to the network (a WebSocket's bufferedAmount).
   * When given, a connection whose queue passes `maxBufferedBytes` is closed as a slow consumer.
   */
  bufferedBytes?(handle: H): number;
  /**
   * A detached session left link `handle` (it resumed on another link, moved to another node, or
   * ended): nothing of the engine's is on that link any more, so what the host counts for it
   * (e.g. its slot under a connection cap) can be freed.
   */
  linkReleased?(handle: H): void;
  /** Optional structured log. */
  log?(event: ServerLogEvent): void;
  /**
   * Which log events `log` wants, asked once per type when the engine is built (default: all).
   * Events a sink does not want are never built: relays and pings are the hot path.
   */
  wantsLog?(type: ServerLogEvent['type']): boolean;
}

export { type ServerStats, type SignalType, zeroStats } from './stats.js';
import type { SignalType } from './stats.js';
