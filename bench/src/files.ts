/// <reference lib="dom" />
// File figures (issue 25), each against a floor measured in the same run on the same stack:
//  - werift ↔ werift: a 64 MiB file between two tandem clients (disk to disk: nodeFileSource,
//    nodeFileStore, hashed) against a bare werift RTCDataChannel pump of 16 KiB chunks with
//    bufferedAmountLowThreshold, both in this process, rounds interleaved;
//  - chat-line round trips while that transfer runs, against the same on an idle call;
//  - the receiving tandem-client's RSS (a process of its own, --download-dir) for 64 and 256 MiB
//    (and 1 GiB in a full run), against its idle RSS;
//  - Chromium ↔ Chromium: a 256 MiB file between two demo pages of one browser, against a bare
//    RTCDataChannel pump between two pages, and against PeerJS 1.5.5's DataConnection (binary
//    serialization, a local `peer` server, iceServers: []) sending the same bytes.
import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { RTCPeerConnection as WeriftPeerConnection } from 'werift';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createTandemClient, type TandemClient } from '@tandem/client-core';
import { createWsServer, wsTransport } from '@tandem/adapters/ws';
import { weriftPeerFactory } from '@tandem/adapters/werift';
import { nodeFileSource, nodeFileStore, nodeSha256 } from '@tandem/adapters/files';
import { freePort, rssBytes, startSystem } from './procs.js';

const MiB = 1024 * 1024;
const log = (line: string) => process.stderr.write(`  ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
};
const until = async (cond: () => boolean, ms: number, what: string) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(5);
  }
};

export interface ThroughputFigure {
  system: 'tandem-files' | 'raw-floor' | 'peerjs';
  stack: 'werift' | 'chromium';
  bytes: number;
  /** Median over rounds. */
  mibPerSecond: number;
  rounds: number[];
  /** Chromium only: CPU of all the browser's processes per MiB moved, over the timed part (median over rounds). */
  cpuMsPerMiB?: number;
}
export interface ChatLatencyFigure {
  idleMs: number;
  duringTransferMs: number;
  samples: number;
}
export interface ReceiverRssFigure {
  bytes: number;
  idleMiB: number;
  peakMiB: number;
}
export interface FilesFigures {
  throughput: ThroughputFigure[];
  /** SHA-256 speed in a page's worker (@noble/hashes, as the page's file worker runs it) and WebCrypto's one-shot digest, MiB/s. */
  hashSpeed?: { nobleWorker: number; webCrypto: number };
  chat?: ChatLatencyFigure;
  rss: ReceiverRssFigure[];
  skipped?: string;
}

async function writeRandomFile(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  const block = randomBytes(4 * MiB);
  for (let at = 0; at < bytes; at += block.length) {
    const n = Math.min(block.length, bytes - at);
    if (!out.write(n === block.length ? block : block.subarray(0, n))) await new Promise((r) => out.once('drain', r));
  }
  await new Promise<void>((r) => out.end(r));
}

/** A bare werift data channel pump: 16 KiB chunks, refilled on bufferedamountlow. */
async function weriftFloor(bytes: number): Promise<number> {
  const a = new WeriftPeerConnection({ iceServers: [] });
  const b = new WeriftPeerConnection({ iceServers: [] });
  a.onIceCandidate.subscribe((c) => c && void b.addIceCandidate(c));
  b.onIceCandidate.subscribe((c) => c && void a.addIceCandidate(c));
  const dc = a.createDataChannel('bulk');
  let got = 0;
  const done = new Promise<void>((r) =>
    b.onDataChannel.subscribe((ch) =>
      ch.onMessage.subscribe((m) => {
        got += (m as Buffer).length;
        if (got >= bytes) r();
      }),
    ),
  );
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription!);
  await new Promise<void>((r) => dc.stateChanged.subscribe((s) => s === 'open' && r()));
  const chunk = Buffer.alloc(16 * 1024);
  const threshold = 256 * 1024;
  dc.bufferedAmountLowThreshold = threshold;
  const t0 = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (sent < bytes && dc.bufferedAmount <= threshold) {
        dc.send(sent + chunk.length <= bytes ? chunk : chunk.subarray(0, bytes - sent));
        sent += chunk.length;
      }
      if (sent >= bytes) resolve();
    };
    dc.bufferedAmountLow.subscribe(pump);
    pump();
  });
  await done;
  const s = (performance.now() - t0) / 1000;
  await a.close();
  await b.close();
  return bytes / MiB / s;
}

/** Two tandem clients on werift in this process, through a tandem server on loopback. */
async function weriftPair(inbox: string) {
  const server = createWsServer({ host: '127.0.0.1', port: 0 });
  const { port } = await server.ready;
  const store = nodeFileStore({ dir: inbox });
  const mk = (receive: boolean): TandemClient =>
    createTandemClient({
      url: `ws://127.0.0.1:${port}`,
      transport: wsTransport(),
      createPeer: weriftPeerFactory(),
      files: { createHash: nodeSha256 },
      ...(receive ? { onFileOffer: store.decide } : {}),
    });
  const a = mk(false);
  const b = mk(true);
  await until(() => a.id !== null && b.id !== null, 20_000, 'ids');
  a.pair(b.id!);
  await until(() => a.status === 'open' && b.status === 'open', 30_000, 'open');
  await until(() => a.peer !== null, 10_000, 'peer features');
  return {
    a,
    b,
    async close() {
      a.close();
      b.close();
      await server.close();
    },
  };
}

