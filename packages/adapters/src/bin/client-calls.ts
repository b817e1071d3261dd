// tandem-client's calls, over werift: `--record FILE.webm` answers incoming calls (receiving only)
// and records what the peer sends with werift's MediaRecorder, finalized on hang-up, Ctrl+C or
// SIGTERM; `--send-video FILE` sends a WebM file (VP8/Opus, looped) as a call once the channel is
// open. Lines for scripts: `*** Recording <kind> to <file> ***`, `*** Call: receiving video WxH ***`,
// and from the sender when its call ends, `*** Sent video: N frames ***`. werift's recorder writes
// its own default frame size (640x480) in the WebM header, whatever the stream's: the line above
// says the real one.
import type { TandemClient } from '@tandem/client-core';
import { MediaRecorder, getUserMedia } from 'werift/nonstandard';
import type { MediaStreamTrack, RtpPacket } from 'werift';
import { WeriftLocalTrack } from '../werift.js';

/** The size a VP8 key frame states (RFC 6386 9.1), from one RTP packet's payload (RFC 7741 descriptor), or null. */
export function vp8KeyFrameSize(payload: Uint8Array): { width: number; height: number } | null {
  if (payload.length < 1) return null;
  let i = 1;
  const x = (payload[0]! & 0x80) !== 0;
  const start = (payload[0]! & 0x10) !== 0;
  const pid = payload[0]! & 0x07;
  if (!start || pid !== 0) return null;
  if (x) {
    if (payload.length <= i) return null;
    const ext = payload[i++]!;
    if (ext & 0x80) i += payload[i]! & 0x80 ? 2 : 1; // PictureID
    if (ext & 0x40) i++; // TL0PICIDX
    if (ext & 0x30) i++; // TID / KEYIDX
  }
  const f = payload.subarray(i);
  if (f.length < 10 || (f[0]! & 0x01) !== 0) return null; // not a key frame
  if (f[3] !== 0x9d || f[4] !== 0x01 || f[5] !== 0x2a) return null;
  return { width: (f[6]! | (f[7]! << 8)) & 0x3fff, height: (f[8]! | (f[9]! << 8)) & 0x3fff };
}

export interface ClientCallOptions {
  readonly record?: string;
  readonly sendVideo?: string;
}

/** Wire calls into the client; returns what finalizes a recording (call before exiting). */
export function setupClientCalls(
  client: TandemClient,
  out: (line: string) => void,
  options: ClientCallOptions,
): { finish(): Promise<void>; onOpen(): void } {
  let recorder: MediaRecorder | null = null;
  let expected = 0;
  const tracks: MediaStreamTrack[] = [];
  /** Video frames --send-video put on the call (RTP packets that end a frame), said once it ends. */
  let sentFrames: number | null = null;
  const saySent = () => {
    if (sentFrames === null) return;
    out(`*** Sent video: ${sentFrames} frames ***`);
    sentFrames = null;
  };
  const finish = async () => {
    saySent();
    const r = recorder;
    recorder = null;
    tracks.length = 0;
    if (r === null) return;
    await r.stop().catch((e: unknown) => out(`*** Recording failed: ${(e as Error).message} ***`));
    out(`*** Recording finished: ${options.record} ***`);
  };

  client.on('incomingCall', ({ kinds }) => {
    if (options.record === undefined) {
      out(
        `*** Incoming call (${kinds.join(' and ') || 'no media'}); declined: start with --record FILE.webm to take calls ***`,
      );
      return client.declineCall('this client records calls only with --record');
    }
    expected = kinds.length;
    out(`*** Incoming call (${kinds.join(' and ')}): answering, receiving only ***`);
    client.answerCall([]);
  });
  client.on('track', ({ track }) => {
    const t = track.track as MediaStreamTrack;
    if (t.kind === 'video') {
      const sub = t.onReceiveRtp.subscribe((rtp: RtpPacket) => {
        const size = vp8KeyFrameSize(rtp.payload);
        if (size === null) return;
        sub.unSubscribe();
        out(`*** Call: receiving video ${size.width}x${size.height} ***`);
      });
    }
    if (options.record === undefined) return;
    tracks.push(t);
    out(`*** Recording ${track.kind} to ${options.record} ***`);
    if (recorder === null) {
      recorder = new MediaRecorder({ path: options.record, numOfTracks: Math.max(1, expected) });
      recorder.onError.subscribe((e) => out(`*** Recording failed: ${e.message} ***`));
    }
    void recorder.addTrack(t);
  });
  client.on('callEnded', ({ by }) => {
    out(by === 'peer' ? '*** Call ended: the peer hung up ***' : '*** Call ended ***');
    saySent();
    void finish();
  });
  client.on('callDeclined', ({ reason }) => out(`*** Call declined: ${reason} ***`));

  const onOpen = () => {
    const file = options.sendVideo;
    if (file === undefined) return;
    // a call needs to know the peer takes calls: once it said what it is
    if (client.peer === null) {
      const off = client.on('peerFeatures', () => {
        off();
        onOpen();
      });
      return;
    }
    void (async () => {
      try {
        const player = await getUserMedia({ path: file, loop: true });
        const sent = [player.video, player.audio].filter((t): t is MediaStreamTrack => t !== undefined);
        if (sent.length === 0) return out(`*** Call failed: ${file} has no audio or video track ***`);
        client.call(sent.map((t) => new WeriftLocalTrack(t)));
        player.video?.onReceiveRtp.subscribe((rtp: RtpPacket) => {
          if (rtp.header.marker && sentFrames !== null) sentFrames++;
        });
        out(`*** Calling with ${file} (${sent.map((t) => t.kind).join(' and ')}) ***`);
        // an error once playback runs is not thrown to start() (werift hands it to onError): say it
        let saying = false;
        const sayPlaybackErrors = () => {
          if (saying) return;
          saying = true;
          player.onError.subscribe((e: Error) => out(`*** Call failed: ${e.message} ***`));
        };
        // werift plays a file only once its sender's codec is negotiated: the offer after the answer
        client.on('callAnswered', () => {
          const until = Date.now() + 15_000;
          sentFrames ??= 0;
          const tryStart = () =>
            player.start().then(sayPlaybackErrors, (e: unknown) => {
              if (Date.now() < until && client.callState === 'active') setTimeout(tryStart, 100);
              else out(`*** Call failed: ${(e as Error).message} ***`);
            });
          void tryStart();
        });
        client.on('callEnded', () => player.stop());
      } catch (e) {
        out(`*** Call failed: ${(e as Error).message} ***`);
      }
    })();
  };
  return { finish, onOpen };
}
