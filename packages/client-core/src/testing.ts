// In-memory stand-ins for the client's ports: a fake WebRTC network whose peers obey the
// offer/answer/candidate rules of RTCPeerConnection (remote description before candidates, answer
// only after an offer, candidates only from the peer described), and a transport to a
// server-core MemoryServer. Deliveries go through microtasks, like a real event loop.
import type { IceCandidate } from '@tandem/protocol';
import { sha256 } from '@noble/hashes/sha2';
import { utf8ToBytes } from '@noble/hashes/utils';
import type {
  DataChannelHandlers,
  DataChannelInit,
  DataChannelPort,
  PeerFactory,
  PeerFingerprints,
  PeerHandlers,
  PeerSession,
  TransportFactory,
  LocalTrack,
  MediaKind,
  RemoteTrack,
  TrackSender,
} from './ports.js';
import { mediaKindOf } from './ports.js';
import type { ChannelHub } from './channel-hub.js';
import { numberedName, safeFileName } from './file-names.js';
import type { FileOffer, FileSink, FileSource, OfferHandler } from './files.js';

/** Counters that let tests check the fake peers were used correctly. */
export interface FakeNetworkStats {
  created: number;
  closed: number;
  opened: number;
  /** Candidates added before a remote description: a real RTCPeerConnection rejects these. */
  candidatesBeforeRemote: number;
  /** Candidates naming a peer other than the one described (late ones from a former pairing). */
  foreignCandidates: number;
  duplicateCandidates: number;
  /** Data channels opened beyond chat, and the labels they had. */
  channelsOpened: number;
  channelLabels: string[];
  /** The most bytes any one channel held in its send buffer. */
  maxBufferedAmount: number;
  /** The largest message any channel sent (bytes). */
  maxMessageSent: number;
}

/** Options of a fake network. */
export interface FakeNetworkOptions {
  /** false puts candidates in the SDP, like aiortc. Default true. */
  trickle?: boolean;
  /** false: peers carry chat only (no `openChannel`), like a stack without it. Default true. */
  channels?: boolean;
  /** The `a=max-message-size` peers state (and enforce on what they receive); default 262 144, as Chromium. */
  maxMessageSize?: number;
  /** Bytes one delivery turn (a macrotask) moves per channel: the link's speed. Default 256 KiB. */
  bytesPerTurn?: number;
}

let tokens = 0;

/** A little world of fake peers that find each other through the tokens in their SDP. */
export class FakeNetwork {
  readonly peers = new Map<string, FakePeer>();
  /** Peers whose network path is down (see `FakePeer.pathLost`). */
  readonly pathDown = new Set<string>();
  /** Whether an ICE restart can find a new path (false: the network is gone for good). */
  restorable = true;
  readonly stats: FakeNetworkStats = {
    created: 0,
    closed: 0,
    opened: 0,
    candidatesBeforeRemote: 0,
    foreignCandidates: 0,
    duplicateCandidates: 0,
    channelsOpened: 0,
    channelLabels: [],
    maxBufferedAmount: 0,
    maxMessageSent: 0,
  };
  /**
   * A relay in the signaling path that answers each side itself would hand each side its own
   * certificate: set this to rewrite the fingerprint `to` reads in a remote description.
   */
  rewriteFingerprint: ((fingerprint: string, to: FakePeer) => string) | null = null;
  constructor(readonly options: FakeNetworkOptions = {}) {}
  /** A PeerFactory for createTandemClient; `trickle: false` puts candidates in the SDP like aiortc. */
  readonly createPeer: PeerFactory = ({ handlers }) => {
    const p =
      this.options.channels === false
        ? new FakePeer(this, handlers, this.options.trickle ?? true)
        : new ChannelFakePeer(this, handlers, this.options.trickle ?? true);
    this.peers.set(p.token, p);
    this.stats.created++;
    return p;
  };
  /** Break the network path under every live pair (a network change on one side breaks both ends' ICE). */
  breakPaths(): void {
    for (const p of this.live()) p.pathLost();
  }
  /** Peers not yet closed. */
  live(): FakePeer[] {
    return [...this.peers.values()].filter((p) => !p.closed);
  }
}

