// The client machine's vocabulary: its input, what it remembers, the events a driver feeds it,
// the effects it asks a driver to carry out, and the public events and error codes an embedder
// sees. The rules that use them live in client.machine.ts.
import type { ClientMessage, IceCandidate, PairingErrorCode, ServerMessage } from '@tandem/protocol';
import type { IceConnectionState, ReconnectPolicy } from './ports.js';

/** Outgoing data for the peer. */
export type PeerData = string | Uint8Array;

/** Input of the client machine. */
export interface ClientInput {
  url: string;
  reconnect: ReconnectPolicy;
  /** Data channel label the initiator creates. Default 'chat'. */
  channelLabel?: string;
  /** Messages `send()` may queue while the channel is still opening; beyond it they are dropped. Default 64. */
  sendQueueLimit?: number;
  /** Give up on a pairing whose channel is not open after this long. Default 30 000 ms. */
  negotiationTimeoutMs?: number;
  /** The transport answers WebSocket control pings itself (ws and browsers do). Default true. */
  answersControlPings?: boolean;
  /** Answer JSON `ping` with `pong`. Default true; false only to test a server's timeout. */
  answerPings?: boolean;
  /**
   * Ask a server that offers `resume` to keep this client's session through a dropped link: the
   * ID, the pairing and the peer connection survive, and no frame is lost. Default true.
   */
  resume?: boolean;
  /**
   * Ask a server that offers `ice-servers` for its STUN/TURN servers (and fresh TURN credentials
   * before they expire); they are used alongside the client's own. Default true.
   */
  serverIceServers?: boolean;
  /**
   * How long a live call waits for signaling to be restored around it (fresh IDs exchanged over
   * the call, the pair requested anew) after the server lost its session. Default 30 000 ms.
   */
  restoreTimeoutMs?: number;
  /**
   * Restore signaling around a live call with a tandem peer when the server loses the session
   * (false: the call ends then, as with a wire-v1 peer). Default true.
   */
  restoreCalls?: boolean;
  /** Ask a server that offers `codes` for them, so this client can pair by short code. Default true. */
  codes?: boolean;
  /**
   * Told to this client's partners along with its hello (a v2 server echoes it in their
   * `paired.peer_capabilities`), e.g. `peer.media`: this client takes media in the first offer.
   * Never sent to a v1 server. Default none.
   */
  announce?: readonly string[];
  /**
   * When the server loses the call's pairing, the peer is asked over the call whether it is still
   * there; without an answer in this long the call is taken for gone and ends. Default 3 000 ms.
   */
  probeTimeoutMs?: number;
}

/** The defaults of the optional inputs. */
export const clientInputDefaults = Object.freeze({
  channelLabel: 'chat',
  sendQueueLimit: 64,
  negotiationTimeoutMs: 30_000,
  answersControlPings: true,
  answerPings: true,
  resume: true,
  serverIceServers: true,
  restoreTimeoutMs: 30_000,
  restoreCalls: true,
  codes: true,
  announce: Object.freeze([]) as readonly string[],
  probeTimeoutMs: 3_000,
});

