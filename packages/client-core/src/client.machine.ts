// The client's whole lifecycle as one XState v5 machine: three parallel regions, `inbox`
// (pings, server errors), `signaling` (socket up, ID known, reconnect with backoff) and `session`
// (pair → negotiate → open → peer gone → idle). It owns no socket and no RTCPeerConnection: it
// emits effects (`ws.*` carrying typed ClientMessages, `peer.*`) that a driver carries out, and
// public events (`id`, `paired`, `open`, …) for the embedder. Server frames arrive as one event
// per message type (`server.paired`, …). Every guard and action is named in `setup`; time comes
// from the actor's clock (`createActor(machine, { clock })`), so tests use a SimulatedClock.
import { and, assign, emit, enqueueActions, setup, type ActorRefFrom } from 'xstate';
import {
  Capability,
  CloseCode,
  PROTOCOL_VERSION,
  isPairingErrorCode,
  pairingErrorCodeOf,
  type ClientMessage,
  type IceCandidate,
  type PairingErrorCode,
  type ServerMessage,
} from '@tandem/protocol';
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
});

/** Everything the machine remembers. */
export interface ClientContext {
  readonly input: Required<ClientInput>;
  id: string | null;
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
  remoteSet: boolean;
  offerSeen: boolean;
  pendingCandidates: IceCandidate[];
  /** Local candidates gathered before our SDP went out: v1 peers can't use them before it. */
  outCandidates: (IceCandidate | null)[];
  localSent: boolean;
  /** A local offer is out and its answer not yet in (perfect negotiation's "making an offer"). */
  offerPending: boolean;
  seenCandidates: string[];
  queue: PeerData[];
  dropped: number;
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
  | { type: 'PEER_FAILED'; gen: number; reason: string };

/** Effects for the driver to carry out. */
export type ClientEffect =
  | { type: 'ws.connect'; url: string }
  | { type: 'ws.send'; message: ClientMessage }
  | { type: 'ws.close' }
  /** The link is dead (nothing from the server in time): cut it without waiting. */
  | { type: 'ws.drop'; reason: string }
  | { type: 'peer.create'; gen: number }
  | { type: 'peer.createDataChannel'; gen: number; label: string }
  | { type: 'peer.createOffer'; gen: number }
  | { type: 'peer.acceptOffer'; gen: number; sdp: string }
  | { type: 'peer.restartIce'; gen: number }
  | { type: 'peer.rollback'; gen: number }
  | { type: 'peer.acceptAnswer'; gen: number; sdp: string }
  | { type: 'peer.addCandidate'; gen: number; candidate: IceCandidate }
  | { type: 'peer.send'; gen: number; data: PeerData }
  | { type: 'peer.close'; gen: number };

/** Where a client error came from. */
export type ClientErrorSource = 'server' | 'client' | 'peer' | 'signaling';

/** What went wrong, as a code to match on (the message is for people). */
export type ClientErrorCode =
  /** The server refused a pairing request or a signal (wire-v1 texts). */
  | PairingErrorCode
  /** The server sent an error with a text wire-v1 does not name. */
  | 'server_error'
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
  | 'peer_failed';

/** Why a peer session ended. */
export type PeerLeftReason =
  'peer_disconnected' | 'channel_closed' | 'failed' | 'timeout' | 'signaling_lost' | 'closed';

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
  | { type: 'dropped'; count: number }
  | { type: 'closed' };

/** Everything the machine emits. */
export type ClientEmitted = ClientEffect | ClientPublicEvent;

type ErrorParams = { code: ClientErrorCode; message: string; source: ClientErrorSource };

/** What to ask for in `hello`: resume when offered and wanted; control pings only without resume (its link watch needs pings it can see). */
function wantedCapabilities(input: Required<ClientInput>, offered: readonly string[]): string[] {
  const resume = input.resume && offered.includes(Capability.Resume);
  const wanted: string[] = [];
  if (resume) wanted.push(Capability.Resume);
  else if (input.answersControlPings && offered.includes(Capability.WsPing)) wanted.push(Capability.WsPing);
  if (offered.includes(Capability.Leave)) wanted.push(Capability.Leave);
  if (input.serverIceServers && offered.includes(Capability.IceServers)) wanted.push(Capability.IceServers);
  return wanted;
}

/** Server frames that prove the link alive (all of them). */
const watchedServerEvents = [
  'paired',
  'error',
  'offer',
  'answer',
  'candidate',
  'ping',
  'peer_disconnected',
  'welcome',
  'resumed',
  'ack',
].map((t) => `server.${t}` as const);

const END_OF_CANDIDATES: IceCandidate = { candidate: '', sdpMid: null, sdpMLineIndex: null };
const candidateMessage = (c: IceCandidate | null): ClientMessage => ({
  type: 'candidate',
  candidate: c ?? END_OF_CANDIDATES,
});
const candidateKey = (c: IceCandidate) => `${c.sdpMid ?? ''}|${c.sdpMLineIndex ?? ''}|${c.candidate}`;
const freshSession = {
  remoteSet: false,
  offerSeen: false,
  localSent: false,
  offerPending: false,
  pendingCandidates: [],
  outCandidates: [],
  seenCandidates: [],
  queue: [],
};

/** The client machine; drive it with `createTandemClient` or your own driver. */
export const clientMachine = setup({
  types: {
    context: {} as ClientContext,
    events: {} as ClientEvent,
    emitted: {} as ClientEmitted,
    input: {} as ClientInput,
  },
  delays: {
    retryDelay: ({ context }) => context.retryDelay ?? 0,
    deadLink: ({ context }) => context.deadLinkMs ?? 2 ** 31 - 1,
    negotiationTimeout: ({ context }) => context.input.negotiationTimeoutMs,
  },
  guards: {
    sameGen: ({ context, event }) => 'gen' in event && event.gen === context.gen,
    answersPings: ({ context }) => context.input.answerPings,
    hasId: ({ context }) => context.id !== null,
    /** A server that advertised capabilities this client wants gets a hello; v1 servers never see one. */
    serverOffersWanted: ({ context, event }) =>
      event.type === 'server.your_id' && wantedCapabilities(context.input, event.message.capabilities ?? []).length > 0,
    watchesLink: ({ context }) => context.deadLinkMs !== null,
    willRetry: ({ context }) => context.retryDelay !== null,
    retryNow: ({ context }) => context.retryDelay === 0,
    queueFull: ({ context }) => context.queue.length >= context.input.sendQueueLimit,
    /** Perfect negotiation: the initiator is impolite (ignores a colliding offer), the other side polite (rolls back). */
    impolite: ({ context }) => context.initiator,
    offerPending: ({ context }) => context.offerPending,
    iceBroken: ({ event }) =>
      event.type === 'ICE_STATE' && (event.state === 'disconnected' || event.state === 'failed'),
    iceUp: ({ event }) => event.type === 'ICE_STATE' && (event.state === 'connected' || event.state === 'completed'),
    candidateSeen: ({ context, event }) =>
      event.type === 'server.candidate' && context.seenCandidates.includes(candidateKey(event.message.candidate)),
    remoteSet: ({ context }) => context.remoteSet,
    localSent: ({ context }) => context.localSent,
  },
  actions: {
    connect: emit(({ context }) => ({ type: 'ws.connect', url: context.input.url }) as const),
    sendPong: emit({ type: 'ws.send', message: { type: 'pong' } } as const),
    sendHello: emit(
      ({ context, event }) =>
        ({
          type: 'ws.send',
          message: {
            type: 'hello',
            version: PROTOCOL_VERSION,
            capabilities:
              event.type === 'server.your_id'
                ? wantedCapabilities(context.input, event.message.capabilities ?? [])
                : [],
          },
        }) as const,
    ),
    /** A server that states its keepalive timings (and pings in JSON, which every transport shows) lets the client watch the link. */
    recordTimings: assign(({ event }) => {
      if (event.type !== 'server.welcome') return {};
      const m = event.message;
      const watch =
        m.ping_interval_ms !== undefined &&
        m.ping_timeout_ms !== undefined &&
        !m.capabilities.includes(Capability.WsPing);
      return {
        deadLinkMs: watch ? m.ping_interval_ms! + m.ping_timeout_ms! : null,
        canLeave: m.capabilities.includes(Capability.Leave),
      };
    }),
    dropLink: emit(
      ({ context }) => ({ type: 'ws.drop', reason: `no frame from the server for ${context.deadLinkMs} ms` }) as const,
    ),
    recordResumed: assign({ attempt: 0 }),
    announceResumed: emit(
      ({ event }) =>
        ({
          type: 'resumed',
          id: event.type === 'RESUMED' ? event.id : '',
          peerId: event.type === 'RESUMED' ? event.peerId : null,
        }) as const,
    ),
    reportServerError: emit(({ event }) => {
      const error = event.type === 'server.error' ? event.message : { message: '', code: undefined };
      // a v2 server names the code; a v1 server's errors carry only the words
      const code =
        error.code !== undefined
          ? isPairingErrorCode(error.code)
            ? error.code
            : 'server_error'
          : (pairingErrorCodeOf(error.message) ?? 'server_error');
      return { type: 'error', code, message: error.message, source: 'server' } as const;
    }),
    reportBadFrame: emit(
      ({ event }) =>
        ({
          type: 'error',
          code: 'bad_frame',
          message: `Bad frame from server: ${event.type === 'BAD_FRAME' ? event.message : ''}`,
          source: 'signaling',
        }) as const,
    ),
    reportError: emit((_, params: ErrorParams) => ({ type: 'error', ...params }) as const),
    recordId: assign(({ event }) => ({ id: event.type === 'server.your_id' ? event.message.id : null, attempt: 0 })),
    announceId: emit(({ context }) => ({ type: 'id', id: context.id! }) as const),
    /** Ask the reconnect policy once per loss; the answer decides both the delay and whether to retry. */
    planReconnect: assign(({ context, event }) => {
      const loss =
        event.type === 'WS_CLOSED' || event.type === 'LINK_LOST'
          ? { code: event.code, reason: event.reason }
          : { code: CloseCode.Abnormal, reason: '' };
      const attempt = context.attempt + 1;
      // a resumable session keeps its ID through the loss
      const resuming = event.type === 'LINK_LOST';
      return {
        attempt,
        id: resuming ? context.id : null,
        lastLoss: loss,
        retryDelay: context.input.reconnect.nextDelayMs({ attempt, ...loss, resuming }),
      };
    }),
    announceReconnecting: emit(
      ({ context }) =>
        ({
          type: 'reconnecting',
          attempt: context.attempt,
          delayMs: context.retryDelay ?? 0,
          ...context.lastLoss,
          resuming: context.id !== null,
        }) as const,
    ),
    reportSignalingGone: emit(
      ({ context }) =>
        ({
          type: 'error',
          code: 'signaling_gone',
          message: `Signaling connection lost for good (${context.lastLoss.code} ${context.lastLoss.reason})`.trim(),
          source: 'signaling',
        }) as const,
    ),
    sendPairRequest: emit(
      ({ event }) =>
        ({
          type: 'ws.send',
          message: { type: 'pair_request', target_id: event.type === 'PAIR' ? event.key : '' },
        }) as const,
    ),
    resetSession: assign({ peerId: null, ...freshSession }),
    beginSession: assign(({ context, event }) => {
      if (event.type !== 'server.paired') return {};
      return {
        gen: context.gen + 1,
        peerId: event.message.peer_id,
        initiator: event.message.initiator,
        ...freshSession,
        offerPending: event.message.initiator,
      };
    }),
    announcePaired: emit(
      ({ context }) => ({ type: 'paired', peerId: context.peerId!, initiator: context.initiator }) as const,
    ),
    createPeer: emit(({ context }) => ({ type: 'peer.create', gen: context.gen }) as const),
    /** The initiator opens the channel and offers; the responder waits for the offer. */
    startOfferIfInitiator: enqueueActions(({ context, enqueue }) => {
      if (!context.initiator) return;
      enqueue.emit({ type: 'peer.createDataChannel', gen: context.gen, label: context.input.channelLabel });
      enqueue.emit({ type: 'peer.createOffer', gen: context.gen });
    }),
    closePeer: emit(({ context }) => ({ type: 'peer.close', gen: context.gen }) as const),
    announcePeerLeft: emit(
      ({ context }, params: { reason: PeerLeftReason }) =>
        ({ type: 'peerLeft', peerId: context.peerId!, reason: params.reason }) as const,
    ),
    announceOpen: emit(({ context }) => ({ type: 'open', peerId: context.peerId! }) as const),
    queueSend: assign(({ context, event }) => ({
      queue: event.type === 'SEND' ? [...context.queue, event.data] : context.queue,
    })),
    dropSend: assign(({ context }) => ({ dropped: context.dropped + 1 })),
    announceDropped: emit(({ context }) => ({ type: 'dropped', count: context.dropped }) as const),
    /** Send what was queued while the channel opened, in order. */
    flushQueue: enqueueActions(({ context, enqueue }) => {
      for (const data of context.queue) enqueue.emit({ type: 'peer.send', gen: context.gen, data });
      enqueue.assign({ queue: [] });
    }),
    sendToPeer: emit(
      ({ context, event }) =>
        ({ type: 'peer.send', gen: context.gen, data: event.type === 'SEND' ? event.data : '' }) as const,
    ),
    deliverMessage: emit(
      ({ event }) => ({ type: 'message', data: event.type === 'CHANNEL_MESSAGE' ? event.data : '' }) as const,
    ),
    /** Our SDP goes out, then the candidates gathered before it, in order. */
    sendLocalDescription: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'LOCAL_SDP') return;
      enqueue.emit({
        type: 'ws.send',
        message: event.kind === 'offer' ? { type: 'offer', sdp: event.sdp } : { type: 'answer', sdp: event.sdp },
      });
      for (const c of context.outCandidates) enqueue.emit({ type: 'ws.send', message: candidateMessage(c) });
      enqueue.assign({ localSent: true, outCandidates: [] });
    }),
    sendLocalCandidate: emit(
      ({ event }) =>
        ({
          type: 'ws.send',
          message: candidateMessage(event.type === 'LOCAL_CANDIDATE' ? event.candidate : null),
        }) as const,
    ),
    holdLocalCandidate: assign(({ context, event }) => ({
      outCandidates:
        event.type === 'LOCAL_CANDIDATE' ? [...context.outCandidates, event.candidate] : context.outCandidates,
    })),
    /** Apply candidates that arrived before the remote description, in arrival order. */
    applyHeldCandidates: enqueueActions(({ context, enqueue }) => {
      for (const candidate of context.pendingCandidates)
        enqueue.emit({ type: 'peer.addCandidate', gen: context.gen, candidate });
      enqueue.assign({ remoteSet: true, pendingCandidates: [] });
    }),
    acceptOffer: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'server.offer') return;
      enqueue.assign({ offerSeen: true });
      enqueue.emit({ type: 'peer.acceptOffer', gen: context.gen, sdp: event.message.sdp });
    }),
    acceptAnswer: enqueueActions(({ context, event, enqueue }) => {
      enqueue.assign({ offerPending: false });
      enqueue.emit({
        type: 'peer.acceptAnswer',
        gen: context.gen,
        sdp: event.type === 'server.answer' ? event.message.sdp : '',
      });
    }),
    /** Glare, polite side: drop our offer and take theirs. */
    rollbackThenAccept: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'server.offer') return;
      enqueue.assign({ offerPending: false, offerSeen: true });
      enqueue.emit({ type: 'peer.rollback', gen: context.gen });
      enqueue.emit({ type: 'peer.acceptOffer', gen: context.gen, sdp: event.message.sdp });
    }),
    /** ICE restart over signaling (queued and replayed by resume if signaling is down too). */
    restartIce: enqueueActions(({ context, enqueue }) => {
      if (context.offerPending) return;
      enqueue.assign({ offerPending: true });
      enqueue.emit({ type: 'peer.restartIce', gen: context.gen });
    }),
    announcePathLost: emit(({ context }) => ({ type: 'pathLost', peerId: context.peerId! }) as const),
    announcePathRestored: emit(({ context }) => ({ type: 'pathRestored', peerId: context.peerId! }) as const),
    addRemoteCandidate: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'server.candidate') return;
      enqueue.assign({ seenCandidates: [...context.seenCandidates, candidateKey(event.message.candidate)] });
      enqueue.emit({ type: 'peer.addCandidate', gen: context.gen, candidate: event.message.candidate });
    }),
    holdRemoteCandidate: assign(({ context, event }) => {
      if (event.type !== 'server.candidate') return {};
      const c = event.message.candidate;
      return {
        pendingCandidates: [...context.pendingCandidates, c],
        seenCandidates: [...context.seenCandidates, candidateKey(c)],
      };
    }),
    reportPeerFailed: emit(
      ({ event }) =>
        ({
          type: 'error',
          code: 'peer_failed',
          message: `Peer connection failed: ${event.type === 'PEER_FAILED' ? event.reason : ''}`,
          source: 'peer',
        }) as const,
    ),
    closeSocket: emit({ type: 'ws.close' } as const),
    /** The call ended on this side (failure, timeout, channel closed): end the pairing on the server too, so both can pair anew. */
    leavePair: enqueueActions(({ context, enqueue }) => {
      if (context.canLeave) enqueue.emit({ type: 'ws.send', message: { type: 'leave' } });
    }),
    announceClosed: emit({ type: 'closed' } as const),
  },
}).createMachine({
  id: 'client',
  context: ({ input }) => ({
    input: { ...clientInputDefaults, ...input },
    id: null,
    attempt: 0,
    retryDelay: 0,
    lastLoss: { code: 0, reason: '' },
    deadLinkMs: null,
    canLeave: false,
    gen: 0,
    peerId: null,
    initiator: false,
    ...freshSession,
    dropped: 0,
  }),
  initial: 'running',
  states: {
    running: {
      type: 'parallel',
      on: { CLOSE: '#client.closed' },
      states: {
        // Its own region so these run whatever the other regions do with the same event
        // (XState lets an ancestor handle an event only if no region did).
        inbox: {
          on: {
            'server.ping': { guard: 'answersPings', actions: 'sendPong' },
            'server.error': { actions: 'reportServerError' },
            'server.welcome': { actions: 'recordTimings' },
            BAD_FRAME: { actions: 'reportBadFrame' },
          },
        },
        signaling: {
          initial: 'connecting',
          states: {
            connecting: {
              entry: 'connect',
              on: { WS_OPEN: 'awaitingId' },
            },
            awaitingId: {
              on: {
                'server.your_id': [
                  { guard: 'serverOffersWanted', target: 'online', actions: ['recordId', 'announceId', 'sendHello'] },
                  { target: 'online', actions: ['recordId', 'announceId'] },
                ],
                RESUMED: { target: 'online', actions: ['recordResumed', 'announceResumed'] },
              },
            },
            online: {
              // every frame from the server restarts the watch; silence past interval + timeout means the link is dead
              after: { deadLink: { guard: 'watchesLink', actions: 'dropLink' } },
              on: Object.fromEntries(watchedServerEvents.map((type) => [type, { target: 'online', reenter: true }])),
            },
            lost: {
              always: [
                { guard: 'retryNow', target: 'connecting', actions: 'announceReconnecting' },
                { guard: 'willRetry', target: 'backoff', actions: 'announceReconnecting' },
                { target: 'failed', actions: 'reportSignalingGone' },
              ],
            },
            backoff: {
              after: { retryDelay: 'connecting' },
            },
            failed: {},
          },
          on: {
            WS_CLOSED: { target: '.lost', actions: 'planReconnect' },
            LINK_LOST: { target: '.lost', actions: 'planReconnect' },
          },
        },
        session: {
          initial: 'idle',
          states: {
            idle: {
              // cleared here, not on exit from `active`, so the transition out can still name the peer
              entry: 'resetSession',
              on: {
                PAIR: [
                  { guard: 'hasId', target: 'requesting', actions: 'sendPairRequest' },
                  {
                    actions: {
                      type: 'reportError',
                      params: {
                        code: 'not_registered',
                        message: 'Not connected to the signaling server yet',
                        source: 'client',
                      },
                    },
                  },
                ],
                'server.paired': 'active',
                SEND: {
                  actions: {
                    type: 'reportError',
                    params: { code: 'no_channel', message: 'Not connected to a peer: pair first', source: 'client' },
                  },
                },
              },
            },
            requesting: {
              on: {
                'server.paired': 'active',
                'server.error': 'idle',
                WS_CLOSED: {
                  target: 'idle',
                  actions: {
                    type: 'reportError',
                    params: {
                      code: 'signaling_lost',
                      message: 'Signaling connection lost before the pairing completed',
                      source: 'signaling',
                    },
                  },
                },
                RESUME_FAILED: {
                  target: 'idle',
                  actions: {
                    type: 'reportError',
                    params: {
                      code: 'signaling_lost',
                      message: 'Signaling session lost before the pairing completed',
                      source: 'signaling',
                    },
                  },
                },
                PAIR: {
                  actions: {
                    type: 'reportError',
                    params: { code: 'pair_pending', message: 'A pair request is already pending', source: 'client' },
                  },
                },
                SEND: {
                  actions: {
                    type: 'reportError',
                    params: {
                      code: 'no_channel',
                      message: 'Not connected to a peer: pairing in progress',
                      source: 'client',
                    },
                  },
                },
              },
            },
            active: {
              entry: ['beginSession', 'announcePaired', 'createPeer', 'startOfferIfInitiator'],
              // The one place a peer session ends: every way out of `active` passes here once.
              exit: 'closePeer',
              initial: 'negotiating',
              states: {
                negotiating: {
                  after: {
                    negotiationTimeout: {
                      target: '#client.running.session.idle',
                      actions: [
                        'leavePair',
                        { type: 'announcePeerLeft', params: { reason: 'timeout' } },
                        {
                          type: 'reportError',
                          params: {
                            code: 'negotiation_timeout',
                            message: 'Negotiation timed out: the data channel did not open',
                            source: 'peer',
                          },
                        },
                      ],
                    },
                  },
                  on: {
                    CHANNEL_OPEN: { guard: 'sameGen', target: 'open' },
                    SEND: [{ guard: 'queueFull', actions: ['dropSend', 'announceDropped'] }, { actions: 'queueSend' }],
                    WS_CLOSED: {
                      target: '#client.running.session.idle',
                      actions: { type: 'announcePeerLeft', params: { reason: 'signaling_lost' } },
                    },
                  },
                },
                open: {
                  entry: ['announceOpen', 'flushQueue'],
                  on: {
                    SEND: { actions: 'sendToPeer' },
                    CHANNEL_MESSAGE: { guard: 'sameGen', actions: 'deliverMessage' },
                  },
                  initial: 'connected',
                  states: {
                    connected: {
                      on: {
                        ICE_STATE: {
                          guard: and(['sameGen', 'iceBroken']),
                          target: 'restarting',
                          actions: 'announcePathLost',
                        },
                      },
                    },
                    // a network change: restart ICE; the data channel (SCTP) waits and carries on
                    restarting: {
                      entry: 'restartIce',
                      after: {
                        negotiationTimeout: {
                          target: '#client.running.session.idle',
                          actions: [
                            'leavePair',
                            { type: 'announcePeerLeft', params: { reason: 'failed' } },
                            {
                              type: 'reportError',
                              params: {
                                code: 'peer_failed',
                                message: 'ICE restart did not find a path in time',
                                source: 'peer',
                              },
                            },
                          ],
                        },
                      },
                      on: {
                        ICE_STATE: {
                          guard: and(['sameGen', 'iceUp']),
                          target: 'connected',
                          actions: 'announcePathRestored',
                        },
                      },
                    },
                  },
                },
              },
              on: {
                PAIR: {
                  actions: {
                    type: 'reportError',
                    params: {
                      code: 'already_in_session',
                      message: 'Already paired: wait for the peer to leave',
                      source: 'client',
                    },
                  },
                },
                LOCAL_SDP: { guard: 'sameGen', actions: 'sendLocalDescription' },
                LOCAL_CANDIDATE: [
                  { guard: and(['sameGen', 'localSent']), actions: 'sendLocalCandidate' },
                  { guard: 'sameGen', actions: 'holdLocalCandidate' },
                ],
                REMOTE_SET: { guard: 'sameGen', actions: 'applyHeldCandidates' },
                // perfect negotiation: either side may offer at any time (ICE restarts); on glare the
                // impolite side (the initiator) keeps its offer, the polite side rolls back
                'server.offer': [
                  { guard: and(['offerPending', 'impolite']) },
                  { guard: 'offerPending', actions: 'rollbackThenAccept' },
                  { actions: 'acceptOffer' },
                ],
                'server.answer': { guard: 'offerPending', actions: 'acceptAnswer' },
                'server.candidate': [
                  { guard: 'candidateSeen' }, // a duplicate: ignore
                  { guard: 'remoteSet', actions: 'addRemoteCandidate' },
                  { actions: 'holdRemoteCandidate' },
                ],
                'server.peer_disconnected': {
                  target: 'idle',
                  actions: { type: 'announcePeerLeft', params: { reason: 'peer_disconnected' } },
                },
                RESUME_FAILED: {
                  target: 'idle',
                  actions: { type: 'announcePeerLeft', params: { reason: 'signaling_lost' } },
                },
                CHANNEL_CLOSE: {
                  guard: 'sameGen',
                  target: 'idle',
                  actions: ['leavePair', { type: 'announcePeerLeft', params: { reason: 'channel_closed' } }],
                },
                PEER_FAILED: {
                  guard: 'sameGen',
                  target: 'idle',
                  actions: [
                    'leavePair',
                    { type: 'announcePeerLeft', params: { reason: 'failed' } },
                    'reportPeerFailed',
                  ],
                },
              },
            },
          },
        },
      },
    },
    closed: {
      type: 'final',
      entry: ['closeSocket', 'announceClosed'],
    },
  },
});

/** A running client machine. */
export type ClientActor = ActorRefFrom<typeof clientMachine>;
