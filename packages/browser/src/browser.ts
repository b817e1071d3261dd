/// <reference lib="dom" />
// client-core's transport and peer over the browser's own WebSocket and RTCPeerConnection.
// No Node imports: bundle it with client-core for a page. Files for pages are in browser-files.ts.
import { CloseCode, tokenSubprotocols, type IceCandidate } from '@tandem/protocol/wire';
import {
  fingerprintsOf,
  mediaKindOf,
  nobleSha256,
  numberedName,
  safeFileName,
  type Hasher,
  type HasherFactory,
  type FileOffer,
  type FileSink,
  type FileSource,
  type OfferDecision,
} from '@tandem/client-core';
import type {
  CandidateType,
  PeerFingerprints,
  DataChannelHandlers,
  DataChannelInit,
  DataChannelPort,
  PeerFactory,
  PeerHandlers,
  PeerSession,
  SelectedPath,
  TransportFactory,
  LocalTrack,
  MediaStats,
  RemoteTrack,
  TrackSender,
} from '@tandem/client-core';

/** Options of `browserTransport`; none yet, there for the same shape as Node's `wsTransport(options)`. */
export type BrowserTransportOptions = Record<string, never>;

/**
 * A TransportFactory over the browser's WebSocket: `transport: browserTransport()`, the same shape
 * as Node's `wsTransport()`. A token goes in the subprotocols (a browser cannot set headers).
 */
export function browserTransport(options?: BrowserTransportOptions): TransportFactory;
/** @deprecated Pass `browserTransport()` (called, as Node's `wsTransport()`); passing the function itself still works in 0.x. */
export function browserTransport(...args: Parameters<TransportFactory>): ReturnType<TransportFactory>;
export function browserTransport(
  ...args: [BrowserTransportOptions?] | Parameters<TransportFactory>
): TransportFactory | ReturnType<TransportFactory> {
  if (typeof args[0] === 'string') return openBrowserTransport(...(args as Parameters<TransportFactory>));
  return openBrowserTransport;
}

const openBrowserTransport: TransportFactory = (url, handlers, options) => {
  const ws = options?.token === undefined ? new WebSocket(url) : new WebSocket(url, tokenSubprotocols(options.token));
  let closed = false;
  ws.onopen = () => handlers.open();
  ws.onmessage = (e) => {
    if (typeof e.data === 'string') handlers.message(e.data);
  };
  ws.onclose = (e) => {
    if (closed) return;
    closed = true;
    handlers.close(e.code, e.reason);
  };
  return {
    send: (text) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(text);
    },
    close: (code: number = CloseCode.Normal, reason = '') => {
      closed = true;
      ws.close(code, reason);
    },
  };
};

/** Options of `browserPeerFactory`. */
export interface BrowserPeerOptions {
  /** Extra RTCConfiguration (e.g. `bundlePolicy`, `certificates`); the ICE servers and policy come from the client. */
  readonly rtcConfiguration?: Omit<RTCConfiguration, 'iceServers' | 'iceTransportPolicy'>;
  /**
   * Warm the page's WebRTC stack once, when the factory is made (default true): a throwaway peer
   * connection makes an offer with a channel and both media kinds, then closes, before any ICE
   * gathering. A page's first RTCPeerConnection, first media m-lines and first offer each cost
   * milliseconds; paid at start, they are not paid between a pairing and its first offer.
   */
  readonly warm?: boolean;
}

let warmed = false;
/** Once per page, off the current task: pay the stack's first-use costs before a pairing needs it. */
function warmUp(): void {
  if (warmed || typeof RTCPeerConnection === 'undefined') return;
  warmed = true;
  setTimeout(() => {
    let pc: RTCPeerConnection | null = null;
    try {
      pc = new RTCPeerConnection({ iceServers: [] });
      pc.createDataChannel('warm');
      pc.addTransceiver('audio', { direction: 'sendrecv' });
      pc.addTransceiver('video', { direction: 'sendrecv' });
      const done = () => pc?.close();
      pc.createOffer().then(done, done);
    } catch {
      pc?.close(); // a page without WebRTC (or a refused one): nothing to warm
    }
  }, 0);
}

