// Files on the demo page in real Chromium (Debian's, driven by playwright-core), through a real
// tandem-server: a page sends to another page (picked, and dropped on the page), to a
// tandem-client (werift) and receives from one; each received file is checked by its SHA-256
// against the bytes sent. Everything runs under the server's Content-Security-Policy with no
// violation. A screenshot of both pages is saved to test-artifacts/.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, recordViolations, violations } from './chromium.js';
import { bundleDemo } from '../src/demo/bundle.js';
import { killAll, startClient, startServer } from './procs.js';

const artifacts = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const temp = (tag: string) => mkdtempSync(join(tmpdir(), `tandem-page-files-${tag}-`));
let browser: Browser;
let pageUrl: string;
let wsUrl: string;

beforeAll(async () => {
  await bundleDemo();
  browser = await launchChromium();
  const { url } = await startServer();
  wsUrl = url;
  pageUrl = url.replace(/^ws:/, 'http:') + '/';
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await killAll();
});

async function openPage(): Promise<Page & { key: string }> {
  const page = await browser.newPage({ viewport: { width: 760, height: 820 }, acceptDownloads: true });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await recordViolations(page);
  await page.goto(pageUrl);
  await expect.poll(() => page.inputValue('#my-key'), { timeout: 10_000 }).toMatch(/^[0-9a-f-]{36}$/);
  return Object.assign(page, { key: await page.inputValue('#my-key') });
}
const waitState = (page: Page, s: string) =>
  expect.poll(() => page.getAttribute('#status', 'data-state'), { timeout: 20_000 }).toBe(s);
const row = (page: Page, direction: 'send' | 'receive', n = 0) =>
  page.locator(`.transfer[data-direction="${direction}"]`).nth(n);
/** The SHA-256 of the file a finished row's download link saves (clicked as a user would). */
const downloadedSha = async (page: Page, direction: 'receive', n = 0) => {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    row(page, direction, n).locator('a.download').click(),
  ]);
  return sha(readFileSync((await download.path())!));
};

async function pairPages() {
  const a = await openPage();
  const b = await openPage();
  await b.fill('#peer-key', a.key);
  await b.click('#connect');
  await waitState(a, 'open');
  await waitState(b, 'open');
  await expect.poll(() => b.isDisabled('#send-file'), { timeout: 10_000 }).toBe(false);
  await expect.poll(() => a.isDisabled('#send-file'), { timeout: 10_000 }).toBe(false);
  return { a, b };
}

