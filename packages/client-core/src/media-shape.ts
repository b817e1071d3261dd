// What calls look like to an app before their code is loaded: the feature's name, the states
// and events, and the error a refused command throws. The rest (media.ts: the call manager) loads
// as a chunk of its own once the client is registered, before a pairing can need it.
import type { MediaKind, RemoteTrack } from './ports.js';

/** The feature a tandem client that takes calls names in its features. */
export const MEDIA_FEATURE = 'media';

/** Where the call stands: none, ringing out, ringing in, up. */
export type CallState = 'idle' | 'calling' | 'ringing' | 'active';

/** What calls report, as client events. */
export type CallEvent =
  /** The peer calls, with these kinds of tracks: `answerCall()` or `declineCall()`. */
  | { type: 'incomingCall'; peerId: string; kinds: MediaKind[] }
  /** The peer answered this side's call. */
  | { type: 'callAnswered'; peerId: string }
  /** The peer declined this side's call (or had no way to answer it). */
  | { type: 'callDeclined'; peerId: string; reason: string }
  /** The call ended: this side hung up (`local`), the peer did (`peer`), or the call under it went (`call`). */
  | { type: 'callEnded'; peerId: string; by: 'local' | 'peer' | 'call' }
  /** A remote track to render (its stream is the stack's own object). */
  | { type: 'track'; peerId: string; track: RemoteTrack }
  /** A remote track ended: stop rendering it. */
  | { type: 'trackEnded'; peerId: string; id: string; kind: MediaKind };

/** Why a call command was refused. */
export class CallError extends Error {
  constructor(
    readonly code: 'no_call' | 'media_unsupported' | 'busy' | 'not_ringing' | 'not_in_call' | 'unknown_track',
    message: string,
  ) {
    super(message);
    this.name = 'CallError';
  }
}