/** One fake RTCPeerConnection with one data channel, with the signaling states of the real one. */
export class FakePeer implements PeerSession {
  readonly token = `fp${++tokens}`;
  closed = false;
  open = false;
  /** RTCSignalingState, as far as one data channel needs it. */
  signaling: 'stable' | 'have-local-offer' = 'stable';
  /** Offers, answers, ICE restarts and rollbacks this peer went through. */
  readonly history: string[] = [];
  private hasChannel = false;
  /** The chat channel's DCEP subprotocol, as its creator set it. */
  chatProtocol = '';
  /** This peer's extra data channels. */
  protected readonly channels = new Set<FakeChannel>();
  private described = false;
  private remote: string | null = null;
  private remoteCandidates = new Set<string>();
  /** This side's DTLS certificate fingerprint (one per peer, as a real stack's). */
  readonly fingerprint = fakeFingerprint(this.token);
  /** Every fingerprint a remote description carried (kept, as werift keeps them). */
  private readonly remoteFingerprints = new Set<string>();
  /** ICE generation of this side's current description; an ICE restart starts the next. */
  private iceGen = 0;
  private remoteIceGen = 0;
  /** Messages sent while the path is down: SCTP delivers them once it is back. */
  private readonly held: (string | Uint8Array)[] = [];
  private handlers: PeerHandlers | null;
  /** Tracks this side sends, by m-line (a removed one leaves its m-line, as a stack's does). */
  readonly senders = new Map<number, FakeSender>();
  private nextMid = 0;
  /** The kinds of the tracks in the peer's last offer (the m-lines an answer may send on). */
  private remoteOfferKinds: MediaKind[] = [];
  /** The peer's tracks, as its last description listed them. */
  readonly receiving = new Map<string, RemoteTrack>();
  constructor(
    protected readonly net: FakeNetwork,
    handlers: PeerHandlers,
    private readonly trickle: boolean,
  ) {
    this.handlers = handlers;
  }
  createDataChannel(_label: string, init?: DataChannelInit): void {
    this.hasChannel = true;
    this.chatProtocol = init?.protocol ?? '';
  }
  async createOffer(): Promise<string> {
    if (!this.hasChannel) throw new Error('fake: offer without a data channel has nothing to negotiate');
    return this.offer('offer');
  }
  async restartIce(): Promise<string> {
    this.iceGen++;
    return this.offer('restart');
  }
  addTrack(track: LocalTrack, direction: 'sendrecv' | 'sendonly' = 'sendrecv'): TrackSender {
    const sender = new FakeSender(mediaKindOf(track), track, this.nextMid++, direction, () => this.pushMedia());
    this.senders.set(sender.mid, sender);
    return sender;
  }
  removeTrack(sender: TrackSender): void {
    const s = sender as FakeSender;
    s.removed = true;
  }
  /** A sender with no track on the m-line `remote` came on, which the answer now being made carries. */
  replyOn(remote: RemoteTrack): TrackSender | null {
    if (!this.receiving.has(remote.id) || this.replies.has(remote.id)) return null;
    if (this.signaling !== 'stable' || !this.remoteOfferKinds.includes(remote.kind)) return null;
    const sender = new FakeSender(remote.kind, null, this.nextMid++, 'sendrecv', () => this.pushMedia());
    this.replies.add(remote.id);
    this.senders.set(sender.mid, sender);
    return sender;
  }
  private readonly replies = new Set<string>();
  /** The peer's tracks media arrived on (trackFlowing said once each). */
  private readonly flowing = new Set<string>();
  /**
   * Media goes out on every negotiated sender with a track once connected: the peer hears
   * `trackFlowing` for each, once (a stack's first RTP, its remote track unmuting).
   */
  pushMedia(): void {
    const other = this.other();
    if (other === undefined || !this.open || this.closed) return;
    for (const s of this.senders.values()) {
      const id = `${this.token}-${s.mid}`;
      if (s.removed || !s.negotiated || s.track === null || !other.receiving.has(id) || other.flowing.has(id)) continue;
      other.flowing.add(id);
      queueMicrotask(() => other.handlers?.trackFlowing?.(id));
    }
  }
  async renegotiate(): Promise<string> {
    return this.offer('renegotiate');
  }
  async rollback(): Promise<void> {
    if (this.signaling !== 'have-local-offer') throw new Error('InvalidStateError: nothing to roll back');
    this.signaling = 'stable';
    if (this.history.at(-1)?.startsWith('restart')) this.iceGen--; // back to the description before the offer
    for (const t of this.senders.values()) t.offered = false; // what that offer carried is not negotiated
    this.history.push('rollback');
  }
  async acceptOffer(sdp: string): Promise<string> {
    if (this.signaling !== 'stable') throw new Error('InvalidStateError: have-local-offer');
    const gen = this.setRemote(sdp, 'offer');
    // the answer is made once the offer is applied (setRemoteDescription, then createAnswer)
    await Promise.resolve();
    if (this.closed) throw new Error('InvalidStateError: closed');
    if (gen !== this.remoteIceGen && this.described) this.iceGen++; // the answerer restarts with it
    this.remoteIceGen = gen;
    this.hasChannel = true;
    this.described = true;
    this.history.push(`answer gen${this.iceGen}`);
    this.gather();
    queueMicrotask(() => this.tryConnect());
    return this.sdp('answer');
  }
  async acceptAnswer(sdp: string): Promise<void> {
    if (this.signaling !== 'have-local-offer') throw new Error('InvalidStateError: no local offer');
    this.remoteIceGen = this.setRemote(sdp, 'answer');
    this.signaling = 'stable';
    for (const t of this.senders.values()) if (t.offered) t.negotiated = true;
    this.pushMedia();
    this.other()?.pushMedia();
    queueMicrotask(() => this.tryConnect());
  }
  async addCandidate(c: IceCandidate): Promise<void> {
    if (this.closed) throw new Error('InvalidStateError: closed');
    if (this.remote === null) {
      this.net.stats.candidatesBeforeRemote++;
      throw new Error('InvalidStateError: remote description is not set');
    }
    if (c.candidate === '') return; // end of candidates
    const from = /fake (\w+)/.exec(c.candidate)?.[1];
    if (from !== this.remote) {
      this.net.stats.foreignCandidates++;
      throw new Error(`OperationError: candidate from ${from} does not match the remote description`);
    }
    if (this.remoteCandidates.has(c.candidate)) this.net.stats.duplicateCandidates++;
    this.remoteCandidates.add(c.candidate);
    queueMicrotask(() => this.tryConnect());
  }
  fingerprints(): PeerFingerprints {
    return { local: [this.fingerprint], remote: [...this.remoteFingerprints] };
  }
  send(data: string | Uint8Array): void {
    if (!this.open) throw new Error('InvalidStateError: data channel is not open');
    if (this.net.pathDown.has(this.token)) {
      this.held.push(data);
      return;
    }
    const other = this.other();
    queueMicrotask(() => other?.handlers?.channelMessage(data));
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.net.stats.closed++;
    this.handlers = null; // detach: nothing fires after close
    for (const c of [...this.channels]) c.close();
    if (this.open) {
      this.open = false;
      const other = this.other();
      queueMicrotask(() => other?.remoteClosed());
    }
  }
  /** The connection failed for good (DTLS/SCTP gone, not ICE): both sides hear it, as from a real stack. */
  fail(): void {
    if (this.closed) return;
    const other = this.other();
    this.handlers?.failed('connection failed');
    if (other !== undefined && !other.closed) queueMicrotask(() => other.handlers?.failed('connection failed'));
  }
  /** ICE reported `disconnected` but data still flows (a transient path change): the machine restarts ICE. */
  flapping = false;
  iceFlap(): void {
    if (this.closed) return;
    this.flapping = true;
    this.handlers?.iceState('disconnected');
  }
  /** The network path under this pair broke (a network change): ICE fails; the channel waits. */
  pathLost(): void {
    if (this.closed) return;
    this.net.pathDown.add(this.token);
    this.handlers?.iceState('disconnected');
    this.handlers?.iceState('failed');
  }
  /** The remote side closed its channel. */
  private remoteClosed(): void {
    if (this.closed || !this.open) return;
    this.open = false;
    this.handlers?.channelClose();
  }
  private offer(kind: 'offer' | 'restart' | 'renegotiate'): string {
    if (this.signaling !== 'stable') throw new Error('InvalidStateError: have-local-offer');
    this.signaling = 'have-local-offer';
    this.described = true;
    this.history.push(`${kind} gen${this.iceGen}`);
    this.gather();
    return this.sdp('offer');
  }
  protected other(): FakePeer | undefined {
    return this.remote === null ? undefined : this.net.peers.get(this.remote);
  }
  private sdp(role: string): string {
    const cands = this.trickle ? '' : `a=candidate:fake ${this.token} ${this.iceGen}1\r\n`;
    const max =
      this.net.options.maxMessageSize === undefined ? '' : `a=max-message-size:${this.net.options.maxMessageSize}\r\n`;
    // an offer carries every track this side sends; an answer only those its own offers negotiated
    // (a track added since needs an offer of its own, as on a real stack's new transceiver)
    if (role === 'offer') for (const t of this.senders.values()) t.offered = true;
    // an answer also carries a track added before the offer came, on an offered m-line of its kind
    // (JSEP associates such a transceiver with it)
    if (role === 'answer') {
      const free = [...this.remoteOfferKinds];
      for (const t of this.senders.values()) {
        if (t.removed || t.negotiated) continue;
        const i = free.indexOf(t.kind);
        if (i < 0) continue;
        free.splice(i, 1);
        t.negotiated = true;
      }
    }
    const tracks = [...this.senders.values()]
      .filter((t) => !t.removed && (role === 'offer' || t.negotiated))
      .map((t) => `a=track:${this.token}-${t.mid} ${t.kind}\r\n`)
      .join('');
    return `v=0\r\no=fake ${this.token} ${role}\r\na=ice-gen:${this.iceGen}\r\na=fingerprint:${this.fingerprint}\r\n${cands}${max}${tracks}`;
  }
  /** Set the remote description; returns its ICE generation. */
  private setRemote(sdp: string, role: string): number {
    const m = /o=fake (\w+) (\w+)/.exec(sdp);
    if (m === null || m[2] !== role) throw new Error(`InvalidAccessError: not a fake ${role}`);
    this.remote = m[1]!;
    for (const f of sdp.matchAll(/^a=fingerprint:(.+?)\r?$/gm))
      this.remoteFingerprints.add(this.net.rewriteFingerprint?.(f[1]!, this) ?? f[1]!);
    // the peer's tracks: new ones arrive, missing ones end (as ontrack and a stream's removetrack)
    const listed = new Map(
      [...sdp.matchAll(/^a=track:(\S+) (audio|video)\r?$/gm)].map((t) => [t[1]!, t[2] as MediaKind]),
    );
    if (role === 'offer') this.remoteOfferKinds = [...listed.values()];
    for (const [id, kind] of listed)
      if (!this.receiving.has(id)) {
        const track: RemoteTrack = { id, kind, track: { id, kind }, stream: { id: `stream-${m[1]}` } };
        this.receiving.set(id, track);
        // as ontrack, before the description is applied (an answer to it is made after)
        this.handlers?.track?.(track);
      }
    for (const id of [...this.receiving.keys()])
      if (!listed.has(id)) {
        this.receiving.delete(id);
        queueMicrotask(() => this.handlers?.trackEnded?.(id));
      }
    const inline = /a=(candidate:fake \w+ \d+)/.exec(sdp);
    if (inline) this.remoteCandidates.add(inline[1]!);
    return Number(/a=ice-gen:(\d+)/.exec(sdp)?.[1] ?? 0);
  }
  private gather(): void {
    if (!this.trickle) return;
    const gen = this.iceGen;
    queueMicrotask(() => {
      this.handlers?.iceCandidate({ candidate: `candidate:fake ${this.token} ${gen}1`, sdpMid: '0', sdpMLineIndex: 0 });
      this.handlers?.iceCandidate({ candidate: `candidate:fake ${this.token} ${gen}2`, sdpMid: '0', sdpMLineIndex: 0 });
      this.handlers?.iceCandidate(null);
    });
  }
  private ready(): boolean {
    return (
      !this.closed &&
      this.described &&
      this.signaling === 'stable' &&
      this.remote !== null &&
      this.remoteCandidates.size > 0
    );
  }
  private tryConnect(): void {
    const other = this.other();
    if (other === undefined || !this.ready() || !other.ready() || other.remote !== this.token) return;
    if (this.open) {
      // an ICE restart completed on both sides: the path is back under the same channel
      const restarted = this.iceGen === other.remoteIceGen && other.iceGen === this.remoteIceGen && this.iceGen > 0;
      const down = this.net.pathDown.has(this.token) || this.flapping || other.flapping;
      if (!restarted || !down || !this.net.restorable) return;
      for (const p of [this, other]) {
        this.net.pathDown.delete(p.token);
        p.flapping = false;
        p.handlers?.iceState('connected');
      }
      for (const p of [this, other]) for (const data of p.held.splice(0)) p.send(data);
      return;
    }
    this.open = other.open = true;
    this.net.stats.opened++;
    this.handlers?.iceState('connected');
    other.handlers?.iceState('connected');
    const protocol = this.chatProtocol || other.chatProtocol;
    this.handlers?.channelOpen(protocol);
    other.handlers?.channelOpen(protocol);
    this.pushMedia();
    other.pushMedia();
  }

