// The HTML report in real Chromium (Debian's, via playwright-core): a run with a failing case, a
// skipped one and passing ones renders a table per stage, coloured verdicts, and the frames seen
// for the failure. A screenshot goes to test-artifacts/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { runSuite, type Dialer } from '../src/suite.js';
import { memoryTarget } from '../src/memory.js';
import { htmlReport, jsonReport } from '../src/report.js';

const CHROMIUM = process.env['TANDEM_CHROMIUM'] ?? '/usr/bin/chromium';
const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

describe('conformance reports', () => {
  it('the HTML report opens in Chromium: tables per stage, coloured verdicts, frames for a failure', async () => {
    const timing = { pingIntervalMs: 300, pingTimeoutMs: 300, tickMs: 25 };
    const target = memoryTarget({ settings: { ...timing, advertiseExtensions: false } });
    // a server that words one error wrongly: its case fails and shows the frames
    const dial: Dialer = (handlers) =>
      target.dial({
        ...handlers,
        message: (d, binary) => handlers.message(d.replace('Target client not found', 'No such client'), binary),
      });
    const t0 = Date.now();
    const results = [
      ...(await runSuite({ dial, pingIntervalMs: 300, pingTimeoutMs: 300, toleranceMs: 700, filter: 'stage2.' })),
      ...(await runSuite({ dial, pingIntervalMs: 300, pingTimeoutMs: 300, toleranceMs: 700, filter: 'ext.resume' })),
    ];
    target.close();
    const info = {
      url: '(in process)',
      startedAt: new Date(t0).toISOString(),
      durationMs: Date.now() - t0,
      server: { version: 1, capabilities: [] },
    };
    expect(results.some((r) => r.status === 'fail')).toBe(true);
    const json = JSON.parse(jsonReport(results, info)) as { summary: string; results: unknown[] };
    expect(json.summary).toMatch(/^\d+ passed, [1-9]\d* failed, 1 skipped$/);
    mkdirSync(artifacts, { recursive: true });
    const file = `${artifacts}conformance-report.html`;
    writeFileSync(file, htmlReport(results, info));
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(`file://${file}`);
    expect(await page.locator('h2').allTextContents()).toEqual(['stage2', 'ext']);
    expect(await page.locator('tr.case').count()).toBe(results.length);
    const colour = (verdict: string) =>
      page
        .locator(`tr.case[data-verdict="${verdict}"] td.verdict`)
        .first()
        .evaluate(
          (el) =>
            (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(
              el,
            ).backgroundColor,
        );
    expect(await colour('fail')).toBe('rgb(197, 48, 48)');
    expect(await colour('pass')).toBe('rgb(47, 143, 78)');
    expect(await colour('skip')).toBe('rgb(113, 128, 150)');
    const failing = page.locator('tr.case[data-verdict="fail"]').first();
    await failing.locator('summary').click();
    expect(await failing.locator('pre.frames').textContent()).toContain('No such client');
    await page.screenshot({ path: `${artifacts}conformance-report.png`, fullPage: true });
    await page.close();
  }, 60_000);
});
