// Calls: audio and video on the paired session's peer connection, free of I/O. The app hands in
// tracks (the stack's own objects behind `LocalTrack`), this layer adds, removes and replaces
// them on the session and asks the machine for an offer (RENEGOTIATE: perfect negotiation, glare
// and rollback included); remote tracks come back as events, shown only once the call is
// answered. Who calls, answers, declines and hangs up travels over the control channel:
//
//   media.call {kinds}   the caller's tracks are added, not offered yet
//   media.answer {kinds} the callee added its tracks; the caller's one offer then carries both
//                        ways (a callee track of a kind the caller sends rides in the answer, on
//                        the caller's m-line; one of another kind takes an offer of the callee's).
//                        A call in the first offer was answered in SDP already, with a sender
//                        back on each of its m-lines: the callee's tracks go on those, no offer
//                        needed, and `kinds` (what the callee sends) tells the caller which of
//                        the tracks its answer carried to show; the rest are taken back at the
//                        next offer.
//   media.decline {reason}
//   media.hangup         both sides stop sending; the pairing and chat stay
//
// A peer that did not say `media` in its features (a v1 client, an older tandem) is never
// offered a call: `call()` refuses, and no track is added.
import { PeerCapability } from '@tandem/protocol/wire';
import type { ChannelHub } from './channel-hub.js';
import { CallError, MEDIA_FEATURE, type CallEvent, type CallState } from './media-shape.js';
import {
  mediaKindOf,
  type LocalTrack,
  type MediaKind,
  type PeerSession,
  type RemoteTrack,
  type TrackSender,
} from './ports.js';

interface Session {
  readonly hub: ChannelHub;
  readonly session: PeerSession;
  readonly gen: number;
  /** Whether the peer takes calls (said `media` in its features). */
  peerTakesCalls: boolean;
  /** This side's call rode the session's first offer (the pairing started with media). */
  inOffer: boolean;
  /** The peer's call rode the first offer: answering sends this side's tracks in an offer of its own. */
  peerInOffer: boolean;
  /** A first offer with tracks from this partner is its call (it named media in hello; nothing to verify first). */
  ringsFromOffer: boolean;
  /** The session's first remote offer was applied. */
  offerSeen: boolean;
  /** The call rang from the first offer itself, before the control channel was up. */
  rangFromOffer: boolean;
  /**
   * Senders with no track yet on the m-lines of a call in the first offer, which this side's
   * answer carries: answering puts its tracks on them, with no offer of its own.
   */
  readonly replies: Map<MediaKind, TrackSender>;
  /** Answered while the first offer was still being answered, with a track that needs an offer: made once it is. */
  offerAfterAnswer: boolean;
}

/** How a call that starts with the pairing is allowed to go: in the first offer, or once the call is up. */
export interface EarlyCallContext {
  /** What the partner asked for in hello, as the server told (null: not told, e.g. another node). */
  readonly peerCapabilities: readonly string[] | null;
  /** Whether media may go out before anything is verified (false for a pairing by code). */
  readonly mayOffer: boolean;
}

export class CallManager {
  private current: Session | null = null;
  private callState: CallState = 'idle';
  private readonly senders = new Map<LocalTrack, TrackSender>();
  /** Remote tracks received on this session, and whether each was shown to the app. */
  private readonly remote = new Map<string, { track: RemoteTrack; shown: boolean }>();
  private kinds: MediaKind[] = [];
  /** The kinds the peer's call carries (from its media.call). */
  private peerKinds: MediaKind[] = [];
  /** A call asked for with the pairing, waiting for its session. */
  private early: { tracks: readonly LocalTrack[]; direction?: 'sendrecv' | 'sendonly' } | null = null;

  constructor(
    private readonly emit: (event: CallEvent) => void,
    /** Ask the machine for an offer on session `gen`. */
    private readonly renegotiate: (gen: number) => void,
    private readonly peerId: () => string,
  ) {}

  get state(): CallState {
    return this.callState;
  }