/**
 * A PeerFactory over the browser's RTCPeerConnection: `createPeer: browserPeerFactory()`, the same
 * shape as Node's `weriftPeerFactory()`.
 */
export function browserPeerFactory(options?: BrowserPeerOptions): PeerFactory;
/** @deprecated Pass `browserPeerFactory()` (called, as Node's `weriftPeerFactory()`); passing the function itself still works in 0.x. */
export function browserPeerFactory(...args: Parameters<PeerFactory>): ReturnType<PeerFactory>;
export function browserPeerFactory(
  ...args: [BrowserPeerOptions?] | Parameters<PeerFactory>
): PeerFactory | ReturnType<PeerFactory> {
  const first = args[0] as Partial<Parameters<PeerFactory>[0]> | BrowserPeerOptions | undefined;
  if (first !== undefined && 'handlers' in first) return peerWith({})(first as Parameters<PeerFactory>[0]);
  return peerWith((first as BrowserPeerOptions | undefined) ?? {});
}

const peerWith = (options: BrowserPeerOptions): PeerFactory => {
  if (options.warm !== false) warmUp();
  return ({ iceServers, iceTransportPolicy, handlers }) =>
    new BrowserPeer(
      {
        ...options.rtcConfiguration,
        iceServers: iceServers as RTCIceServer[],
        iceTransportPolicy: iceTransportPolicy ?? 'all',
      },
      handlers,
    );
};