  /** The handlers, for the channel subclass. */
  protected get peerHandlers(): PeerHandlers | null {
    return this.handlers;
  }
  /** Whether this peer's path is down (messages wait). */
  get pathIsDown(): boolean {
    return this.net.pathDown.has(this.token);
  }
}

/** A fake local track (what getUserMedia hands out), with the state a test checks. */
export class FakeTrack implements LocalTrack {
  private static count = 0;
  readonly id: string;
  enabled = true;
  stopped = false;
  constructor(
    readonly kind: MediaKind,
    label = kind === 'video' ? 'camera' : 'microphone',
  ) {
    this.id = `${label}-${++FakeTrack.count}`;
  }
  stop(): void {
    this.stopped = true;
  }
}

/** A fake RTCRtpSender: its m-line, what it sends, how often it was switched. */
export class FakeSender implements TrackSender {
  removed = false;
  /** In an offer of this side's that is out; in one that was answered. */
  offered = false;
  negotiated = false;
  replaced = 0;
  constructor(
    readonly kind: MediaKind,
    public track: LocalTrack | null,
    readonly mid: number,
    readonly direction: 'sendrecv' | 'sendonly',
    /** Media may flow now (a track went on a negotiated sender). */
    private readonly changed: () => void = () => undefined,
  ) {}
  async replaceTrack(track: LocalTrack | null): Promise<void> {
    this.track = track;
    this.replaced++;
    this.changed();
  }
}

