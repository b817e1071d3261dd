// The driver: runs the client machine as an actor and carries out its effects against the
// injected transport and peer factory. It holds no rules of its own — only the mapping from
// effects to interface calls and from callbacks back to events, tagged with the peer generation
// so late callbacks from a closed peer are ignored by the machine.
import { createActor } from 'xstate';

/** A timer source, as XState's actor system takes it (SimulatedClock fits). */
export interface Clock {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown;
  clearTimeout(id: unknown): void;
}
import { decodeServerMessage, type DecodeOptions } from '@tandem/protocol';
import { clientMachine, type ClientActor, type ClientEmitted, type ClientInput, type ClientPublicEvent, type PeerData } from './client.machine.js';
import { exponentialBackoff, type IceServer, type PeerFactory, type PeerSession, type ReconnectPolicy, type SignalingTransport, type TransportFactory } from './ports.js';

/** Options of a tandem client. */
export interface TandemClientOptions extends Omit<ClientInput, 'reconnect'> {
  transport: TransportFactory;
  createPeer: PeerFactory;
  /** ICE servers for every peer connection. Default none (host candidates only). */
  iceServers?: readonly IceServer[];
  /** Reconnect policy for the signaling socket. Default: exponential backoff, 0.5 s → 30 s, jittered. */
  reconnect?: ReconnectPolicy;
  /** Clock for timers (reconnect backoff, negotiation timeout); a SimulatedClock in tests. */
  clock?: Clock;
  /** Limits for decoding server frames. */
  decode?: DecodeOptions;
}

type Listener<T extends ClientPublicEvent['type']> = (event: Extract<ClientPublicEvent, { type: T }>) => void;

/** A coarse, human-facing summary of where the client is. */
export type ClientStatus = 'connecting' | 'reconnecting' | 'registered' | 'requesting' | 'negotiating' | 'open' | 'offline' | 'closed';

/** A running tandem client. */
export interface TandemClient {
  /** Subscribe to a typed event; returns an unsubscribe function. */
  on<T extends ClientPublicEvent['type']>(type: T, listener: Listener<T>): () => void;
  /** Ask the server to pair with the client whose key (ID) is `key`. */
  pair(key: string): void;
  /** Send text or bytes to the peer; queued (bounded) while the channel opens, an `error` event otherwise. */
  send(data: PeerData): void;
  /** Close the peer and the signaling socket; idempotent. */
  close(): void;
  /** Own ID (the shareable key), once the server assigned one. */
  readonly id: string | null;
  /** Current status. */
  readonly status: ClientStatus;
  /** Messages dropped because the send queue was full. */
  readonly dropped: number;
  /** The underlying actor, for inspection. */
  readonly actor: ClientActor;
}