/** Chat round trips (a line to B, B echoes it) every `everyMs` until `stop()`. */
function chatProbe(a: TandemClient, b: TandemClient, everyMs: number) {
  const rtts: number[] = [];
  const sentAt = new Map<string, number>();
  const offB = b.on('message', ({ data }) => typeof data === 'string' && data.startsWith('probe ') && b.send(data));
  const offA = a.on('message', ({ data }) => {
    if (typeof data !== 'string') return;
    const t = sentAt.get(data);
    if (t !== undefined) rtts.push(performance.now() - t);
  });
  let n = 0;
  const timer = setInterval(() => {
    const line = `probe ${++n}`;
    sentAt.set(line, performance.now());
    a.send(line);
  }, everyMs);
  return {
    rtts,
    stop() {
      clearInterval(timer);
      offA();
      offB();
    },
  };
}

async function weriftFigures(
  fileBytes: number,
  rounds: number,
): Promise<{ throughput: ThroughputFigure[]; chat: ChatLatencyFigure }> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-files-'));
  const path = join(dir, 'payload.bin');
  await writeRandomFile(path, fileBytes);
  const floor: number[] = [];
  const tandem: number[] = [];
  const idle: number[] = [];
  const during: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      floor.push(await weriftFloor(fileBytes));
      log(`werift floor round ${r + 1}: ${floor.at(-1)!.toFixed(2)} MiB/s`);
      const inbox = mkdtempSync(join(dir, 'inbox-'));
      const pair = await weriftPair(inbox);
      try {
        // chat round trips on the idle call, then while the file moves
        const quiet = chatProbe(pair.a, pair.b, 100);
        await sleep(2_000);
        quiet.stop();
        idle.push(...quiet.rtts);
        const busy = chatProbe(pair.a, pair.b, 100);
        const t0 = performance.now();
        const t = pair.a.sendFile(await nodeFileSource(path));
        await t.finished;
        const s = (performance.now() - t0) / 1000;
        busy.stop();
        during.push(...busy.rtts);
        tandem.push(fileBytes / MiB / s);
        log(`werift tandem files round ${r + 1}: ${tandem.at(-1)!.toFixed(2)} MiB/s`);
      } finally {
        await pair.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    throughput: [
      { system: 'tandem-files', stack: 'werift', bytes: fileBytes, mibPerSecond: median(tandem), rounds: tandem },
      { system: 'raw-floor', stack: 'werift', bytes: fileBytes, mibPerSecond: median(floor), rounds: floor },
    ],
    chat: { idleMs: median(idle), duringTransferMs: median(during), samples: during.length },
  };
}

