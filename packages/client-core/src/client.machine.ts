// The client's whole lifecycle as one XState v5 machine: three parallel regions, `inbox`
// (pings, server errors), `signaling` (socket up, ID known, reconnect with backoff) and `session`
// (pair → negotiate → open → peer gone → idle). It owns no socket and no RTCPeerConnection: it
// emits effects (`ws.*` carrying typed ClientMessages, `peer.*`) that a driver carries out, and
// public events (`id`, `paired`, `open`, …) for the embedder. Server frames arrive as one event
// per message type (`server.paired`, …). Every guard and action is named in `setup`; time comes
// from the actor's clock (`createActor(machine, { clock })`), so tests use a SimulatedClock.
import { and, assign, cancel, emit, enqueueActions, not, setup, type ActorRefFrom } from 'xstate';
import {
  Capability,
  CloseCode,
  PROTOCOL_VERSION,
  isPairingErrorCode,
  pairingErrorCodeOf,
  type ClientMessage,
  type IceCandidate,
} from '@tandem/protocol/wire';
import {
  clientInputDefaults,
  type ClientContext,
  type ClientEmitted,
  type ClientEvent,
  type ClientInput,
  type ErrorParams,
  type PeerLeftReason,
} from './client.vocabulary.js';

export * from './client.vocabulary.js';

/** What to ask for in `hello`: resume when offered and wanted; control pings only without resume (its link watch needs pings it can see). */
function wantedCapabilities(input: Required<ClientInput>, offered: readonly string[]): string[] {
  const resume = input.resume && offered.includes(Capability.Resume);
  const wanted: string[] = [];
  if (resume) wanted.push(Capability.Resume);
  else if (input.answersControlPings && offered.includes(Capability.WsPing)) wanted.push(Capability.WsPing);
  if (offered.includes(Capability.Leave)) wanted.push(Capability.Leave);
  if (input.serverIceServers && offered.includes(Capability.IceServers)) wanted.push(Capability.IceServers);
  if (input.codes && offered.includes(Capability.Codes)) wanted.push(Capability.Codes);
  return wanted;
}

/**
 * The server events that prove the link alive while online: every message the server sends once
 * the ID is known (`your_id` comes before, and `ice_servers` is taken by the driver).
 */
const linkAliveEvents = [
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
  'nameplate',
  'nameplate_closed',
].map((t) => `server.${t}` as const);

