// The page under its Content-Security-Policy with everything it does in one session, in real
// Chromium (fake camera and microphone): a code with its QR, joining by code, chat, a file, and a
// call with video both ways. The policy is stricter than default-src 'self' (default-src 'none',
// scripts from the page only, no 'unsafe-eval'), and not one securitypolicyviolation may fire.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, recordViolations, violations } from './chromium.js';
import { bundleDemo } from '../src/demo/bundle.js';
import { killAll, startServer } from './procs.js';

let browser: Browser;
let pageUrl: string;

beforeAll(async () => {
  await bundleDemo();
  browser = await launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
  const { url } = await startServer();
  pageUrl = `${url.replace(/^ws:/, 'http:')}/`;
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await killAll();
});

async function openPage(): Promise<{ page: Page; policy: string }> {
  const page = await browser.newPage({ viewport: { width: 760, height: 900 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await recordViolations(page);
  const response = await page.goto(pageUrl);
  await expect.poll(() => page.inputValue('#my-key'), { timeout: 15_000 }).toMatch(/^[0-9a-f-]{36}$/);
  return { page, policy: (await response!.headerValue('content-security-policy')) ?? '' };
}
const logText = (page: Page) => page.textContent('#log').then((t) => t ?? '');
const remoteFrames = (page: Page) =>
  page.evaluate(
    () => (document.getElementById('remote-video') as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames,
  );
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('the page under its Content-Security-Policy', () => {
  it('code + QR, chat, a file and a call, all in one session: no policy violation on either page', async () => {
    const { page: a, policy } = await openPage();
    const { page: b } = await openPage();
    expect(policy).toMatch(/default-src 'none'/);
    expect(policy).toMatch(/script-src 'self'(;|$)/);
    expect(policy).not.toMatch(/unsafe-eval/);

    // a code, its QR (the generator and the code crypto are chunks loaded from the page's origin)
    await a.click('#get-code');
    await expect.poll(() => a.textContent('#code'), { timeout: 10_000 }).toMatch(/^[0-9]+-[a-z]+-[a-z]+$/);
    await expect.poll(() => a.locator('#code-qr svg').count(), { timeout: 10_000 }).toBe(1);
    await b.fill('#peer-key', (await a.textContent('#code'))!);
    await b.click('#connect');
    for (const p of [a, b]) {
      await expect.poll(() => p.getAttribute('#status', 'data-verified'), { timeout: 20_000 }).toBe('true');
      await expect.poll(() => p.getAttribute('#status', 'data-state'), { timeout: 20_000 }).toBe('open');
    }

    // chat
    await b.fill('#message', 'chat under the policy');
    await b.click('#send');
    await expect.poll(() => logText(a), { timeout: 10_000 }).toContain('peer: chat under the policy');

    // a file (hashed in the page's worker, stored in the origin-private file system)
    const file = randomBytes(700_000);
    await expect.poll(() => b.isDisabled('#send-file'), { timeout: 10_000 }).toBe(false);
    await b.setInputFiles('#file-input', { name: 'policy.bin', mimeType: 'application/octet-stream', buffer: file });
    const received = a.locator('.transfer[data-direction="receive"]').first();
    await expect.poll(() => received.locator('button.accept').isVisible(), { timeout: 15_000 }).toBe(true);
    await received.locator('button.accept').click();
    await expect.poll(() => received.getAttribute('data-state'), { timeout: 30_000 }).toBe('done');
    expect(await received.locator('.sha256').textContent()).toBe(`sha256 ${sha(file)}`);

    // a call, video both ways
    await expect.poll(() => a.isEnabled('#call'), { timeout: 10_000 }).toBe(true);
    await a.click('#call');
    await expect.poll(() => b.isVisible('#answer'), { timeout: 15_000 }).toBe(true);
    await b.click('#answer');
    for (const p of [a, b]) await expect.poll(() => remoteFrames(p), { timeout: 20_000 }).toBeGreaterThan(10);
    await a.click('#call'); // Hang up
    await expect.poll(() => a.textContent('#call'), { timeout: 10_000 }).toBe('Call');

    for (const p of [a, b]) expect(await violations(p)).toEqual([]);
    await a.close();
    await b.close();
  }, 120_000);
});
