// createTandemClient: runs the client machine as an actor and hands its effects to the
// signaling driver (`ws.*`), the peer driver (`peer.*`) or the embedder's listeners (everything
// else). It holds no rules of its own; it adds one derived event, `status`, whenever the
// machine's coarse status changes, so UIs render `client.status` instead of keeping their own.
import { createActor } from 'xstate';
import type { DecodeOptions } from '@tandem/protocol';
import { PeerCapability } from '@tandem/protocol/wire';
import {
  clientMachine,
  type ClientActor,
  type ClientEmitted,
  type ClientInput,
  type ClientPublicEvent,
  type PeerData,
} from './client.machine.js';
import {
  exponentialBackoff,
  type Clock,
  type IceServer,
  type PeerFactory,
  type ReconnectPolicy,
  type SelectedPath,
  type TokenSource,
  type TransportFactory,
} from './ports.js';
import { createSignalingDriver, type SignalingEffect } from './signaling-driver.js';
import { createPeerDriver, type PeerEffect } from './peer-driver.js';
import { ChannelError, type ChannelLimits, type TandemChannel } from './channels.js';
import type { ChannelHub, PeerFeatures } from './channel-hub.js';
import type { DataChannelInit, PeerSession } from './ports.js';
import { CHANNELS_FEATURE, FILES_FEATURE, SAFETY_FEATURE } from './features.js';
import { CodeClient, type CodeEvent } from './code-client.js';
import type { CallManager } from './media.js';
import { CallError, MEDIA_FEATURE, type CallEvent, type CallState } from './media-shape.js';
import { mediaKindOf, type LocalTrack, type MediaKind, type MediaStats } from './ports.js';
import type { FileSource, FilesOptions, FileTransfers, OfferHandler, Transfer } from './files.js';
import { DeferredTransfer, refusedTransfer, transferId } from './transfer.js';

/**
 * A feature's code, loaded as a chunk of its own the first time a session uses it (a page that
 * only chats never loads file transfers or safety codes); once loaded, later sessions use it at once.
 */
interface Lazy<M> {
  loaded: M | undefined;
  load(): Promise<M>;
}
const lazy = <M>(load: () => Promise<M>): Lazy<M> => {
  let pending: Promise<M> | undefined;
  const l: Lazy<M> = {
    loaded: undefined,
    load: () =>
      (pending ??= load().then(
        (m) => (l.loaded = m),
        (err: unknown) => {
          pending = undefined; // the next session tries again
          throw err;
        },
      )),
  };
  return l;
};
const filesCode = lazy(() => import('./files.js'));
const safetyCode = lazy(() => import('./safety-code.js'));
const mediaCode = lazy(() => import('./media.js'));

/** Options of a tandem client. */
export interface TandemClientOptions extends Omit<ClientInput, 'reconnect'> {
  transport: TransportFactory;
  createPeer: PeerFactory;
  /**
   * ICE servers for every peer connection, used together with those a server offering
   * `ice-servers` hands out. Default none: host candidates only, unless the server gives some.
   */
  iceServers?: readonly IceServer[];
  /** Use TURN relays only (`iceTransportPolicy: 'relay'`): the peer never learns this host's addresses. Default false. */
  relayOnly?: boolean;
  /** Reconnect policy for the signaling socket. Default: exponential backoff, 0.5 s → 30 s, jittered. */
  reconnect?: ReconnectPolicy;
  /** Clock for timers (reconnect backoff, negotiation timeout); a SimulatedClock in tests. */
  clock?: Clock;
  /** Limits for decoding server frames. */
  decode?: DecodeOptions;
  /**
   * A token for a server that authorizes clients, or a provider asked before every connect
   * (reconnects and resumes too), so a long session can refresh it. Default none.
   */
  token?: TokenSource;
  /**
   * What this client does beyond chat with a tandem peer: `channels` (named channels for the
   * app), `files` (transfers), `safety` (safety codes compared over the call), `media` (calls,
   * where the peer stack carries media). Default all four; `[]` makes it a chat-only client,
   * like wire v1.
   */
  features?: readonly string[];
  /** Limits of every channel beyond chat (buffer, message size, backpressure threshold). */
  channelLimits?: ChannelLimits;
  /** How long an initiator waits, once chat is open, for a tandem peer to say so. Default 3 000 ms. */
  peerWaitMs?: number;
  /** File transfer settings (window, chunk size, hasher, identity for resumes). */
  files?: FilesOptions;
  /**
   * Decides on each file the peer offers: `{ accept: sink }` or `{ decline: reason }`. Default:
   * decline every offer (a client takes files only when its app says where they go).
   */
  onFileOffer?: OfferHandler;
}

