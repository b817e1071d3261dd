// The client's whole lifecycle as one XState v5 machine: two parallel regions, `signaling`
// (socket up, ID known, reconnect with backoff) and `session` (pair → negotiate → open → peer
// gone → idle). It owns no socket and no RTCPeerConnection: it emits effects (`ws.*`, `peer.*`)
// that a driver carries out, and public events (`id`, `paired`, `open`, …) for the embedder.
// Time comes from the actor's clock (`createActor(machine, { clock })`), so tests use a
// SimulatedClock.
import { assign, emit, enqueueActions, setup, type ActorRefFrom } from 'xstate';
import { Capability, PROTOCOL_VERSION, type IceCandidate, type ServerMessage } from '@tandem/protocol';
import type { ReconnectPolicy } from './ports.js';

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
}

/** Everything the machine remembers. */
export interface ClientContext {
  readonly input: Required<ClientInput>;
  id: string | null;
  attempt: number;
  retryDelay: number;
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
  seenCandidates: string[];
  queue: PeerData[];
  dropped: number;
}

/** Events the driver feeds in. */
export type ClientEvent =
  | { type: 'PAIR'; key: string }
  | { type: 'SEND'; data: PeerData }
  | { type: 'CLOSE' }
  | { type: 'WS_OPEN' }
  | { type: 'WS_CLOSED'; code: number; reason: string }
  | { type: 'SERVER'; message: ServerMessage }
  | { type: 'BAD_FRAME'; message: string }
  | { type: 'LOCAL_SDP'; gen: number; sdp: string }
  | { type: 'LOCAL_CANDIDATE'; gen: number; candidate: IceCandidate | null }
  | { type: 'REMOTE_SET'; gen: number }
  | { type: 'CHANNEL_OPEN'; gen: number }
  | { type: 'CHANNEL_MESSAGE'; gen: number; data: PeerData }
  | { type: 'CHANNEL_CLOSE'; gen: number }
  | { type: 'PEER_FAILED'; gen: number; reason: string };

/** Effects for the driver to carry out. */
export type ClientEffect =
  | { type: 'ws.connect'; url: string }
  | { type: 'ws.send'; text: string }
  | { type: 'ws.close' }
  | { type: 'peer.create'; gen: number }
  | { type: 'peer.createDataChannel'; gen: number; label: string }
  | { type: 'peer.createOffer'; gen: number }
  | { type: 'peer.acceptOffer'; gen: number; sdp: string }
  | { type: 'peer.acceptAnswer'; gen: number; sdp: string }
  | { type: 'peer.addCandidate'; gen: number; candidate: IceCandidate }
  | { type: 'peer.send'; gen: number; data: PeerData }
  | { type: 'peer.close'; gen: number };

/** Where a client error came from. */
export type ClientErrorSource = 'server' | 'client' | 'peer' | 'signaling';

/** Typed events for the embedder. */
export type ClientPublicEvent =
  | { type: 'id'; id: string }
  | { type: 'paired'; peerId: string; initiator: boolean }
  | { type: 'open'; peerId: string }
  | { type: 'message'; data: PeerData }
  | { type: 'peerLeft'; peerId: string; reason: 'peer_disconnected' | 'channel_closed' | 'failed' | 'timeout' | 'signaling_lost' | 'closed' }
  | { type: 'error'; message: string; source: ClientErrorSource }
  | { type: 'reconnecting'; attempt: number; delayMs: number; code: number; reason: string }
  | { type: 'dropped'; count: number }
  | { type: 'closed' };

/** Everything the machine emits. */
export type ClientEmitted = ClientEffect | ClientPublicEvent;

const sameGen = ({ context, event }: { context: ClientContext; event: ClientEvent }) => 'gen' in event && event.gen === context.gen;
const serverType = (t: ServerMessage['type']) => ({ event }: { event: ClientEvent }) => event.type === 'SERVER' && event.message.type === t;
const msg = <T extends ServerMessage['type']>(event: ClientEvent) => (event as unknown as { message: Extract<ServerMessage, { type: T }> }).message;
const candidateFrame = (c: IceCandidate | null) => JSON.stringify({ type: 'candidate', candidate: c ?? { candidate: '', sdpMid: null, sdpMLineIndex: null } });
const candidateKey = (c: IceCandidate) => `${c.sdpMid ?? ''}|${c.sdpMLineIndex ?? ''}|${c.candidate}`;

