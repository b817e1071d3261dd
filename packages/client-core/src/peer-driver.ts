// Carries out the machine's `peer.*` effects on injected peer sessions, one per pairing
// generation, and feeds their callbacks back tagged with that generation so the machine can
// ignore a closed session's late callbacks. Failures of async calls become PEER_FAILED.
import type { ClientActor, ClientEffect, PeerData } from './client.machine.js';
import type { Clock, IceServer, PeerFactory, PeerHandlers, PeerSession, RemoteTrack, SelectedPath } from './ports.js';
import { CHAT_PROTOCOL, ChannelHub } from './channel-hub.js';
import type { ChannelLimits } from './channels.js';

/** The `peer.*` effects. */
export type PeerEffect = Extract<ClientEffect, { type: `peer.${string}` }>;

/** Runs one client's peer sessions. */
export interface PeerDriver {
  perform(effect: PeerEffect): void;
  /** The newest session, if any. */
  session(): PeerSession | null;
  /** The candidate pair the newest session uses, if it can tell. */
  selectedPath(): Promise<SelectedPath | null>;
  /** The channels of the newest session, while it exists. */
  hub(): ChannelHub | null;
  /** Hold session `gen`'s negotiation (its first offer or answer) until `ready` settles: code it needs is loading. */
  hold(gen: number, ready: Promise<unknown>): void;
}

/** How sessions carry channels beyond chat. */
export interface PeerChannelOptions {
  /** This side's features (`channels`, `files`); none: chat only, as a wire-v1 client. */
  readonly features?: readonly string[];
  readonly clock?: Clock;
  readonly peerWaitMs?: number;
  readonly limits?: ChannelLimits;
  /** Answer the peer's probes over the call (false only to play a dead client in tests). Default true. */
  readonly answerProbes?: boolean;
  /** A session's hub was made (before its first channel can open). */
  readonly onHub?: (hub: ChannelHub, gen: number, session: PeerSession) => void;
  /** A remote media track of session `gen` arrived, or ended. */
  readonly onTrack?: (gen: number, track: RemoteTrack) => void;
  readonly onTrackEnded?: (gen: number, id: string) => void;
  readonly onTrackFlowing?: (gen: number, id: string) => void;
  /** A remote offer of session `gen` was applied (its tracks reported) and answered. */
  readonly onRemoteOffer?: (gen: number) => void;
}