describe('files on the demo page in Chromium', () => {
  it('a page sends a picked file and a dropped one to another page: accept, progress, SHA-256, download', async () => {
    const { a, b } = await pairPages();
    const picked = randomBytes(6 * 1024 * 1024 + 3);
    await b.setInputFiles('#file-input', { name: 'report.pdf', mimeType: 'application/pdf', buffer: picked });
    await expect(row(a, 'receive').locator('button.accept')).toBeVisibleSoon();
    await row(a, 'receive').locator('button.accept').click();
    await expect.poll(() => row(a, 'receive').getAttribute('data-state'), { timeout: 60_000 }).toBe('done');
    await expect.poll(() => row(b, 'send').getAttribute('data-state'), { timeout: 20_000 }).toBe('done');
    expect(await row(a, 'receive').locator('.sha256').textContent()).toBe(`sha256 ${sha(picked)}`);
    expect(await row(b, 'send').locator('.sha256').textContent()).toBe(`sha256 ${sha(picked)}`);
    expect(await downloadedSha(a, 'receive')).toBe(sha(picked));
    expect(await row(a, 'receive').locator('a.download').getAttribute('download')).toBe('report.pdf');
    // the part went to disk from the file worker (a sync access handle), not from the page
    expect(await a.evaluate(() => (globalThis as { tandemFiles?: { writer: string } }).tandemFiles?.writer)).toBe(
      'worker',
    );
    // and it was checked as written: read back in the worker and hashed by WebCrypto
    expect(await a.evaluate(() => (globalThis as { tandemFiles?: { hashing: string } }).tandemFiles?.hashing)).toBe(
      'read-back',
    );
    // chat is not held up by files
    await b.fill('#message', 'after the file');
    await b.click('#send');
    await expect.poll(() => a.textContent('#log')).toContain('peer: after the file');

    // drop a file onto A's page; B declines it, then A drops it again and B accepts
    const dropped = randomBytes(300_000);
    const drop = (page: Page) =>
      page.evaluate(async (bytes: number[]) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], 'dropped.bin', { type: 'application/octet-stream' }));
        for (const type of ['dragenter', 'dragover', 'drop'])
          document.body.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
      }, Array.from(dropped));
    await drop(a);
    await row(b, 'receive').locator('button.decline').click();
    await expect.poll(() => row(a, 'send', 0).getAttribute('data-state'), { timeout: 10_000 }).toBe('failed');
    expect(await row(a, 'send', 0).locator('.detail').textContent()).toBe('declined: declined by the user');
    await drop(a);
    await row(b, 'receive', 1).locator('button.accept').click();
    await expect.poll(() => row(b, 'receive', 1).getAttribute('data-state'), { timeout: 30_000 }).toBe('done');
    expect(await downloadedSha(b, 'receive', 1)).toBe(sha(dropped));

    mkdirSync(artifacts, { recursive: true });
    await a.screenshot({ path: `${artifacts}browser-files-receiver.png` });
    await b.screenshot({ path: `${artifacts}browser-files-sender.png` });
    expect(await violations(a)).toEqual([]);
    expect(await violations(b)).toEqual([]);
    await a.close();
    await b.close();
  }, 120_000);

  it('a transfer cut by Leave resumes from the part on disk when the same file is sent again', async () => {
    const { a, b } = await pairPages();
    const file = randomBytes(24 * 1024 * 1024);
    const path = join(temp('resume'), 'big.bin');
    writeFileSync(path, file);
    await b.setInputFiles('#file-input', path);
    await row(a, 'receive').locator('button.accept').click();
    const written = () =>
      row(a, 'receive')
        .locator('progress.bar')
        .evaluate((p) => (p as HTMLProgressElement).value);
    await expect.poll(written, { timeout: 60_000 }).toBeGreaterThan(2 * 1024 * 1024);
    await b.click('#leave');
    await expect.poll(() => row(a, 'receive').getAttribute('data-state'), { timeout: 20_000 }).toBe('failed');
    const heldAtCut = await written();
    expect(heldAtCut).toBeLessThan(file.length);
    // pair again; the same file from the same page continues from what A's part holds
    await b.fill('#peer-key', a.key);
    await b.click('#connect');
    await waitState(a, 'open');
    await expect.poll(() => b.isDisabled('#send-file'), { timeout: 10_000 }).toBe(false);
    await b.setInputFiles('#file-input', path);
    await row(a, 'receive', 1).locator('button.accept').click();
    await expect.poll(() => row(a, 'receive', 1).getAttribute('data-state'), { timeout: 60_000 }).toBe('done');
    const resumedAt = Number(
      (await row(a, 'receive', 1).locator('.speed').textContent())?.match(/resumed at (\d+)/)?.[1],
    );
    expect(resumedAt).toBeGreaterThanOrEqual(heldAtCut);
    expect(resumedAt).toBeLessThan(file.length);
    expect(await downloadedSha(a, 'receive', 1)).toBe(sha(file));
    expect(await a.evaluate(() => (globalThis as { tandemFiles?: { writer: string } }).tandemFiles?.writer)).toBe(
      'worker',
    );
    // and it was checked as written: read back in the worker and hashed by WebCrypto
    expect(await a.evaluate(() => (globalThis as { tandemFiles?: { hashing: string } }).tandemFiles?.hashing)).toBe(
      'read-back',
    );
    await a.close();
    await b.close();
  }, 120_000);

  it('a page sends to a tandem-client with --download-dir, and receives from one', async () => {
    const inbox = temp('inbox');
    const outbox = temp('outbox');
    const page = await openPage();
    const { client } = await startClient(wsUrl, ['--pair', page.key, '--download-dir', inbox], {
      env: { XDG_STATE_HOME: temp('state') },
    });
    await client.waitFor(/Data channel opened/, 30_000);
    await waitState(page, 'open');
    await expect.poll(() => page.isDisabled('#send-file'), { timeout: 10_000 }).toBe(false);

    const toClient = randomBytes(2 * 1024 * 1024 + 5);
    await page.setInputFiles('#file-input', { name: 'from page.bin', mimeType: '', buffer: toClient });
    const m = await client.waitFor(/^\*\*\* Received (.+) \((\d+) bytes, sha256 ([0-9a-f]{64})\) \*\*\*$/, 60_000);
    expect(m[1]).toBe('from page.bin');
    expect(m[3]).toBe(sha(toClient));
    expect(sha(readFileSync(join(inbox, 'from page.bin')))).toBe(sha(toClient));

    const toPage = randomBytes(1024 * 1024 + 9);
    writeFileSync(join(outbox, 'from client.dat'), toPage);
    client.write(`/send ${join(outbox, 'from client.dat')}`);
    await row(page, 'receive').locator('button.accept').click({ timeout: 20_000 });
    await expect.poll(() => row(page, 'receive').getAttribute('data-state'), { timeout: 60_000 }).toBe('done');
    expect(await downloadedSha(page, 'receive')).toBe(sha(toPage));
    await client.waitFor(/^\*\*\* Sent from client\.dat \(1048585 bytes\) \*\*\*$/, 20_000);
    expect(await violations(page)).toEqual([]);
    await page.close();
  }, 120_000);
});

declare module 'vitest' {
  interface Assertion {
    toBeVisibleSoon(): Promise<void>;
  }
}
expect.extend({
  async toBeVisibleSoon(locator: ReturnType<Page['locator']>) {
    try {
      await locator.waitFor({ state: 'visible', timeout: 20_000 });
      return { pass: true, message: () => 'visible' };
    } catch (err) {
      return { pass: false, message: () => (err as Error).message };
    }
  },
});
