// The data channels of one peer session beyond chat. A wire-v1 peer (the seed's stage-4 client
// takes whatever channel it is handed as its chat) must only ever see `chat`, so nothing else is
// opened until both ends have said they are tandem clients, in band and through any server:
//   1. the initiator creates `chat` with the DCEP subprotocol `tandem.2` (a v1 peer ignores it);
//   2. a tandem responder sees it when chat opens and opens `tandem.control`, saying `hello` with
//      its features; a responder that sees no `tandem.2` takes the peer for a v1 one;
//   3. the initiator answers `hello` on that channel. An initiator that gets no `tandem.control`
//      within `peerWaitMs` of chat opening takes the peer for a v1 one.
// Then both know the features they share, and `open()` works. Labels starting `tandem.` are the
// library's own (control, files); the app's channels may not use them.
import { ChannelError, TandemChannel, maxMessageSizeOf, type ChannelLimits } from './channels.js';
import type { Clock, DataChannelInit, DataChannelPort, PeerSession } from './ports.js';

/** The chat channel's subprotocol when this side is a tandem client that can do more. */
export const CHAT_PROTOCOL = 'tandem.2';
/** The control channel's label. */
export const CONTROL_LABEL = 'tandem.control';
/** The prefix of the library's own channel labels. */
export const RESERVED_PREFIX = 'tandem.';

/** How many channels may arrive before the peer's hello (the rest are closed). */
const MAX_EARLY_CHANNELS = 16;
/** Control messages held until this side's control channel says open (the peer's hello came first). */
const MAX_HELD_CONTROL = 64;

/** What the peer turned out to be. */
export interface PeerFeatures {
  /** A tandem client that opened the control channel (false: a v1 peer, or a tandem client without channels). */
  readonly tandem: boolean;
  /** The features both ends have, e.g. `channels`, `files`. */
  readonly features: readonly string[];
}

/** Options of a hub. */
export interface ChannelHubOptions {
  readonly initiator: boolean;
  /** This side's features, e.g. `['channels', 'files']`. */
  readonly features: readonly string[];
  readonly clock?: Clock;
  /** How long an initiator waits for a tandem responder's control channel after chat opens. Default 3 000. */
  readonly peerWaitMs?: number;
  readonly limits?: ChannelLimits;
}

const realClock: Clock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

/** The channels of one peer session. */
export class ChannelHub {
  private readonly channels = new Set<TandemChannel>();
  private readonly routes = new Map<string, (channel: TandemChannel) => void>();
  private readonly userListeners = new Set<(channel: TandemChannel) => void>();
  private readonly featureListeners = new Set<(features: PeerFeatures) => void>();
  private control: TandemChannel | null = null;
  /** Channels that arrived before the peer's hello. */
  private early: DataChannelPort[] = [];
  /** Control messages sent after the peer's hello came but before this side's control channel said open. */
  private readonly heldControl: string[] = [];
  private peerFeatures: PeerFeatures | null = null;
  /** What this side's hello waits for (a feature's code loading), and whether it went out. */
  private holds: Promise<unknown>[] = [];
  private helloSent = false;
  private waiting: unknown = null;
  private remoteMax = 65_536;
  private closed = false;
  private readonly closeListeners: (() => void)[] = [];
  private readonly controlListeners = new Set<(message: { t: string } & Record<string, unknown>) => void>();
  private readonly clock: Clock;

  constructor(
    private readonly session: PeerSession,
    private readonly options: ChannelHubOptions,
  ) {
    this.clock = options.clock ?? realClock;
  }

  /** Whether this side offered (and opened chat). */
  get initiator(): boolean {
    return this.options.initiator;
  }

  /** The peer's features once known, else null. */
  get peer(): PeerFeatures | null {
    return this.peerFeatures;
  }

  /** Whether this session can carry more than chat (the stack opens channels). */
  get capable(): boolean {
    return typeof this.session.openChannel === 'function' && this.options.features.length > 0;
  }

  /** The largest fragment the peer accepts: its `a=max-message-size` (a channel sends at most its own `fragmentBytes`, 16 KiB by default). */
  fragmentBytes(): number {
    return this.remoteMax;
  }