/** Everything the machine remembers. */
export interface ClientContext {
  readonly input: Required<ClientInput>;
  /** The ID the server gave this client, kept through a loss while its session waits to be resumed. */
  id: string | null;
  /** The link was lost under a resumable session: it waits on the server, and the next link resumes it. */
  resuming: boolean;
  attempt: number;
  /** The delay the reconnect policy chose for the current loss; null: it gave up. */
  retryDelay: number | null;
  /** Close code and reason of the last signaling loss. */
  lastLoss: { code: number; reason: string };
  /** With no frame from the server for this long (its ping interval plus timeout), the link is dead; null: not watched. */
  deadLinkMs: number | null;
  /** The server granted `leave`: a session that ends here (not by the server) is ended there too. */
  canLeave: boolean;
  /** Generation of the current peer session; events from older ones are ignored. */
  gen: number;
  peerId: string | null;
  initiator: boolean;
  /** What the partner asked for in its hello, as the server told (`paired.peer_capabilities`); null: not told. */
  peerCapabilities: readonly string[] | null;
  remoteSet: boolean;
  pendingCandidates: IceCandidate[];
  /** Local candidates gathered before our SDP went out: v1 peers can't use them before it. */
  outCandidates: (IceCandidate | null)[];
  localSent: boolean;
  /** A local offer is out and its answer not yet in (perfect negotiation's "making an offer"). */
  offerPending: boolean;
  /** Media changed while an offer was out: offer again once it is answered (or rolled back). */
  renegotiate: boolean;
  /** This call has carried media offers (a rolled-back offer of ours is then made again). */
  media: boolean;
  seenCandidates: string[];
  queue: PeerData[];
  dropped: number;
  /** The peer is a tandem client with the control channel up: signaling can be restored around the call. */
  peerTandem: boolean;
  /** The server lost this call's pairing while the call is up: restoring it through the call. */
  restoring: boolean;
  /** The ID the peer told us over the call while restoring. */
  peerNewId: string | null;
  /** The key our last re-pair request asked for (null: none out); a newer key from the peer is asked for again. */
  repairTarget: string | null;
  /** Signaling frames (offer, answer, candidates) held while restoring, sent once the pair is back. */
  heldSignals: ClientMessage[];
  /** The peer answered over the call since restoring began: it is there. */
  peerAlive: boolean;
  /** What to tell if the call turns out gone while restoring. */
  restoreCause: PeerLeftReason;
}

/** One event per server message type: `server.<type>` carrying the decoded message. */
export type ServerEvent = {
  [K in ServerMessage['type']]: { type: `server.${K}`; message: Extract<ServerMessage, { type: K }> };
}[ServerMessage['type']];

/** The event for a decoded server message. */
export function serverEvent(message: ServerMessage): ServerEvent {
  return { type: `server.${message.type}`, message } as ServerEvent;
}

/** Events the driver feeds in. */
export type ClientEvent =
  | { type: 'PAIR'; key: string }
  /** End the pairing (and the call), stay registered: both sides may pair anew. */
  | { type: 'LEAVE' }
  | { type: 'SEND'; data: PeerData }
  | { type: 'CLOSE' }
  | { type: 'WS_OPEN' }
  | { type: 'WS_CLOSED'; code: number; reason: string }
  /** The link dropped under a resumable session: reconnect and resume; the session stays. */
  | { type: 'LINK_LOST'; code: number; reason: string }
  /** The session is back on a new link (the driver already replayed what was missed). */
  | { type: 'RESUMED'; id: string; peerId: string | null }
  /** The server refused the resume: the session is gone; a fresh `your_id` follows. */
  | { type: 'RESUME_FAILED'; message: string }
  | ServerEvent
  | { type: 'BAD_FRAME'; message: string }
  | { type: 'LOCAL_SDP'; gen: number; sdp: string; kind: 'offer' | 'answer' }
  | { type: 'ICE_STATE'; gen: number; state: IceConnectionState }
  | { type: 'LOCAL_CANDIDATE'; gen: number; candidate: IceCandidate | null }
  | { type: 'REMOTE_SET'; gen: number }
  | { type: 'CHANNEL_OPEN'; gen: number }
  | { type: 'CHANNEL_MESSAGE'; gen: number; data: PeerData }
  | { type: 'CHANNEL_CLOSE'; gen: number }
  | { type: 'PEER_FAILED'; gen: number; reason: string }
  /** What the peer is (from the call's control channel, or its absence). */
  | { type: 'PEER_FEATURES'; gen: number; tandem: boolean }
  /** The peer told us over the call the ID it now has at the server. */
  | { type: 'PEER_REKEY'; gen: number; id: string }
  /** The peer answered our probe over the call. */
  | { type: 'PEER_PONG'; gen: number }
  /** No answer from the peer over the call in time (raised by the machine itself). */
  | { type: 'PROBE_TIMEOUT' }
  /** The peer ended the call (said so over the call before closing its side). */
  | { type: 'PEER_BYE'; gen: number }
  /** The app changed the call's media: an offer carries the change (perfect negotiation, glare handled). */
  | { type: 'RENEGOTIATE'; gen: number }
  /** Restoring signaling around the call took too long (raised by the machine itself). */
  | { type: 'RESTORE_TIMEOUT' };