/** Create and start a client. */
export function createTandemClient(options: TandemClientOptions): TandemClient {
  const { transport: openTransport, createPeer, iceServers = [], clock, decode, reconnect = exponentialBackoff(), ...input } = options;
  const actor = createActor(clientMachine, { input: { ...input, reconnect }, ...(clock ? { clock } : {}) });
  const listeners = new Map<string, Set<(e: ClientPublicEvent) => void>>();
  let socket: SignalingTransport | null = null;
  let socketSeq = 0;
  const peers = new Map<number, PeerSession>();

  const feed = (gen: number) => ({
    iceCandidate: (candidate: Parameters<PeerSession['addCandidate']>[0] | null) => actor.send({ type: 'LOCAL_CANDIDATE', gen, candidate }),
    channelOpen: () => actor.send({ type: 'CHANNEL_OPEN', gen }),
    channelMessage: (data: PeerData) => actor.send({ type: 'CHANNEL_MESSAGE', gen, data }),
    channelClose: () => actor.send({ type: 'CHANNEL_CLOSE', gen }),
    failed: (reason: string) => actor.send({ type: 'PEER_FAILED', gen, reason }),
  });
  const failed = (gen: number) => (err: unknown) => actor.send({ type: 'PEER_FAILED', gen, reason: err instanceof Error ? err.message : String(err) });
  const withPeer = (gen: number, fn: (p: PeerSession) => void | Promise<void>) => {
    const p = peers.get(gen);
    if (p === undefined) return;
    try {
      const r = fn(p);
      if (r instanceof Promise) r.catch(failed(gen));
    } catch (err) {
      failed(gen)(err);
    }
  };

  const perform = (e: ClientEmitted): void => {
    switch (e.type) {
      case 'ws.connect': {
        const seq = ++socketSeq;
        const live = () => seq === socketSeq; // callbacks from a replaced socket are dropped
        socket = openTransport(e.url, {
          open: () => live() && actor.send({ type: 'WS_OPEN' }),
          message: (text) => {
            if (!live()) return;
            const r = decodeServerMessage(text, decode);
            actor.send(r.ok ? { type: 'SERVER', message: r.value } : { type: 'BAD_FRAME', message: r.error.message });
          },
          close: (code, reason) => {
            if (!live()) return;
            socket = null;
            actor.send({ type: 'WS_CLOSED', code, reason });
          },
        });
        return;
      }
      case 'ws.send':
        socket?.send(e.text);
        return;
      case 'ws.close': {
        const s = socket;
        socket = null;
        socketSeq++;
        s?.close(1000, 'client closing');
        return;
      }
      case 'peer.create':
        peers.set(e.gen, createPeer({ iceServers, handlers: feed(e.gen) }));
        return;
      case 'peer.createDataChannel':
        return withPeer(e.gen, (p) => p.createDataChannel(e.label));
      case 'peer.createOffer':
        return withPeer(e.gen, (p) => p.createOffer().then((sdp) => void actor.send({ type: 'LOCAL_SDP', gen: e.gen, sdp })));
      case 'peer.acceptOffer':
        return withPeer(e.gen, (p) =>
          p.acceptOffer(e.sdp).then((sdp) => {
            actor.send({ type: 'REMOTE_SET', gen: e.gen });
            actor.send({ type: 'LOCAL_SDP', gen: e.gen, sdp });
          }),
        );
      case 'peer.acceptAnswer':
        return withPeer(e.gen, (p) => p.acceptAnswer(e.sdp).then(() => void actor.send({ type: 'REMOTE_SET', gen: e.gen })));
      case 'peer.addCandidate':
        // a bad remote candidate is not fatal: ICE may still succeed with the others
        return withPeer(e.gen, (p) => p.addCandidate(e.candidate).catch(() => undefined));
      case 'peer.send':
        return withPeer(e.gen, (p) => p.send(e.data));
      case 'peer.close': {
        const p = peers.get(e.gen);
        peers.delete(e.gen);
        p?.close();
        return;
      }
      default:
        for (const l of listeners.get(e.type) ?? []) l(e);
    }
  };
  actor.on('*', (e) => perform(e as ClientEmitted));
  actor.start();

  return {
    on(type, listener) {
      let set = listeners.get(type);
      if (set === undefined) listeners.set(type, (set = new Set()));
      const l = listener as (e: ClientPublicEvent) => void;
      set.add(l);
      return () => set.delete(l);
    },
    pair: (key) => actor.send({ type: 'PAIR', key }),
    send: (data) => actor.send({ type: 'SEND', data }),
    close: () => {
      if (actor.getSnapshot().status === 'active') actor.send({ type: 'CLOSE' }); // idempotent, without xstate's stopped-actor warning
    },
    get id() {
      return actor.getSnapshot().context.id;
    },
    get dropped() {
      return actor.getSnapshot().context.dropped;
    },
    get status() {
      return statusOf(actor);
    },
    actor,
  };
}

/** Summarise the machine's state for people. */
export function statusOf(actor: ClientActor): ClientStatus {
  const s = actor.getSnapshot();
  if (s.status === 'done' || s.matches('closed')) return 'closed';
  if (s.matches({ running: { session: { active: 'open' } } })) return 'open';
  if (s.matches({ running: { session: { active: 'negotiating' } } })) return 'negotiating';
  if (s.matches({ running: { signaling: 'failed' } })) return 'offline';
  if (s.matches({ running: { signaling: 'backoff' } })) return 'reconnecting';
  if (s.matches({ running: { signaling: 'online' } })) return s.matches({ running: { session: 'requesting' } }) ? 'requesting' : 'registered';
  return 'connecting';
}
