// The demo page in real Chromium (Debian's, driven by playwright-core): two pages chat through
// tandem-server, one leaves and the other pairs with a third; a page and a tandem-client (werift)
// chat in both roles. A screenshot of the connected page is saved to test-artifacts/.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { bundleDemo } from '../src/demo/bundle.js';
import { killAll, startClient, startServer } from './procs.js';
import { startTcpProxy } from './tcp-proxy.js';

const CHROMIUM = process.env['TANDEM_CHROMIUM'] ?? '/usr/bin/chromium';
const artifacts = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
let browser: Browser;
let pageUrl: string;
let wsUrl: string;
/** A TCP proxy to the server that the page may be pointed at (--demo-allow-server names it). */
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;

beforeAll(async () => {
  await bundleDemo();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
      // Left at its default on purpose: Chromium hides its host addresses behind mDNS `.local`
      // names (what users' browsers do). werift cannot resolve them; the pairing still comes up
      // because werift's plain host candidates reach Chromium and Chromium's connectivity checks
      // then show up at werift as peer-reflexive candidates. See the adapters README.
    ],
  });
  proxy = await startTcpProxy(1); // its target is set once the server listens
  const { url } = await startServer(['--ping-interval', '5', '--ping-timeout', '5', '--demo-allow-server', proxy.url]);
  proxy.retarget(Number(new URL(url).port));
  wsUrl = url;
  pageUrl = url.replace(/^ws:/, 'http:') + '/';
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await browser?.close();
  await killAll();
});

