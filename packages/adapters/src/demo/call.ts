/// <reference lib="dom" />
// The page's calls: Call / Hang up, Mute, Camera off, Share screen, Answer / Decline, the remote
// video and the local preview (both in the page from load, hidden until used), a live quality
// line from getStats, and plain words for a peer with no camera, a refused permission or a hang-up.
import { CallError, type LocalTrack, type TandemClient } from '@tandem/client-core';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export function setupCalls(client: TandemClient, note: (text: string, cls: 'note') => void): () => void {
  const callBtn = $<HTMLButtonElement>('call');
  const muteBtn = $<HTMLButtonElement>('mute');
  const cameraBtn = $<HTMLButtonElement>('camera');
  const screenBtn = $<HTMLButtonElement>('share-screen');
  const answerBtn = $<HTMLButtonElement>('answer');
  const declineBtn = $<HTMLButtonElement>('decline');
  const remoteVideo = $<HTMLVideoElement>('remote-video');
  const localVideo = $<HTMLVideoElement>('local-video');
  const callStatus = $<HTMLDivElement>('call-status');
  const quality = $<HTMLDivElement>('call-quality');

  let local: MediaStream | null = null;
  let camera: MediaStreamTrack | null = null;
  let screen: MediaStreamTrack | null = null;
  let muted = false;
  let cameraOff = false;
  let remoteTracks = 0;
  let statsTimer: ReturnType<typeof setInterval> | null = null;

  const say = (text: string) => (callStatus.textContent = text);
  /** The camera and microphone, or what of them there is, in plain words when there is none. */
  const media = async (): Promise<MediaStream | null> => {
    try {
      return await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    } catch (e) {
      const name = (e as DOMException).name;
      if (name === 'NotAllowedError') say('camera and microphone permission was refused: the call receives only');
      else if (name === 'NotFoundError') say('no camera or microphone found: the call receives only');
      else say(`cannot use the camera or microphone (${name}): the call receives only`);
      return null;
    }
  };
  const showLocal = (stream: MediaStream | null) => {
    local = stream;
    camera = stream?.getVideoTracks()[0] ?? null;
    localVideo.srcObject = stream;
    localVideo.hidden = stream === null || camera === null;
  };
  const tracksOf = (stream: MediaStream | null) => (stream?.getTracks() ?? []) as unknown as LocalTrack[];

  const render = () => {
    const state = client.callState;
    const canCall = client.status === 'open' && client.peer?.features.includes('media') === true;
    callBtn.disabled = !(canCall || state === 'calling' || state === 'active');
    callBtn.textContent = state === 'calling' || state === 'active' ? 'Hang up' : 'Call';
    callBtn.title = canCall || state !== 'idle' ? '' : 'your peer cannot take calls';
    const inCall = state === 'active' || state === 'calling';
    muteBtn.hidden = !(inCall && local?.getAudioTracks().length);
    cameraBtn.hidden = screenBtn.hidden = !(inCall && camera !== null);
    muteBtn.textContent = muted ? 'Unmute' : 'Mute';
    cameraBtn.textContent = cameraOff ? 'Camera on' : 'Camera off';
    screenBtn.textContent = screen !== null ? 'Stop sharing' : 'Share screen';
    answerBtn.hidden = declineBtn.hidden = state !== 'ringing';
    callBtn.hidden = state === 'ringing';
    callBtn.dataset['state'] = state;
  };
  const reset = () => {
    showLocal(null);
    screen?.stop();
    screen = null;
    muted = cameraOff = false;
    remoteTracks = 0;
    remoteVideo.srcObject = null;
    remoteVideo.hidden = true;
    if (statsTimer !== null) clearInterval(statsTimer);
    statsTimer = null;
    quality.textContent = '';
    render();
  };

  callBtn.addEventListener('click', async () => {
    const state = client.callState;
    if (state === 'calling' || state === 'active') {
      client.hangUp();
      return;
    }
    callBtn.disabled = true;
    const stream = await media();
    try {
      client.call(tracksOf(stream));
      showLocal(stream);
      if (stream !== null) say('calling…');
    } catch (e) {
      for (const t of stream?.getTracks() ?? []) t.stop();
      say(e instanceof CallError ? e.message : String(e));
    }
    render();
  });
  answerBtn.addEventListener('click', async () => {
    answerBtn.disabled = true;
    const stream = await media(); // answering sends this side's camera too
    answerBtn.disabled = false;
    try {
      client.answerCall(tracksOf(stream));
      showLocal(stream);
      say('in a call');
    } catch (e) {
      for (const t of stream?.getTracks() ?? []) t.stop();
      say(e instanceof CallError ? e.message : String(e));
    }
    render();
  });
  declineBtn.addEventListener('click', () => {
    client.declineCall('declined');
    say('call declined');
    render();
  });
  muteBtn.addEventListener('click', () => {
    muted = !muted;
    client.setSending('audio', !muted);
    render();
  });
  cameraBtn.addEventListener('click', () => {
    cameraOff = !cameraOff;
    client.setSending('video', !cameraOff);
    render();
  });
  screenBtn.addEventListener('click', async () => {
    if (camera === null) return;
    if (screen !== null) return void (await stopSharing());
    try {
      const display = await navigator.mediaDevices.getDisplayMedia({ video: true });
      const track = display.getVideoTracks()[0]!;
      await client.replaceTrack(camera as unknown as LocalTrack, track as unknown as LocalTrack);
      screen = track;
      track.addEventListener('ended', () => void stopSharing());
      localVideo.srcObject = display;
      say('sharing your screen');
    } catch (e) {
      say(`cannot share the screen here (${(e as Error).name ?? 'error'})`);
    }
    render();
  });
  const stopSharing = async () => {
    if (screen === null || camera === null) return;
    const was = screen;
    screen = null;
    await client.replaceTrack(was as unknown as LocalTrack, camera as unknown as LocalTrack);
    was.stop();
    localVideo.srcObject = local;
    say('in a call');
    render();
  };
  // the remote video starts muted (autoplay is allowed so); any click turns its sound on
  document.addEventListener('click', () => (remoteVideo.muted = false), { once: true });

  client.on('incomingCall', ({ kinds }) => {
    say(kinds.length === 0 ? 'incoming call (your peer sends nothing)' : `incoming call with ${kinds.join(' and ')}`);
    render();
  });
  client.on('callAnswered', () => {
    say('in a call');
    render();
  });
  client.on('callDeclined', ({ reason }) => {
    say(`your peer declined the call (${reason})`);
    reset();
  });
  client.on('callEnded', ({ by }) => {
    say(by === 'peer' ? 'your peer hung up' : by === 'local' ? 'call ended' : 'the call dropped with the connection');
    note(by === 'peer' ? 'your peer hung up' : 'call ended', 'note');
    reset();
  });
  client.on('track', ({ track }) => {
    remoteTracks++;
    const stream = track.stream as MediaStream;
    if (remoteVideo.srcObject !== stream) remoteVideo.srcObject = stream;
    if (track.kind === 'video') remoteVideo.hidden = false;
    void remoteVideo.play().catch(() => undefined);
    if (statsTimer === null) statsTimer = setInterval(() => void showQuality(), 1000);
  });
  client.on('trackEnded', () => {
    remoteTracks = Math.max(0, remoteTracks - 1);
    const stream = remoteVideo.srcObject as MediaStream | null;
    if (remoteTracks === 0 || stream?.getVideoTracks().length === 0) remoteVideo.hidden = true;
  });
  const showQuality = async () => {
    if (remoteVideo.hidden) return void (quality.textContent = '');
    const q = await client.callStats();
    if (q === null) return void (quality.textContent = '');
    const w = q.width || remoteVideo.videoWidth;
    const h = q.height || remoteVideo.videoHeight;
    quality.textContent =
      `${w}×${h} · ${Math.round(q.framesPerSecond)} fps · ` +
      `round trip ${q.roundTripMs === null ? '…' : `${q.roundTripMs} ms`} · ${q.packetsLost} packets lost`;
  };
  client.on('status', render);
  client.on('peerFeatures', render);
  client.on('peerLeft', reset);
  render();
  return render;
}
