// ICE restart with the demo page in real Chromium, one browser in each of two network namespaces
// (needs root; skipped with the reason otherwise). Page A's home link goes down for 12 s and
// comes back with a new address (another network): its signaling drops and its ICE path is gone
// for good, so only an ICE restart can find a new one. Both pages restart ICE (perfect
// negotiation settles the glare; A's offer waits in its resume buffer while its signaling is
// down), A resumes its signaling, ICE finds the new path, and the same data channel carries
// messages both ways.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { bundleDemo } from '../src/demo/bundle.js';
import { killAll, startServer } from './procs.js';
import { buildLab, labUnavailable, type Home, type Lab } from './netlab.js';

const CHROMIUM = process.env['TANDEM_CHROMIUM'] ?? '/usr/bin/chromium';
const unavailable = labUnavailable();
let lab: Lab | null = null;
const browsers: Browser[] = [];

beforeAll(async () => {
  if (unavailable !== null) return;
  await bundleDemo();
  lab = buildLab();
}, 60_000);
afterAll(async () => {
  for (const b of browsers) await b.close().catch(() => undefined);
  await killAll();
  lab?.teardown();
});

/** Chromium started inside `home`'s namespace (playwright talks to it over a pipe, not the network). */
async function browserIn(home: Home): Promise<Browser> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-ns-chromium-'));
  const wrapper = join(dir, 'chromium');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${home.ns} ${CHROMIUM} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const browser = await chromium.launch({
    executablePath: wrapper,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      // two namespaces share no multicast: show host addresses instead of mDNS names
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    ],
  });
  browsers.push(browser);
  return browser;
}

const logText = (page: Page) => page.textContent('#log').then((t) => t ?? '');
const say = async (page: Page, text: string) => {
  await page.fill('#message', text);
  await page.click('#send');
};

describe.skipIf(unavailable !== null)(
  `Chromium ICE restart across a 12 s outage${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    it('keeps the same data channel: path lost, signaling resumed, path restored, messages both ways', async () => {
      const [home1, home2] = lab!.homes;
      const { server, url } = await startServer([
        '--host',
        home1.gateway,
        '--ping-interval',
        '1',
        '--ping-timeout',
        '1',
        '--resume-grace',
        '60',
      ]);
      const pageUrl = `${url.replace(/^ws:/, 'http:')}/`;
      const a = await (await browserIn(home1)).newPage();
      const b = await (await browserIn(home2)).newPage();
      for (const p of [a, b]) p.on('pageerror', (e) => console.error('page error:', e.message));
      await a.goto(pageUrl);
      await b.goto(pageUrl);
      await expect.poll(() => a.inputValue('#my-key'), { timeout: 15_000 }).toMatch(/^[0-9a-f-]{36}$/);
      const keyA = await a.inputValue('#my-key');
      await expect.poll(() => b.inputValue('#my-key'), { timeout: 15_000 }).toMatch(/^[0-9a-f-]{36}$/);
      await b.fill('#peer-key', keyA);
      await b.click('#connect');
      await expect.poll(() => a.getAttribute('#status', 'data-state'), { timeout: 20_000 }).toBe('open');
      await expect.poll(() => b.getAttribute('#status', 'data-state'), { timeout: 20_000 }).toBe('open');
      await say(b, 'before the outage');
      await expect.poll(() => logText(a), { timeout: 10_000 }).toContain('peer: before the outage');

      const offersBefore = server.count(/^Relaying offer from /);
      await home1.cut(12_000, { renumber: true });
      await expect.poll(() => logText(a), { timeout: 30_000 }).toContain('signaling resumed');
      for (const p of [a, b]) {
        await expect.poll(() => logText(p), { timeout: 30_000 }).toContain('direct connection lost; restarting ICE…');
        await expect.poll(() => logText(p), { timeout: 30_000 }).toContain('direct connection restored');
      }
      await say(a, 'after the outage');
      await expect.poll(() => logText(b), { timeout: 10_000 }).toContain('peer: after the outage');
      await say(b, 'heard you');
      await expect.poll(() => logText(a), { timeout: 10_000 }).toContain('peer: heard you');
      for (const p of [a, b]) {
        const text = await logText(p);
        expect(text.split('direct connection open').length - 1, 'the channel opened once').toBe(1);
        expect(text).not.toMatch(/ left \(/);
      }
      expect(await a.inputValue('#my-key')).toBe(keyA);
      // the restart went over signaling: ICE-restart offers were relayed after the outage began
      expect(server.count(/^Relaying offer from /)).toBeGreaterThan(offersBefore);
      expect(server.count(/^Relaying answer from /)).toBeGreaterThanOrEqual(2);
    }, 120_000);
  },
);