/** A certificate fingerprint for a fake peer: SHA-256 of its token, as a stack prints it. */
export function fakeFingerprint(seed: string): string {
  return `sha-256 ${Array.from(sha256(utf8ToBytes(seed)), (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':')}`;
}

/** A fake peer that also opens data channels beyond chat, with a send buffer that drains at the link's speed. */
export class ChannelFakePeer extends FakePeer implements PeerSession {
  openChannel(label: string, init: DataChannelInit = {}): DataChannelPort {
    if (!this.open) throw new Error('InvalidStateError: the SCTP association is not up');
    const other = this.other() as ChannelFakePeer | undefined;
    if (other === undefined || other.closed) throw new Error('InvalidStateError: no peer');
    const mine = new FakeChannel(this.net, this, label, init.protocol ?? '');
    const theirs = new FakeChannel(this.net, other, label, init.protocol ?? '');
    mine.remote = theirs;
    theirs.remote = mine;
    this.channels.add(mine);
    other.channels.add(theirs);
    this.net.stats.channelsOpened++;
    this.net.stats.channelLabels.push(label);
    queueMicrotask(() => {
      if (theirs.readyState === 'closed') return;
      const handlers = other.peerHandlers;
      if (handlers?.channel === undefined) return theirs.close();
      handlers.channel(theirs);
      queueMicrotask(() => {
        mine.opened();
        theirs.opened();
      });
    });
    return mine;
  }
  /** Forget a closed channel. */
  dropChannel(c: FakeChannel): void {
    this.channels.delete(c);
  }
}