/** A coarse, human-facing summary of where the client is. */
export type ClientStatus =
  'connecting' | 'reconnecting' | 'registered' | 'requesting' | 'negotiating' | 'open' | 'offline' | 'closed';

/** Every event a client reports: the machine's public events, plus `status` when the status changes. */
export type TandemClientEvent =
  | ClientPublicEvent
  | { type: 'status'; status: ClientStatus; resuming: boolean }
  /** The peer opened a channel for the app. */
  | { type: 'channel'; channel: TandemChannel }
  /** What the peer of the current call turned out to be (once per call, soon after chat opens). */
  | { type: 'peerFeatures'; peerId: string; tandem: boolean; features: readonly string[] }
  /** A file transfer began (sent by this side, or offered by the peer). */
  | { type: 'transfer'; transfer: Transfer }
  /**
   * The call's safety code (`1234 5678`): the same on both sides when no one in the signaling
   * path answered either side itself. People compare it out loud or on screen.
   */
  | { type: 'safetyCode'; peerId: string; code: string }
  /** No safety code can be trusted for this call (the exchange was altered, or cannot run). */
  | { type: 'safetyCodeFailed'; peerId: string; reason: string }
  /** Pairing by code: this client's code, its end, a refused join, a verified or failed call. */
  | CodeEvent
  /** Calls: incoming, answered, declined, ended; remote tracks to render, and their end. */
  | CallEvent;

type Listener<T extends TandemClientEvent['type']> = (event: Extract<TandemClientEvent, { type: T }>) => void;

