// Calls on the demo page in real Chromium with fake devices (--use-fake-device-for-media-stream
// --use-fake-ui-for-media-stream), through a real tandem-server: A calls, B sees Answer/Decline and
// answers with its own camera; on both pages #remote-video plays (its decoded frames keep growing,
// videoWidth > 0); A switches the sent video to another track with replaceTrack and B's frames keep
// coming; chat works during the call; Hang up stops the remote video on both pages and releases
// A's camera; a declined call shows the words. Screenshots of the two pages in a call are saved.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, probeVideo, recordViolations, violations } from './chromium.js';
import { bundleDemo } from '../src/demo/bundle.js';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAll, startClient, startServer } from './procs.js';
import { startTcpProxy } from './tcp-proxy.js';

const artifacts = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
let browser: Browser;
let pageUrl: string;
let wsUrl: string;
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;

beforeAll(async () => {
  await bundleDemo();
  browser = await launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
  proxy = await startTcpProxy(1); // A's signaling link in the blip test; its target is set once the server listens
  const { url } = await startServer(['--demo-allow-server', proxy.url]);
  proxy.retarget(Number(new URL(url).port));
  wsUrl = url;
  pageUrl = `${url.replace(/^ws:/, 'http:')}/`;
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await killAll();
});

async function openPage(query = ''): Promise<{ page: Page; key: string }> {
  const context = await browser.newContext({ viewport: { width: 760, height: 1100 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await recordViolations(page);
  await page.addInitScript(() => {
    // every peer connection the page makes, for the sender's own count of frames sent
    const pcs: RTCPeerConnection[] = ((window as unknown as { pcs: RTCPeerConnection[] }).pcs = []);
    const Native = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Native {
      constructor(config?: RTCConfiguration) {
        super(config);
        pcs.push(this);
      }
    } as typeof RTCPeerConnection;
  });
  await page.goto(`${pageUrl}${query}`);
  await expect.poll(() => page.inputValue('#my-key'), { timeout: 15_000 }).toMatch(/^[0-9a-f-]{36}$/);
  return { page, key: await page.inputValue('#my-key') };
}
async function pairedPages(aQuery = ''): Promise<[Page, Page]> {
  const a = await openPage(aQuery);
  const b = await openPage();
  await a.page.fill('#peer-key', b.key);
  await a.page.click('#connect');
  for (const p of [a.page, b.page])
    await expect.poll(() => p.getAttribute('#status', 'data-state'), { timeout: 20_000 }).toBe('open');
  // the call button is enabled once the peer said it takes calls
  for (const p of [a.page, b.page]) await expect.poll(() => p.isEnabled('#call'), { timeout: 10_000 }).toBe(true);
  return [a.page, b.page];
}
/** Video frames the page has sent, from its peer connections' outbound-rtp statistics. */
const framesSent = (page: Page) =>
  page.evaluate(async () => {
    let n = 0;
    for (const pc of (window as unknown as { pcs: RTCPeerConnection[] }).pcs)
      (await pc.getStats()).forEach((r: { type: string; kind?: string; framesSent?: number }) => {
        if (r.type === 'outbound-rtp' && r.kind === 'video') n += r.framesSent ?? 0;
      });
    return n;
  });
/** What the page's peer connections received on video (inbound-rtp), for failure messages. */
const framesIn = (page: Page) =>
  page.evaluate(async () => {
    const got = { packets: 0, frames: 0, keyFrames: 0, decoded: 0 };
    for (const pc of (window as unknown as { pcs: RTCPeerConnection[] }).pcs)
      (await pc.getStats()).forEach(
        (r: {
          type: string;
          kind?: string;
          packetsReceived?: number;
          framesReceived?: number;
          keyFramesDecoded?: number;
          framesDecoded?: number;
        }) => {
          if (r.type !== 'inbound-rtp' || r.kind !== 'video') return;
          got.packets += r.packetsReceived ?? 0;
          got.frames += r.framesReceived ?? 0;
          got.keyFrames += r.keyFramesDecoded ?? 0;
          got.decoded += r.framesDecoded ?? 0;
        },
      );
    return got;
  });
/** Decoded frames of #remote-video, and its width. */
const remote = (page: Page) =>
  page.evaluate(() => {
    const v = document.getElementById('remote-video') as HTMLVideoElement;
    return {
      frames: v.getVideoPlaybackQuality().totalVideoFrames,
      width: v.videoWidth,
      hidden: v.hidden,
      tracks: ((v.srcObject as MediaStream | null)?.getTracks() ?? []).filter((t) => t.readyState === 'live').length,
    };
  });
async function framesGrow(page: Page, what: string): Promise<void> {
  const before = (await remote(page)).frames;
  await expect
    .poll(async () => (await remote(page)).frames - before, { timeout: 15_000, message: `${what}: frames grow` })
    .toBeGreaterThan(10);
}

describe('demo page in Chromium: calls', () => {
  it('call, answer with the camera, both remote videos play; the sent track is switched and frames keep coming; hang up stops both', async () => {
    const [a, b] = await pairedPages();
    expect(await a.textContent('#call')).toBe('Call');
    await a.click('#call');
    await expect.poll(() => a.textContent('#call'), { timeout: 10_000 }).toBe('Hang up');
    await expect.poll(() => b.isVisible('#answer'), { timeout: 15_000 }).toBe(true);
    expect(await b.isVisible('#decline')).toBe(true);
    expect(await b.textContent('#call-status')).toMatch(/incoming call with (audio and video|video and audio)/);
    await b.click('#answer');
    for (const [p, name] of [
      [a, 'A'],
      [b, 'B'],
    ] as const) {
      await expect.poll(async () => (await remote(p)).width, { timeout: 20_000 }).toBeGreaterThan(0);
      expect((await remote(p)).hidden).toBe(false);
      await framesGrow(p, `${name} sees the other`);
      expect(await p.isVisible('#local-video')).toBe(true);
      expect(await p.isVisible('#mute')).toBe(true);
    }
    // the live quality line, from getStats
    await expect
      .poll(() => b.textContent('#call-quality'), { timeout: 10_000 })
      .toMatch(/^[1-9][0-9]*×[1-9][0-9]* · [0-9]+ fps · round trip [0-9]+ ms · [0-9]+ packets lost$/);
    mkdirSync(artifacts, { recursive: true });
    await a.screenshot({ path: `${artifacts}browser-call-a.png` });
    await b.screenshot({ path: `${artifacts}browser-call-b.png` });

    // Mute and Camera off: the sent tracks are disabled (the peer gets silence and black), and back
    const sending = () =>
      a.evaluate(() => {
        const s = (document.getElementById('local-video') as HTMLVideoElement).srcObject as MediaStream;
        return { audio: s.getAudioTracks()[0]!.enabled, video: s.getVideoTracks()[0]!.enabled };
      });
    await a.click('#mute');
    await a.click('#camera');
    expect([await a.textContent('#mute'), await a.textContent('#camera')]).toEqual(['Unmute', 'Camera on']);
    expect(await sending()).toEqual({ audio: false, video: false });
    await a.click('#mute');
    await a.click('#camera');
    expect([await a.textContent('#mute'), await a.textContent('#camera')]).toEqual(['Mute', 'Camera off']);
    expect(await sending()).toEqual({ audio: true, video: true });
    await framesGrow(b, 'B after camera on again');

    // A sends another video track in the camera's place (a canvas: headless Chromium has no screen to capture)
    const switched = await a.evaluate(async () => {
      const canvas = document.createElement('canvas');
      canvas.width = 320;
      canvas.height = 240;
      const g = canvas.getContext('2d')!;
      let n = 0;
      setInterval(() => {
        g.fillStyle = `hsl(${(n += 7) % 360} 80% 50%)`;
        g.fillRect(0, 0, 320, 240);
      }, 33);
      const next = canvas.captureStream(30).getVideoTracks()[0]!;
      const video = document.getElementById('local-video') as HTMLVideoElement;
      const camera = (video.srcObject as MediaStream).getVideoTracks()[0]!;
      const t = (window as unknown as { tandem: { replaceTrack(a: unknown, b: unknown): Promise<void> } }).tandem;
      await t.replaceTrack(camera, next);
      return true;
    });
    expect(switched).toBe(true);
    await expect.poll(async () => (await remote(b)).width, { timeout: 15_000 }).toBe(320);
    await framesGrow(b, 'B after the switch');

    // chat during the call
    await b.fill('#message', 'talking while we call');
    await b.click('#send');
    await expect.poll(() => a.textContent('#log'), { timeout: 10_000 }).toContain('talking while we call');

    // hang up: the remote video stops on both pages, A's camera is released, the pairing stays
    await a.click('#call');
    for (const p of [a, b]) {
      await expect.poll(async () => (await remote(p)).hidden, { timeout: 15_000 }).toBe(true);
      await expect.poll(() => p.textContent('#call'), { timeout: 10_000 }).toBe('Call');
      expect(await p.isVisible('#local-video')).toBe(false);
    }
    await expect.poll(() => b.textContent('#call-status'), { timeout: 10_000 }).toBe('your peer hung up');
    expect(await a.getAttribute('#status', 'data-state')).toBe('open');
    for (const p of [a, b]) expect(await violations(p)).toEqual([]);
    await a.context().close();
    await b.context().close();
  }, 120_000);

  it('a pairing that starts with a call (pair(key, { call })): video both ways, five times over, the callee camera with no offer of its own', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await openPage();
      const b = await openPage();
      await b.page.evaluate(() => {
        // every offer the callee sends over signaling (its answer to the first offer is none)
        const g = globalThis as unknown as { offersSent: number };
        g.offersSent = 0;
        const send = WebSocket.prototype.send;
        WebSocket.prototype.send = function (this: WebSocket, d) {
          if (typeof d === 'string' && /"type":"offer"/.test(d)) g.offersSent++;
          return send.call(this, d);
        };
        const t = (globalThis as unknown as { tandem: any }).tandem;
        t.on('incomingCall', async () => {
          const s = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
          t.answerCall(s.getTracks());
        });
      });
      await a.page.evaluate(async (key) => {
        const cam = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
        (globalThis as unknown as { tandem: any }).tandem.pair(key, { call: cam.getTracks() });
      }, b.key);
      for (const [p, name] of [
        [a.page, 'A'],
        [b.page, 'B'],
      ] as const)
        await expect
          .poll(async () => (await remote(p)).width, { timeout: 20_000, message: `round ${round}: ${name} sees video` })
          .toBeGreaterThan(0);
      // its camera went back on the sender its first answer carried
      expect(await b.page.evaluate(() => (globalThis as unknown as { offersSent: number }).offersSent)).toBe(0);
      for (const p of [a.page, b.page]) expect(await violations(p)).toEqual([]);
      await a.page.context().close();
      await b.page.context().close();
    }
  }, 180_000);

  it('a receive-only caller (no camera, through the client API) sees the callee camera once answered', async () => {
    const [a, b] = await pairedPages();
    await a.evaluate(() => (globalThis as unknown as { tandem: { call(t: unknown[]): void } }).tandem.call([]));
    await expect.poll(() => b.isVisible('#answer'), { timeout: 15_000 }).toBe(true);
    await b.click('#answer');
    await expect.poll(async () => (await remote(a)).width, { timeout: 20_000 }).toBeGreaterThan(0);
    await framesGrow(a, 'the receive-only caller sees the callee');
    expect((await remote(b)).tracks).toBe(0); // the caller sends nothing
    expect(await framesSent(a)).toBe(0);
    for (const p of [a, b]) expect(await violations(p)).toEqual([]);
    await a.context().close();
    await b.context().close();
  }, 60_000);

  it('a signaling blip (a 3 s TCP reset of one page link) during the call does not stop the video; signaling works after', async () => {
    const [a, b] = await pairedPages(`?server=${encodeURIComponent(`${proxy.url}/`)}`);
    await a.click('#call');
    await expect.poll(() => b.isVisible('#answer'), { timeout: 15_000 }).toBe(true);
    await b.click('#answer');
    for (const p of [a, b])
      await expect.poll(async () => (await remote(p)).width, { timeout: 20_000 }).toBeGreaterThan(0);
    const reset = proxy.reset(3_000);
    await expect.poll(() => a.getAttribute('#status', 'data-resuming'), { timeout: 10_000 }).toBe('true');
    await framesGrow(b, 'B while A has no signaling');
    await framesGrow(a, 'A while it has no signaling');
    await reset;
    await expect.poll(() => a.getAttribute('#status', 'data-resuming'), { timeout: 15_000 }).toBe('false');
    // signaling works after
    await b.click('#call');
    await expect.poll(async () => (await remote(a)).hidden, { timeout: 15_000 }).toBe(true);
    await expect.poll(() => a.textContent('#call-status'), { timeout: 10_000 }).toBe('your peer hung up');
    // and a new call (its offer goes through the server) plays again
    await a.click('#call');
    await expect.poll(() => b.isVisible('#answer'), { timeout: 15_000 }).toBe(true);
    await b.click('#answer');
    await expect.poll(async () => (await remote(b)).hidden, { timeout: 15_000 }).toBe(false);
    await framesGrow(b, 'B in the call after the blip');
    await a.context().close();
    await b.context().close();
  }, 90_000);

  it('a declined call says so; the caller stops sending and can call again', async () => {
    const [a, b] = await pairedPages();
    await a.click('#call');
    await expect.poll(() => b.isVisible('#decline'), { timeout: 15_000 }).toBe(true);
    await b.click('#decline');
    await expect.poll(() => a.textContent('#call-status'), { timeout: 10_000 }).toMatch(/your peer declined the call/);
    expect(await a.textContent('#call')).toBe('Call');
    expect(await a.isVisible('#local-video')).toBe(false);
    expect((await remote(b)).hidden).toBe(true);
    await a.context().close();
    await b.context().close();
  }, 60_000);
});

describe('calls between a page and tandem-client (werift)', () => {
  it('a page calls tandem-client --record: the WebM holds the video for the length of the call, finalized on hang-up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-record-'));
    const file = join(dir, 'out.webm');
    const { client, id } = await startClient(wsUrl, ['--record', file]);
    const a = await openPage();
    await a.page.fill('#peer-key', id);
    await a.page.click('#connect');
    await client.waitFor(/Data channel opened/, 30_000);
    await expect.poll(() => a.page.isEnabled('#call'), { timeout: 10_000 }).toBe(true);
    await a.page.click('#call');
    await client.waitFor(/^\*\*\* Incoming call \((audio and video|video and audio)\): answering/, 15_000);
    await client.waitFor(/^\*\*\* Recording video to /, 15_000);
    // the size of the first key frame: Chromium starts its fake 640x480 camera lower while it probes bandwidth
    await client.waitFor(/^\*\*\* Call: receiving video [1-9][0-9]*x[1-9][0-9]* \*\*\*$/, 15_000);
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 6_000));
    const sent = await framesSent(a.page);
    await a.page.click('#call'); // hang up
    const length = (Date.now() - started) / 1000;
    await client.waitFor(/^\*\*\* Recording finished: /, 15_000);
    expect(existsSync(file) && statSync(file).size > 10_000).toBe(true);
    const p = probeVideo(file);
    expect(p.codec).toBe('vp8');
    expect(p.width).toBeGreaterThan(0);
    expect(Math.abs(p.duration - length)).toBeLessThan(1); // within ±1 s of the call
    expect(p.frames).toBeGreaterThan(length * 10); // Chromium's fake camera sends 20-30 a second
    // at least 80% of what the page sent (counted by Chromium itself, before the first key frame too)
    expect(p.frames).toBeGreaterThanOrEqual(Math.floor(0.8 * sent));
    console.log(
      `recorded ${p.frames} of ${sent} frames sent, ${p.duration.toFixed(2)} s of a ${length.toFixed(2)} s call`,
    );
    await client.kill();
    await a.page.context().close();
  }, 90_000);

  it('tandem-client --record finalizes the recording on SIGTERM mid-call', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-record-'));
    const file = join(dir, 'cut.webm');
    const { client, id } = await startClient(wsUrl, ['--record', file]);
    const a = await openPage();
    await a.page.fill('#peer-key', id);
    await a.page.click('#connect');
    await expect.poll(() => a.page.isEnabled('#call'), { timeout: 30_000 }).toBe(true);
    await a.page.click('#call');
    await client.waitFor(/^\*\*\* Recording video to /, 15_000);
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 3_000));
    const length = (Date.now() - started) / 1000;
    expect(await client.kill('SIGTERM')).toBe(0);
    expect(client.count(/^\*\*\* Recording finished: /)).toBe(1);
    const p = probeVideo(file);
    expect(p.codec).toBe('vp8');
    expect(Math.abs(p.duration - length)).toBeLessThan(1); // within ±1 s of the call
    await a.page.context().close();
  }, 90_000);

  it('tandem-client --send-video calls a page with a WebM file: the page answers and #remote-video plays it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-video-'));
    const file = join(dir, 'pattern.webm');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=640x480:rate=30',
      '-t',
      '4',
      '-c:v',
      'libvpx',
      '-b:v',
      '600k',
      '-deadline',
      'realtime',
      file,
    ]);
    const a = await openPage();
    const { client } = await startClient(wsUrl, ['--send-video', file, '--pair', a.key]);
    await client.waitFor(/^\*\*\* Calling with /, 30_000);
    await expect.poll(() => a.page.isVisible('#answer'), { timeout: 15_000 }).toBe(true);
    await a.page.click('#answer');
    const said = async () =>
      `the page plays the file: ${JSON.stringify(await remote(a.page))}, received ${JSON.stringify(await framesIn(a.page))}; tandem-client said:\n${client.lines.join('\n')}`;
    await expect
      .poll(async () => (await remote(a.page)).width, { timeout: 20_000 })
      .toBe(640)
      .catch(async (e: Error) => {
        throw new Error(`${e.message}\n${await said()}`);
      });
    await framesGrow(a.page, 'the page plays the file');
    await client.kill();
    await a.page.context().close();
  }, 90_000);
});