class BrowserPeer implements PeerSession {
  private readonly pc: RTCPeerConnection;
  private channel: RTCDataChannel | null = null;
  private handlers: PeerHandlers | null;
  constructor(configuration: RTCConfiguration, handlers: PeerHandlers) {
    this.handlers = handlers;
    this.pc = new RTCPeerConnection(configuration);
    this.pc.onicecandidate = (e) => {
      if (e.candidate === null) return this.handlers?.iceCandidate(null);
      const j = e.candidate.toJSON();
      this.handlers?.iceCandidate({
        candidate: j.candidate ?? '',
        sdpMid: j.sdpMid ?? null,
        sdpMLineIndex: j.sdpMLineIndex ?? null,
      });
    };
    // the first channel is chat; every later one is the app's or the library's
    this.pc.ondatachannel = (e) => {
      if (this.channel === null) this.attach(e.channel);
      else if (this.handlers?.channel) this.handlers.channel(new BrowserChannel(e.channel));
      else e.channel.close();
    };
    // remote media: a track arrives with its stream; the peer taking it off removes it from the stream
    this.pc.ontrack = (e) => {
      const track = e.track;
      const stream = e.streams[0] ?? new MediaStream([track]);
      stream.onremovetrack = (r) => this.handlers?.trackEnded?.(r.track.id);
      track.onended = () => this.handlers?.trackEnded?.(track.id);
      this.receivedOn.set(track.id, e.transceiver);
      // media on it (the first RTP): a remote track starts muted, and unmutes as it flows
      if (!track.muted) queueMicrotask(() => this.handlers?.trackFlowing?.(track.id));
      track.onunmute = () => this.handlers?.trackFlowing?.(track.id);
      this.handlers?.track?.({ id: track.id, kind: track.kind === 'audio' ? 'audio' : 'video', track, stream });
    };
    // an ICE failure is the machine's to restart; only a failure with ICE still up (DTLS) ends the session
    this.pc.oniceconnectionstatechange = () => this.handlers?.iceState(this.pc.iceConnectionState);
    this.pc.onconnectionstatechange = () => {
      const ice = this.pc.iceConnectionState;
      if (this.pc.connectionState === 'failed' && ice !== 'failed' && ice !== 'disconnected')
        this.handlers?.failed('connection failed');
    };
  }
  createDataChannel(label: string, init?: DataChannelInit): void {
    this.attach(this.pc.createDataChannel(label, init?.protocol ? { protocol: init.protocol } : {}));
  }
  openChannel(label: string, init: DataChannelInit = {}): DataChannelPort {
    return new BrowserChannel(
      this.pc.createDataChannel(label, {
        ordered: init.ordered ?? true,
        ...(init.maxRetransmits !== undefined ? { maxRetransmits: init.maxRetransmits } : {}),
        ...(init.maxPacketLifeTime !== undefined ? { maxPacketLifeTime: init.maxPacketLifeTime } : {}),
        ...(init.protocol ? { protocol: init.protocol } : {}),
      }),
    );
  }
  /**
   * The certificates of the call, from the descriptions in force: a browser's DTLS accepts only
   * the fingerprint of its current remote description.
   */
  fingerprints(): PeerFingerprints {
    return {
      local: fingerprintsOf(this.pc.localDescription?.sdp ?? ''),
      remote: fingerprintsOf(this.pc.currentRemoteDescription?.sdp ?? this.pc.remoteDescription?.sdp ?? ''),
    };
  }
  /** The selected candidate pair's types, from getStats (the transport's selectedCandidatePairId). */
  async selectedPath(): Promise<SelectedPath | null> {
    const byId = new Map<
      string,
      {
        type: string;
        selectedCandidatePairId?: string;
        localCandidateId?: string;
        remoteCandidateId?: string;
        candidateType?: CandidateType;
      }
    >();
    (await this.pc.getStats()).forEach((s: { id: string; type: string }) => byId.set(s.id, s));
    const pairId = [...byId.values()].find(
      (s) => s.type === 'transport' && s.selectedCandidatePairId,
    )?.selectedCandidatePairId;
    const pair = pairId === undefined ? undefined : byId.get(pairId);
    if (pair?.localCandidateId === undefined || pair.remoteCandidateId === undefined) return null;
    const type = (id: string) => byId.get(id)?.candidateType;
    const local = type(pair.localCandidateId);
    const remote = type(pair.remoteCandidateId);
    return local && remote ? { local, remote } : null;
  }
  async createOffer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return this.pc.localDescription!.sdp;
  }
  async restartIce(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer({ iceRestart: true }));
    return this.pc.localDescription!.sdp;
  }
  async rollback(): Promise<void> {
    await this.pc.setLocalDescription({ type: 'rollback' });
  }
  /** Tracks go out in one stream, so the peer renders them together. */
  private stream: MediaStream | null = null;
  private readonly senders = new Map<TrackSender, RTCRtpSender>();
  addTrack(track: LocalTrack, direction: 'sendrecv' | 'sendonly' = 'sendrecv'): TrackSender {
    const sender = this.pc.addTrack(track as unknown as MediaStreamTrack, (this.stream ??= new MediaStream()));
    const transceiver = this.pc.getTransceivers().find((t) => t.sender === sender);
    if (transceiver !== undefined && direction === 'sendonly') transceiver.direction = 'sendonly';
    const port: TrackSender = {
      kind: mediaKindOf(track),
      replaceTrack: (next) => sender.replaceTrack(next as unknown as MediaStreamTrack | null),
    };
    this.senders.set(port, sender);
    return port;
  }
  /** The transceiver each remote track came on (a reply to it goes back on the same one). */
  private readonly receivedOn = new Map<string, RTCRtpTransceiver>();
  replyOn(remote: RemoteTrack): TrackSender | null {
    const transceiver = this.receivedOn.get(remote.id);
    // one the remote offer made (receive-only here) and that sends nothing yet; not one offered receive-only
    if (transceiver === undefined || transceiver.direction !== 'recvonly' || transceiver.sender.track !== null)
      return null;
    if (this.pc.signalingState !== 'have-remote-offer') return null;
    transceiver.direction = 'sendrecv';
    // in this side's one stream, as addTrack's tracks are, so the peer renders them together
    transceiver.sender.setStreams?.((this.stream ??= new MediaStream()));
    const sender = transceiver.sender;
    const port: TrackSender = {
      kind: remote.kind,
      replaceTrack: (next) => sender.replaceTrack(next as unknown as MediaStreamTrack | null),
    };
    this.senders.set(port, sender);
    return port;
  }
  removeTrack(port: TrackSender): void {
    const sender = this.senders.get(port);
    if (sender === undefined) return;
    this.senders.delete(port);
    if (this.pc.signalingState !== 'closed') this.pc.removeTrack(sender);
  }
  /** The received video and the connection, from getStats (inbound-rtp, the selected candidate pair). */
  async mediaStats(): Promise<MediaStats | null> {
    let width = 0;
    let height = 0;
    let fps = 0;
    let lost = 0;
    let rtt: number | null = null;
    let receiving = false;
    (await this.pc.getStats()).forEach((r: Record<string, unknown>) => {
      if (r['type'] === 'inbound-rtp') {
        receiving = true;
        lost += Number(r['packetsLost'] ?? 0);
        if (r['kind'] === 'video') {
          width = Number(r['frameWidth'] ?? 0);
          height = Number(r['frameHeight'] ?? 0);
          fps = Number(r['framesPerSecond'] ?? 0);
        }
      }
      if (r['type'] === 'candidate-pair' && r['nominated'] === true && typeof r['currentRoundTripTime'] === 'number')
        rtt = Math.round((r['currentRoundTripTime'] as number) * 1000);
    });
    return receiving ? { width, height, framesPerSecond: fps, roundTripMs: rtt, packetsLost: lost } : null;
  }
  async renegotiate(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return this.pc.localDescription!.sdp;
  }
  async acceptOffer(sdp: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return this.pc.localDescription!.sdp;
  }
  async acceptAnswer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
  }
  async addCandidate(c: IceCandidate): Promise<void> {
    await this.pc.addIceCandidate(
      c.candidate === ''
        ? null
        : { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null },
    );
  }
  send(data: string | Uint8Array): void {
    if (this.channel?.readyState !== 'open') throw new Error('data channel is not open');
    if (typeof data === 'string') this.channel.send(data);
    else this.channel.send(new Uint8Array(data));
  }
  close(): void {
    if (this.handlers === null) return;
    this.handlers = null;
    this.pc.onicecandidate = this.pc.ondatachannel = this.pc.onconnectionstatechange = this.pc.ontrack = null;
    if (this.channel) this.channel.onopen = this.channel.onclose = this.channel.onmessage = null;
    this.channel?.close();
    this.pc.close();
  }
  private attach(dc: RTCDataChannel): void {
    this.channel = dc;
    dc.binaryType = 'arraybuffer';
    dc.onopen = () => this.handlers?.channelOpen(dc.protocol);
    dc.onclose = () => this.handlers?.channelClose();
    dc.onmessage = (e) =>
      this.handlers?.channelMessage(typeof e.data === 'string' ? e.data : new Uint8Array(e.data as ArrayBuffer));
  }
}

