// client-core's PeerSession over werift's RTCPeerConnection (Node). Thin on purpose: every
// decision (who offers, when candidates apply, when to tear down) is the machine's.
import {
  MediaStream,
  RTCPeerConnection,
  type MediaStreamTrack,
  type RTCDataChannel,
  type RTCRtpSender,
  type RTCRtpTransceiver,
} from 'werift';
import type { IceCandidate } from '@tandem/protocol';
import type {
  CandidateType,
  DataChannelHandlers,
  DataChannelInit,
  DataChannelPort,
  PeerFactory,
  PeerFingerprints,
  PeerHandlers,
  PeerSession,
  SelectedPath,
  LocalTrack,
  RemoteTrack,
  TrackSender,
} from '@tandem/client-core';
import { mediaKindOf } from '@tandem/client-core';

/** A werift track (from its getUserMedia of a file, or one the app writes RTP to) as a LocalTrack. */
export class WeriftLocalTrack implements LocalTrack {
  constructor(readonly track: MediaStreamTrack) {}
  get id(): string {
    return this.track.id ?? this.track.uuid;
  }
  get kind(): 'audio' | 'video' {
    return this.track.kind === 'audio' ? 'audio' : 'video';
  }
  get enabled(): boolean {
    return this.track.enabled;
  }
  set enabled(value: boolean) {
    this.track.enabled = value;
  }
  stop(): void {
    this.track.stop();
  }
}
const weriftTrackOf = (t: LocalTrack | null): MediaStreamTrack | null => {
  if (t === null) return null;
  if (!(t instanceof WeriftLocalTrack)) throw new Error('werift sends WeriftLocalTrack tracks only');
  return t.track;
};

/** Options for the werift peer factory. */
export interface WeriftPeerOptions {
  /** Restrict ICE to host candidates on these interfaces (e.g. loopback in tests). */
  iceAdditionalHostAddresses?: string[];
  /** UDP port range for ICE. */
  icePortRange?: [number, number];
}

/**
 * A PeerFactory backed by werift, with exactly the ICE servers it is given: none means host
 * candidates only. (werift itself falls back to a public STUN server, stun.l.google.com, when its
 * configuration names none; this factory turns that off, so no server the user did not configure
 * is ever contacted.)
 */
export function weriftPeerFactory(options: WeriftPeerOptions = {}): PeerFactory {
  return ({ iceServers, iceTransportPolicy, handlers }) =>
    new WeriftPeer(
      iceServers.map((s) => ({ ...s })),
      iceTransportPolicy ?? 'all',
      handlers,
      options,
    );
}

const isStunUrl = (url: string) => /^stuns?:/i.test(url.trim());

/** werift 0.24 internals this adapter reaches into (pinned by the tests that would catch a change). */
interface WeriftInternals {
  secureManager: { createTransport(): WeriftDtlsTransport; iceTransports: WeriftIceTransport[] };
}
interface WeriftIceTransport {
  connection: {
    stunServer?: unknown;
    nominated?: { localCandidate: { type: string }; remoteCandidate: { type: string } };
  };
}
interface WeriftDtlsParameters {
  localParameters?: { fingerprints: { algorithm: string; value: string }[] };
  remoteParameters?: { fingerprints: { algorithm: string; value: string }[] };
}
interface WeriftDtlsTransport {
  iceTransport: WeriftIceTransport;
}

class WeriftPeer implements PeerSession {
  private readonly pc: RTCPeerConnection;
  private channel: RTCDataChannel | null = null;
  private handlers: PeerHandlers | null;
  private readonly subs: { unSubscribe(): void }[] = [];
  private closed = false;