async function openPage(query = ''): Promise<Page & { key: string }> {
  const page = await browser.newPage({ viewport: { width: 760, height: 640 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  // record every state the status line shows, in order
  await page.addInitScript(() => {
    const w = window as unknown as { states: string[]; violations: string[] };
    w.states = [];
    // the page runs under its server's Content-Security-Policy: nothing may be blocked
    w.violations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      w.violations.push(`${e.violatedDirective}: ${e.blockedURI}`),
    );
    document.addEventListener('DOMContentLoaded', () => {
      const el = document.getElementById('status')!;
      const push = () => w.states.at(-1) !== el.dataset['state'] && w.states.push(el.dataset['state']!);
      push();
      new MutationObserver(push).observe(el, { attributes: true, attributeFilter: ['data-state'] });
    });
  });
  await page.goto(pageUrl + query);
  await expect.poll(() => page.inputValue('#my-key'), { timeout: 10_000 }).toMatch(/^[0-9a-f-]{36}$/);
  return Object.assign(page, { key: await page.inputValue('#my-key') });
}
const violations = (page: Page) => page.evaluate(() => (window as unknown as { violations: string[] }).violations);
const states = (page: Page) => page.evaluate(() => (window as unknown as { states: string[] }).states);
const state = (page: Page) => page.getAttribute('#status', 'data-state');
const waitState = (page: Page, s: string) => expect.poll(() => state(page), { timeout: 15_000 }).toBe(s);
const logText = (page: Page) => page.textContent('#log').then((t) => t ?? '');
const say = async (page: Page, text: string) => {
  await page.fill('#message', text);
  await page.click('#send');
};

describe('demo page in Chromium', () => {
  it('serves the page and its bundle from tandem-server', async () => {
    const html = await fetch(pageUrl);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    expect(await html.text()).toContain('<script type="module" src="./app.js">');
    const js = await fetch(`${pageUrl}app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${pageUrl}nope`)).status).toBe(404);
  });

  it('two pages pair and chat both ways; one leaves, the other pairs again with a third', async () => {
    const a = await openPage();
    const b = await openPage();
    expect(await state(a)).toBe('waiting');
    expect(a.key).not.toBe(b.key);

    // plain-words errors
    await b.fill('#peer-key', b.key);
    await b.click('#connect');
    await expect.poll(() => b.textContent('#error')).toContain('your own key');
    await b.fill('#peer-key', '00000000-0000-4000-8000-000000000000');
    await b.click('#connect');
    await expect.poll(() => b.textContent('#error')).toContain('No one is online with that key');

    await b.fill('#peer-key', a.key);
    await b.click('#connect');
    await waitState(a, 'open');
    await waitState(b, 'open');
    expect(await b.textContent('#error')).toBe('');
    await say(b, 'hello from B');
    await expect.poll(() => logText(a)).toContain('peer: hello from B');
    await say(a, 'hi B, this is A');
    await expect.poll(() => logText(b)).toContain('peer: hi B, this is A');
    // both pages show the call's safety code, the same on both (Chromium's own DTLS fingerprints)
    for (const p of [a, b]) await expect.poll(() => p.isVisible('#safety-code'), { timeout: 10_000 }).toBe(true);
    const codeA = await a.textContent('#safety-code');
    expect(codeA).toMatch(/^\d{4} \d{4}$/);
    expect(await b.textContent('#safety-code')).toBe(codeA);

    mkdirSync(artifacts, { recursive: true });
    await a.screenshot({ path: `${artifacts}browser-connected.png` });

    // the status line moved through every step, in order
    expect(await states(b)).toEqual([
      'connecting',
      'waiting',
      'requesting',
      'waiting',
      'requesting',
      'waiting',
      'requesting',
      'negotiating',
      'open',
    ]);
    expect(await states(a)).toEqual(['connecting', 'waiting', 'negotiating', 'open']);
    // decoding, pairing and chat under default-src 'none'; script-src 'self': nothing blocked
    expect(await violations(a)).toEqual([]);
    expect(await violations(b)).toEqual([]);

    await b.close();
    await waitState(a, 'peer-left');
    expect(await logText(a)).toContain(`${b.key} left`);

    const c = await openPage();
    await c.fill('#peer-key', a.key);
    await c.click('#connect');
    await waitState(a, 'open');
    await waitState(c, 'open');
    expect(await states(a)).toEqual([
      'connecting',
      'waiting',
      'negotiating',
      'open',
      'peer-left',
      'negotiating',
      'open',
    ]);
    await say(c, 'C here');
    await expect.poll(() => logText(a)).toContain('peer: C here');
    await say(a, 'welcome C');
    await expect.poll(() => logText(c)).toContain('peer: welcome C');
    await a.close();
    await c.close();
  }, 90_000);

  it('a Chromium page and a tandem-client (werift) chat, with either one offering', async () => {
    // the page offers: it connects to the Node client's key
    const page = await openPage();
    const node = await startClient(wsUrl);
    await page.fill('#peer-key', node.id);
    await page.click('#connect');
    await node.client.waitFor(/\(initiator=false\)/);
    await waitState(page, 'open');
    await node.client.waitFor(/Data channel opened/);
    await say(page, 'from chromium');
    await node.client.waitFor(/^< Peer: from chromium$/);
    node.client.write('from werift');
    await expect.poll(() => logText(page), { timeout: 10_000 }).toContain('peer: from werift'); // werift → Chromium takes about 1 s here (measured), so not the 1 s default
    // the two stacks tell their certificates differently (SDP there, DTLS transports here): same code
    const nodeCode = (await node.client.waitFor(/^\*\*\* Safety code: (\d{4} \d{4}) \*\*\*$/))[1];
    await expect.poll(() => page.textContent('#safety-code'), { timeout: 10_000 }).toBe(nodeCode);
    await page.close();
    await node.client.waitFor(/Ready for new connection/);

    // werift offers: the Node client connects to a fresh page's key
    const page2 = await openPage();
    node.client.write(page2.key);
    await node.client.waitFor(/\(initiator=true\)/);
    await waitState(page2, 'open');
    await node.client.waitFor(/Data channel opened/);
    node.client.write('werift offered');
    await expect.poll(() => logText(page2), { timeout: 10_000 }).toContain('peer: werift offered');
    await say(page2, 'chromium answered');
    await node.client.waitFor(/^< Peer: chromium answered$/);
    await expect.poll(() => node.client.count(/^\*\*\* Safety code: /)).toBe(2);
    const nodeCode2 = /(\d{4} \d{4})/.exec(
      node.client.lines.filter((l) => l.startsWith('*** Safety code: ')).at(-1)!,
    )![1];
    await expect.poll(() => page2.textContent('#safety-code'), { timeout: 10_000 }).toBe(nodeCode2);
    await page2.close();
  }, 90_000);

  it('keeps chatting through a 3 s reset of its signaling link, says so, and keeps its key', async () => {
    const page = await openPage(`?server=${encodeURIComponent(`${proxy.url}/`)}`);
    const node = await startClient(wsUrl);
    node.client.write(page.key);
    await waitState(page, 'open');
    await node.client.waitFor(/Data channel opened/);
    const reset = proxy.reset(3_000);
    await expect.poll(() => logText(page), { timeout: 10_000 }).toContain('signaling link lost; resuming…');
    await say(page, 'during the reset'); // the data channel does not need the server
    await node.client.waitFor(/^< Peer: during the reset$/);
    await reset;
    await expect.poll(() => logText(page), { timeout: 15_000 }).toContain('signaling resumed');
    expect(await logText(page)).not.toMatch(/ left \(/);
    expect(await page.inputValue('#my-key')).toBe(page.key);
    expect(node.client.count(/disconnected/)).toBe(0);
    node.client.write('after the reset');
    await expect.poll(() => logText(page), { timeout: 10_000 }).toContain('peer: after the reset');
    await page.close();
    await node.client.waitFor(/Ready for new connection/);
  }, 60_000);

  it('while the server is away: one plain status said once, no Copy of a key nobody can reach; the key back after', async () => {
    const page = await openPage(`?server=${encodeURIComponent(`${proxy.url}/`)}`);
    await waitState(page, 'waiting');
    expect(await page.isEnabled('#copy')).toBe(true);
    const reset = proxy.reset(4_000);
    await waitState(page, 'reconnecting');
    expect(await page.isDisabled('#copy')).toBe(true);
    expect(await page.getAttribute('#my-key', 'data-stale')).toBe('true');
    expect(await page.isHidden('#share-link')).toBe(true);
    // plain words, one sentence: no jargon, nothing said twice
    const said = (await page.textContent('#status')) ?? '';
    expect(said).toMatch(/^can’t reach the server — trying again/);
    expect(said).not.toMatch(/·|signaling|resum/);
    await reset;
    await waitState(page, 'waiting');
    expect(await page.inputValue('#my-key')).toBe(page.key); // resumed: the same key
    expect(await page.isEnabled('#copy')).toBe(true);
    // the outage was one state: its retries did not flap the status between connecting and reconnecting
    expect((await states(page)).slice(1)).toEqual(['waiting', 'reconnecting', 'waiting']);
    expect(await violations(page)).toEqual([]);
    await page.close();
  }, 60_000);

  it('a share link (#pair=<key>, in the fragment) pairs on open; a long unbroken message wraps', async () => {
    const a = await openPage();
    const link = await a.getAttribute('#share-link', 'href');
    expect(link).toBe(`${pageUrl}#pair=${a.key}`);
    const b = await browser.newPage({ viewport: { width: 760, height: 640 } });
    await b.goto(link!);
    await waitState(a, 'open');
    await waitState(b, 'open');
    expect(b.url()).not.toContain('#pair='); // taken out of the address bar
    await say(b, 'x'.repeat(2_000));
    await expect.poll(() => logText(a), { timeout: 10_000 }).toContain('x'.repeat(100));
    const overflow = await a.evaluate(() => {
      const el = document.getElementById('log')!;
      return el.scrollWidth - el.clientWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    // Leave ends the pairing on both sides; both keep their keys
    expect(await a.isDisabled('#leave')).toBe(false);
    await a.click('#leave');
    await expect.poll(() => logText(a), { timeout: 10_000 }).toContain('you left');
    await waitState(b, 'peer-left');
    expect(await a.isDisabled('#leave')).toBe(true);
    expect(await a.inputValue('#my-key')).toBe(a.key);
    await a.close();
    await b.close();
  }, 60_000);

  it('sends a policy (no framing, no referrer, signaling only to itself and the allowed servers)', async () => {
    const res = await fetch(pageUrl);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain(`connect-src 'self' ${proxy.url}`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';"); // no 'unsafe-eval': the validators are generated at build time
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('?server= may not point the page at a server the operator did not allow: it says so and uses its own', async () => {
    const other = await startServer(['--no-demo']);
    const page = await openPage(`?server=${encodeURIComponent(`${other.url}/`)}`);
    await expect.poll(() => page.textContent('#error'), { timeout: 5_000 }).toContain('may not use the server');
    await page.waitForTimeout(500);
    expect(other.server.count(/Client \S+ connected/)).toBe(0);
    await page.close();
  });

  it('#token= reaches a server that requires a token, and leaves the address bar', async () => {
    const { SignJWT } = await import('jose');
    const secret = 'a-page-secret-of-at-least-32-bytes-long';
    const dir = mkdtempSync(join(tmpdir(), 'tandem-page-auth-'));
    writeFileSync(join(dir, 'secret'), secret);
    const authed = await startServer(['--auth-jwt-secret-file', join(dir, 'secret')]);
    const token = await new SignJWT({ sub: 'page-user' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('10m')
      .sign(Buffer.from(secret));
    const page = await browser.newPage();
    await page.goto(`${authed.url.replace(/^ws:/, 'http:')}/#token=${token}`);
    await expect.poll(() => page.inputValue('#my-key'), { timeout: 10_000 }).toMatch(/^[0-9a-f-]{36}$/);
    expect(page.url()).not.toContain('token');
    await authed.server.waitFor(/Client page-user#\w{8} connected/);
    expect(authed.server.lines.filter((l) => l.includes(token.split('.')[2]!))).toEqual([]);
    await page.close();
  });
});