/** The receiving tandem-client's RSS (own process, --download-dir) while a file of `bytes` arrives from another. */
async function receiverRss(bytes: number): Promise<ReceiverRssFigure> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-rss-'));
  const server = await startSystem('tandem');
  const bin = here('../../packages/adapters/dist/bin/tandem-client.js');
  const procs: ReturnType<typeof spawn>[] = [];
  const run = (args: string[]) => {
    const child = spawn(process.execPath, [bin, '--url', server.base, ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, XDG_STATE_HOME: dir },
    });
    procs.push(child);
    const lines: string[] = [];
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    return { child, lines };
  };
  try {
    const path = join(dir, 'payload.bin');
    await writeRandomFile(path, bytes);
    const inbox = mkdtempSync(join(dir, 'inbox-'));
    const b = run(['--download-dir', inbox, '--max-file-size', String(bytes * 2)]);
    await until(() => b.lines.some((l) => l.includes('Your Client ID')), 20_000, 'receiver id');
    const id = /Your Client ID: (\S+)/.exec(b.lines.find((l) => l.includes('Your Client ID'))!)![1]!;
    await sleep(1_000);
    const idle = rssBytes(b.child.pid!);
    const a = run(['--pair', id, '--send', path]);
    let peak = idle;
    const end = Date.now() + (bytes / MiB) * 2_000 + 120_000; // generous for werift's few MiB/s
    while (!b.lines.some((l) => l.startsWith('*** Received ') || l.startsWith('*** Transfer failed'))) {
      if (Date.now() > end) throw new Error('bench: the file did not arrive in time');
      peak = Math.max(peak, rssBytes(b.child.pid!));
      await sleep(100);
    }
    const done = b.lines.find((l) => l.startsWith('*** Received ') || l.startsWith('*** Transfer failed'))!;
    if (!done.startsWith('*** Received ')) throw new Error(`bench: ${done}`);
    const expected = createHash('sha256').update(readFileSync(path)).digest('hex');
    if (!done.includes(expected)) throw new Error('bench: the received file does not hash to the sent one');
    void a;
    log(
      `receiver RSS for ${bytes / MiB} MiB: idle ${(idle / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB`,
    );
    return { bytes, idleMiB: idle / MiB, peakMiB: peak / MiB };
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const CHROMIUM = process.env['TANDEM_CHROMIUM'] ?? '/usr/bin/chromium';

/** CPU time (ms) used so far by every live Chromium process (browser, renderers, network, GPU), from /proc. */
function chromiumCpuMs(): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('chromium')) continue;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}
/** A timed run's rate and its Chromium CPU per MiB (sampled while its pages are still open). */
interface ChromiumRun {
  mibPerSecond: number;
  cpuMsPerMiB: number;
}

/** Two blank pages of one browser joined by a bare RTCPeerConnection each (SDP carried by this process, no trickle). */
async function blankPair(browser: Browser): Promise<[Page, Page]> {
  const a = await browser.newPage();
  const b = await browser.newPage();
  // tsx compiles this file with esbuild's keepNames: functions inside evaluated callbacks call __name
  for (const p of [a, b]) await p.evaluate('globalThis.__name = (f) => f');
  return [a, b];
}