  /** A remote description was set: honour its max-message-size. */
  remoteDescription(sdp: string): void {
    this.remoteMax = maxMessageSizeOf(sdp);
  }

  /** Whether the session's channels closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Hold this side's hello until `ready` settles (a feature's code loading as a chunk of its own).
   * The peer sends nothing of a feature before it has this side's hello, so what it sends finds
   * the feature ready; control messages sent meanwhile go out right after the hello.
   */
  holdHello(ready: Promise<unknown>): void {
    if (this.helloSent) return;
    this.holds.push(ready.catch(() => undefined));
  }

  /** Call `listener` once the peer's features are known (at once if they are). */
  onPeer(listener: (features: PeerFeatures) => void): () => void {
    if (this.peerFeatures !== null) {
      listener(this.peerFeatures);
      return () => undefined;
    }
    this.featureListeners.add(listener);
    return () => this.featureListeners.delete(listener);
  }

  /** Resolves with the peer's features once known. */
  whenPeerKnown(): Promise<PeerFeatures> {
    return new Promise((resolve) => this.onPeer(resolve));
  }

  /** Channels the peer opened for the app. */
  onChannel(listener: (channel: TandemChannel) => void): () => void {
    this.userListeners.add(listener);
    return () => this.userListeners.delete(listener);
  }

  /** Channels the peer opened whose label starts with `prefix` (the library's own, e.g. files). */
  route(prefix: string, handler: (channel: TandemChannel) => void): void {
    this.routes.set(prefix, handler);
  }

  /** The chat channel opened, with this subprotocol. */
  chatOpened(protocol: string): void {
    if (this.peerFeatures !== null || this.closed) return;
    if (!this.capable) return this.settle({ tandem: false, features: [] });
    if (this.options.initiator) {
      this.waiting = this.clock.setTimeout(() => {
        this.waiting = null;
        if (this.control === null) this.settle({ tandem: false, features: [] });
      }, this.options.peerWaitMs ?? 3_000);
      return;
    }
    if (protocol !== CHAT_PROTOCOL) return this.settle({ tandem: false, features: [] });
    const control = this.wrap(this.session.openChannel!(CONTROL_LABEL, { ordered: true }), { ordered: true });
    this.useControl(control);
    control.on('open', () => this.sendHello());
  }

  /** The peer opened a channel (not chat). */
  incoming(port: DataChannelPort): void {
    if (this.closed) return port.close();
    if (port.label === CONTROL_LABEL) {
      // only an initiator that offered tandem.2 expects one, and only one
      if (!this.options.initiator || this.control !== null || !this.capable) return port.close();
      const control = this.wrap(port, { ordered: true });
      this.useControl(control);
      if (control.readyState === 'open') this.sendHello();
      else control.on('open', () => this.sendHello());
      return;
    }
    if (this.peerFeatures === null && this.control !== null) {
      // the peer's hello and its first channel travel on different streams: either may come first
      if (this.early.length >= MAX_EARLY_CHANNELS) return port.close();
      this.early.push(port);
      return;
    }
    if (this.peerFeatures?.tandem !== true) return port.close(); // nothing but chat before hello
    const channel = this.wrap(port, {});
    if (port.label.startsWith(RESERVED_PREFIX)) {
      const handler = [...this.routes].find(([prefix]) => port.label.startsWith(prefix))?.[1];
      if (handler === undefined) return channel.close();
      return handler(channel);
    }
    if (!this.peerFeatures.features.includes('channels')) return channel.close();
    for (const l of this.userListeners) l(channel);
  }

  /**
   * Open a channel to the peer; waits until the peer's features are known, and fails with
   * `peer_unsupported` when the peer is not a tandem client with `channels` (or `internal` for
   * the library's own labels).
   */
  async open(
    label: string,
    init: DataChannelInit = {},
    limits?: ChannelLimits,
    feature = 'channels',
  ): Promise<TandemChannel> {
    if (feature === 'channels' && label.startsWith(RESERVED_PREFIX))
      throw new ChannelError('closed', `labels starting "${RESERVED_PREFIX}" are tandem's own`);
    const peer = await this.whenPeerKnown();
    if (this.closed) throw new ChannelError('closed', 'the call ended');
    if (!peer.tandem || !peer.features.includes(feature))
      throw new ChannelError(
        'peer_unsupported',
        peer.tandem
          ? `the peer does not do ${feature}`
          : 'the peer is not a tandem client that opens channels (a wire-v1 peer carries chat only)',
      );
    const channel = this.wrap(this.session.openChannel!(label, init), init, limits);
    return channel;
  }

