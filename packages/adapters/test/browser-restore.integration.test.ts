// A call outlives its signaling server, on the demo page in real Chromium: two pages chat through a
// tandem-server that is killed with -9 and started again on its port. The pages keep chatting while
// it is down, the status line says signaling is being restored (never that the peer left), each
// page then shows its new key, the server pairs the two again, and leaving afterwards is announced
// to the other page through that pairing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { bundleDemo } from '../src/demo/bundle.js';
import { killAll, start, startServer } from './procs.js';

let browser: Browser;

beforeAll(async () => {
  await bundleDemo();
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await killAll();
});

const KEY = /^[0-9a-f-]{36}$/;
const logText = (page: Page) => page.textContent('#log').then((t) => t ?? '');
const state = (page: Page) => page.getAttribute('#status', 'data-state');
const say = async (page: Page, text: string) => {
  await page.fill('#message', text);
  await page.click('#send');
};

async function openPage(url: string): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  // every value the status line's data-restoring takes, in order
  await page.addInitScript(() => {
    const w = window as unknown as { restoring: string[] };
    w.restoring = [];
    document.addEventListener('DOMContentLoaded', () => {
      const el = document.getElementById('status')!;
      const push = () => w.restoring.at(-1) !== el.dataset['restoring'] && w.restoring.push(el.dataset['restoring']!);
      push();
      new MutationObserver(push).observe(el, { attributes: true, attributeFilter: ['data-restoring'] });
    });
  });
  await page.goto(url);
  await expect.poll(() => page.inputValue('#my-key'), { timeout: 15_000 }).toMatch(KEY);
  return page;
}
const restoringSeen = (page: Page) => page.evaluate(() => (window as unknown as { restoring: string[] }).restoring);

describe('demo page in Chromium: a call outlives its server', () => {
  it('kill -9 and restart of the server: two pages keep chatting, are paired again under new keys, and leaving is announced', async () => {
    const first = await startServer(['--ping-interval', '2', '--ping-timeout', '2']);
    const port = new URL(first.url).port;
    const pageUrl = `${first.url.replace(/^ws:/, 'http:')}/`;
    const a = await openPage(pageUrl);
    const b = await openPage(pageUrl);
    const keyA = await a.inputValue('#my-key');
    const keyB = await b.inputValue('#my-key');
    await b.fill('#peer-key', keyA);
    await b.click('#connect');
    for (const p of [a, b]) await expect.poll(() => state(p), { timeout: 20_000 }).toBe('open');
    // both are tandem pages: the files button comes on once the peer has said hello over the call
    for (const p of [a, b]) await expect.poll(() => p.isDisabled('#send-file'), { timeout: 10_000 }).toBe(false);
    await say(a, 'before the crash');
    await expect.poll(() => logText(b), { timeout: 10_000 }).toContain('peer: before the crash');

    await first.server.kill('SIGKILL');
    await say(a, 'while the server is down');
    await expect.poll(() => logText(b), { timeout: 10_000 }).toContain('peer: while the server is down');
    await say(b, 'and back while it is down');
    await expect.poll(() => logText(a), { timeout: 10_000 }).toContain('peer: and back while it is down');

    const second = start('tandem-server', ['--port', port, '--ping-interval', '2', '--ping-timeout', '2']);
    await second.waitFor(/Listening on /);
    for (const p of [a, b]) {
      await expect.poll(() => logText(p), { timeout: 30_000 }).toMatch(/signaling restored \(new key [0-9a-f-]{36}\)/);
      await expect.poll(() => state(p), { timeout: 10_000 }).toBe('open');
    }
    const newA = await a.inputValue('#my-key');
    const newB = await b.inputValue('#my-key');
    expect(newA).toMatch(KEY);
    expect(newA).not.toBe(keyA);
    expect(newB).not.toBe(keyB);
    expect(await logText(a)).toContain(`signaling restored (new key ${newA})`);
    await second.waitFor(/^Paired /);
    await say(b, 'after the restart');
    await expect.poll(() => logText(a), { timeout: 10_000 }).toContain('peer: after the restart');
    for (const p of [a, b]) {
      const text = await logText(p);
      expect(text).not.toMatch(/ left \(|you left/);
      // the status line said so while it lasted, and stopped saying so after
      expect(await restoringSeen(p)).toEqual(['false', 'true', 'false']);
      expect(await p.getAttribute('#status', 'data-restoring')).toBe('false');
    }
    for (const line of ['before the crash', 'while the server is down', 'after the restart'])
      expect(second.lines.some((l) => l.includes(line))).toBe(false);

    // B leaves: A is told through the restored pairing, under B's new key
    await b.click('#leave');
    await expect.poll(() => logText(a), { timeout: 20_000 }).toContain(`${newB} left`);
    await a.close();
    await b.close();
  }, 120_000);
});