/** One end of a fake data channel. */
export class FakeChannel implements DataChannelPort {
  readyState: DataChannelPort['readyState'] = 'connecting';
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  remote: FakeChannel | null = null;
  private handlers: DataChannelHandlers | null = null;
  private readonly queue: (string | Uint8Array)[] = [];
  private pumping = false;
  constructor(
    private readonly net: FakeNetwork,
    private readonly owner: ChannelFakePeer,
    readonly label: string,
    readonly protocol: string,
  ) {}
  setHandlers(handlers: DataChannelHandlers | null): void {
    this.handlers = handlers;
    if (handlers !== null && this.readyState === 'open') queueMicrotask(() => this.handlers?.open());
  }
  opened(): void {
    if (this.readyState !== 'connecting') return;
    this.readyState = 'open';
    this.handlers?.open();
  }
  send(data: string | Uint8Array): void {
    if (this.readyState !== 'open') throw new Error('InvalidStateError: data channel is not open');
    const size = typeof data === 'string' ? new TextEncoder().encode(data).byteLength : data.byteLength;
    const max = this.net.options.maxMessageSize ?? 262_144;
    if (size > max) throw new TypeError(`fake: a ${size}-byte message is over the peer's max-message-size ${max}`);
    this.bufferedAmount += size;
    this.net.stats.maxMessageSent = Math.max(this.net.stats.maxMessageSent, size);
    this.net.stats.maxBufferedAmount = Math.max(this.net.stats.maxBufferedAmount, this.bufferedAmount);
    this.queue.push(typeof data === 'string' ? data : data.slice());
    this.schedule();
  }
  close(): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    this.queue.length = 0;
    this.bufferedAmount = 0;
    this.owner.dropChannel(this);
    const h = this.handlers;
    this.handlers = null;
    h?.close();
    const remote = this.remote;
    if (remote !== null) queueMicrotask(() => remote.close());
  }
  /** Deliver at the link's speed: one turn (a macrotask) moves `bytesPerTurn`; nothing moves while the path is down. */
  private schedule(): void {
    if (this.pumping) return;
    this.pumping = true;
    setTimeout(() => {
      this.pumping = false;
      if (this.readyState !== 'open') return;
      if (this.owner.pathIsDown) return this.schedule();
      let budget = this.net.options.bytesPerTurn ?? 256 * 1024;
      const before = this.bufferedAmount;
      while (this.queue.length > 0 && budget > 0) {
        const data = this.queue.shift()!;
        const size = typeof data === 'string' ? new TextEncoder().encode(data).byteLength : data.byteLength;
        budget -= size;
        this.bufferedAmount -= size;
        const remote = this.remote;
        if (remote !== null && remote.readyState === 'open') remote.handlers?.message(data);
      }
      if (before > this.bufferedAmountLowThreshold && this.bufferedAmount <= this.bufferedAmountLowThreshold)
        this.handlers?.bufferedAmountLow();
      if (this.queue.length > 0) this.schedule();
    }, 0);
  }
}