/** Effects for the driver to carry out. */
export type ClientEffect =
  | { type: 'ws.connect'; url: string }
  | { type: 'ws.send'; message: ClientMessage }
  | { type: 'ws.close' }
  /** The link is dead (nothing from the server in time): cut it without waiting. */
  | { type: 'ws.drop'; reason: string }
  | { type: 'peer.create'; gen: number; initiator: boolean }
  | { type: 'peer.createDataChannel'; gen: number; label: string }
  | { type: 'peer.createOffer'; gen: number }
  | { type: 'peer.acceptOffer'; gen: number; sdp: string }
  | { type: 'peer.restartIce'; gen: number }
  | { type: 'peer.renegotiate'; gen: number }
  | { type: 'peer.rollback'; gen: number }
  | { type: 'peer.acceptAnswer'; gen: number; sdp: string }
  | { type: 'peer.addCandidate'; gen: number; candidate: IceCandidate }
  | { type: 'peer.send'; gen: number; data: PeerData }
  | { type: 'peer.close'; gen: number }
  /** Tell the peer over the call's control channel our current ID (restoring signaling around the call). */
  | { type: 'peer.rekey'; gen: number; id: string }
  /** Ask the peer over the call whether it is still there (it answers PEER_PONG). */
  | { type: 'peer.probe'; gen: number };

/** Where a client error came from. */
export type ClientErrorSource = 'server' | 'client' | 'peer' | 'signaling';

/** What went wrong, as a code to match on (the message is for people). */
export type ClientErrorCode =
  /** The server refused a pairing request or a signal (wire-v1 texts). */
  | PairingErrorCode
  /** The server sent an error with a text wire-v1 does not name. */
  | 'server_error'
  /** `send()` on a call paired by code before it is verified. */
  | 'not_verified'
  /** A feature's code (a chunk loaded when a call first uses it) could not be loaded: the call goes on without it. */
  | 'feature_unavailable'
  /** A frame from the server could not be decoded. */
  | 'bad_frame'
  /** `pair()` before the server assigned an ID. */
  | 'not_registered'
  /** `pair()` while a request is pending. */
  | 'pair_pending'
  /** `pair()` while paired. */
  | 'already_in_session'
  /** `send()` with no open data channel. */
  | 'no_channel'
  /** The signaling socket dropped while a pairing was pending. */
  | 'signaling_lost'
  /** The reconnect policy gave up. */
  | 'signaling_gone'
  /** The data channel did not open in time. */
  | 'negotiation_timeout'
  /** ICE/DTLS failed or the peer connection closed. */
  | 'peer_failed'
  /** `leave()` on a server that did not grant `leave` (wire v1 has no way to end a pairing but reconnecting). */
  | 'leave_unsupported';

/** Why a peer session ended. */
export type PeerLeftReason =
  'peer_disconnected' | 'channel_closed' | 'failed' | 'timeout' | 'signaling_lost' | 'closed' | 'left';

/** Typed events for the embedder. */
export type ClientPublicEvent =
  | { type: 'id'; id: string }
  | { type: 'paired'; peerId: string; initiator: boolean }
  | { type: 'open'; peerId: string }
  | { type: 'message'; data: PeerData }
  | { type: 'peerLeft'; peerId: string; reason: PeerLeftReason }
  | { type: 'error'; code: ClientErrorCode; message: string; source: ClientErrorSource }
  | { type: 'reconnecting'; attempt: number; delayMs: number; code: number; reason: string; resuming: boolean }
  /** The direct connection's network path broke (ICE failed): restarting ICE over signaling; the channel waits. */
  | { type: 'pathLost'; peerId: string }
  /** ICE found a path again: the same data channel carries on. */
  | { type: 'pathRestored'; peerId: string }
  /** The signaling link is back and the session with it: same ID, same pairing. */
  | { type: 'resumed'; id: string; peerId: string | null }
  /** The server lost the session but the call is up: restoring signaling around it (fresh keys, through the call). */
  | { type: 'restoring'; peerId: string }
  /** Signaling is back around the live call: this client's new key, and the peer's. */
  | { type: 'signalingRestored'; id: string; peerId: string }
  | { type: 'dropped'; count: number }
  | { type: 'closed' };

/** Everything the machine emits. */
export type ClientEmitted = ClientEffect | ClientPublicEvent;

/** The parameters of a `reportError` action. */
export type ErrorParams = { code: ClientErrorCode; message: string; source: ClientErrorSource };
