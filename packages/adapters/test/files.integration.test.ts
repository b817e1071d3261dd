// Files between real tandem-client processes (real werift peers, a real tandem-server, real
// sockets on 127.0.0.1), from and to disk: the lines people script against, the folder rules,
// and a resume after the call was cut. Then the Node store alone: names, parts, no overwrite.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, startClient, startServer } from './procs.js';
import { startTcpProxy } from './tcp-proxy.js';
import { nodeFileStore } from '../src/files.js';

afterEach(killAll);

const temp = (tag: string) => mkdtempSync(join(tmpdir(), `tandem-files-${tag}-`));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** Every client gets its own state folder (its file identity), away from the user's. */
const env = () => ({ XDG_STATE_HOME: temp('state') });

async function pairedClients(bArgs: string[], aArgs: string[] = []) {
  const { url } = await startServer();
  const b = await startClient(url, bArgs, { env: env() });
  const a = await startClient(url, ['--pair', b.id, ...aArgs], { env: env() });
  await a.client.waitFor(/Data channel opened/, 30_000);
  await b.client.waitFor(/Data channel opened/, 30_000);
  return { a, b, url };
}

describe('files between tandem-client processes', () => {
  it('/send PATH: the receiver with --download-dir writes it and prints name, bytes and sha256; chat keeps flowing', async () => {
    const inbox = temp('inbox');
    const outbox = temp('outbox');
    const data = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(join(outbox, 'holiday photos.zip'), data);
    writeFileSync(join(inbox, 'holiday photos.zip'), 'an older file of that name'); // never overwritten
    const { a, b } = await pairedClients(['--download-dir', inbox]);
    a.client.write(`/send ${join(outbox, 'holiday photos.zip')}`);
    await a.client.waitFor(/\*\*\* Sending holiday photos\.zip \(3145745 bytes\)\.\.\. \*\*\*/);
    a.client.write('chat while the file moves');
    await b.client.waitFor(/^< Peer: chat while the file moves$/, 30_000);
    const m = await b.client.waitFor(/^\*\*\* Received (.+) \((\d+) bytes, sha256 ([0-9a-f]{64})\) \*\*\*$/, 90_000);
    expect(m[1]).toBe('holiday photos (1).zip');
    expect(Number(m[2])).toBe(data.length);
    expect(m[3]).toBe(sha(data));
    await a.client.waitFor(/^\*\*\* Sent holiday photos\.zip \(3145745 bytes\) \*\*\*$/, 30_000);
    expect(sha(readFileSync(join(inbox, 'holiday photos (1).zip')))).toBe(sha(data));
    expect(readFileSync(join(inbox, 'holiday photos.zip'), 'utf8')).toBe('an older file of that name');
    expect(readdirSync(inbox).sort()).toEqual(['holiday photos (1).zip', 'holiday photos.zip']); // no .part left
    // commands: // sends a literal /, an unknown command gets a hint
    a.client.write('//not a command');
    await b.client.waitFor(/^< Peer: \/not a command$/);
    a.client.write('/sned x');
    await a.client.waitFor(/^Unknown command \/sned; \/help lists them\.$/);
  }, 150_000);

  it('--send at start; a receiver without --download-dir on a pipe declines, and the sender says so', async () => {
    const outbox = temp('outbox');
    writeFileSync(join(outbox, 'a.txt'), 'hello');
    const { a, b } = await pairedClients([], ['--send', join(outbox, 'a.txt')]);
    await a.client.waitFor(
      /^\*\*\* Transfer failed: a\.txt: declined: this client takes files only with --download-dir \*\*\*$/,
      30_000,
    );
    await b.client.waitFor(/^\*\*\* Transfer failed: a\.txt: declined/);
  }, 90_000);

  it('a file over --max-file-size is declined with the reason; a missing file fails at the sender', async () => {
    const inbox = temp('inbox');
    const outbox = temp('outbox');
    writeFileSync(join(outbox, 'big.bin'), randomBytes(200_000));
    const { a } = await pairedClients(['--download-dir', inbox, '--max-file-size', '100K']);
    a.client.write(`/send ${join(outbox, 'big.bin')}`);
    await a.client.waitFor(
      /^\*\*\* Transfer failed: big\.bin: declined: too large \(200000 bytes; this side takes at most 102400\) \*\*\*$/,
      30_000,
    );
    a.client.write(`/send ${join(outbox, 'nope.bin')}`);
    await a.client.waitFor(/^\*\*\* Transfer failed: .*nope\.bin: no such file \*\*\*$/);
    expect(readdirSync(inbox)).toEqual([]);
  }, 90_000);

  it('a transfer survives a signaling blip without a word from the user (resume keeps the call)', async () => {
    const inbox = temp('inbox');
    const outbox = temp('outbox');
    const data = randomBytes(12 * 1024 * 1024);
    const path = join(outbox, 'steady.bin');
    writeFileSync(path, data);
    const { url } = await startServer(['--resume-grace', '30']);
    const proxy = await startTcpProxy(Number(new URL(url).port));
    try {
      const b = await startClient(url, ['--download-dir', inbox], { env: env() });
      // the sender's signaling goes through the proxy, which will cut it mid-transfer
      const a = await startClient(proxy.url, ['--pair', b.id, '--send', path], { env: env() });
      await b.client.waitFor(/Data channel opened/, 30_000);
      const partPath = join(inbox, 'steady.bin.part');
      const until = Date.now() + 60_000;
      while (!(existsSync(partPath) && readFileSync(partPath).length > 1024 * 1024)) {
        if (Date.now() > until) throw new Error('no part grew');
        await new Promise((r) => setTimeout(r, 50));
      }
      await proxy.reset(2_000);
      await a.client.waitFor(/\*\*\* Signaling link lost; resuming\.\.\. \*\*\*/, 20_000);
      await a.client.waitFor(/\*\*\* Signaling resumed\. \*\*\*/, 30_000);
      const m = await b.client.waitFor(
        /^\*\*\* Received steady\.bin \((\d+) bytes, sha256 ([0-9a-f]{64})\) \*\*\*$/,
        90_000,
      );
      expect(m[2]).toBe(sha(data));
      await a.client.waitFor(/^\*\*\* Sent steady\.bin/, 30_000);
      expect(a.client.count(/Transfer failed|disconnected/)).toBe(0);
      expect(b.client.count(/Transfer failed|disconnected|Resumed steady/)).toBe(0); // not even a resume of the file
    } finally {
      await proxy.close();
    }
  }, 180_000);

  it('a transfer cut by the sender dying resumes from the receiver’s verified part when sent again', async () => {
    const inbox = temp('inbox');
    const outbox = temp('outbox');
    const data = randomBytes(24 * 1024 * 1024); // werift moves a few MiB/s: seconds in flight
    const path = join(outbox, 'big.iso');
    writeFileSync(path, data);
    const senderEnv = env();
    const { url } = await startServer(['--resume-grace', '1']);
    const b = await startClient(url, ['--download-dir', inbox], { env: env() });
    const a1 = await startClient(url, ['--pair', b.id, '--send', path], { env: senderEnv });
    await b.client.waitFor(/Data channel opened/, 30_000);
    // wait until a good part is on disk, then kill the sender outright
    const partPath = join(inbox, 'big.iso.part');
    const until = Date.now() + 60_000;
    while (!(existsSync(partPath) && readFileSync(partPath).length > 4 * 1024 * 1024)) {
      if (Date.now() > until) throw new Error('no part grew');
      await new Promise((r) => setTimeout(r, 100));
    }
    await a1.client.kill('SIGKILL');
    await b.client.waitFor(/^\*\*\* Transfer failed: big\.iso: /, 30_000);
    await b.client.waitFor(/Ready for new connection/, 30_000);
    const held = readFileSync(partPath).length;
    expect(held).toBeGreaterThan(4 * 1024 * 1024);
    expect(held).toBeLessThan(data.length);
    // the sender starts again (same user, same file identity) and sends the same file
    const a2 = await startClient(url, ['--pair', b.id, '--send', path], { env: senderEnv });
    const m = await b.client.waitFor(
      /^\*\*\* Received big\.iso \((\d+) bytes, sha256 ([0-9a-f]{64})\) \*\*\*$/,
      120_000,
    );
    expect(m[2]).toBe(sha(data));
    await a2.client.waitFor(/^\*\*\* Sent big\.iso/, 30_000);
    await b.client.waitFor(/^\*\*\* Resumed big\.iso at (\d+) bytes/);
    expect(sha(readFileSync(join(inbox, 'big.iso')))).toBe(sha(data));
    expect(readdirSync(inbox)).toEqual(['big.iso']);
  }, 240_000);
});