/** The server side an in-memory transport talks to (server-core's MemoryServer fits). */
export interface MemoryServerLike {
  connect(principal?: { subject?: string; tenant?: string; expiresAt?: number }): {
    readonly received: string[];
    send(frame: string): void;
    close(code?: number): void;
    onFrame: ((frame: string) => void) | null;
    onClose: ((code: number, reason: string) => void) | null;
  };
}

/** An in-memory socket, with a way to simulate abrupt loss. */
export interface MemorySocketControl {
  /** Drop the connection as a network failure would (the server sees a close, the client a 1006). */
  drop(): void;
}

/** A TransportFactory to a MemoryServer; `sockets` collects a control per socket opened. */
export function memoryTransport(
  server: MemoryServerLike,
  options: {
    /** A server that authorizes: the principal for a connect's token, or null to refuse it (as a 401 would). */
    authorize?: (token: string | undefined) => Parameters<MemoryServerLike['connect']>[0] | null;
  } = {},
): {
  factory: TransportFactory;
  sockets: MemorySocketControl[];
  refuse: { on: boolean };
  /** The token each connect carried, in order. */
  tokens: (string | undefined)[];
} {
  const sockets: MemorySocketControl[] = [];
  const tokens: (string | undefined)[] = [];
  const refuse = { on: false };
  const factory: TransportFactory = (_url, handlers, transportOptions) => {
    tokens.push(transportOptions?.token);
    const principal = options.authorize?.(transportOptions?.token);
    let closed = false;
    let conn: ReturnType<MemoryServerLike['connect']> | null = null;
    const finish = (code: number, reason: string) => {
      if (closed) return;
      closed = true;
      queueMicrotask(() => handlers.close(code, reason));
    };
    queueMicrotask(() => {
      if (closed) return;
      if (refuse.on) return finish(1006, 'connection refused');
      if (principal === null) return finish(1006, 'Unexpected server response: 401');
      handlers.open();
      const c = server.connect(principal);
      conn = c;
      // frames from the server go through microtasks, never re-entering the engine
      for (const f of c.received) queueMicrotask(() => !closed && handlers.message(f)); // your_id, sent during connect
      c.onFrame = (f) => queueMicrotask(() => !closed && handlers.message(f));
      c.onClose = (code, reason) => finish(code, reason);
    });
    const control: MemorySocketControl = {
      drop() {
        if (closed) return;
        conn?.close(1006); // the server sees the link lost, not a goodbye
        finish(1006, 'abnormal closure');
      },
    };
    sockets.push(control);
    return {
      send(text) {
        if (closed || conn === null) return;
        const c = conn;
        queueMicrotask(() => !closed && c.send(text));
      },
      close(code = 1000, reason = 'client closing') {
        if (closed) return;
        conn?.close(code);
        finish(code, reason);
      },
    };
  };
  return { factory, sockets, refuse, tokens };
}