/** The bare RTCDataChannel pump between two pages: 16 KiB chunks, refilled on bufferedamountlow. */
async function chromiumFloor(browser: Browser, bytes: number): Promise<ChromiumRun> {
  const [a, b] = await blankPair(browser);
  try {
    const offer = await a.evaluate(async () => {
      const w = window as unknown as { pc: RTCPeerConnection; dc: RTCDataChannel };
      w.pc = new RTCPeerConnection({ iceServers: [] });
      w.dc = w.pc.createDataChannel('bulk');
      w.dc.binaryType = 'arraybuffer';
      await w.pc.setLocalDescription(await w.pc.createOffer());
      await new Promise<void>((r) => {
        if (w.pc.iceGatheringState === 'complete') r();
        w.pc.onicegatheringstatechange = () => w.pc.iceGatheringState === 'complete' && r();
      });
      return w.pc.localDescription!.sdp;
    });
    const answer = await b.evaluate(async (sdp: string) => {
      const w = window as unknown as { pc: RTCPeerConnection; got: number; done: Promise<number> };
      w.pc = new RTCPeerConnection({ iceServers: [] });
      w.got = 0;
      w.pc.ondatachannel = (e) => {
        e.channel.binaryType = 'arraybuffer';
        e.channel.onmessage = (m) => (w.got += (m.data as ArrayBuffer).byteLength);
      };
      await w.pc.setRemoteDescription({ type: 'offer', sdp });
      await w.pc.setLocalDescription(await w.pc.createAnswer());
      await new Promise<void>((r) => {
        if (w.pc.iceGatheringState === 'complete') r();
        w.pc.onicegatheringstatechange = () => w.pc.iceGatheringState === 'complete' && r();
      });
      return w.pc.localDescription!.sdp;
    }, offer);
    await a.evaluate(async (sdp: string) => {
      const w = window as unknown as { pc: RTCPeerConnection; dc: RTCDataChannel };
      await w.pc.setRemoteDescription({ type: 'answer', sdp });
      await new Promise<void>((r) => (w.dc.readyState === 'open' ? r() : (w.dc.onopen = () => r())));
    }, answer);
    const cpu0 = chromiumCpuMs();
    const t0 = performance.now();
    const pumped = a.evaluate(async (total: number) => {
      const w = window as unknown as { dc: RTCDataChannel };
      const chunk = new Uint8Array(16 * 1024);
      const threshold = 256 * 1024;
      w.dc.bufferedAmountLowThreshold = threshold;
      let sent = 0;
      await new Promise<void>((resolve) => {
        const pump = () => {
          while (sent < total && w.dc.bufferedAmount <= threshold) {
            w.dc.send(sent + chunk.length <= total ? chunk : chunk.subarray(0, total - sent));
            sent += chunk.length;
          }
          if (sent >= total) resolve();
        };
        w.dc.onbufferedamountlow = pump;
        pump();
      });
    }, bytes);
    await pumped;
    await b.waitForFunction((total) => (window as unknown as { got: number }).got >= total, bytes, {
      timeout: 600_000,
      polling: 20,
    });
    return {
      mibPerSecond: bytes / MiB / ((performance.now() - t0) / 1000),
      cpuMsPerMiB: (chromiumCpuMs() - cpu0) / (bytes / MiB),
    };
  } finally {
    await a.close();
    await b.close();
  }
}

/** PeerJS 1.5.5 DataConnection (binary) between two pages, through a local `peer` server. */
async function peerjsRun(browser: Browser, bytes: number, peerPort: number): Promise<number> {
  const lib = here('../../node_modules/peerjs/dist/peerjs.min.js');
  const [a, b] = await blankPair(browser);
  try {
    for (const p of [a, b]) await p.addScriptTag({ path: lib });
    const open = (page: Page, id: string) =>
      page.evaluate(
        ({ id, port }) =>
          new Promise<void>((resolve, reject) => {
            const w = window as unknown as { peer: unknown; Peer: new (...a: unknown[]) => unknown };
            const peer = new w.Peer(id, {
              host: '127.0.0.1',
              port,
              path: '/',
              config: { iceServers: [] },
              debug: 0,
            }) as {
              on(e: string, f: (x: unknown) => void): void;
            };
            w.peer = peer;
            peer.on('open', () => resolve());
            peer.on('error', (e) => reject(new Error(String(e))));
          }),
        { id, port: peerPort },
      );
    const ida = `a${Date.now()}`;
    const idb = `b${Date.now()}`;
    await open(a, ida);
    await open(b, idb);
    await b.evaluate(() => {
      const w = window as unknown as { peer: { on(e: string, f: (c: unknown) => void): void }; got: number };
      w.got = 0;
      w.peer.on('connection', (c) => {
        (c as { on(e: string, f: (d: unknown) => void): void }).on('data', (d) => {
          w.got += (d as ArrayBuffer).byteLength;
        });
      });
    });
    await a.evaluate(
      (to) =>
        new Promise<void>((resolve) => {
          const w = window as unknown as {
            peer: { connect(id: string, o: object): { on(e: string, f: () => void): void } };
            conn: unknown;
          };
          const conn = w.peer.connect(to, { serialization: 'binary', reliable: true });
          w.conn = conn;
          conn.on('open', () => resolve());
        }),
      idb,
    );
    const t0 = performance.now();
    // as a PeerJS user would: 64 KiB pieces, pausing while PeerJS or the channel holds a lot
    await a.evaluate(async (total: number) => {
      const w = window as unknown as {
        conn: { send(d: ArrayBuffer): void; bufferSize: number; dataChannel: RTCDataChannel };
      };
      const piece = new Uint8Array(64 * 1024);
      for (let sent = 0; sent < total; sent += piece.length) {
        while (w.conn.bufferSize > 16 || w.conn.dataChannel.bufferedAmount > 1024 * 1024)
          await new Promise((r) => setTimeout(r, 1));
        w.conn.send(piece.slice(0, Math.min(piece.length, total - sent)).buffer);
      }
    }, bytes);
    await b.waitForFunction((total) => (window as unknown as { got: number }).got >= total, bytes, {
      timeout: 900_000,
      polling: 20,
    });
    return bytes / MiB / ((performance.now() - t0) / 1000);
  } finally {
    await a.close();
    await b.close();
  }
}