describe('the Node file store', () => {
  it('writes <name>.part, renames only after commit, never overwrites, and drops the part on a failed hash', async () => {
    const dir = temp('store');
    writeFileSync(join(dir, 'x.txt'), 'mine');
    const { decide } = nodeFileStore({ dir });
    const offer = { id: '1', name: '../x.txt', size: 3, type: '', sha256: 'a'.repeat(64), from: 'p' };
    const d = await decide(offer);
    if (!('accept' in d)) throw new Error('declined');
    await d.accept.write(new Uint8Array([1, 2, 3]));
    expect(readdirSync(dir).sort()).toEqual(['x.txt', 'x.txt.part', 'x.txt.part.json']);
    expect(await d.accept.commit()).toBe('x (1).txt');
    expect(readdirSync(dir).sort()).toEqual(['x (1).txt', 'x.txt']);
    expect(readFileSync(join(dir, 'x.txt'), 'utf8')).toBe('mine');
    const again = await decide({ ...offer, id: '2' });
    if (!('accept' in again)) throw new Error('declined');
    await again.accept.write(new Uint8Array([9]));
    await again.accept.abort(false);
    expect(readdirSync(dir).sort()).toEqual(['x (1).txt', 'x.txt']);
  });

  it('a cut part is offered for resume only to the same file from the same sender', async () => {
    const dir = temp('store');
    const { decide } = nodeFileStore({ dir });
    const offer = { id: '1', name: 'f.bin', size: 10, type: '', sha256: 'b'.repeat(64), from: 'alice' };
    const d = await decide(offer);
    if (!('accept' in d)) throw new Error('declined');
    await d.accept.write(new Uint8Array(4).fill(7));
    await d.accept.abort(true);
    const same = await decide({ ...offer, id: '2' });
    const otherSender = await decide({ ...offer, id: '3', from: 'mallory' });
    const otherFile = await decide({ ...offer, id: '4', sha256: 'c'.repeat(64) });
    expect('accept' in same && same.accept.held).toBe(4);
    expect('accept' in otherSender && otherSender.accept.held).toBe(0);
    expect('accept' in otherFile && otherFile.accept.held).toBe(0);
    expect(await decide({ ...offer, id: '5', size: 10 ** 15 })).toMatchObject({
      decline: expect.stringMatching(/too large/),
    });
  });
});