/**
 * An in-memory file store for tests: saved files by name, parts kept for resumes by (hash, size,
 * sender). `readBack` gives its sinks `digest` (the part hashed as held, as a page's store reads
 * its part back); `damage` changes bytes on their way into the part (a disk that lies).
 */
export function memoryFileStore(
  options: {
    maxFileSize?: number;
    slowWrites?: boolean;
    readBack?: boolean;
    damage?: (bytes: Uint8Array, at: number) => Uint8Array;
  } = {},
): {
  decide: OfferHandler;
  saved: Map<string, Uint8Array>;
  parts: Map<string, Uint8Array>;
  offers: FileOffer[];
} {
  const saved = new Map<string, Uint8Array>();
  const parts = new Map<string, Uint8Array>();
  const offers: FileOffer[] = [];
  const decide: OfferHandler = (offer) => {
    offers.push(offer);
    if (offer.size > (options.maxFileSize ?? Infinity)) return { decline: 'too large' };
    const key = `${offer.sha256}:${offer.size}:${offer.from}`;
    let part = parts.get(key) ?? new Uint8Array(0);
    parts.set(key, part);
    const tick = () => (options.slowWrites ? new Promise((r) => setTimeout(r, 1)) : Promise.resolve());
    const sink: FileSink = {
      held: part.byteLength,
      readHeld: async (offset, length) => part.slice(offset, offset + length),
      truncate: async () => {
        part = new Uint8Array(0);
        parts.set(key, part);
      },
      write: async (bytes) => {
        await tick();
        const next = new Uint8Array(part.byteLength + bytes.byteLength);
        next.set(part);
        next.set(options.damage?.(bytes.slice(), part.byteLength) ?? bytes, part.byteLength);
        part = next;
        parts.set(key, part);
      },
      ...(options.readBack === true && {
        digest: async (length: number) => {
          await tick();
          return sha256(part.subarray(0, length));
        },
      }),
      commit: async () => {
        const base = safeFileName(offer.name);
        let n = 0;
        while (saved.has(numberedName(base, n))) n++;
        saved.set(numberedName(base, n), part);
        parts.delete(key);
        return numberedName(base, n);
      },
      abort: async (keep) => {
        if (!keep) parts.delete(key);
      },
    };
    return { accept: sink };
  };
  return { decide, saved, parts, offers };
}