/** A running tandem client. */
export interface TandemClient {
  /** Subscribe to a typed event; returns an unsubscribe function. */
  on<T extends TandemClientEvent['type']>(type: T, listener: Listener<T>): () => void;
  /**
   * Ask the server to pair with the client whose key (ID) is `key`. With `call`, call it at once:
   * where the partner takes media in the first offer (a tandem client on the same server), the
   * tracks ride in it, one negotiation for chat and media; else the call follows once the call is up.
   */
  pair(key: string, options?: { call?: readonly LocalTrack[]; direction?: 'sendrecv' | 'sendonly' }): void;
  /**
   * Pair by code: ask the server for a nameplate and make a code on it (`<nameplate>-<word>-<word>`,
   * the `code` event). Whoever joins it is verified over the call before anything flows. Needs a
   * server that offers `codes`.
   */
  requestCode(options?: { words?: number }): void;
  /** Join the code another client made (`code` event there); `verified` or `verificationFailed` follows. */
  joinCode(code: string): void;
  /** This client's current code, once made (null before, and once it is used or gone). */
  readonly code: string | null;
  /** Whether the current call was paired by code and is verified. */
  readonly verified: boolean;
  /**
   * End the pairing and the call, staying registered: the server tells the partner, and both may
   * pair anew. On a server that did not grant `leave` (wire v1) it is an `error` event
   * (`leave_unsupported`): there, only reconnecting ends a pairing.
   */
  leave(): void;
  /** Send text or bytes to the peer; queued (bounded) while the channel opens, an `error` event otherwise. */
  send(data: PeerData): void;
  /**
   * Open a named data channel to the peer of the current call. Waits until the peer has said it is
   * a tandem client; rejects with a ChannelError (`peer_unsupported` for a wire-v1 peer, `closed`
   * with no call).
   */
  channel(label: string, init?: DataChannelInit, limits?: ChannelLimits): Promise<TandemChannel>;
  /**
   * Send a file to the peer of the current call (a tandem peer that takes files). The transfer
   * reports progress and ends `done` once the receiver has checked the SHA-256 of what it wrote.
   * Sending the same file to the same peer after a cut resumes from what it holds.
   */
  sendFile(source: FileSource): Transfer;
  /** Transfers in flight in the current call. */
  readonly transfers: readonly Transfer[];
  /** What the peer of the current call is, once known (null before, or with no call). */
  readonly peer: PeerFeatures | null;
  /** The current call's safety code once both sides have worked it out (see the `safetyCode` event), else null. */
  readonly safetyCode: string | null;
  /**
   * Call the peer of the current pairing with `tracks` (camera and microphone; none: receive
   * only). The peer gets `incomingCall` and answers or declines; throws a CallError when there is
   * no call to ride on or the peer takes none (a wire-v1 client is never sent a media offer).
   */
  call(tracks: readonly LocalTrack[], options?: { direction?: 'sendrecv' | 'sendonly' }): void;
  /** Answer an incoming call, sending `tracks` back (none: receive only). */
  answerCall(tracks?: readonly LocalTrack[]): void;
  /** Decline an incoming call. */
  declineCall(reason?: string): void;
  /** End the call: its tracks stop (camera and microphone released) on both sides; the pairing and chat stay. */
  hangUp(): void;
  /** Send one more track in the call (one offer carries it). */
  addTrack(track: LocalTrack, direction?: 'sendrecv' | 'sendonly'): void;
  /** Stop sending a track (one offer carries it); the track itself is not stopped. */
  removeTrack(track: LocalTrack): void;
  /** Send `next` in place of `track` (camera ↔ screen) with no new offer. */
  replaceTrack(track: LocalTrack, next: LocalTrack): Promise<void>;
  /** Mute (false) or unmute the sent tracks of `kind`: the peer gets silence or black, no renegotiation. */
  setSending(kind: MediaKind, enabled: boolean): void;
  /** Where the call stands. */
  readonly callState: CallState;
  /** The call's live quality (received video size and rate, round trip, packets lost), or null. */
  callStats(): Promise<MediaStats | null>;
  /** Close the peer and the signaling socket; idempotent. */
  close(): void;
  /** The candidate pair the peer connection uses (e.g. `relay` through TURN), once connected; null if unknown. */
  selectedPath(): Promise<SelectedPath | null>;
  /** Own ID (the shareable key), once the server assigned one. */
  readonly id: string | null;
  /** Current status. */
  readonly status: ClientStatus;
  /** The signaling link is down and the session is being resumed (the ID, pairing and channel live on). */
  readonly resuming: boolean;
  /** Messages dropped because the send queue was full. */
  readonly dropped: number;
  /** The underlying actor, for inspection. */
  readonly actor: ClientActor;
}

const isSignalingEffect = (e: ClientEmitted): e is SignalingEffect => e.type.startsWith('ws.');
const isPeerEffect = (e: ClientEmitted): e is PeerEffect => e.type.startsWith('peer.');