  /** The local tracks being sent. */
  get localTracks(): LocalTrack[] {
    return [...this.senders.keys()];
  }

  /** A session's hub was made: calls ride on it from now. */
  attach(hub: ChannelHub, session: PeerSession, gen: number, context?: EarlyCallContext): void {
    this.end('call', false);
    const s: Session = {
      hub,
      session,
      gen,
      peerTakesCalls: false,
      inOffer: false,
      peerInOffer: false,
      ringsFromOffer: false,
      offerSeen: false,
      rangFromOffer: false,
      replies: new Map(),
      offerAfterAnswer: false,
    };
    this.current = s;
    const early = this.early;
    this.early = null;
    s.ringsFromOffer =
      !hub.initiator &&
      early === null &&
      context?.mayOffer === true &&
      context.peerCapabilities?.includes(PeerCapability.Media) === true &&
      session.addTrack !== undefined;
    hub.onPeer((peer) => {
      s.peerTakesCalls = peer.tandem && peer.features.includes(MEDIA_FEATURE);
      // it rang from the offer, then the peer's hello named no media: that was no call
      if (s.rangFromOffer && !s.peerTakesCalls && this.current === s) this.end('call', false);
    });
    if (early !== null) this.startEarly(s, early, context);
    hub.onControl((m) => {
      if (this.current !== s || !m.t.startsWith('media.')) return;
      this.control(m);
    });
    hub.onClose(() => {
      if (this.current !== s) return;
      this.end('call', false);
      this.current = null;
    });
  }

  /**
   * Call the peer as soon as the pairing is made (`pair(key, { call })`). Where the server said the
   * partner takes media in the first offer (`peer.media`) and this side makes that offer, the
   * tracks ride in it: one negotiation for the channel and the media. Otherwise the call is made
   * once the peer's features are known, as `call()` would; a peer that takes no calls declines it.
   */
  callWithPairing(tracks: readonly LocalTrack[], options: { direction?: 'sendrecv' | 'sendonly' } = {}): void {
    if (this.callState !== 'idle' || this.early !== null) throw new CallError('busy', 'A call is on its way already');
    for (const t of tracks) mediaKindOf(t);
    this.early = { tracks, ...options };
  }

  private startEarly(
    s: Session,
    early: { tracks: readonly LocalTrack[]; direction?: 'sendrecv' | 'sendonly' },
    context: EarlyCallContext | undefined,
  ): void {
    const refused = () => {
      for (const t of early.tracks) t.stop(); // (tracks in the offer are taken back by stopSending first)
      this.emit({ type: 'callDeclined', peerId: this.peerId(), reason: 'the peer takes no calls' });
    };
    const inOffer =
      s.hub.initiator &&
      context?.mayOffer === true &&
      context.peerCapabilities?.includes(PeerCapability.Media) === true &&
      s.session.addTrack !== undefined;
    if (!inOffer) {
      s.hub.onPeer(() => {
        if (this.current !== s) return;
        if (!s.peerTakesCalls) return refused();
        this.call(early.tracks, early);
      });
      return;
    }
    // the first offer is made after this: the tracks go in it
    this.kinds = [...new Set(early.tracks.map(mediaKindOf))];
    for (const t of early.tracks) this.add(s, t, early.direction);
    this.callState = 'calling';
    s.inOffer = true;
    s.hub.onPeer(() => {
      if (this.current !== s || this.callState !== 'calling') return;
      if (s.peerTakesCalls) return s.hub.sendControl({ t: 'media.call', kinds: this.kinds, offered: true });
      // it said it takes media in the first offer, then did not say media: take the tracks back
      this.stopSending(true);
      this.callState = 'idle';
      refused();
    });
  }

  /**
   * The session's remote offer was applied and answered. A call it carried rang already, as its
   * tracks were reported (see `remoteTrack`); an answer given meanwhile that needs an offer of
   * this side's makes it now.
   */
  remoteOffer(gen: number): void {
    const s = this.current;
    if (s === null || s.gen !== gen || s.offerSeen) return;
    this.ringFromOffer(s);
    s.offerSeen = true;
    if (s.offerAfterAnswer) {
      s.offerAfterAnswer = false;
      this.renegotiate(s.gen);
    }
  }

