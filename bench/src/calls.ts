// Calls in Chromium (fake devices), tandem against PeerJS 1.5.5 in the same browser in the same
// run, `iceServers: []` for both:
//   pair → first frame   tandem: from pair(key, { call }) on A (the tracks in the first offer, B
//                        answering with its camera) to the first decoded frame of B's video at A
//                        (requestVideoFrameCallback); PeerJS: from peer.call(id, stream) (its
//                        call is its pairing) to the same frame.
//   added call           the pairing is open first (tandem: chat open; PeerJS: a DataConnection
//                        open), then the call: from call() to that first frame.
//   caller at callee     the pairing starts with the call (tandem: pair(key, { call }), the tracks
//                        in the very first offer; PeerJS: peer.call) → the first frame of the
//                        caller's video at the callee, which answers at once (epoch clocks).
//   replaceTrack/addTrack → the new track's first frame at the far end (tandem).
// Rounds alternate systems so drift hits both alike. tandem-server runs as shipped, PeerServer
// 1.0.2 as PeerJS users run it. Each library runs on a blank page, as an app embeds it: PeerJS's
// own build, and tandem's client core with the browser adapter (tandem-page.ts), so the figures
// compare the libraries. The caller-at-callee figure is also given through tandem's demo page,
// whose log, buttons and video elements render as the call comes up (on this 2-core machine
// that rendering competes with both pages' WebRTC work).
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { cpuMs, startSystem } from './procs.js';
import { tandemPageScript } from './tandem-page-bundle.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const CHROMIUM = process.env['TANDEM_CHROMIUM'] ?? '/usr/bin/chromium';
const log = (s: string) => process.stderr.write(`  ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/**
 * How far the p50 ratio `a / b` can move on resampling: the 5th and 95th percentiles of the ratio
 * over `rounds` bootstrap resamples of both sets (seeded, so one run's figures are reproducible).
 * On a shared 2-core machine one run's p50 moves by about ±15%; this says whether a ratio above
 * or below 1.0× is more than that.
 */
export function ratioInterval(a: number[], b: number[], rounds = 2000, seed = 1): [number, number] {
  let state = seed >>> 0;
  const random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const resample = (xs: number[]) => xs.map(() => xs[Math.floor(random() * xs.length)]!);
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) ratios.push(pct(resample(a), 50) / Math.max(1, pct(resample(b), 50)));
  return [pct(ratios, 5), pct(ratios, 95)];
}

export interface CallsFigures {
  calls: number;
  /** tandem-server CPU for `signalingPairs` concurrent pairings' replayed signaling (ms), median of rounds. */
  signalingCpuMs: {
    media: number;
    dataOnly: number;
    pairs: number;
    rounds: number;
    mediaBytes: number;
    dataBytes: number;
  };
  tandemPairToFrameMs: number[];
  peerjsPairToFrameMs: number[];
  tandemAddedCallMs: number[];
  peerjsAddedCallMs: number[];
  /** Pairing that starts with the call → first frame of the caller's video at the callee (tandem: pair(key, { call })). */
  tandemCallerAtCalleeMs: number[];
  peerjsCallerAtCalleeMs: number[];
  /** The same through tandem's demo page (its UI rendering as the call comes up). */
  demoCallerAtCalleeMs: number[];
  replaceToFrameMs: number[];
  addTrackToFrameMs: number[];
  p50: {
    tandemPairToFrame: number;
    peerjsPairToFrame: number;
    tandemAddedCall: number;
    peerjsAddedCall: number;
    replaceToFrame: number;
    addTrackToFrame: number;
    tandemCallerAtCallee: number;
    peerjsCallerAtCallee: number;
    demoCallerAtCallee: number;
  };
  /** 90% bootstrap intervals of the two ≤ 1.0× ratios (tandem p50 / PeerJS p50). */
  ratio90?: {
    callerAtCallee: [number, number];
    pairToFrame: [number, number];
    addedCall: [number, number];
  };
}

// what the pages run (strings: tsx's keepNames would wrap functions passed to evaluate)
const TANDEM_B = `(() => {
  const t = window.tandem;
  t.on('incomingCall', async () => {
    const s = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
    t.answerCall(s.getTracks());
  });
  window.getLocal = async () => (await navigator.mediaDevices.getUserMedia({ video: true })).getVideoTracks()[0];
})()`;

/** In a tandem page: resolve with ms from `start()` to the first decoded frame of the peer's video. */
const TANDEM_A = (addedCall: boolean) => `(async () => {
  const t = window.tandem;
  const key = window.peerKey;
  const cam = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
  window.cam = cam.getVideoTracks()[0];
  const frame = new Promise((resolve) => {
    t.on('track', ({ track }) => {
      if (track.kind !== 'video') return;
      const v = document.createElement('video');
      v.muted = true; v.autoplay = true; v.playsInline = true;
      v.srcObject = track.stream;
      document.body.append(v);
      v.requestVideoFrameCallback(() => resolve(performance.now()));
      v.play().catch(() => {});
    });
  });
  const call = () => t.call(cam.getTracks());
  let t0;
  if (${addedCall}) {
    t.pair(key);
    await new Promise((r) => { const off = t.on('peerFeatures', () => { off(); r(); }); });
    t0 = performance.now();
    call();
  } else {
    // the pairing starts with the call: the tracks ride the first offer, the callee's come back on its answer's senders
    t0 = performance.now();
    t.pair(key, { call: cam.getTracks() });
  }
  return (await frame) - t0;
})()`;

/** B: the epoch time of the first decoded frame of the caller's video, once B answered. */
const CALLEE_WATCH = `(() => {
  window.callerFrame = new Promise((resolve) => {
    window.tandem.on('track', ({ track }) => {
      if (track.kind !== 'video') return;
      const v = document.createElement('video');
      v.muted = true; v.autoplay = true; v.playsInline = true;
      v.srcObject = track.stream;
      document.body.append(v);
      v.requestVideoFrameCallback(() => resolve(performance.timeOrigin + performance.now()));
      v.play().catch(() => {});
    });
  });
})()`;
/** A: pair and call at once (the tracks ride the first offer); the epoch time it started. */
const TANDEM_PAIR_CALL = `(async () => {
  const cam = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
  const t0 = performance.timeOrigin + performance.now();
  window.tandem.pair(window.peerKey, { call: cam.getTracks() });
  return t0;
})()`;

async function tandemCallerAtCallee(browser: Browser, pageUrl: string, demo = false): Promise<number> {
  const [a, b, key] = await tandemPages(browser, pageUrl, demo);
  try {
    await b.evaluate(TANDEM_B);
    await b.evaluate(CALLEE_WATCH);
    await a.evaluate(`window.peerKey = ${JSON.stringify(key)}`);
    const t0 = (await a.evaluate(TANDEM_PAIR_CALL)) as number;
    return ((await b.evaluate('window.callerFrame')) as number) - t0;
  } finally {
    await a.close();
    await b.close();
  }
}

/**
 * Two tandem pages, each with a registered client as `window.tandem`, and the second's key: blank
 * pages on tandem-server's origin (loopback: a secure context) with the minimal embedder's script,
 * or (`demo`) the demo page.
 */
async function tandemPages(browser: Browser, pageUrl: string, demo = false): Promise<[Page, Page, string]> {
  const pages: Page[] = [];
  let key = '';
  for (let i = 0; i < 2; i++) {
    const p = await browser.newPage();
    if (demo) {
      await p.goto(pageUrl);
      await p.waitForFunction(() =>
        /^[0-9a-f-]{36}$/.test((document.getElementById('my-key') as HTMLInputElement).value),
      );
      key = await p.inputValue('#my-key');
    } else {
      await p.goto(`${pageUrl}bench-blank`);
      await p.evaluate(await tandemPageScript());
      key = (await p.evaluate(
        `window.startTandem(${JSON.stringify(pageUrl.replace(/^http/, 'ws').replace(/\/$/, ''))})`,
      )) as string;
    }
    pages.push(p);
  }
  return [pages[0]!, pages[1]!, key];
}

async function tandemRun(browser: Browser, pageUrl: string, addedCall: boolean): Promise<number> {
  const [a, b, key] = await tandemPages(browser, pageUrl);
  try {
    await b.evaluate(TANDEM_B);
    await a.evaluate(`window.peerKey = ${JSON.stringify(key)}`);
    return (await a.evaluate(TANDEM_A(addedCall))) as number;
  } finally {
    await a.close();
    await b.close();
  }
}

/** replaceTrack and addTrack, in one call: ms to the new track's first frame at the far end (epoch clocks of one machine). */
async function tandemSwitch(browser: Browser, pageUrl: string): Promise<{ replace: number; add: number }> {
  // the demo page: its #remote-video shows the replaced track
  const [a, b, key] = await tandemPages(browser, pageUrl, true);
  try {
    await b.evaluate(TANDEM_B);
    await a.evaluate(`window.peerKey = ${JSON.stringify(key)}`);
    await a.evaluate(TANDEM_A(true));
    await b.evaluate(`(() => {
      const now = () => performance.timeOrigin + performance.now();
      window.frames320 = new Promise((resolve) => {
        const v = document.getElementById('remote-video');
        const step = (_t, meta) => (meta.width === 320 ? resolve(now()) : v.requestVideoFrameCallback(step));
        v.requestVideoFrameCallback(step);
      });
      window.secondTrack = new Promise((resolve) => {
        window.tandem.on('track', ({ track }) => {
          if (track.kind !== 'video') return;
          const v = document.createElement('video');
          v.muted = true; v.autoplay = true;
          v.srcObject = new MediaStream([track.track]);
          document.body.append(v);
          v.requestVideoFrameCallback(() => resolve(now()));
          v.play().catch(() => {});
        });
      });
    })()`);
    await sleep(300);
    const canvas = (w: number, h: number) => `(() => {
      const c = document.createElement('canvas'); c.width = ${w}; c.height = ${h};
      const g = c.getContext('2d'); let n = 0;
      setInterval(() => { g.fillStyle = 'hsl(' + ((n += 9) % 360) + ' 80% 50%)'; g.fillRect(0, 0, ${w}, ${h}); }, 20);
      return c.captureStream(30).getVideoTracks()[0];
    })()`;
    const t0r = (await a.evaluate(`(async () => {
      const next = ${canvas(320, 240)};
      const t0 = performance.timeOrigin + performance.now();
      await window.tandem.replaceTrack(window.cam, next);
      return t0;
    })()`)) as number;
    const t1r = (await b.evaluate('window.frames320')) as number;
    const t0a = (await a.evaluate(`(() => {
      const next = ${canvas(160, 120)};
      const t0 = performance.timeOrigin + performance.now();
      window.tandem.addTrack(next);
      return t0;
    })()`)) as number;
    const t1a = (await b.evaluate('window.secondTrack')) as number;
    return { replace: t1r - t0r, add: t1a - t0a };
  } finally {
    await a.close();
    await b.close();
  }
}

// PeerJS: B answers every call with its camera; A measures to the first frame of B's video
const PEERJS_OPEN = (id: string, port: number) => `new Promise((resolve, reject) => {
  const peer = new window.Peer(${JSON.stringify(id)}, { host: '127.0.0.1', port: ${port}, path: '/', config: { iceServers: [] }, debug: 0 });
  window.peer = peer;
  peer.on('open', () => resolve());
  peer.on('error', (e) => reject(new Error(String(e))));
  window.callerFrame = new Promise((resolveFrame) => {
    peer.on('call', async (call) => {
      const s = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
      call.answer(s);
      // the caller's video at this side: its first decoded frame (epoch time)
      call.on('stream', (stream) => {
        const v = document.createElement('video');
        v.muted = true; v.autoplay = true; v.playsInline = true;
        v.srcObject = stream;
        document.body.append(v);
        v.requestVideoFrameCallback(() => resolveFrame(performance.timeOrigin + performance.now()));
        v.play().catch(() => {});
      });
    });
  });
})`;
const PEERJS_A = (to: string, addedCall: boolean) => `(async () => {
  const cam = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
  if (${addedCall}) await new Promise((r) => window.peer.connect(${JSON.stringify(to)}).on('open', r));
  const t0 = performance.now();
  const call = window.peer.call(${JSON.stringify(to)}, cam);
  const at = await new Promise((resolve) => {
    call.on('stream', (stream) => {
      const v = document.createElement('video');
      v.muted = true; v.autoplay = true; v.playsInline = true;
      v.srcObject = stream;
      document.body.append(v);
      v.requestVideoFrameCallback(() => resolve(performance.now()));
      v.play().catch(() => {});
    });
  });
  return at - t0;
})()`;

/** PeerJS: from peer.call(id, stream) on A to the first frame of A's video at B (B answers at once). */
async function peerjsCallerAtCallee(browser: Browser, port: number): Promise<number> {
  return withPeerjsPages(browser, port, async (a, b, to) => {
    const t0 = (await a.evaluate(`(async () => {
      const cam = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
      const t0 = performance.timeOrigin + performance.now();
      window.peer.call(${JSON.stringify(to)}, cam);
      return t0;
    })()`)) as number;
    return ((await b.evaluate('window.callerFrame')) as number) - t0;
  });
}

/** Two pages on PeerServer's origin, each with an open PeerJS peer; `run(a, b, b's id)`, then both closed. */
async function withPeerjsPages<T>(
  browser: Browser,
  port: number,
  run: (a: Page, b: Page, to: string) => Promise<T>,
): Promise<T> {
  const lib = here('../../node_modules/peerjs/dist/peerjs.min.js');
  const a = await browser.newPage();
  const b = await browser.newPage();
  try {
    // PeerServer's own origin: loopback, so a secure context with getUserMedia (about:blank has none)
    for (const p of [a, b]) {
      await p.goto(`http://127.0.0.1:${port}/`);
      await p.addScriptTag({ path: lib });
    }
    const stamp = `${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
    await a.evaluate(PEERJS_OPEN(`a${stamp}`, port));
    await b.evaluate(PEERJS_OPEN(`b${stamp}`, port));
    return await run(a, b, `b${stamp}`);
  } finally {
    await a.close();
    await b.close();
  }
}

async function peerjsRun(browser: Browser, port: number, addedCall: boolean): Promise<number> {
  return withPeerjsPages(browser, port, async (a, _b, to) => (await a.evaluate(PEERJS_A(to, addedCall))) as number);
}

type Signal = { type: 'offer' | 'answer'; sdp: string } | { type: 'candidate'; candidate: Record<string, unknown> };
/** One call's signaling as Chromium makes it, [from A, from B] in order: a data-only call, then (media) a call added with camera and microphone. */
async function recordSignaling(
  browser: Browser,
  pageUrl: string,
  media: boolean,
): Promise<{ a: Signal[]; b: Signal[] }> {
  const page = await browser.newPage();
  try {
    await page.goto(`${pageUrl}nothing-here`); // a loopback origin: a secure context, with getUserMedia
    return (await page.evaluate(`(async () => {
      const a = [], b = [];
      const pa = new RTCPeerConnection({ iceServers: [] });
      const pb = new RTCPeerConnection({ iceServers: [] });
      pa.onicecandidate = (e) => e.candidate && a.push({ type: 'candidate', candidate: e.candidate.toJSON() });
      pb.onicecandidate = (e) => e.candidate && b.push({ type: 'candidate', candidate: e.candidate.toJSON() });
      pa.createDataChannel('chat');
      const round = async () => {
        await pa.setLocalDescription(await pa.createOffer());
        a.push({ type: 'offer', sdp: pa.localDescription.sdp });
        await pb.setRemoteDescription(pa.localDescription);
        await pb.setLocalDescription(await pb.createAnswer());
        b.push({ type: 'answer', sdp: pb.localDescription.sdp });
        await pa.setRemoteDescription(pb.localDescription);
      };
      await round();
      await new Promise((r) => setTimeout(r, 300));
      if (${media}) {
        const s = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
        for (const t of s.getTracks()) pa.addTrack(t, s);
        const sb = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
        for (const t of sb.getTracks()) pb.addTrack(t, sb);
        await round();
        await new Promise((r) => setTimeout(r, 300));
      }
      pa.close(); pb.close();
      return { a, b };
    })()`)) as { a: Signal[]; b: Signal[] };
  } finally {
    await page.close();
  }
}

/** Replay `sig` through tandem-server between `pairs` pairs of raw ws clients at once; returns the server's CPU ms. */
async function replaySignaling(
  base: string,
  pid: number,
  sig: { a: Signal[]; b: Signal[] },
  pairs: number,
): Promise<number> {
  const open = () =>
    new Promise<{ ws: WebSocket; id: string; got: number }>((resolve, reject) => {
      const ws = new WebSocket(base);
      const c = { ws, id: '', got: 0 };
      ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as { type: string; id?: string };
        if (m.type === 'your_id') {
          c.id = m.id!;
          resolve(c);
        } else if (m.type === 'offer' || m.type === 'answer' || m.type === 'candidate') c.got++;
      });
      ws.on('error', reject);
    });
  const clients = await Promise.all(Array.from({ length: pairs * 2 }, open));
  const until = async (cond: () => boolean) => {
    const end = Date.now() + 30_000;
    while (!cond()) {
      if (Date.now() > end) throw new Error('replayed signaling did not arrive in time');
      await sleep(2);
    }
  };
  const cpu0 = cpuMs(pid);
  for (let i = 0; i < pairs; i++)
    clients[2 * i]!.ws.send(JSON.stringify({ type: 'pair_request', target_id: clients[2 * i + 1]!.id }));
  await sleep(50);
  for (let i = 0; i < pairs; i++) {
    for (const m of sig.a) clients[2 * i]!.ws.send(JSON.stringify(m));
    for (const m of sig.b) clients[2 * i + 1]!.ws.send(JSON.stringify(m));
  }
  await until(() => clients.every((c, i) => c.got >= (i % 2 === 0 ? sig.b.length : sig.a.length)));
  const used = cpuMs(pid) - cpu0;
  for (const c of clients) c.ws.close();
  await sleep(200);
  return used;
}

export async function callsFigures(quick: boolean): Promise<CallsFigures> {
  const calls = quick ? 5 : 30;
  const tandem = await startSystem('tandem');
  // both servers as the other benches run them, pinned to core 0 (PeerServer used to float over
  // both cores while tandem-server shared core 0 with the browser: its relaying waited there)
  const peer = await startSystem('peerserver');
  const peerPort = peer.port;
  await sleep(1_500);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  const pageUrl = `${tandem.base.replace(/^ws:/, 'http:')}/`;
  const out = {
    tandemPairToFrameMs: [] as number[],
    peerjsPairToFrameMs: [] as number[],
    tandemAddedCallMs: [] as number[],
    peerjsAddedCallMs: [] as number[],
    tandemCallerAtCalleeMs: [] as number[],
    peerjsCallerAtCalleeMs: [] as number[],
    demoCallerAtCalleeMs: [] as number[],
    replaceToFrameMs: [] as number[],
    addTrackToFrameMs: [] as number[],
  };
  let signaling: CallsFigures['signalingCpuMs'] = {
    media: NaN,
    dataOnly: NaN,
    pairs: 50,
    rounds: 0,
    mediaBytes: 0,
    dataBytes: 0,
  };
  try {
    for (let i = 0; i < calls; i++) {
      out.tandemPairToFrameMs.push(await tandemRun(browser, pageUrl, false));
      out.peerjsPairToFrameMs.push(await peerjsRun(browser, peerPort, false));
      out.tandemAddedCallMs.push(await tandemRun(browser, pageUrl, true));
      out.peerjsAddedCallMs.push(await peerjsRun(browser, peerPort, true));
      out.tandemCallerAtCalleeMs.push(await tandemCallerAtCallee(browser, pageUrl));
      out.peerjsCallerAtCalleeMs.push(await peerjsCallerAtCallee(browser, peerPort));
      out.demoCallerAtCalleeMs.push(await tandemCallerAtCallee(browser, pageUrl, true));
      log(
        `call ${i + 1}: pair→frame tandem ${out.tandemPairToFrameMs.at(-1)!.toFixed(0)} / peerjs ${out.peerjsPairToFrameMs.at(-1)!.toFixed(0)} ms; ` +
          `added call tandem ${out.tandemAddedCallMs.at(-1)!.toFixed(0)} / peerjs ${out.peerjsAddedCallMs.at(-1)!.toFixed(0)} ms; ` +
          `caller at callee tandem ${out.tandemCallerAtCalleeMs.at(-1)!.toFixed(0)} / peerjs ${out.peerjsCallerAtCalleeMs.at(-1)!.toFixed(0)} ms ` +
          `(demo page ${out.demoCallerAtCalleeMs.at(-1)!.toFixed(0)} ms)`,
      );
    }
    // tandem-server's CPU for the signaling of 50 calls at once, against 50 data-only pairings
    const mediaSig = await recordSignaling(browser, pageUrl, true);
    const dataSig = await recordSignaling(browser, pageUrl, false);
    const rounds = quick ? 3 : 7;
    const cpu = { media: [] as number[], data: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      cpu.data.push(await replaySignaling(tandem.base, tandem.pid, dataSig, 50));
      cpu.media.push(await replaySignaling(tandem.base, tandem.pid, mediaSig, 50));
    }
    const bytes = (x: { a: Signal[]; b: Signal[] }) => JSON.stringify([...x.a, ...x.b]).length;
    signaling = {
      media: pct(cpu.media, 50),
      dataOnly: pct(cpu.data, 50),
      pairs: 50,
      rounds,
      mediaBytes: bytes(mediaSig),
      dataBytes: bytes(dataSig),
    };
    log(`signaling CPU, 50 pairings at once: media calls ${signaling.media} ms, data-only ${signaling.dataOnly} ms`);
    for (let i = 0; i < calls; i++) {
      const sw = await tandemSwitch(browser, pageUrl);
      out.replaceToFrameMs.push(sw.replace);
      out.addTrackToFrameMs.push(sw.add);
      log(
        `switch ${i + 1}: replaceTrack → frame ${sw.replace.toFixed(0)} ms, addTrack → frame ${sw.add.toFixed(0)} ms`,
      );
    }
  } finally {
    await browser.close();
    await peer.stop();
    await tandem.stop();
  }
  return {
    calls,
    signalingCpuMs: signaling,
    ...out,
    p50: {
      tandemPairToFrame: pct(out.tandemPairToFrameMs, 50),
      peerjsPairToFrame: pct(out.peerjsPairToFrameMs, 50),
      tandemAddedCall: pct(out.tandemAddedCallMs, 50),
      peerjsAddedCall: pct(out.peerjsAddedCallMs, 50),
      replaceToFrame: pct(out.replaceToFrameMs, 50),
      addTrackToFrame: pct(out.addTrackToFrameMs, 50),
      tandemCallerAtCallee: pct(out.tandemCallerAtCalleeMs, 50),
      peerjsCallerAtCallee: pct(out.peerjsCallerAtCalleeMs, 50),
      demoCallerAtCallee: pct(out.demoCallerAtCalleeMs, 50),
    },
    ratio90: {
      callerAtCallee: ratioInterval(out.tandemCallerAtCalleeMs, out.peerjsCallerAtCalleeMs),
      pairToFrame: ratioInterval(out.tandemPairToFrameMs, out.peerjsPairToFrameMs),
      addedCall: ratioInterval(out.tandemAddedCallMs, out.peerjsAddedCallMs),
    },
  };
}
