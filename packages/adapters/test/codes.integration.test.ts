// Pairing by code with the real binaries: tandem-client --code prints a short code, another joins
// it with --join; both say the peer is verified before any chat line; a wrong code fails on both
// sides, burns the code (its owner gets a new one) and the joiner exits non-zero; the burnt code
// is then rejected. The server never sees the code's words.
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, leaksCode, startClient, startServer } from './procs.js';

afterAll(killAll);

const CODE = /^\*\*\* Your code: ([0-9]+-[a-z]+-[a-z]+) \*\*\*$/;

describe('tandem-client --code and --join', () => {
  it('joins by code, verified before chat; the server never sees the words', async () => {
    const { server, url } = await startServer();
    const owner = await startClient(url, ['--code', '--qr']);
    const code = (await owner.client.waitFor(CODE))[1]!;
    const before = server.lines.length;
    // --qr: a link to the server's page that joins the code, and the QR of it in block characters
    const page = url.replace(/^ws:/, 'http:');
    await owner.client.waitFor(
      new RegExp(`^\\*\\*\\* Or open ${page.replace(/[.]/g, '\\.')}/#code=${code} \\*\\*\\*$`),
    );
    await expect.poll(() => owner.client.count(/[▀▄█]/)).toBeGreaterThan(10);
    const joiner = await startClient(url, ['--join', code]);
    for (const c of [owner, joiner]) {
      await c.client.waitFor(/^\*\*\* Verified peer \*\*\*$/, 30_000);
      await c.client.waitFor(/Data channel opened/, 30_000);
      const lines = c.client.lines;
      expect(lines.findIndex((l) => l.includes('Verified peer'))).toBeLessThan(
        lines.findIndex((l) => l.includes('Data channel opened')),
      );
      expect(c.client.count(/Safety code/)).toBe(0);
    }
    joiner.client.write('hello by code');
    await owner.client.waitFor(/^< Peer: hello by code$/);
    owner.client.write('and back');
    await joiner.client.waitFor(/^< Peer: and back$/);
    expect(leaksCode(server.lines, code, before)).toBe(false);
    await server.waitFor(/Code pairing of \S+ nameplate confirmed by both sides/);
    await owner.client.kill();
    await joiner.client.kill();
  }, 60_000);

  it('a wrong code fails on both sides, burns the code, and the burnt code is rejected after', async () => {
    const { url } = await startServer();
    const owner = await startClient(url, ['--code', '--code-words', '3']);
    const code = (await owner.client.waitFor(/^\*\*\* Your code: ([0-9]+(-[a-z]+){3}) \*\*\*$/))[1]!;
    const [nameplate, w1] = code.split('-');
    const wrong = `${nameplate}-${w1 === 'abandon' ? 'ability' : 'abandon'}-zoo-zone`;
    const guesser = await startClient(url, ['--join', wrong]);
    await guesser.client.waitFor(/^\*\*\* Verification failed: key confirmation failed/, 30_000);
    await owner.client.waitFor(/^\*\*\* Verification failed: /, 30_000);
    expect(await guesser.client.kill()).toBe(4);
    await owner.client.waitFor(/^\*\*\* Code burnt: someone tried it/, 15_000);
    const fresh = (await owner.client.waitFor(/^\*\*\* Your code: (\S+) \*\*\*$/))[1];
    await expect.poll(() => owner.client.count(/^\*\*\* Your code: /)).toBe(2);
    void fresh;
    for (const c of [owner, guesser]) expect(c.client.count(/Data channel opened|< Peer:/)).toBe(0);
    // the right code, too late: rejected, exit 3
    const late = await startClient(url, ['--join', code]);
    await late.client.waitFor(/^\*\*\* Code rejected: Nameplate burnt/);
    expect(await late.client.kill()).toBe(3);
    await owner.client.kill();
  }, 60_000);
});