const END_OF_CANDIDATES: IceCandidate = { candidate: '', sdpMid: null, sdpMLineIndex: null };
const candidateMessage = (c: IceCandidate | null): ClientMessage => ({
  type: 'candidate',
  candidate: c ?? END_OF_CANDIDATES,
});
const candidateKey = (c: IceCandidate) => `${c.sdpMid ?? ''}|${c.sdpMLineIndex ?? ''}|${c.candidate}`;
const freshSession = {
  remoteSet: false,
  localSent: false,
  offerPending: false,
  renegotiate: false,
  media: false,
  pendingCandidates: [],
  outCandidates: [],
  seenCandidates: [],
  queue: [],
  peerTandem: false,
  restoring: false,
  peerNewId: null,
  repairTarget: null,
  heldSignals: [],
  peerAlive: false,
  restoreCause: 'signaling_lost' as const,
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
    // `not_paired` answering a signal this client sent just before its pairing ended (a late ICE
    // candidate crossing the server's peer_left): it knows already, and the user needs no word
    lateNotPaired: ({ context, event }) =>
      event.type === 'server.error' &&
      context.peerId === null &&
      (event.message.code ?? pairingErrorCodeOf(event.message.message)) === 'not_paired',
    canLeave: ({ context }) => context.canLeave,
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
    /** The peer is a tandem client with the call's control channel up: signaling can be restored around the call. */
    peerIsTandem: ({ context }) => context.peerTandem && context.input.restoreCalls,
    restoring: ({ context }) => context.restoring,
    peerSilent: ({ context }) => context.restoring && !context.peerAlive,
    /** The pair the server just made is the call's, restored (our own request, or the peer's for our new ID). */
    // Any pairing while restoring is the call's: our own request, or the peer's for our new key,
    // which only the peer knows (it was told over the call; keys are unguessable). The peer's key
    // told earlier may be stale (another restart since), so it is not required to match.
    restoredPair: ({ context, event }) => event.type === 'server.paired' && context.restoring,
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
                ? [...wantedCapabilities(context.input, event.message.capabilities ?? []), ...context.input.announce]
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
    recordResumed: assign({ attempt: 0, resuming: false }),
    forgetSession: assign({ id: null, resuming: false }),
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
    recordId: assign(({ event }) => ({
      id: event.type === 'server.your_id' ? event.message.id : null,
      attempt: 0,
      resuming: false,
    })),
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
        resuming,
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
          resuming: context.resuming,
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
        peerCapabilities: event.message.peer_capabilities ?? null,
        ...freshSession,
        offerPending: event.message.initiator,
      };
    }),
    announcePaired: emit(
      ({ context }) => ({ type: 'paired', peerId: context.peerId!, initiator: context.initiator }) as const,
    ),
    createPeer: emit(
      ({ context }) => ({ type: 'peer.create', gen: context.gen, initiator: context.initiator }) as const,
    ),
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
      const frames: ClientMessage[] = [
        event.kind === 'offer' ? { type: 'offer', sdp: event.sdp } : { type: 'answer', sdp: event.sdp },
        ...context.outCandidates.map(candidateMessage),
      ];
      // while signaling is being restored around the call, they wait for the pair to be back
      if (context.restoring) enqueue.assign({ heldSignals: [...context.heldSignals, ...frames] });
      else for (const message of frames) enqueue.emit({ type: 'ws.send', message });
      enqueue.assign({ localSent: true, outCandidates: [] });
    }),
    sendLocalCandidate: enqueueActions(({ context, event, enqueue }) => {
      const message = candidateMessage(event.type === 'LOCAL_CANDIDATE' ? event.candidate : null);
      if (context.restoring) enqueue.assign({ heldSignals: [...context.heldSignals, message] });
      else enqueue.emit({ type: 'ws.send', message });
    }),
    recordPeerFeatures: assign(({ event }) => ({ peerTandem: event.type === 'PEER_FEATURES' && event.tandem })),
    /**
     * The server lost the call's pairing (a refused resume, or the partner's session gone) while
     * the call is up: keep the call, and restore signaling around it through the call itself.
     */
    beginRestore: enqueueActions(({ context, event, enqueue }) => {
      const cause = event.type === 'server.peer_disconnected' ? 'peer_disconnected' : 'signaling_lost';
      enqueue.assign({ restoring: true, repairTarget: null, peerAlive: false, restoreCause: cause });
      enqueue.emit({ type: 'restoring', peerId: context.peerId! });
      // is the peer still there? (a killed peer's call looks up until ICE consent runs out)
      enqueue.emit({ type: 'peer.probe', gen: context.gen });
      enqueue.raise({ type: 'PROBE_TIMEOUT' }, { id: 'probe', delay: context.input.probeTimeoutMs });
      enqueue.raise({ type: 'RESTORE_TIMEOUT' }, { id: 'restore', delay: context.input.restoreTimeoutMs });
    }),
    peerAnswered: enqueueActions(({ enqueue }) => {
      enqueue.assign({ peerAlive: true });
      enqueue.cancel('probe');
    }),
    /**
     * Tell the peer over the call the ID this client has at the server now (its fresh one after a
     * refused resume, or its own if only the peer's session went); the initiator pairs once it
     * knows both.
     */
    rekey: enqueueActions(({ context, event, enqueue }) => {
      const id = event.type === 'server.your_id' ? event.message.id : context.id;
      if (id === null) return;
      enqueue.emit({ type: 'peer.rekey', gen: context.gen, id });
      if (context.initiator && context.peerNewId !== null && context.peerNewId !== context.repairTarget) {
        enqueue.emit({ type: 'ws.send', message: { type: 'pair_request', target_id: context.peerNewId } });
        enqueue.assign({ repairTarget: context.peerNewId });
      }
    }),
    recordPeerRekey: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'PEER_REKEY') return;
      enqueue.assign({ peerNewId: event.id });
      // registered (an ID of our own) and restoring: the initiator asks for the pair again
      if (context.restoring && context.initiator && event.id !== context.repairTarget && context.id !== null) {
        enqueue.emit({ type: 'ws.send', message: { type: 'pair_request', target_id: event.id } });
        enqueue.assign({ repairTarget: event.id });
      }
    }),
    /** The server pairs the call's two ends again: the held signaling goes out, nothing in the call changed. */
    finishRestore: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'server.paired') return;
      enqueue.cancel('restore');
      enqueue.cancel('probe');
      for (const message of context.heldSignals) enqueue.emit({ type: 'ws.send', message });
      enqueue.assign({ restoring: false, peerId: event.message.peer_id, peerNewId: null, heldSignals: [] });
      enqueue.emit({ type: 'signalingRestored', id: context.id ?? '', peerId: event.message.peer_id });
    }),
    /** A re-pair request lost with its link: ask again on the next one. */
    repairLost: assign({ repairTarget: null }),
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
      enqueue.emit({ type: 'peer.acceptOffer', gen: context.gen, sdp: event.message.sdp });
      if (context.renegotiate) {
        enqueue.assign({ offerPending: true, renegotiate: false });
        enqueue.emit({ type: 'peer.renegotiate', gen: context.gen });
      }
    }),
    acceptAnswer: enqueueActions(({ context, event, enqueue }) => {
      enqueue.assign({ offerPending: false });
      enqueue.emit({
        type: 'peer.acceptAnswer',
        gen: context.gen,
        sdp: event.type === 'server.answer' ? event.message.sdp : '',
      });
      // media changed while that offer was out: offer what changed now
      if (context.renegotiate) {
        enqueue.assign({ offerPending: true, renegotiate: false });
        enqueue.emit({ type: 'peer.renegotiate', gen: context.gen });
      }
    }),
    /** Glare, polite side: drop our offer and take theirs; what our offer carried goes in the next one. */
    rollbackThenAccept: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'server.offer') return;
      enqueue.assign({ offerPending: false });
      enqueue.emit({ type: 'peer.rollback', gen: context.gen });
      enqueue.emit({ type: 'peer.acceptOffer', gen: context.gen, sdp: event.message.sdp });
      if (context.media) {
        enqueue.assign({ offerPending: true, renegotiate: false });
        enqueue.emit({ type: 'peer.renegotiate', gen: context.gen });
      }
    }),
    /** An offer for changed media; while an offer is out, it waits for the answer (or the rollback). */
    renegotiate: enqueueActions(({ context, enqueue }) => {
      if (context.offerPending) return enqueue.assign({ renegotiate: true });
      enqueue.assign({ offerPending: true, renegotiate: false });
      enqueue.emit({ type: 'peer.renegotiate', gen: context.gen });
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
    resuming: false,
    attempt: 0,
    retryDelay: 0,
    lastLoss: { code: 0, reason: '' },
    deadLinkMs: null,
    canLeave: false,
    gen: 0,
    peerId: null,
    initiator: false,
    peerCapabilities: null,
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
            'server.error': [{ guard: 'lateNotPaired' }, { actions: 'reportServerError' }],
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
                // the session is gone; the fresh your_id that follows registers this client anew
                RESUME_FAILED: { actions: 'forgetSession' },
              },
            },
            online: {
              // every frame from the server restarts the watch; silence past interval + timeout means the link is dead
              after: { deadLink: { guard: 'watchesLink', actions: 'dropLink' } },
              on: Object.fromEntries(linkAliveEvents.map((type) => [type, { target: 'online', reenter: true }])),
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
              // the peer connection and the offer start before the app hears 'paired': what the app does
              // then runs while the stack makes the offer, not before it
              entry: ['beginSession', 'createPeer', 'startOfferIfInitiator', 'announcePaired'],
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
                    // The server lost this call's pairing, but the call is up and the peer is a tandem
                    // client: restore signaling around the call instead of ending it (a v1 peer's call
                    // ends as before: the parent's transitions take these when the guard fails).
                    RESUME_FAILED: { guard: 'peerIsTandem', actions: 'beginRestore' },
                    // a link lost with no session to resume (resume not granted): the same, from scratch
                    WS_CLOSED: [
                      { guard: and(['peerIsTandem', not('restoring')]), actions: 'beginRestore' },
                      // a re-pair request out on that link died with it: ask again on the next
                      { guard: 'restoring', actions: 'repairLost' },
                    ],
                    'server.peer_disconnected': { guard: 'peerIsTandem', actions: ['beginRestore', 'rekey'] },
                    // the fresh ID after a refused resume: tell the peer over the call
                    'server.your_id': { guard: 'restoring', actions: 'rekey' },
                    PEER_REKEY: { guard: 'sameGen', actions: 'recordPeerRekey' },
                    'server.paired': { guard: 'restoredPair', actions: 'finishRestore' },
                    PEER_PONG: { guard: and(['sameGen', 'restoring']), actions: 'peerAnswered' },
                    // no answer over the call: the peer is gone with its session; end as before
                    PROBE_TIMEOUT: {
                      guard: 'peerSilent',
                      target: '#client.running.session.idle',
                      actions: [
                        cancel('restore'),
                        'leavePair',
                        {
                          type: 'announcePeerLeft',
                          params: ({ context }) => ({ reason: context.restoreCause }),
                        },
                      ],
                    },
                    RESTORE_TIMEOUT: {
                      guard: 'restoring',
                      target: '#client.running.session.idle',
                      actions: [
                        { type: 'announcePeerLeft', params: { reason: 'signaling_lost' } },
                        {
                          type: 'reportError',
                          params: {
                            code: 'signaling_lost',
                            message: 'Signaling could not be restored around the call in time',
                            source: 'signaling',
                          },
                        },
                      ],
                    },
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
                PEER_FEATURES: { guard: 'sameGen', actions: 'recordPeerFeatures' },
                RENEGOTIATE: { guard: 'sameGen', actions: [assign({ media: true }), 'renegotiate'] },
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
                // this side ends the pairing: the server tells the partner, both may pair anew
                LEAVE: [
                  {
                    guard: 'canLeave',
                    target: '#client.running.session.idle',
                    actions: ['leavePair', { type: 'announcePeerLeft', params: { reason: 'left' } }],
                  },
                  {
                    actions: {
                      type: 'reportError',
                      params: {
                        code: 'leave_unsupported',
                        message: 'This server cannot end a pairing (wire v1): reconnect to leave',
                        source: 'client',
                      },
                    },
                  },
                ],
                'server.peer_disconnected': {
                  target: 'idle',
                  actions: { type: 'announcePeerLeft', params: { reason: 'peer_disconnected' } },
                },
                // the peer said, over the call, that it ends it: no restoring around a call that is gone
                PEER_BYE: {
                  guard: 'sameGen',
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