/** A file source over bytes in memory; `oneShot` gives it `digest` (as a page's source has, with WebCrypto). */
export function memoryFileSource(name: string, bytes: Uint8Array, type = '', oneShot = false): FileSource {
  return {
    name,
    size: bytes.byteLength,
    type,
    read: async (offset, length) => bytes.slice(offset, offset + length),
    ...(oneShot && { digest: async (length: number) => sha256(bytes.subarray(0, length)) }),
  };
}

/** A side of a call, for `controlLink`. */
export type CallSide = 'initiator' | 'responder';

/**
 * Two control channels back to back, for exchanges that run over a call's `tandem.control`
 * (safety codes, code verification) without a call: `hub(side)` stands in for that side's
 * ChannelHub, `session(fingerprints)` for a PeerSession that tells them, and `run()` delivers
 * what was sent, in order, each message through `relay` (which may rewrite it, as a man in the
 * middle would).
 */
export function controlLink(
  relay: (message: Record<string, unknown>, to: CallSide) => Record<string, unknown> = (m) => m,
) {
  type Ctl = { t: string } & Record<string, unknown>;
  const listeners = { initiator: new Set<(m: Ctl) => void>(), responder: new Set<(m: Ctl) => void>() };
  const queue: (() => void)[] = [];
  return {
    hub(side: CallSide): ChannelHub {
      const other: CallSide = side === 'initiator' ? 'responder' : 'initiator';
      return {
        initiator: side === 'initiator',
        onControl: (l: (m: Ctl) => void) => {
          listeners[side].add(l);
          return () => listeners[side].delete(l);
        },
        sendControl: (m: Ctl) => {
          const relayed = relay(structuredClone(m), other) as Ctl;
          queue.push(() => listeners[other].forEach((l) => l(relayed)));
          return true;
        },
        onClose: () => undefined,
      } as unknown as ChannelHub;
    },
    session: (fingerprints: PeerFingerprints) => ({ fingerprints: () => fingerprints }) as unknown as PeerSession,
    /** Deliver what is queued (and what that sends), at most `steps` messages. */
    run(steps = 20): void {
      for (let i = 0; i < steps && queue.length > 0; i++) queue.shift()!();
    },
  };
}

/** Wait, on real time, until `cond` holds; throws naming `what` after `ms` (default 10 s). */
export async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