  /**
   * A partner that named media in hello puts tracks in the first offer only when it calls: the
   * call rings as that offer's tracks are reported (before it is answered), not once the control
   * channel is up and its `media.call` came, so answering shows the caller's media as soon as it
   * flows (the peer learns of the answer once the channel is up).
   */
  private ringFromOffer(s: Session): void {
    if (this.current !== s || s.offerSeen || s.rangFromOffer) return;
    if (!s.ringsFromOffer || this.callState !== 'idle' || this.remote.size === 0) return;
    const kinds = [...new Set([...this.remote.values()].map((e) => e.track.kind))];
    s.peerTakesCalls = true; // as the server said (its hello settles it)
    s.peerInOffer = s.rangFromOffer = true;
    this.peerKinds = kinds;
    this.callState = 'ringing';
    this.emit({ type: 'incomingCall', peerId: this.peerId(), kinds });
  }

  /** Call the peer with `tracks` (camera, microphone, or none: receive only). */
  call(tracks: readonly LocalTrack[], options: { direction?: 'sendrecv' | 'sendonly' } = {}): void {
    const s = this.usable();
    if (this.callState !== 'idle') throw new CallError('busy', `A call is ${this.callState} already`);
    this.kinds = [...new Set(tracks.map(mediaKindOf))];
    for (const t of tracks) this.add(s, t, options.direction);
    this.callState = 'calling';
    s.hub.sendControl({ t: 'media.call', kinds: this.kinds });
  }

  /** Answer the peer's call, sending `tracks` back (none: receive only). */
  answer(tracks: readonly LocalTrack[] = []): void {
    const s = this.usable();
    if (this.callState !== 'ringing') throw new CallError('not_ringing', 'No call is ringing');
    // the caller's media came in the first offer, answered already: this side's tracks go on the
    // senders that answer carries, one per kind; the rest take an offer
    let offer = false;
    for (const t of tracks) {
      const reply = s.replies.get(mediaKindOf(t));
      if (reply !== undefined && !this.senders.has(t)) {
        s.replies.delete(reply.kind);
        this.senders.set(t, reply);
        void reply.replaceTrack(t).catch(() => undefined); // a session closing meanwhile: nothing to send on
      } else {
        offer = true;
        this.add(s, t);
      }
    }
    this.releaseReplies(s);
    this.callState = 'active';
    this.tell(s, { t: 'media.answer', kinds: [...new Set(tracks.map(mediaKindOf))] });
    if (s.peerInOffer) {
      if (offer && !s.offerSeen) s.offerAfterAnswer = true;
      else if (offer) this.renegotiate(s.gen);
    }
    // a track of a kind the caller does not send has no m-line in the caller's offer: offer it
    else if (tracks.some((t) => !this.peerKinds.includes(mediaKindOf(t)))) this.renegotiate(s.gen);
    this.showRemote();
  }

  /** Decline the peer's call. */
  decline(reason = 'declined'): void {
    const s = this.usable();
    if (this.callState !== 'ringing') throw new CallError('not_ringing', 'No call is ringing');
    this.callState = 'idle';
    this.releaseReplies(s);
    this.tell(s, { t: 'media.decline', reason: reason.slice(0, 200) });
    this.remote.clear();
  }

  /** The senders the answer carried that no track went on: taken back with the next offer (the caller shows none of them). */
  private releaseReplies(s: Session): void {
    for (const reply of s.replies.values()) s.session.removeTrack?.(reply);
    s.replies.clear();
  }

  /** Hang up: stop sending (the camera and microphone are released), stop showing the peer's tracks; the pairing stays. */
  hangUp(): void {
    const s = this.usable();
    if (this.callState === 'idle') throw new CallError('not_in_call', 'There is no call to hang up');
    this.tell(s, { t: 'media.hangup' });
    this.end('local', true);
  }