/** A peer driver feeding `actor`. */
export function createPeerDriver(
  actor: ClientActor,
  createPeer: PeerFactory,
  iceServers: () => readonly IceServer[],
  iceTransportPolicy: 'all' | 'relay' = 'all',
  channels: PeerChannelOptions = {},
): PeerDriver {
  const sessions = new Map<number, PeerSession>();
  const hubs = new Map<number, ChannelHub>();
  /** An event from the session of `gen`, dropped once that session is closed (it may linger while its "bye" goes out). */
  const tell = (gen: number, event: Parameters<ClientActor['send']>[0]) => {
    if (sessions.has(gen)) actor.send(event);
  };
  const handlersFor = (gen: number): PeerHandlers => ({
    iceCandidate: (candidate) => tell(gen, { type: 'LOCAL_CANDIDATE', gen, candidate }),
    channelOpen: (protocol) => {
      tell(gen, { type: 'CHANNEL_OPEN', gen });
      hubs.get(gen)?.chatOpened(protocol ?? '');
    },
    channel: (port) => {
      const hub = hubs.get(gen);
      if (hub === undefined) port.close();
      else hub.incoming(port);
    },
    channelMessage: (data: PeerData) => tell(gen, { type: 'CHANNEL_MESSAGE', gen, data }),
    channelClose: () => tell(gen, { type: 'CHANNEL_CLOSE', gen }),
    failed: (reason) => tell(gen, { type: 'PEER_FAILED', gen, reason }),
    iceState: (state) => tell(gen, { type: 'ICE_STATE', gen, state }),
    track: (track) => sessions.has(gen) && channels.onTrack?.(gen, track),
    trackEnded: (id) => sessions.has(gen) && channels.onTrackEnded?.(gen, id),
    trackFlowing: (id) => sessions.has(gen) && channels.onTrackFlowing?.(gen, id),
  });
  /** Each session's negotiation steps run one after another (a rollback must finish before the offer it makes room for). */
  const chains = new Map<number, Promise<void>>();
  const fail = (gen: number, err: unknown) =>
    actor.send({ type: 'PEER_FAILED', gen, reason: err instanceof Error ? err.message : String(err) });
  /** Run `fn` on the session of `gen` if it still exists; a throw or rejection fails that session. */
  const withSession = (gen: number, fn: (session: PeerSession) => void | Promise<void>): Promise<void> | undefined => {
    const session = sessions.get(gen);
    if (session === undefined) return undefined; // closed meanwhile
    try {
      const result = fn(session);
      return result instanceof Promise ? result.catch((err: unknown) => fail(gen, err)) : undefined;
    } catch (err) {
      fail(gen, err);
      return undefined;
    }
  };
  /**
   * Like `withSession`, but after the session's previous negotiation step has settled. Only
   * descriptions are chained: a candidate or a message never waits behind them (a candidate the
   * stack cannot resolve must not hold the channel up).
   */
  const negotiate = (gen: number, fn: (session: PeerSession) => Promise<void>) => {
    if (!sessions.has(gen)) return;
    const previous = chains.get(gen);
    const next = previous === undefined ? withSession(gen, fn) : previous.then(() => withSession(gen, fn));
    chains.set(gen, next ?? Promise.resolve());
  };
  return {
    hold(gen, ready) {
      // (a failed load is the caller's to report: the negotiation goes on without that code)
      const previous = chains.get(gen) ?? Promise.resolve();
      chains.set(
        gen,
        previous
          .then(() => ready)
          .then(
            () => undefined,
            () => undefined,
          ),
      );
    },
    async selectedPath() {
      return (await sessions.get(Math.max(...sessions.keys()))?.selectedPath?.()) ?? null;
    },
    hub() {
      return hubs.get(Math.max(...hubs.keys())) ?? null;
    },
    session() {
      return sessions.size === 0 ? null : (sessions.get(Math.max(...sessions.keys())) ?? null);
    },
    perform(effect) {
      const gen = effect.gen;
      switch (effect.type) {
        case 'peer.create': {
          const session = createPeer({ iceServers: iceServers(), iceTransportPolicy, handlers: handlersFor(gen) });
          sessions.set(gen, session);
          const hub = new ChannelHub(session, {
            initiator: effect.initiator,
            // `media` only where this stack carries media
            features: (channels.features ?? []).filter((f) => f !== 'media' || session.addTrack !== undefined),
            ...(channels.clock ? { clock: channels.clock } : {}),
            ...(channels.peerWaitMs !== undefined ? { peerWaitMs: channels.peerWaitMs } : {}),
            ...(channels.limits ? { limits: channels.limits } : {}),
          });
          hubs.set(gen, hub);
          hub.onPeer((peer) => tell(gen, { type: 'PEER_FEATURES', gen, tandem: peer.tandem }));
          hub.onControl((m) => {
            if (m.t === 'rekey' && typeof m.id === 'string' && m.id.length > 0 && m.id.length <= 256)
              tell(gen, { type: 'PEER_REKEY', gen, id: m.id });
            if (m.t === 'bye') tell(gen, { type: 'PEER_BYE', gen });
            // a probe is answered here, whatever the machine is doing (unless this client plays dead)
            if (m.t === 'ping' && channels.answerProbes !== false) hub.sendControl({ t: 'pong' });
            if (m.t === 'pong') tell(gen, { type: 'PEER_PONG', gen });
          });
          channels.onHub?.(hub, gen, session);
          return;
        }
        case 'peer.createDataChannel': {
          // a tandem client that can do more says so in chat's subprotocol; a v1 peer ignores it
          const capable = hubs.get(gen)?.capable === true;
          return withSession(gen, (s) =>
            s.createDataChannel(effect.label, capable ? { protocol: CHAT_PROTOCOL } : undefined),
          );
        }
        case 'peer.createOffer':
          return negotiate(gen, (s) =>
            s.createOffer().then((sdp) => void actor.send({ type: 'LOCAL_SDP', gen, sdp, kind: 'offer' })),
          );
        case 'peer.restartIce':
          return negotiate(gen, (s) =>
            s.restartIce().then((sdp) => void actor.send({ type: 'LOCAL_SDP', gen, sdp, kind: 'offer' })),
          );
        case 'peer.renegotiate':
          return negotiate(gen, (s) =>
            s.renegotiate === undefined
              ? Promise.resolve()
              : s.renegotiate().then((sdp) => void actor.send({ type: 'LOCAL_SDP', gen, sdp, kind: 'offer' })),
          );
        case 'peer.rollback':
          return negotiate(gen, (s) => s.rollback());
        case 'peer.acceptOffer':
          hubs.get(gen)?.remoteDescription(effect.sdp);
          return negotiate(gen, (s) =>
            s.acceptOffer(effect.sdp).then((sdp) => {
              actor.send({ type: 'REMOTE_SET', gen });
              actor.send({ type: 'LOCAL_SDP', gen, sdp, kind: 'answer' });
              if (sessions.has(gen)) channels.onRemoteOffer?.(gen);
            }),
          );
        case 'peer.acceptAnswer':
          hubs.get(gen)?.remoteDescription(effect.sdp);
          return negotiate(gen, (s) =>
            s.acceptAnswer(effect.sdp).then(() => void actor.send({ type: 'REMOTE_SET', gen })),
          );
        case 'peer.addCandidate':
          // a bad remote candidate is not fatal: ICE may still succeed with the others
          return withSession(gen, (s) => s.addCandidate(effect.candidate).catch(() => undefined));
        case 'peer.send':
          return withSession(gen, (s) => s.send(effect.data));
        case 'peer.probe':
          hubs.get(gen)?.sendControl({ t: 'ping' });
          return;
        case 'peer.rekey':
          hubs.get(gen)?.sendControl({ t: 'rekey', id: effect.id });
          return;
        case 'peer.close': {
          const session = sessions.get(gen);
          const hub = hubs.get(gen);
          sessions.delete(gen);
          chains.delete(gen);
          hubs.delete(gen);
          // a tandem peer is told the call ends here ("bye", over the call), so it does not wait to
          // restore signaling around a call that is gone; the connection closes once that went out
          // (or after a short while), its callbacks already ignored
          if (hub?.sendControl({ t: 'bye' })) {
            void hub.flushControl(300).finally(() => {
              hub.close();
              session?.close();
            });
            return;
          }
          hub?.close();
          session?.close();
          return;
        }
      }
    },
  };
}