/** A browser RTCDataChannel as client-core's DataChannelPort. */
class BrowserChannel implements DataChannelPort {
  private handlers: DataChannelHandlers | null = null;
  constructor(private readonly dc: RTCDataChannel) {
    dc.binaryType = 'arraybuffer';
    dc.onopen = () => this.handlers?.open();
    dc.onclose = () => this.handlers?.close();
    dc.onbufferedamountlow = () => this.handlers?.bufferedAmountLow();
    dc.onmessage = (e) =>
      this.handlers?.message(typeof e.data === 'string' ? e.data : new Uint8Array(e.data as ArrayBuffer));
  }
  get label() {
    return this.dc.label;
  }
  get protocol() {
    return this.dc.protocol;
  }
  get readyState() {
    return this.dc.readyState;
  }
  get bufferedAmount() {
    return this.dc.bufferedAmount;
  }
  get bufferedAmountLowThreshold() {
    return this.dc.bufferedAmountLowThreshold;
  }
  set bufferedAmountLowThreshold(value: number) {
    this.dc.bufferedAmountLowThreshold = value;
  }
  send(data: string | Uint8Array): void {
    if (this.dc.readyState !== 'open') throw new Error('data channel is not open');
    if (typeof data === 'string') this.dc.send(data);
    else this.dc.send(data as Uint8Array<ArrayBuffer>);
  }
  close(): void {
    const h = this.handlers;
    this.handlers = null;
    this.dc.onopen = this.dc.onclose = this.dc.onmessage = this.dc.onbufferedamountlow = null;
    this.dc.close();
    h?.close();
  }
  setHandlers(handlers: DataChannelHandlers | null): void {
    this.handlers = handlers;
    if (handlers !== null && this.dc.readyState === 'open') queueMicrotask(() => this.handlers?.open());
  }
}

export {
  browserFileSource,
  browserFileStore,
  workerSha256,
  type BrowserFileStoreOptions,
  type SavedFile,
} from './browser-files.js';