  /** Send another track in a live call (a second camera, the screen): one offer carries it. */
  addTrack(track: LocalTrack, direction?: 'sendrecv' | 'sendonly'): void {
    const s = this.usable();
    if (this.callState === 'idle' || this.callState === 'ringing')
      throw new CallError('not_in_call', 'Call first, or answer: a track is sent only in a call');
    this.add(s, track, direction);
    this.renegotiate(s.gen);
  }

  /** Stop sending `track` (it is not stopped: the app may use it again); one offer carries it. */
  removeTrack(track: LocalTrack): void {
    const s = this.usable();
    const sender = this.senders.get(track);
    if (sender === undefined) throw new CallError('unknown_track', 'That track is not being sent');
    this.senders.delete(track);
    s.session.removeTrack?.(sender);
    this.renegotiate(s.gen);
  }

  /** Send `next` where `track` was (camera ↔ screen), with no new offer. */
  async replaceTrack(track: LocalTrack, next: LocalTrack): Promise<void> {
    this.usable();
    const sender = this.senders.get(track);
    if (sender === undefined) throw new CallError('unknown_track', 'That track is not being sent');
    if (sender.kind !== next.kind)
      throw new CallError('unknown_track', `A ${sender.kind} track cannot be replaced by ${next.kind}`);
    await sender.replaceTrack(next);
    this.senders.delete(track);
    this.senders.set(next, sender);
  }

  /** Mute (false) or unmute the tracks of `kind` being sent: no renegotiation, the peer gets silence or black. */
  setEnabled(kind: MediaKind, enabled: boolean): void {
    for (const t of this.senders.keys()) if (t.kind === kind) t.enabled = enabled;
  }

  /** A remote track of the current session arrived. */
  remoteTrack(gen: number, track: RemoteTrack): void {
    const s = this.current;
    if (s?.gen !== gen) return;
    // a call in the first offer, being answered now: the answer carries a sender back on its m-line
    if (s.ringsFromOffer && !s.offerSeen && this.callState === 'idle') {
      if (!s.replies.has(track.kind)) {
        const reply = s.session.replyOn?.(track) ?? null;
        if (reply !== null) s.replies.set(track.kind, reply);
      }
      // a stack reports an offer's tracks together: ring once they all are, before the answer is made
      if (this.remote.size === 0) queueMicrotask(() => this.ringFromOffer(s));
    }
    const entry = { track, shown: false };
    this.remote.set(track.id, entry);
    if (this.callState === 'active') this.show(entry);
  }

  /**
   * Media arrived on a remote track. The callee of a call in the first offer sends only once it
   * answered (on the senders its answer carried): its media shows as it flows, not once its
   * `media.answer` comes over the control channel.
   */
  remoteTrackFlowing(gen: number, id: string): void {
    const s = this.current;
    if (s?.gen !== gen || !s.inOffer || this.callState !== 'calling') return;
    const entry = this.remote.get(id);
    if (entry !== undefined) this.show(entry);
  }

  /** A remote track of the current session ended. */
  remoteTrackEnded(gen: number, id: string): void {
    if (this.current?.gen !== gen) return;
    const entry = this.remote.get(id);
    if (entry === undefined) return;
    this.remote.delete(id);
    if (entry.shown) this.emit({ type: 'trackEnded', peerId: this.peerId(), id, kind: entry.track.kind });
  }

  /** Send on the control channel, or once it is up (a call that rang from the first offer may be answered before). */
  private tell(s: Session, m: { t: string } & Record<string, unknown>): void {
    if (!s.hub.sendControl(m)) s.hub.onPeer(() => this.current === s && s.hub.sendControl(m));
  }