/** Create and start a client. */
export function createTandemClient(options: TandemClientOptions): TandemClient {
  const {
    transport,
    createPeer,
    iceServers = [],
    relayOnly = false,
    clock,
    decode,
    reconnect = exponentialBackoff(),
    token,
    features = [CHANNELS_FEATURE, FILES_FEATURE, SAFETY_FEATURE, MEDIA_FEATURE],
    channelLimits,
    peerWaitMs,
    files: filesOptions,
    onFileOffer = () => ({ decline: 'this client takes no files' }),
    ...input
  } = options;
  // one identity for resumes across this client's calls
  const fileSettings: FilesOptions = {
    ...filesOptions,
    identity:
      filesOptions?.identity ??
      Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join(''),
  };
  const transfers = new Map<ChannelHub, FileTransfers | Promise<FileTransfers>>();
  const safetyCodes = new Map<ChannelHub, string>();
  // partners learn from the server that this client takes media in the first offer
  const announce = input.announce ?? (features.includes(MEDIA_FEATURE) ? [PeerCapability.Media] : []);
  const actor = createActor(clientMachine, {
    input: { ...input, announce, reconnect },
    ...(clock ? { clock } : {}),
  });
  const listeners = new Map<string, Set<(e: TandemClientEvent) => void>>();
  const notify = (event: TandemClientEvent) => {
    for (const listener of listeners.get(event.type) ?? []) listener(event);
  };
  const codes = new CodeClient(
    (m) => signaling.send(m),
    notify,
    () => actor.getSnapshot().context.id,
    () => actor.send({ type: 'LEAVE' }),
  );
  const signaling = createSignalingDriver(actor, transport, decode, token, (m) => codes.server(m));
  // calls: their code loads once the client is registered (off the page's start), and a session
  // made before it is there holds its negotiation till then. Remote tracks of a pairing by code
  // are shown only once it is verified.
  let calls: CallManager | null = null;
  /** A call asked for with the pairing before the calls code was there. */
  let earlyCall: { tracks: readonly LocalTrack[]; options: { direction?: 'sendrecv' | 'sendonly' } } | null = null;
  const callsOf = (m: typeof import('./media.js')): CallManager => {
    if (calls !== null) return calls;
    calls = new m.CallManager(
      (e) => (e.type === 'track' || e.type === 'incomingCall' ? codes.whenVerified(() => notify(e)) : notify(e)),
      (gen) => actor.send({ type: 'RENEGOTIATE', gen }),
      () => actor.getSnapshot().context.peerId ?? '',
    );
    if (earlyCall !== null) calls.callWithPairing(earlyCall.tracks, earlyCall.options);
    earlyCall = null;
    return calls;
  };
  /** The call manager, for a command: none yet means no session it could ride on. */
  const manager = (): CallManager => {
    if (calls !== null) return calls;
    if (!features.includes(MEDIA_FEATURE))
      throw new CallError('media_unsupported', 'This client was made without the media feature');
    if (peers.hub() === null) throw new CallError('no_call', 'Not paired: pair first, then call');
    throw new CallError('media_unsupported', 'Calls are unavailable in this call: their code has not loaded');
  };
  const unverified = () => {
    if (codes.gated)
      throw new CallError('no_call', 'The call is not verified yet: no media before the code is confirmed');
  };
  /** A feature's code could not be loaded (a chunk the page could not fetch): the session goes on without it. */
  const codeUnavailable = (what: string, err: unknown) =>
    notify({
      type: 'error',
      code: 'feature_unavailable',
      message: `${what} are unavailable in this call: their code did not load (${err instanceof Error ? err.message : String(err)})`,
      source: 'client',
    });
  /** Run `use` with a feature's code for a session: at once when loaded, else once it is, this side's hello held till then. */
  const withFeature = <M>(hub: ChannelHub, feature: Lazy<M>, what: string, use: (m: M) => void) => {
    if (feature.loaded !== undefined) return use(feature.loaded);
    hub.holdHello(
      feature.load().then(
        (m) => void (hub.isClosed || use(m)),
        (err: unknown) => hub.isClosed || codeUnavailable(what, err),
      ),
    );
  };
  // the client's own servers first, then the server's (with its current TURN credentials)
  const peers = createPeerDriver(
    actor,
    createPeer,
    () => [...iceServers, ...signaling.iceServers()],
    relayOnly ? 'relay' : 'all',
    {
      features,
      answerProbes: input.answerPings !== false,
      ...(clock ? { clock } : {}),
      ...(peerWaitMs !== undefined ? { peerWaitMs } : {}),
      ...(channelLimits ? { limits: channelLimits } : {}),
      onTrack: (gen, track) => calls?.remoteTrack(gen, track),
      onTrackEnded: (gen, id) => calls?.remoteTrackEnded(gen, id),
      onTrackFlowing: (gen, id) => calls?.remoteTrackFlowing(gen, id),
      onRemoteOffer: (gen) => calls?.remoteOffer(gen),
      onHub: (hub: ChannelHub, gen: number, session: PeerSession) => {
        if (features.includes(MEDIA_FEATURE)) {
          const context = {
            peerCapabilities: actor.getSnapshot().context.peerCapabilities,
            // a pairing by code (or one being confirmed again) sends no media before it is verified
            mayOffer: !codes.gated,
          };
          if (mediaCode.loaded !== undefined) callsOf(mediaCode.loaded).attach(hub, session, gen, context);
          else
            peers.hold(
              gen,
              mediaCode.load().then(
                (m) => void (hub.isClosed || callsOf(m).attach(hub, session, gen, context)),
                (err: unknown) => hub.isClosed || codeUnavailable('calls', err),
              ),
            );
        }
        // a call paired by code is verified first: until then nothing of the app's flows on it
        const byCode = codes.call(hub, session);
        hub.onChannel((channel) => (codes.gated ? channel.close() : notify({ type: 'channel', channel })));
        hub.onPeer((peer) => {
          const peerId = actor.getSnapshot().context.peerId;
          if (peerId !== null) notify({ type: 'peerFeatures', peerId, ...peer });
        });
        hub.onClose(() => safetyCodes.delete(hub));
        if (!byCode && features.includes(SAFETY_FEATURE))
          withFeature(hub, safetyCode, 'safety codes', ({ runSafetyExchange }) =>
            hub.onPeer((peer) => {
              if (!peer.tandem || !peer.features.includes(SAFETY_FEATURE)) return;
              runSafetyExchange(hub, session, (outcome) => {
                const peerId = actor.getSnapshot().context.peerId ?? '';
                if (outcome.ok) safetyCodes.set(hub, outcome.code);
                notify(
                  outcome.ok
                    ? { type: 'safetyCode', peerId, code: outcome.code }
                    : { type: 'safetyCodeFailed', peerId, reason: outcome.reason },
                );
              });
            }),
          );
        if (!features.includes(FILES_FEATURE)) return;
        const attachFiles = (m: typeof import('./files.js')) => {
          const files = new m.FileTransfers(
            hub,
            onFileOffer,
            (transfer) => notify({ type: 'transfer', transfer }),
            fileSettings,
          );
          transfers.set(hub, files);
          hub.onClose(() => {
            files.close();
            transfers.delete(hub);
          });
          codes.whenVerified(() => files.start(hub.initiator));
          return files;
        };
        if (filesCode.loaded !== undefined) return void attachFiles(filesCode.loaded);
        const loading = filesCode.load().then((m) => {
          if (hub.isClosed) throw new Error('the call ended');
          return attachFiles(m);
        });
        transfers.set(hub, loading);
        loading.catch((err: unknown) => {
          if (transfers.get(hub) === loading) transfers.delete(hub);
          if (!hub.isClosed) codeUnavailable('file transfers', err);
        });
        hub.holdHello(loading);
      },
    },
  );
  actor.on('*', (emitted) => {
    const e = emitted as ClientEmitted;
    if (isSignalingEffect(e)) signaling.perform(e);
    else if (isPeerEffect(e)) peers.perform(e);
    else if (e.type === 'open' && codes.gated) codes.whenVerified(() => notify(e));
    else if (e.type === 'message' && codes.gated)
      return; // from a call not verified: never delivered
    else {
      if (e.type === 'peerLeft') codes.ended();
      // registered: the calls code comes now, before a pairing can need it (see `calls`)
      if (e.type === 'id' && features.includes(MEDIA_FEATURE)) void mediaCode.load().catch(() => undefined);
      notify(e);
    }
  });
  let lastStatus: ClientStatus | null = null;
  let lastResuming = false;
  actor.subscribe(() => {
    const status = statusOf(actor);
    const resuming = resumingOf(actor);
    if (status === lastStatus && resuming === lastResuming) return;
    lastStatus = status;
    lastResuming = resuming;
    notify({ type: 'status', status, resuming });
  });
  actor.start();

  return {
    on(type, listener) {
      let set = listeners.get(type);
      if (set === undefined) listeners.set(type, (set = new Set()));
      const l = listener as (e: TandemClientEvent) => void;
      set.add(l);
      return () => set.delete(l);
    },
    pair: (key, o) => {
      if (o?.call !== undefined) {
        if (!features.includes(MEDIA_FEATURE))
          throw new CallError('media_unsupported', 'This client was made without the media feature');
        const options = o.direction !== undefined ? { direction: o.direction } : {};
        if (calls !== null) calls.callWithPairing(o.call, options);
        else {
          if (earlyCall !== null) throw new CallError('busy', 'A call is on its way already');
          for (const t of o.call) mediaKindOf(t);
          earlyCall = { tracks: o.call, options };
          void mediaCode.load().catch(() => undefined); // (a failure is told when the session needs it)
        }
      }
      actor.send({ type: 'PAIR', key });
    },
    requestCode: (o) => codes.request(o?.words),
    joinCode: (code) => codes.join(code),
    get code() {
      return codes.code;
    },
    get verified() {
      return codes.verified;
    },
    leave: () => actor.send({ type: 'LEAVE' }),
    send: (data) => {
      if (!codes.gated) return actor.send({ type: 'SEND', data });
      const message = 'The call is not verified yet: nothing is sent before the code is confirmed';
      notify({ type: 'error', code: 'not_verified', message, source: 'client' });
    },
    channel: async (label, init, limits) => {
      const hub = peers.hub();
      if (hub === null) throw new ChannelError('closed', 'not in a call: pair first');
      if (codes.gated) throw new ChannelError('closed', 'the call is not verified yet');
      return hub.open(label, init, limits);
    },
    get peer() {
      return peers.hub()?.peer ?? null;
    },
    get safetyCode() {
      const hub = peers.hub();
      return (hub === null ? undefined : safetyCodes.get(hub)) ?? null;
    },
    sendFile: (source) => {
      const hub = peers.hub();
      const files = hub === null ? undefined : transfers.get(hub);
      if (files === undefined || codes.gated)
        return refusedTransfer(
          source,
          hub === null
            ? 'not in a call: pair first'
            : codes.gated
              ? 'the call is not verified yet'
              : 'this client does not send files',
        );
      if (!(files instanceof Promise)) return files.send(source);
      // the files code is still loading for this call: a transfer that stands for it meanwhile
      const id = transferId();
      const t = new DeferredTransfer(
        id,
        source,
        files.then((f) => f.send(source, { id, announce: false })),
      );
      notify({ type: 'transfer', transfer: t });
      return t;
    },
    get transfers() {
      const hub = peers.hub();
      const files = hub === null ? undefined : transfers.get(hub);
      return files === undefined || files instanceof Promise ? [] : files.active;
    },
    call: (tracks, o) => {
      unverified();
      manager().call(tracks, o);
    },
    answerCall: (tracks) => {
      unverified();
      manager().answer(tracks);
    },
    declineCall: (reason) => manager().decline(reason),
    hangUp: () => manager().hangUp(),
    addTrack: (track, direction) => {
      unverified();
      manager().addTrack(track, direction);
    },
    removeTrack: (track) => manager().removeTrack(track),
    replaceTrack: async (track, next) => manager().replaceTrack(track, next),
    setSending: (kind, enabled) => manager().setEnabled(kind, enabled),
    get callState() {
      return calls?.state ?? 'idle';
    },
    callStats: async () =>
      (calls?.state ?? 'idle') === 'idle' ? null : ((await peers.session()?.mediaStats?.()) ?? null),
    close: () => {
      if (actor.getSnapshot().status === 'active') actor.send({ type: 'CLOSE' }); // idempotent, without xstate's stopped-actor warning
    },
    selectedPath: () => peers.selectedPath(),
    get id() {
      return actor.getSnapshot().context.id;
    },
    get dropped() {
      return actor.getSnapshot().context.dropped;
    },
    get status() {
      return statusOf(actor);
    },
    get resuming() {
      return resumingOf(actor);
    },
    actor,
  };
}

/** Whether signaling is away while the session waits to be resumed: the ID is kept through the loss. */
export function resumingOf(actor: ClientActor): boolean {
  const s = actor.getSnapshot();
  return s.status === 'active' && s.context.resuming;
}

/** Summarise the machine's state for people. */
export function statusOf(actor: ClientActor): ClientStatus {
  const s = actor.getSnapshot();
  if (s.status === 'done' || s.matches('closed')) return 'closed';
  if (s.matches({ running: { session: { active: 'open' } } })) return 'open';
  if (s.matches({ running: { session: { active: 'negotiating' } } })) return 'negotiating';
  if (s.matches({ running: { signaling: 'failed' } })) return 'offline';
  if (s.matches({ running: { signaling: 'backoff' } })) return 'reconnecting';
  if (s.matches({ running: { signaling: 'online' } }))
    return s.matches({ running: { session: 'requesting' } }) ? 'requesting' : 'registered';
  return 'connecting';
}
