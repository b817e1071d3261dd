// ICE restart with the demo page in real Chromium, one browser in each of two network namespaces
// (needs root; skipped with the reason otherwise). Page A's home link goes down for 12 s and
// comes back with a new address (another network): its signaling drops and its ICE path is gone
// for good, so only an ICE restart can find a new one. Both pages restart ICE (perfect
// negotiation settles the glare; A's offer waits in its resume buffer while its signaling is
// down), A resumes its signaling, ICE finds the new path, and the same data channel carries
// messages both ways.
import { createHash, randomBytes } from 'node:crypto';
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

      // a file in flight from B to A when A's network goes: it carries on through the ICE restart
      const file = randomBytes(160 * 1024 * 1024);
      const path = join(mkdtempSync(join(tmpdir(), 'tandem-ns-file-')), 'through the outage.bin');
      writeFileSync(path, file);
      await expect.poll(() => b.isDisabled('#send-file'), { timeout: 10_000 }).toBe(false);
      await b.setInputFiles('#file-input', path);
      const incoming = a.locator('.transfer[data-direction="receive"]');
      await incoming.locator('button.accept').click({ timeout: 20_000 });
      await expect
        .poll(() => incoming.locator('progress').evaluate((p: HTMLProgressElement) => p.value), { timeout: 20_000 })
        .toBeGreaterThan(0);

      const offersBefore = server.count(/^Relaying offer from /);
      const cut = home1.cut(12_000, { renumber: true });
      const atCut = await incoming.locator('progress').evaluate((p: HTMLProgressElement) => [p.value, p.max]);
      expect(atCut[0], 'the file was still in flight when the network went').toBeLessThan(atCut[1]!);
      await cut;
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
      // the file arrived whole over the restarted path, checked by its hash
      await expect.poll(() => incoming.getAttribute('data-state'), { timeout: 60_000 }).toBe('done');
      expect(await incoming.locator('.sha256').textContent()).toBe(
        `sha256 ${createHash('sha256').update(file).digest('hex')}`,
      );
      // the restart went over signaling: ICE-restart offers were relayed after the outage began
      expect(server.count(/^Relaying offer from /)).toBeGreaterThan(offersBefore);
      expect(server.count(/^Relaying answer from /)).toBeGreaterThanOrEqual(2);
    }, 120_000);
  },
);