  private control(m: { t: string } & Record<string, unknown>): void {
    const peerId = this.peerId();
    switch (m.t) {
      case 'media.call': {
        // the call this says came in the first offer rang from it already (and may be answered or declined)
        if (this.current?.rangFromOffer === true && m['offered'] === true) return;
        const kinds = (Array.isArray(m['kinds']) ? m['kinds'] : []).filter(
          (k): k is MediaKind => k === 'audio' || k === 'video',
        );
        this.peerKinds = kinds;
        if (this.callState === 'calling') {
          // both called at once: each offers its own tracks (perfect negotiation settles the glare)
          this.callState = 'active';
          this.emit({ type: 'callAnswered', peerId });
          if (this.current !== null) this.renegotiate(this.current.gen);
          return this.showRemote();
        }
        if (this.callState !== 'idle') return;
        this.callState = 'ringing';
        if (this.current !== null) this.current.peerInOffer = m['offered'] === true;
        return this.emit({ type: 'incomingCall', peerId, kinds });
      }
      case 'media.answer': {
        if (this.callState !== 'calling') return;
        this.callState = 'active';
        // what the callee sends: a track its answer carried of another kind has nothing on it
        if (Array.isArray(m['kinds']))
          for (const [id, entry] of this.remote)
            if (!entry.shown && !m['kinds'].includes(entry.track.kind)) this.remote.delete(id);
        // one offer: this side's tracks, and the m-lines the callee's tracks ride back on (none
        // when they went in the first offer: the callee offers its own tracks then)
        if (this.current !== null && !this.current.inOffer) this.renegotiate(this.current.gen);
        this.emit({ type: 'callAnswered', peerId });
        return this.showRemote();
      }
      case 'media.decline': {
        if (this.callState !== 'calling') return;
        const reason = typeof m['reason'] === 'string' ? m['reason'].slice(0, 200) : 'declined';
        this.stopSending(this.current?.inOffer === true); // offered only if in the first offer
        this.callState = 'idle';
        for (const [id, entry] of this.remote)
          if (entry.shown) this.emit({ type: 'trackEnded', peerId, id, kind: entry.track.kind });
        this.remote.clear();
        return this.emit({ type: 'callDeclined', peerId, reason });
      }
      case 'media.hangup':
        if (this.callState === 'idle') return;
        return this.end('peer', true);
    }
  }

  /** The call ends: stop sending and showing; `by` says who ended it. */
  private end(by: 'local' | 'peer' | 'call', renegotiate: boolean): void {
    if (this.callState === 'idle' && this.senders.size === 0) return;
    const was = this.callState;
    this.stopSending(renegotiate);
    for (const [id, entry] of this.remote)
      if (entry.shown) this.emit({ type: 'trackEnded', peerId: this.peerId(), id, kind: entry.track.kind });
    this.remote.clear();
    this.callState = 'idle';
    if (was !== 'idle') this.emit({ type: 'callEnded', peerId: this.peerId(), by });
  }

  /** Take every local track off the session and stop it (releases the camera and microphone). */
  private stopSending(renegotiate: boolean): void {
    const s = this.current;
    for (const [track, sender] of this.senders) {
      s?.session.removeTrack?.(sender);
      track.stop();
    }
    const had = this.senders.size > 0;
    this.senders.clear();
    if (renegotiate && had && s !== null) this.renegotiate(s.gen);
  }

  private showRemote(): void {
    for (const entry of this.remote.values()) this.show(entry);
  }
  private show(entry: { track: RemoteTrack; shown: boolean }): void {
    if (entry.shown) return;
    entry.shown = true;
    this.emit({ type: 'track', peerId: this.peerId(), track: entry.track });
  }

  private add(s: Session, track: LocalTrack, direction?: 'sendrecv' | 'sendonly'): void {
    if (this.senders.has(track)) return;
    this.senders.set(track, s.session.addTrack!(track, direction));
  }

  private usable(): Session {
    const s = this.current;
    if (s === null) throw new CallError('no_call', 'Not paired: pair first, then call');
    if (s.session.addTrack === undefined || s.session.renegotiate === undefined)
      throw new CallError('media_unsupported', 'This stack carries no media');
    if (!s.peerTakesCalls)
      throw new CallError('media_unsupported', 'The peer does not take calls (it is not a tandem client with media)');
    return s;
  }
}