/** The client machine; drive it with `createTandemClient` or your own driver. */
export const clientMachine = setup({
  types: {
    context: {} as ClientContext,
    events: {} as ClientEvent,
    emitted: {} as ClientEmitted,
    input: {} as ClientInput,
  },
  delays: {
    retryDelay: ({ context }) => context.retryDelay,
    negotiationTimeout: ({ context }) => context.input.negotiationTimeoutMs,
  },
  guards: {
    sameGen,
    isYourId: serverType('your_id'),
    isError: serverType('error'),
    isPaired: serverType('paired'),
    isPing: serverType('ping'),
    isPeerDisconnected: serverType('peer_disconnected'),
    isOfferForResponder: ({ context, event }) => serverType('offer')({ event }) && !context.initiator && !context.offerSeen,
    isAnswerForInitiator: ({ context, event }) => serverType('answer')({ event }) && context.initiator && !context.remoteSet,
    isCandidate: serverType('candidate'),
    canRetry: ({ context, event }) => {
      const e = event as { code?: number; reason?: string };
      return context.input.reconnect.nextDelayMs({ attempt: context.attempt + 1, code: e.code ?? 1006, reason: e.reason ?? '' }) !== null;
    },
    queueFull: ({ context }) => context.queue.length >= context.input.sendQueueLimit,
  },
}).createMachine({
  id: 'client',
  context: ({ input }) => ({
    input: {
      channelLabel: 'chat',
      sendQueueLimit: 64,
      negotiationTimeoutMs: 30_000,
      answersControlPings: true,
      answerPings: true,
      ...input,
    },
    id: null,
    attempt: 0,
    retryDelay: 0,
    gen: 0,
    peerId: null,
    initiator: false,
    remoteSet: false,
    offerSeen: false,
    pendingCandidates: [],
    outCandidates: [],
    localSent: false,
    seenCandidates: [],
    queue: [],
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
            SERVER: [
              { guard: ({ context, event }) => context.input.answerPings && serverType('ping')({ event }), actions: emit({ type: 'ws.send', text: '{"type":"pong"}' } as const) },
              { guard: 'isPing' },
              { guard: 'isError', actions: emit(({ event }) => ({ type: 'error', message: msg<'error'>(event).message, source: 'server' }) as const) },
            ],
            BAD_FRAME: { actions: emit(({ event }) => ({ type: 'error', message: `Bad frame from server: ${event.message}`, source: 'signaling' }) as const) },
          },
        },
        signaling: {
          initial: 'connecting',
          states: {
            connecting: {
              entry: emit(({ context }) => ({ type: 'ws.connect', url: context.input.url }) as const),
              on: { WS_OPEN: 'awaitingId' },
            },
            awaitingId: {
              on: {
                SERVER: {
                  guard: 'isYourId',
                  target: 'online',
                  actions: [
                    assign(({ event }) => ({ id: msg<'your_id'>(event).id, attempt: 0 })),
                    emit(({ context }) => ({ type: 'id', id: context.id! }) as const),
                    enqueueActions(({ event, context, enqueue }) => {
                      const caps = msg<'your_id'>(event).capabilities ?? [];
                      // Only a server that advertised capabilities gets a hello: v1 servers never see one.
                      if (context.input.answersControlPings && caps.includes(Capability.WsPing)) {
                        enqueue.emit({ type: 'ws.send', text: JSON.stringify({ type: 'hello', version: PROTOCOL_VERSION, capabilities: [Capability.WsPing] }) });
                      }
                    }),
                  ],
                },
              },
            },
            online: {},
            backoff: {
              after: { retryDelay: 'connecting' },
            },
            failed: {},
          },
          on: {
            WS_CLOSED: [
              {
                guard: 'canRetry',
                target: '.backoff',
                actions: [
                  assign(({ context, event }) => ({
                    attempt: context.attempt + 1,
                    id: null,
                    retryDelay: context.input.reconnect.nextDelayMs({ attempt: context.attempt + 1, code: event.code, reason: event.reason }) ?? 0,
                  })),
                  emit(({ context, event }) => ({ type: 'reconnecting', attempt: context.attempt, delayMs: context.retryDelay, code: event.code, reason: event.reason }) as const),
                ],
              },
              {
                target: '.failed',
                actions: [
                  assign({ id: null }),
                  emit(({ event }) => ({ type: 'error', message: `Signaling connection lost for good (${event.code} ${event.reason})`.trim(), source: 'signaling' }) as const),
                ],
              },
            ],
          },
        },
        session: {
          initial: 'idle',
          states: {
            idle: {
              // cleared here, not on exit from `active`, so the transition out can still name the peer
              entry: assign({ peerId: null, remoteSet: false, localSent: false, pendingCandidates: [], outCandidates: [], seenCandidates: [], queue: [] }),
              on: {
                PAIR: [
                  {
                    guard: ({ context }) => context.id !== null,
                    target: 'requesting',
                    actions: emit(({ event }) => ({ type: 'ws.send', text: JSON.stringify({ type: 'pair_request', target_id: event.key }) }) as const),
                  },
                  { actions: emit({ type: 'error', message: 'Not connected to the signaling server yet', source: 'client' } as const) },
                ],
                SERVER: { guard: 'isPaired', target: 'active' },
                SEND: { actions: emit({ type: 'error', message: 'Not connected to a peer: pair first', source: 'client' } as const) },
              },
            },
            requesting: {
              on: {
                SERVER: [
                  { guard: 'isPaired', target: 'active' },
                  { guard: 'isError', target: 'idle' },
                ],
                WS_CLOSED: { target: 'idle', actions: emit({ type: 'error', message: 'Signaling connection lost before the pairing completed', source: 'signaling' } as const) },
                PAIR: { actions: emit({ type: 'error', message: 'A pair request is already pending', source: 'client' } as const) },
                SEND: { actions: emit({ type: 'error', message: 'Not connected to a peer: pairing in progress', source: 'client' } as const) },
              },
            },
            active: {
              entry: [
                assign(({ context, event }) => {
                  const m = msg<'paired'>(event);
                  return { gen: context.gen + 1, peerId: m.peer_id, initiator: m.initiator, remoteSet: false, offerSeen: false, localSent: false, pendingCandidates: [], outCandidates: [], seenCandidates: [], queue: [] };
                }),
                emit(({ context }) => ({ type: 'paired', peerId: context.peerId!, initiator: context.initiator }) as const),
                emit(({ context }) => ({ type: 'peer.create', gen: context.gen }) as const),
                enqueueActions(({ context, enqueue }) => {
                  if (!context.initiator) return; // the responder waits for the offer
                  enqueue.emit({ type: 'peer.createDataChannel', gen: context.gen, label: context.input.channelLabel });
                  enqueue.emit({ type: 'peer.createOffer', gen: context.gen });
                }),
              ],
              // The one place a peer session ends: every way out of `active` passes here once.
              exit: emit(({ context }) => ({ type: 'peer.close', gen: context.gen }) as const),
              initial: 'negotiating',
              states: {
                negotiating: {
                  after: {
                    negotiationTimeout: {
                      target: '#client.running.session.idle',
                      actions: [
                        emit(({ context }) => ({ type: 'peerLeft', peerId: context.peerId!, reason: 'timeout' }) as const),
                        emit({ type: 'error', message: 'Negotiation timed out: the data channel did not open', source: 'peer' } as const),
                      ],
                    },
                  },
                  on: {
                    CHANNEL_OPEN: { guard: 'sameGen', target: 'open' },
                    SEND: [
                      {
                        guard: 'queueFull',
                        actions: [assign(({ context }) => ({ dropped: context.dropped + 1 })), emit(({ context }) => ({ type: 'dropped', count: context.dropped }) as const)],
                      },
                      { actions: assign(({ context, event }) => ({ queue: [...context.queue, event.data] })) },
                    ],
                    WS_CLOSED: {
                      target: '#client.running.session.idle',
                      actions: emit(({ context }) => ({ type: 'peerLeft', peerId: context.peerId!, reason: 'signaling_lost' }) as const),
                    },
                  },
                },
                open: {
                  entry: [
                    emit(({ context }) => ({ type: 'open', peerId: context.peerId! }) as const),
                    // flush what was queued while the channel opened, in order
                    enqueueActions(({ context, enqueue }) => {
                      for (const data of context.queue) enqueue.emit({ type: 'peer.send', gen: context.gen, data });
                    }),
                    assign({ queue: [] }),
                  ],
                  on: {
                    SEND: { actions: emit(({ context, event }) => ({ type: 'peer.send', gen: context.gen, data: event.data }) as const) },
                    CHANNEL_MESSAGE: { guard: 'sameGen', actions: emit(({ event }) => ({ type: 'message', data: event.data }) as const) },
                  },
                },
              },
              on: {
                PAIR: { actions: emit({ type: 'error', message: 'Already paired: wait for the peer to leave', source: 'client' } as const) },
                LOCAL_SDP: {
                  guard: 'sameGen',
                  actions: [
                    enqueueActions(({ context, event, enqueue }) => {
                      enqueue.emit({ type: 'ws.send', text: JSON.stringify({ type: context.initiator ? 'offer' : 'answer', sdp: event.sdp }) });
                      for (const c of context.outCandidates) enqueue.emit({ type: 'ws.send', text: candidateFrame(c) });
                    }),
                    assign({ localSent: true, outCandidates: [] }),
                  ],
                },
                LOCAL_CANDIDATE: [
                  {
                    guard: ({ context, event }) => sameGen({ context, event }) && context.localSent,
                    actions: emit(({ event }) => ({ type: 'ws.send', text: candidateFrame(event.candidate) }) as const),
                  },
                  { guard: 'sameGen', actions: assign(({ context, event }) => ({ outCandidates: [...context.outCandidates, event.candidate] })) },
                ],
                REMOTE_SET: {
                  guard: 'sameGen',
                  actions: [
                    // apply candidates that arrived before the remote description, in arrival order
                    enqueueActions(({ context, enqueue }) => {
                      for (const candidate of context.pendingCandidates) enqueue.emit({ type: 'peer.addCandidate', gen: context.gen, candidate });
                    }),
                    assign({ remoteSet: true, pendingCandidates: [] }),
                  ],
                },
                SERVER: [
                  { guard: 'isOfferForResponder', actions: [assign({ offerSeen: true }), emit(({ context, event }) => ({ type: 'peer.acceptOffer', gen: context.gen, sdp: msg<'offer'>(event).sdp }) as const)] },
                  { guard: 'isAnswerForInitiator', actions: emit(({ context, event }) => ({ type: 'peer.acceptAnswer', gen: context.gen, sdp: msg<'answer'>(event).sdp }) as const) },
                  {
                    guard: ({ context, event }) => serverType('candidate')({ event }) && context.seenCandidates.includes(candidateKey(msg<'candidate'>(event).candidate)),
                    actions: [], // duplicate: ignore
                  },
                  {
                    guard: ({ context, event }) => serverType('candidate')({ event }) && context.remoteSet,
                    actions: [
                      assign(({ context, event }) => ({ seenCandidates: [...context.seenCandidates, candidateKey(msg<'candidate'>(event).candidate)] })),
                      emit(({ context, event }) => ({ type: 'peer.addCandidate', gen: context.gen, candidate: msg<'candidate'>(event).candidate }) as const),
                    ],
                  },
                  {
                    guard: 'isCandidate',
                    actions: assign(({ context, event }) => {
                      const c = msg<'candidate'>(event).candidate;
                      return { pendingCandidates: [...context.pendingCandidates, c], seenCandidates: [...context.seenCandidates, candidateKey(c)] };
                    }),
                  },
                  {
                    guard: 'isPeerDisconnected',
                    target: 'idle',
                    actions: emit(({ context }) => ({ type: 'peerLeft', peerId: context.peerId!, reason: 'peer_disconnected' }) as const),
                  },
                ],
                CHANNEL_CLOSE: { guard: 'sameGen', target: 'idle', actions: emit(({ context }) => ({ type: 'peerLeft', peerId: context.peerId!, reason: 'channel_closed' }) as const) },
                PEER_FAILED: {
                  guard: 'sameGen',
                  target: 'idle',
                  actions: [
                    emit(({ context }) => ({ type: 'peerLeft', peerId: context.peerId!, reason: 'failed' }) as const),
                    emit(({ event }) => ({ type: 'error', message: `Peer connection failed: ${event.reason}`, source: 'peer' }) as const),
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
      entry: [emit({ type: 'ws.close' } as const), emit({ type: 'closed' } as const)],
    },
  },
});

/** A running client machine. */
export type ClientActor = ActorRefFrom<typeof clientMachine>;