/** tandem's demo pages: B sends a file from disk (the file input), A accepts; timed from Accept to done at A. */
async function chromiumTandem(browser: Browser, pageUrl: string, path: string): Promise<ChromiumRun> {
  const a = await browser.newPage();
  const b = await browser.newPage();
  try {
    for (const p of [a, b]) {
      await p.goto(pageUrl);
      await p.waitForFunction(() =>
        /^[0-9a-f-]{36}$/.test((document.getElementById('my-key') as HTMLInputElement).value),
      );
    }
    await b.fill('#peer-key', await a.inputValue('#my-key'));
    await b.click('#connect');
    await b.waitForFunction(() => !(document.getElementById('send-file') as HTMLButtonElement).disabled, null, {
      timeout: 30_000,
    });
    await b.setInputFiles('#file-input', path);
    const accept = a.locator('.transfer[data-direction="receive"] button.accept');
    await accept.waitFor({ timeout: 120_000 });
    const cpu0 = chromiumCpuMs();
    const t0 = performance.now();
    await accept.click();
    await a.waitForFunction(
      () => document.querySelector('.transfer[data-direction="receive"]')?.getAttribute('data-state') === 'done',
      null,
      { timeout: 900_000, polling: 20 },
    );
    const s = (performance.now() - t0) / 1000;
    const cpu = chromiumCpuMs() - cpu0;
    const size = Number((await a.textContent('.transfer[data-direction="receive"] .speed'))?.split(' ')[0]);
    return { mibPerSecond: size / MiB / s, cpuMsPerMiB: cpu / (size / MiB) };
  } finally {
    await a.close();
    await b.close();
  }
}

/** SHA-256 in a page's worker (the page's own hash-worker.js, 1 MiB updates) against WebCrypto's one-shot digest. */
async function hashSpeed(browser: Browser, pageUrl: string): Promise<{ nobleWorker: number; webCrypto: number }> {
  const page = await browser.newPage();
  try {
    await page.goto(pageUrl);
    await page.evaluate('globalThis.__name = (f) => f');
    return await page.evaluate(async () => {
      const mib = 64;
      const w = new Worker('/hash-worker.js', { type: 'module' });
      const block = new Uint8Array(1 << 20).map((_, i) => i & 255);
      const t0 = performance.now();
      const done = new Promise<void>((resolve) => (w.onmessage = (e) => e.data.digest !== undefined && resolve()));
      w.postMessage({ op: 'new', id: 1 });
      for (let i = 0; i < mib; i++) {
        const c = block.slice();
        w.postMessage({ op: 'update', id: 1, bytes: c }, [c.buffer]);
      }
      w.postMessage({ op: 'digest', id: 1 });
      await done;
      const nobleWorker = mib / ((performance.now() - t0) / 1000);
      w.terminate();
      const whole = new Uint8Array(mib << 20);
      const t1 = performance.now();
      await crypto.subtle.digest('SHA-256', whole);
      return { nobleWorker, webCrypto: mib / ((performance.now() - t1) / 1000) };
    });
  } finally {
    await page.close();
  }
}

