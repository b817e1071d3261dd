// Pairing by code on the demo page in real Chromium: "Get a code" shows the code in large type, a
// link with it in the fragment and a QR code of that link (decoded here from a screenshot); a page
// that types the code, or opens the link, joins and both say "verified" before anything flows; a
// wrong code fails on both pages with a warning, nothing is delivered, and the code burns. The page
// runs under its server's Content-Security-Policy with no violation.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, recordViolations, violations } from './chromium.js';
import jsqrModule from 'jsqr';
import { PNG } from 'pngjs';
import { bundleDemo } from '../src/demo/bundle.js';
import { killAll, startClient, startServer } from './procs.js';

const artifacts = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
let browser: Browser;
let pageUrl: string;
let wsUrl: string;

beforeAll(async () => {
  await bundleDemo();
  browser = await launchChromium();
  const { url } = await startServer();
  wsUrl = url;
  pageUrl = `${url.replace(/^ws:/, 'http:')}/`;
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await killAll();
});

async function openPage(url = pageUrl): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 760, height: 900 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await recordViolations(page);
  await page.goto(url);
  await expect.poll(() => page.inputValue('#my-key'), { timeout: 15_000 }).toMatch(/^[0-9a-f-]{36}$/);
  return page;
}
const logText = (page: Page) => page.textContent('#log').then((t) => t ?? '');
const say = async (page: Page, text: string) => {
  await page.fill('#message', text);
  await page.click('#send');
};
async function getCode(page: Page): Promise<{ code: string; link: string }> {
  await page.click('#get-code');
  await expect.poll(() => page.isVisible('#code'), { timeout: 10_000 }).toBe(true);
  await expect.poll(() => page.textContent('#code')).toMatch(/^[0-9]+-[a-z]+-[a-z]+$/);
  return { code: (await page.textContent('#code'))!, link: (await page.getAttribute('#code-link', 'href'))! };
}
// jsqr is CommonJS with an ES-style default export: under Node's interop the function is `.default`
const jsQR = ((jsqrModule as unknown as { default?: unknown }).default ?? jsqrModule) as unknown as (
  data: Uint8ClampedArray,
  width: number,
  height: number,
) => { data: string } | null;
/** The QR code on the page, read back from a screenshot of it. */
async function qrOf(page: Page): Promise<string | null> {
  await expect.poll(() => page.locator('#code-qr svg').count(), { timeout: 10_000 }).toBe(1);
  const png = PNG.sync.read(await page.locator('#code-qr').screenshot());
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data ?? null;
}

describe('demo page in Chromium: pairing by code', () => {
  it('get a code: large type, a link, a QR of the link; typing the code joins, both verified before chat', async () => {
    const a = await openPage();
    const b = await openPage();
    const { code, link } = await getCode(a);
    expect(link).toBe(`${pageUrl}#code=${code}`);
    expect(await qrOf(a)).toBe(link);
    mkdirSync(artifacts, { recursive: true });
    await a.screenshot({ path: `${artifacts}browser-code.png` });
    await b.fill('#peer-key', code);
    await b.click('#connect');
    for (const p of [a, b]) {
      await expect.poll(() => p.getAttribute('#status', 'data-verified'), { timeout: 20_000 }).toBe('true');
      await expect.poll(() => p.getAttribute('#status', 'data-state'), { timeout: 20_000 }).toBe('open');
      expect(await p.isVisible('#verified')).toBe(true);
      expect(await p.isVisible('#safety'), 'a verified call shows no safety code').toBe(false);
      expect(await logText(p)).toContain('verified ✓');
    }
    await b.screenshot({ path: `${artifacts}browser-code-verified.png` });
    await say(b, 'hello by code');
    await expect.poll(() => logText(a), { timeout: 10_000 }).toContain('peer: hello by code');
    // used: the code box is gone
    await expect.poll(() => a.isVisible('#code-box')).toBe(false);
    for (const p of [a, b]) expect(await violations(p)).toEqual([]);
    await a.close();
    await b.close();
  }, 60_000);

  it('opening the link joins the code; a wrong code fails on both pages with a warning and burns it', async () => {
    const a = await openPage();
    const { code, link } = await getCode(a);
    const c = await openPage(link);
    expect(c.url()).not.toContain('#code='); // taken out of the address bar
    for (const p of [a, c])
      await expect.poll(() => p.getAttribute('#status', 'data-verified'), { timeout: 20_000 }).toBe('true');
    await c.close();
    await expect.poll(() => logText(a), { timeout: 20_000 }).toMatch(/left/);

    // a second code, and someone guessing it wrong
    const second = await getCode(a);
    expect(second.code).not.toBe(code);
    const [nameplate, first] = second.code.split('-');
    const wrong = `${nameplate}-${first === 'abandon' ? 'ability' : 'abandon'}-zoo`;
    const guesser = await openPage();
    await guesser.fill('#peer-key', wrong);
    await guesser.click('#connect');
    for (const p of [a, guesser]) {
      await expect.poll(() => p.textContent('#error'), { timeout: 20_000 }).toContain('Verification failed');
      expect(await p.getAttribute('#status', 'data-verified')).toBe('false');
      expect(await logText(p)).not.toContain('peer:');
    }
    await expect.poll(() => logText(a), { timeout: 20_000 }).toContain('someone tried your code');
    await guesser.screenshot({ path: `${artifacts}browser-code-failed.png` });
    // the right code, too late
    const late = await openPage();
    await late.fill('#peer-key', second.code);
    await late.click('#connect');
    await expect
      .poll(() => late.textContent('#error'), { timeout: 10_000 })
      .toMatch(/That code did not work: Nameplate burnt/);
    for (const p of [a, guesser, late]) expect(await violations(p)).toEqual([]);
  }, 90_000);

  it('a page and a tandem-client (werift) pair by code either way: the two stacks tell their certificates differently, and still verify', async () => {
    // the page makes the code, the Node client joins it
    const page = await openPage();
    const { code } = await getCode(page);
    const node = await startClient(wsUrl, ['--join', code]);
    await node.client.waitFor(/^\*\*\* Verified peer \*\*\*$/, 30_000);
    await expect.poll(() => page.getAttribute('#status', 'data-verified'), { timeout: 20_000 }).toBe('true');
    node.client.write('from werift, verified');
    await expect.poll(() => logText(page), { timeout: 10_000 }).toContain('peer: from werift, verified');
    await node.client.kill();
    await page.close();
    // the Node client makes the code, the page joins it
    const owner = await startClient(wsUrl, ['--code']);
    const nodeCode = (await owner.client.waitFor(/^\*\*\* Your code: (\S+) \*\*\*$/))[1]!;
    const joiner = await openPage();
    await joiner.fill('#peer-key', nodeCode);
    await joiner.click('#connect');
    await owner.client.waitFor(/^\*\*\* Verified peer \*\*\*$/, 30_000);
    await expect.poll(() => joiner.getAttribute('#status', 'data-verified'), { timeout: 20_000 }).toBe('true');
    await say(joiner, 'from chromium, verified');
    await owner.client.waitFor(/^< Peer: from chromium, verified$/);
    await owner.client.kill();
    await joiner.close();
  }, 90_000);
});
