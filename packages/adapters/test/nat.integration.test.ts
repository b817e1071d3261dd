// NAT traversal for real: two tandem-client processes (werift), each in a home behind its own
// symmetric NAT that drops unsolicited inbound traffic, with no direct path between the NATs;
// tandem-server and Debian's coturn on the public side. Without TURN settings the call cannot
// connect (the negative control); with --turn-url and --turn-secret alone it connects through a
// relay and the chat works (tandem-client to tandem-client, and the browser page in Chromium run
// inside one home to a tandem-client in the other); coturn refuses forged and expired credentials.
import { execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { bundleDemo } from '../src/demo/bundle.js';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { turnCredentials } from '../src/ice-config.js';
import { buildNatLab, natLabUnavailable, startCoturn, type NatLab } from './natlab.js';
import { killAll, logHandle, start, startClient, type Proc } from './procs.js';
import { probeVideo } from './chromium.js';

const unavailable = natLabUnavailable();
const SECRET = 'lab-static-auth-secret';
let lab: NatLab | null = null;
let coturn: ChildProcessWithoutNullStreams | null = null;
let coturnLog: string[] = [];

beforeAll(async () => {
  if (unavailable !== null) return;
  lab = buildNatLab();
  const turn = await startCoturn(lab, SECRET);
  coturn = turn.child;
  coturnLog = turn.log;
}, 30_000);
afterAll(async () => {
  await killAll();
  coturn?.kill('SIGKILL');
  lab?.teardown();
});

async function server(args: string[], demo = false): Promise<{ proc: Proc; url: string }> {
  const proc = start(
    'tandem-server',
    ['--host', lab!.service, '--port', '0', ...(demo ? [] : ['--no-demo']), ...args],
    { netns: lab!.pub },
  );
  const m = await proc.waitFor(/Listening on (ws:\/\/\S+)/);
  return { proc, url: m[1]! };
}

const probe = fileURLToPath(new URL('./turn-probe.mjs', import.meta.url));
const allocate = (ns: string, username: string, password: string) => {
  try {
    return lab!.exec(ns, process.execPath, probe, lab!.service, '3478', username, password).trim();
  } catch (e) {
    return String((e as { stdout?: Buffer }).stdout ?? (e as Error).message).trim();
  }
};

describe.skipIf(unavailable !== null)(
  `two homes behind symmetric NATs${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    it('the lab is what it claims: each home reaches the public side, the public side forwards nothing between the NATs', () => {
      const tcp = (ns: string, host: string, port: number) =>
        lab!
          .exec(
            ns,
            process.execPath,
            '-e',
            `const s=require('net').connect(${port},'${host}');s.on('connect',()=>{console.log('open');process.exit(0)});s.on('error',e=>{console.log(e.code);process.exit(0)});setTimeout(()=>{console.log('timeout');process.exit(0)},1500)`,
          )
          .trim();
      for (const home of lab!.homes) expect(tcp(home, lab!.service, 3478)).toBe('open'); // coturn's TCP listener
      // a home cannot reach the other home, nor the other NAT's public address (dropped, not refused)
      expect(tcp(lab!.homes[0], '192.168.78.2', 9)).toBe('timeout');
      expect(tcp(lab!.homes[0], lab!.wan[1], 9)).toBe('timeout');
      expect(lab!.exec(lab!.pub, 'sysctl', '-n', 'net.ipv4.ip_forward').trim()).toBe('0');
    });

    it('negative control: a server without TURN settings cannot connect them (no data channel)', async () => {
      const { proc, url } = await server([]);
      const a = await startClient(url, [], { netns: lab!.homes[0] });
      const b = await startClient(url, [], { netns: lab!.homes[1] });
      b.client.write(a.id);
      await a.client.waitFor(/Paired with/);
      await b.client.waitFor(/Paired with/);
      await new Promise((r) => setTimeout(r, 15_000));
      expect(a.client.count(/Data channel opened/)).toBe(0);
      expect(b.client.count(/Data channel opened/)).toBe(0);
      await Promise.all([a.client.kill(), b.client.kill(), proc.kill()]);
    }, 60_000);

    it('with --turn-url and --turn-secret only, they chat through a TURN relay', async () => {
      const { proc, url } = await server(['--turn-url', `turn:${lab!.service}:3478`, '--turn-secret', SECRET]);
      const a = await startClient(url, [], { netns: lab!.homes[0] });
      const b = await startClient(url, [], { netns: lab!.homes[1] });
      b.client.write(a.id);
      await a.client.waitFor(/Data channel opened/, 30_000);
      await b.client.waitFor(/Data channel opened/, 30_000);
      a.client.write('hello through two NATs');
      await b.client.waitFor(/^< Peer: hello through two NATs$/);
      b.client.write('and back');
      await a.client.waitFor(/^< Peer: and back$/);
      // the pair werift selected goes through the relay on at least one side
      const path = await a.client.waitFor(/^\*\*\* Path: (\w+) ↔ (\w+)/);
      expect([path[1], path[2]]).toContain('relay');
      // coturn saw allocations whose usernames carry the clients' handles (the ones our log names
      // them by), never their IDs
      expect(coturnLog.join('\n'), coturnLog.slice(-40).join('\n')).toMatch(
        new RegExp(`${logHandle(a.id)}|${logHandle(b.id)}`),
      );
      expect(coturnLog.filter((l) => l.includes(a.id) || l.includes(b.id))).toEqual([]);
      await Promise.all([a.client.kill(), b.client.kill(), proc.kill()]);
    }, 60_000);

    it('--relay-only: the call connects and both sides use relay candidates', async () => {
      const { proc, url } = await server(['--turn-url', `turn:${lab!.service}:3478`, '--turn-secret', SECRET]);
      const a = await startClient(url, ['--relay-only'], { netns: lab!.homes[0] });
      const b = await startClient(url, ['--relay-only'], { netns: lab!.homes[1] });
      b.client.write(a.id);
      await a.client.waitFor(/Data channel opened/, 30_000);
      const path = await a.client.waitFor(/^\*\*\* Path: (\w+) ↔ (\w+)/);
      expect([path[1], path[2]]).toEqual(['relay', 'relay']);
      a.client.write('relayed only');
      await b.client.waitFor(/^< Peer: relayed only$/);
      await Promise.all([a.client.kill(), b.client.kill(), proc.kill()]);
    }, 60_000);

    it("a call between the homes: --send-video to --record through coturn with the server's credentials, the recording holds ≥ 80% of the frames sent", async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tandem-nat-call-'));
      const video = join(dir, 'pattern.webm');
      const recording = join(dir, 'call.webm');
      execFileSync('ffmpeg', [
        '-v',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc=size=320x240:rate=15',
        '-t',
        '4',
        '-c:v',
        'libvpx',
        '-b:v',
        '300k',
        '-deadline',
        'realtime',
        video,
      ]);
      chmodSync(dir, 0o777);
      const { proc, url } = await server(['--turn-url', `turn:${lab!.service}:3478`, '--turn-secret', SECRET]);
      const recorder = await startClient(url, ['--record', recording], { netns: lab!.homes[1] });
      const sender = await startClient(url, ['--send-video', video, '--pair', recorder.id], { netns: lab!.homes[0] });
      await sender.client.waitFor(/^\*\*\* Calling with /, 30_000);
      const path = await sender.client.waitFor(/^\*\*\* Path: (\w+) ↔ (\w+)/, 30_000);
      expect([path[1], path[2]]).toContain('relay');
      await recorder.client.waitFor(/^\*\*\* Call: receiving video 320x240 \*\*\*$/, 30_000);
      const began = Date.now();
      await new Promise((r) => setTimeout(r, 6_000));
      // the sender leaves: it says how many frames it sent, the recorder finalizes the file
      const stopped = sender.client.kill('SIGTERM');
      const sent = Number((await sender.client.waitFor(/^\*\*\* Sent video: (\d+) frames \*\*\*$/))[1]);
      await stopped;
      const length = (Date.now() - began) / 1000;
      await recorder.client.waitFor(/^\*\*\* Recording finished: /, 20_000);
      const probed = probeVideo(recording);
      const frames = probed.frames;
      console.log(
        `NAT call: sent ${sent} frames, recorded ${frames}, ${probed.duration} s of a ${length.toFixed(1)} s call`,
      );
      expect(probed.codec).toBe('vp8'); // (its stated width is werift's recorder default, not the stream's)
      expect(sent).toBeGreaterThan(40);
      expect(Math.abs(probed.duration - length)).toBeLessThan(1); // within ±1 s of the call
      expect(frames).toBeGreaterThanOrEqual(Math.floor(0.8 * sent));
      await Promise.all([recorder.client.kill(), proc.kill()]);
    }, 90_000);

    it('coturn allocates for the credentials tandem-server hands out, and refuses forged and expired ones', () => {
      const home = lab!.homes[0];
      const good = turnCredentials(SECRET, 'probe-client', 600, Date.now());
      expect(allocate(home, good.username, good.credential)).toMatch(
        new RegExp(`^OK ${lab!.service.replace(/\./g, '\\.')}:\\d+$`),
      );
      const forged = turnCredentials('not-the-secret', 'probe-client', 600, Date.now());
      expect(allocate(home, forged.username, forged.credential)).toMatch(/^ERROR 401/);
      const expired = turnCredentials(SECRET, 'probe-client', 600, Date.now() - 3_600_000);
      expect(allocate(home, expired.username, expired.credential)).toMatch(/^ERROR 401/);
      // a username whose expiry was pushed later without the secret to sign it
      const stretched = `${Number(good.username.split(':')[0]) + 86_400}:probe-client`;
      expect(allocate(home, stretched, good.credential)).toMatch(/^ERROR 401/);
    });
  },
);

const CHROMIUM = process.env['TANDEM_CHROMIUM'] ?? '/usr/bin/chromium';
describe.skipIf(unavailable !== null || !existsSync(CHROMIUM))(
  `the browser page behind a symmetric NAT${unavailable ? ` (skipped: ${unavailable})` : !existsSync(CHROMIUM) ? ` (skipped: ${CHROMIUM} is missing)` : ''}`,
  () => {
    it("Chromium in one home and a tandem-client in the other chat through TURN, with nothing but the server's settings", async () => {
      await bundleDemo();
      const { proc, url } = await server(['--turn-url', `turn:${lab!.service}:3478`, '--turn-secret', SECRET], true);
      // Chromium runs inside the first home's namespace: playwright starts this wrapper, which
      // enters the namespace and execs the browser with its pipes intact
      const dir = mkdtempSync(join(tmpdir(), 'tandem-chromium-'));
      const wrapper = join(dir, 'chromium-in-home.sh');
      writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${lab!.homes[0]} ${CHROMIUM} "$@"\n`);
      chmodSync(wrapper, 0o755);
      const browser = await chromium.launch({
        executablePath: wrapper,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-quic',
          '--no-first-run',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      try {
        const page = await browser.newPage();
        const consoleLines: string[] = [];
        page.on('console', (m) => consoleLines.push(m.text()));
        page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
        await page.goto(url.replace(/^ws:/, 'http:') + '/');
        await expect
          .poll(() => page.inputValue('#my-key'), { timeout: 15_000 })
          .toMatch(/^[0-9a-f-]{36}$/)
          .catch((e: Error) => {
            throw new Error(`${e.message}; page console: ${consoleLines.join(' | ')}`);
          });
        const key = await page.inputValue('#my-key');
        const node = await startClient(url, [], { netns: lab!.homes[1] });
        node.client.write(key);
        await node.client.waitFor(/Data channel opened/, 30_000);
        await expect.poll(() => page.getAttribute('#status', 'data-state'), { timeout: 30_000 }).toBe('open');
        await page.fill('#message', 'from a browser behind a NAT');
        await page.click('#send');
        await node.client.waitFor(/^< Peer: from a browser behind a NAT$/, 10_000);
        node.client.write('from werift behind the other NAT');
        await expect
          .poll(async () => (await page.textContent('#log')) ?? '', { timeout: 10_000 })
          .toContain('from werift behind the other NAT');
        const path = await node.client.waitFor(/^\*\*\* Path: (\w+) ↔ (\w+)/);
        expect([path[1], path[2]]).toContain('relay');
        await node.client.kill();
      } finally {
        await browser.close();
        await proc.kill();
      }
    }, 90_000);
  },
);