async function chromiumFigures(
  fileBytes: number,
  rounds: number,
): Promise<{ throughput: ThroughputFigure[]; hashSpeed: { nobleWorker: number; webCrypto: number } }> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-chromium-'));
  const path = join(dir, 'payload.bin');
  await writeRandomFile(path, fileBytes);
  const tandemServer = await startSystem('tandem');
  const peerPort = await freePort();
  const peer = spawn(process.execPath, [here('./peer-server.mjs'), String(peerPort)], { stdio: 'ignore' });
  await sleep(1_500);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
      '--disable-sync',
      // the PeerJS pages are about:blank: Chromium's local-network checks would refuse their ws://127.0.0.1
      '--disable-features=LocalNetworkAccessChecks',
    ],
  });
  const pageUrl = `${tandemServer.base.replace(/^ws:/, 'http:')}/`;
  const out = { tandem: [] as ChromiumRun[], floor: [] as ChromiumRun[], peerjs: [] as number[] };
  let hashes = { nobleWorker: NaN, webCrypto: NaN };
  try {
    for (let r = 0; r < rounds; r++) {
      out.floor.push(await chromiumFloor(browser, fileBytes));
      const fl = out.floor.at(-1)!;
      log(
        `chromium floor round ${r + 1}: ${fl.mibPerSecond.toFixed(1)} MiB/s, ${fl.cpuMsPerMiB.toFixed(0)} ms CPU/MiB`,
      );
      out.tandem.push(await chromiumTandem(browser, pageUrl, path));
      const t = out.tandem.at(-1)!;
      log(
        `chromium tandem files round ${r + 1}: ${t.mibPerSecond.toFixed(1)} MiB/s, ${t.cpuMsPerMiB.toFixed(0)} ms CPU/MiB`,
      );
      out.peerjs.push(await peerjsRun(browser, fileBytes, peerPort));
      log(`chromium peerjs round ${r + 1}: ${out.peerjs.at(-1)!.toFixed(1)} MiB/s`);
    }
    hashes = await hashSpeed(browser, pageUrl);
    log(
      `SHA-256 in a page's worker: ${hashes.nobleWorker.toFixed(0)} MiB/s; WebCrypto digest ${hashes.webCrypto.toFixed(0)} MiB/s`,
    );
  } finally {
    await browser.close();
    peer.kill('SIGKILL');
    await tandemServer.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const figure = (system: 'tandem-files' | 'raw-floor', runs: ChromiumRun[]): ThroughputFigure => ({
    system,
    stack: 'chromium',
    bytes: fileBytes,
    mibPerSecond: median(runs.map((x) => x.mibPerSecond)),
    rounds: runs.map((x) => x.mibPerSecond),
    cpuMsPerMiB: median(runs.map((x) => x.cpuMsPerMiB)),
  });
  return {
    throughput: [
      figure('tandem-files', out.tandem),
      figure('raw-floor', out.floor),
      { system: 'peerjs', stack: 'chromium', bytes: fileBytes, mibPerSecond: median(out.peerjs), rounds: out.peerjs },
    ],
    hashSpeed: hashes,
  };
}

export async function filesFigures(quick: boolean): Promise<FilesFigures> {
  const werift = await weriftFigures(quick ? 16 * MiB : 64 * MiB, quick ? 1 : 2);
  const browserRuns = await chromiumFigures(quick ? 64 * MiB : 256 * MiB, quick ? 1 : 3);
  const rss: ReceiverRssFigure[] = [];
  for (const size of quick ? [64 * MiB, 256 * MiB] : [64 * MiB, 256 * MiB, 1024 * MiB])
    rss.push(await receiverRss(size));
  return {
    throughput: [...werift.throughput, ...browserRuns.throughput],
    hashSpeed: browserRuns.hashSpeed,
    chat: werift.chat,
    rss,
  };
}