  /** Control messages from the peer (other than hello), e.g. `{t: 'rekey', id}`. */
  onControl(listener: (message: { t: string } & Record<string, unknown>) => void): () => void {
    this.controlListeners.add(listener);
    return () => this.controlListeners.delete(listener);
  }

  /** Send a control message to the peer over the call; false when there is no control channel. */
  sendControl(message: { t: string } & Record<string, unknown>): boolean {
    if (this.control === null || this.peerFeatures?.tandem !== true) return false;
    // the peer's hello can come before this side's 'open' event, or before this side's hello
    // (held while a feature loads): what is sent then waits behind this side's own hello
    if (!this.helloSent) {
      if (this.heldControl.length >= MAX_HELD_CONTROL) return false;
      this.heldControl.push(JSON.stringify(message));
      return true;
    }
    try {
      this.control.send(JSON.stringify(message));
      return true;
    } catch {
      return false;
    }
  }

  /** Resolves once what was sent on the control channel has gone out, or after `ms`. */
  async flushControl(ms: number): Promise<void> {
    const control = this.control;
    if (control === null) return;
    let timer: unknown = null;
    await Promise.race([
      control.drained().catch(() => undefined),
      new Promise<void>((resolve) => (timer = this.clock.setTimeout(() => resolve(), ms))),
    ]);
    if (timer !== null) this.clock.clearTimeout(timer);
  }

  /** Call `listener` when the session's channels close. */
  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  /** Close every channel (the session ended). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.closeListeners.splice(0)) l();
    if (this.waiting !== null) this.clock.clearTimeout(this.waiting);
    for (const c of [...this.channels]) c.close();
    for (const port of this.early.splice(0)) port.close();
    if (this.peerFeatures === null) this.settle({ tandem: false, features: [] });
  }

  private wrap(port: DataChannelPort, init: DataChannelInit, limits = this.options.limits): TandemChannel {
    const channel = new TandemChannel(port, init, () => this.fragmentBytes(), limits);
    this.channels.add(channel);
    channel.on('close', () => this.channels.delete(channel));
    return channel;
  }

  private useControl(control: TandemChannel): void {
    this.control = control;
    control.on('message', ({ data }) => {
      if (typeof data !== 'string') return;
      let hello: { t?: unknown; features?: unknown };
      try {
        hello = JSON.parse(data) as typeof hello;
      } catch {
        return;
      }
      if (hello.t !== 'hello') {
        if (typeof hello.t === 'string' && this.peerFeatures?.tandem === true)
          for (const l of this.controlListeners) l(hello as { t: string } & Record<string, unknown>);
        return;
      }
      if (!Array.isArray(hello.features)) return;
      const theirs = hello.features.filter((f): f is string => typeof f === 'string').slice(0, 64);
      this.settle({ tandem: true, features: this.options.features.filter((f) => theirs.includes(f)) });
    });
  }

  private sendHello(): void {
    if (this.holds.length > 0) {
      const holds = this.holds.splice(0);
      void Promise.all(holds).then(() => this.sendHello());
      return;
    }
    if (this.helloSent || this.closed) return;
    this.helloSent = true;
    try {
      this.control?.send(JSON.stringify({ t: 'hello', v: 1, features: this.options.features }));
      for (const m of this.heldControl.splice(0)) this.control?.send(m);
    } catch {
      // closed meanwhile: the session is ending
    }
  }

  private settle(features: PeerFeatures): void {
    if (this.peerFeatures !== null) return;
    if (this.waiting !== null) {
      this.clock.clearTimeout(this.waiting);
      this.waiting = null;
    }
    this.peerFeatures = features;
    for (const l of this.featureListeners) l(features);
    this.featureListeners.clear();
    for (const port of this.early.splice(0)) this.incoming(port);
  }
}