  constructor(
    iceServers: { urls: string | string[]; username?: string; credential?: string }[],
    iceTransportPolicy: 'all' | 'relay',
    handlers: PeerHandlers,
    options: WeriftPeerOptions,
  ) {
    this.handlers = handlers;
    this.pc = new RTCPeerConnection({
      iceServers: iceServers as never,
      iceTransportPolicy,
      ...(options.icePortRange ? { icePortRange: options.icePortRange } : {}),
      ...(options.iceAdditionalHostAddresses ? { iceAdditionalHostAddresses: options.iceAdditionalHostAddresses } : {}),
    });
    // werift's ICE agent queries stun.l.google.com:19302 whenever no STUN server is configured:
    // with none configured, clear that fallback on every ICE transport it creates, before gathering
    const configuresStun = iceServers.some((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]).some(isStunUrl));
    if (!configuresStun) {
      const manager = (this.pc as unknown as WeriftInternals).secureManager;
      const create = manager.createTransport.bind(manager);
      manager.createTransport = () => {
        const made = create();
        made.iceTransport.connection.stunServer = undefined;
        return made;
      };
    }
    // remote media: one report per receiving transceiver, however often the call is renegotiated
    this.pc.ontrack = ({ track, streams, transceiver }) => {
      if (this.receiving.has(transceiver)) return;
      const id = track.id ?? track.uuid;
      this.receiving.set(transceiver, id);
      const remote: RemoteTrack = {
        id,
        kind: track.kind === 'audio' ? 'audio' : 'video',
        track,
        stream: streams[0] ?? new MediaStream([track]),
      };
      this.handlers?.track?.(remote);
    };
    this.subs.push(
      this.pc.onIceCandidate.subscribe((c) => {
        if (c === undefined) return this.handlers?.iceCandidate(null);
        const j = c.toJSON();
        this.handlers?.iceCandidate({
          candidate: j.candidate ?? '',
          sdpMid: j.sdpMid ?? null,
          sdpMLineIndex: j.sdpMLineIndex ?? null,
        });
      }),
      // the first channel is chat; every later one is the app's or the library's
      this.pc.onDataChannel.subscribe((dc) => {
        if (this.channel === null) this.attach(dc);
        else if (this.handlers?.channel) this.handlers.channel(new WeriftChannel(dc));
        else dc.close();
      }),
      // an ICE failure is the machine's to restart; only a failure with ICE still up (DTLS) ends the session
      this.pc.iceConnectionStateChange.subscribe((state) => this.handlers?.iceState(state)),
      this.pc.connectionStateChange.subscribe((state) => {
        const ice = this.pc.iceConnectionState;
        if (state === 'failed' && ice !== 'failed' && ice !== 'disconnected')
          this.handlers?.failed('connection failed');
      }),
    );
  }

  /**
   * The certificates of the call, from werift's DTLS transports themselves: what it sends, and
   * every remote fingerprint it would accept (werift 0.24 keeps those of earlier remote
   * descriptions too, so they are all listed: the safety code covers each).
   */
  fingerprints(): PeerFingerprints {
    const local = new Set<string>();
    const remote = new Set<string>();
    const line = (f: { algorithm: string; value: string }) => `${f.algorithm} ${f.value}`;
    for (const t of this.pc.dtlsTransports as unknown as WeriftDtlsParameters[]) {
      for (const f of t.localParameters?.fingerprints ?? []) local.add(line(f));
      for (const f of t.remoteParameters?.fingerprints ?? []) remote.add(line(f));
    }
    return { local: [...local], remote: [...remote] };
  }

  /** The nominated candidate pair's types, once ICE has one. */
  selectedPath(): Promise<SelectedPath | null> {
    for (const transport of (this.pc as unknown as WeriftInternals).secureManager.iceTransports) {
      const pair = transport.connection.nominated;
      if (pair)
        return Promise.resolve({
          local: pair.localCandidate.type as CandidateType,
          remote: pair.remoteCandidate.type as CandidateType,
        });
    }
    return Promise.resolve(null);
  }

  createDataChannel(label: string, init?: DataChannelInit): void {
    this.attach(this.pc.createDataChannel(label, { ...(init?.protocol ? { protocol: init.protocol } : {}) }));
  }
  openChannel(label: string, init: DataChannelInit = {}): DataChannelPort {
    if (this.closed) throw new Error('the peer connection is closed');
    return new WeriftChannel(
      this.pc.createDataChannel(label, {
        ordered: init.ordered ?? true,
        ...(init.maxRetransmits !== undefined ? { maxRetransmits: init.maxRetransmits } : {}),
        ...(init.maxPacketLifeTime !== undefined ? { maxPacketLifeTime: init.maxPacketLifeTime } : {}),
        ...(init.protocol ? { protocol: init.protocol } : {}),
      }),
    );
  }
  async createOffer(): Promise<string> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    return this.pc.localDescription!.sdp;
  }
  /**
   * Refused on purpose: with werift 0.24 an ICE restart reconnects ICE but the data channel then
   * carries nothing (seen in the network-namespace lab and in a bare two-peer werift script), so
   * a "restored" call would be silently dead. Failing here ends the session as a failure instead,
   * and the user can pair again. Browsers restart ICE and keep their channel.
   */
  async restartIce(): Promise<string> {
    throw new Error('ICE failed and werift cannot keep a data channel through an ICE restart');
  }
  async rollback(): Promise<void> {
    // werift has no implicit rollback: setRemoteDescription(offer) in have-local-offer throws
    await this.pc.setLocalDescription({ type: 'rollback' } as never);
  }
  async acceptOffer(sdp: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    this.remoteTracksEnded();
    return this.pc.localDescription!.sdp;
  }
  async acceptAnswer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    this.remoteTracksEnded();
  }
  private readonly senders = new Map<TrackSender, RTCRtpSender>();
  /** Remote tracks reported, by the transceiver that receives them. */
  private readonly receiving = new Map<RTCRtpTransceiver, string>();
  addTrack(track: LocalTrack, direction: 'sendrecv' | 'sendonly' = 'sendrecv'): TrackSender {
    const t = weriftTrackOf(track)!;
    const transceiver = this.pc.addTransceiver(t, { direction });
    const sender = transceiver.sender;
    const port: TrackSender = {
      kind: mediaKindOf(track),
      replaceTrack: (next) => sender.replaceTrack(weriftTrackOf(next)),
    };
    this.senders.set(port, sender);
    return port;
  }
  removeTrack(port: TrackSender): void {
    const sender = this.senders.get(port);
    if (sender === undefined) return;
    this.senders.delete(port);
    this.pc.removeTrack(sender);
  }
  async renegotiate(): Promise<string> {
    return this.createOffer();
  }
  /** A remote track whose transceiver no longer receives (the peer removed it, or hung up) has ended. */
  private remoteTracksEnded(): void {
    for (const [transceiver, id] of [...this.receiving]) {
      const d = transceiver.currentDirection;
      if (d === 'recvonly' || d === 'sendrecv') continue;
      this.receiving.delete(transceiver);
      this.handlers?.trackEnded?.(id);
    }
  }
  async addCandidate(c: IceCandidate): Promise<void> {
    if (c.candidate === '') return; // end-of-candidates: werift needs no marker
    await this.pc.addIceCandidate({
      candidate: c.candidate,
      sdpMid: c.sdpMid ?? undefined,
      sdpMLineIndex: c.sdpMLineIndex ?? undefined,
    });
  }
  send(data: string | Uint8Array): void {
    if (this.channel === null || this.channel.readyState !== 'open') throw new Error('data channel is not open');
    this.channel.send(typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers = null;
    for (const s of this.subs) s.unSubscribe();
    this.pc.close().catch(() => undefined);
  }

  private attach(dc: RTCDataChannel): void {
    this.channel = dc;
    this.subs.push(
      dc.stateChanged.subscribe((state) => {
        if (state === 'open') this.handlers?.channelOpen(dc.protocol);
        if (state === 'closed') this.handlers?.channelClose();
      }),
      dc.onMessage.subscribe((data) =>
        this.handlers?.channelMessage(typeof data === 'string' ? data : new Uint8Array(data)),
      ),
    );
    if (dc.readyState === 'open') queueMicrotask(() => this.handlers?.channelOpen(dc.protocol));
  }
}

/** A werift data channel as client-core's DataChannelPort. */
class WeriftChannel implements DataChannelPort {
  private handlers: DataChannelHandlers | null = null;
  private readonly subs: { unSubscribe(): void }[];
  constructor(private readonly dc: RTCDataChannel) {
    this.subs = [
      dc.stateChanged.subscribe((state) => {
        if (state === 'open') this.handlers?.open();
        if (state === 'closed') this.handlers?.close();
      }),
      dc.onMessage.subscribe((data) => this.handlers?.message(typeof data === 'string' ? data : new Uint8Array(data))),
      dc.bufferedAmountLow.subscribe(() => this.handlers?.bufferedAmountLow()),
    ];
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
    this.dc.send(typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }
  close(): void {
    for (const s of this.subs) s.unSubscribe();
    const h = this.handlers;
    this.handlers = null;
    if (this.dc.readyState !== 'closed') this.dc.close();
    h?.close();
  }
  setHandlers(handlers: DataChannelHandlers | null): void {
    this.handlers = handlers;
    if (handlers !== null && this.dc.readyState === 'open') queueMicrotask(() => this.handlers?.open());
  }
}
