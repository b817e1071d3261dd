// File transfer between two real client cores and a real server core over in-memory links, on
// fake peers with channels; files in memory. Then a model-based property: any interleaving of
// chunks, cuts and resumes ends in a file whose hash matches, or a clear failure.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryServer } from '@tandem/server-core/testing';
import { createTandemClient, type TandemClientEvent } from './client.js';
import { FakeNetwork, memoryFileSource, memoryFileStore, type FakeNetworkOptions, until } from './testing.js';
import { memoryTransport } from './testing.js';
import { safeFileName, numberedName, type FileSource, type FilesOptions, type Transfer } from './files.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const bytesOf = (n: number, seed = 1) => {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) b[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return b;
};

function world(
  net: FakeNetworkOptions = {},
  store: Parameters<typeof memoryFileStore>[0] = {},
  aExtra: Partial<Parameters<typeof createTandemClient>[0]> = {},
) {
  const server = new MemoryServer({ settings: { pingIntervalMs: 10_000, pingTimeoutMs: 5_000, tickMs: 100 } });
  const fake = new FakeNetwork(net);
  const link = memoryTransport(server);
  const received = memoryFileStore(store);
  const spawn = (extra: Partial<Parameters<typeof createTandemClient>[0]> = {}) => {
    const client = createTandemClient({
      url: 'mem://server',
      transport: link.factory,
      createPeer: fake.createPeer,
      peerWaitMs: 200,
      files: { windowBytes: 256 * 1024, chunkBytes: 32 * 1024 },
      ...extra,
    });
    const events: TandemClientEvent[] = [];
    for (const t of ['open', 'message', 'transfer', 'peerLeft', 'error'] as const) client.on(t, (e) => events.push(e));
    return { client, events };
  };
  const a = spawn(aExtra);
  const b = spawn({ onFileOffer: received.decide });
  const pair = async () => {
    await until(() => a.client.id !== null && b.client.id !== null, 'ids');
    a.client.pair(b.client.id!);
    await until(() => a.client.status === 'open' && b.client.status === 'open', 'chat open');
  };
  return { server, fake, a, b, received, pair };
}

const incomingTransfers = (events: TandemClientEvent[]): Transfer[] =>
  events.flatMap((e) => (e.type === 'transfer' && e.transfer.direction === 'receive' ? [e.transfer] : []));

describe('file transfer between tandem clients', () => {
  it('sends a file: offer, accept, progress, SHA-256 checked, saved under its clean name; chat flows meanwhile', async () => {
    const w = world({ bytesPerTurn: 64 * 1024 });
    await w.pair();
    const file = bytesOf(1_000_000);
    const progress: number[] = [];
    const t = w.a.client.sendFile(memoryFileSource('../../etc/report.pdf', file, 'application/pdf'));
    t.on('progress', (e) => progress.push(e.bytes));
    await until(() => t.state === 'transferring', 'transferring');
    w.b.client.send('chat during the transfer');
    await until(() => w.a.events.some((e) => e.type === 'message' && e.data === 'chat during the transfer'), 'chat');
    expect(t.state).toBe('transferring'); // chat got through while the file was in flight
    const done = await t.finished;
    expect(done).toEqual({ name: '../../etc/report.pdf', size: 1_000_000, sha256: sha(file), resumedFrom: 0 });
    const [theirs] = incomingTransfers(w.b.events);
    await expect(theirs!.finished).resolves.toMatchObject({ name: 'report.pdf', sha256: sha(file) });
    expect(w.received.offers[0]).toMatchObject({
      name: '../../etc/report.pdf',
      size: 1_000_000,
      type: 'application/pdf',
      sha256: sha(file),
    });
    expect(sha(w.received.saved.get('report.pdf')!)).toBe(sha(file));
    expect(progress.at(-1)).toBe(1_000_000);
    expect(progress.length).toBeGreaterThan(5);
    // the receiver never held more than its window of bytes received but not yet written
    expect(theirs!.peakHeld).toBeGreaterThan(0);
    expect(theirs!.peakHeld).toBeLessThanOrEqual(256 * 1024);
    expect(w.b.client.transfers).toEqual([]);
  });

  it('a second file of the same name is saved as "name (1).ext"; an empty file works', async () => {
    const w = world();
    await w.pair();
    await w.a.client.sendFile(memoryFileSource('notes.txt', bytesOf(10, 1))).finished;
    await w.a.client.sendFile(memoryFileSource('notes.txt', bytesOf(10, 2))).finished;
    await w.a.client.sendFile(memoryFileSource('empty', new Uint8Array(0))).finished;
    await until(() => w.received.saved.size === 3, 'three saved');
    expect([...w.received.saved.keys()].sort()).toEqual(['empty', 'notes (1).txt', 'notes.txt']);
  });

  it('fragmentBytes sizes the data channel’s messages (16 KiB by default), within the peer’s max-message-size', async () => {
    const largest = async (files: object) => {
      const w = world({}, {}, { files: { windowBytes: 256 * 1024, chunkBytes: 128 * 1024, ...files } });
      await w.pair();
      const file = bytesOf(500_000, 3);
      await w.a.client.sendFile(memoryFileSource('bulk.bin', file)).finished;
      expect(sha(w.received.saved.get('bulk.bin')!)).toBe(sha(file));
      return w.fake.stats.maxMessageSent;
    };
    expect(await largest({})).toBe(16 * 1024);
    expect(await largest({ fragmentBytes: 64 * 1024 })).toBe(64 * 1024);
  });

  it('the receiver declines (too large): the sender is told why, nothing is saved', async () => {
    const w = world({}, { maxFileSize: 1_000 });
    await w.pair();
    const t = w.a.client.sendFile(memoryFileSource('big.bin', bytesOf(5_000)));
    await expect(t.finished).rejects.toThrow('declined: too large');
    expect(w.received.saved.size).toBe(0);
  });

  it('a client without an offer handler declines every offer', async () => {
    const w = world();
    await w.pair();
    const t = w.b.client.sendFile(memoryFileSource('x', bytesOf(100)));
    await expect(t.finished).rejects.toThrow('declined: this client takes no files');
  });

  it('several transfers at once, each cancellable from either side', async () => {
    const w = world({ bytesPerTurn: 16 * 1024 }, { slowWrites: true });
    await w.pair();
    const files = [bytesOf(300_000, 3), bytesOf(300_000, 4), bytesOf(300_000, 5)];
    const ts = files.map((f, i) => w.a.client.sendFile(memoryFileSource(`f${i}.bin`, f)));
    await until(() => ts.every((t) => t.state === 'transferring'), 'all transferring');
    expect(w.a.client.transfers).toHaveLength(3);
    ts[0]!.cancel('changed my mind');
    await until(() => incomingTransfers(w.b.events).length === 3, 'three offers');
    const theirs = incomingTransfers(w.b.events);
    theirs.find((t) => t.name === 'f1.bin')!.cancel('no thanks');
    await expect(ts[0]!.finished).rejects.toThrow('changed my mind');
    await expect(ts[1]!.finished).rejects.toThrow('cancelled by the peer: no thanks');
    await expect(theirs.find((t) => t.name === 'f0.bin')!.finished).rejects.toThrow(
      'cancelled by the peer: changed my mind',
    );
    await expect(ts[2]!.finished).resolves.toMatchObject({ sha256: sha(files[2]!) });
    expect([...w.received.saved.keys()]).toEqual(['f2.bin']);
    expect(w.received.parts.size).toBe(0); // a cancelled transfer keeps no part
  });

  it('a cut transfer resumes when the same file is sent again after pairing anew, from the verified offset', async () => {
    const w = world({ bytesPerTurn: 32 * 1024 }, { slowWrites: true });
    await w.pair();
    const file = bytesOf(800_000, 9);
    const first = w.a.client.sendFile(memoryFileSource('movie.webm', file));
    await until(() => first.bytes > 200_000, 'a good part sent');
    w.a.client.leave(); // the call ends mid-transfer
    await expect(first.finished).rejects.toThrow();
    const [part] = [...w.received.parts.values()];
    expect(part!.byteLength).toBeGreaterThan(200_000);
    expect(part!.byteLength).toBeLessThan(800_000);
    await w.pair();
    const again = await w.a.client.sendFile(memoryFileSource('movie.webm', file)).finished;
    // (a write in flight at the cut may still land in the part: it resumes from what it truly holds)
    expect(again.resumedFrom).toBeGreaterThanOrEqual(part!.byteLength);
    expect(again.resumedFrom).toBeLessThan(800_000);
    expect(sha(w.received.saved.get('movie.webm')!)).toBe(sha(file));
  });

  it('a part whose bytes differ from the sender’s file is not resumed: the sender checks the prefix and starts over', async () => {
    const w = world({ bytesPerTurn: 32 * 1024 }, { slowWrites: true });
    await w.pair();
    const file = bytesOf(400_000, 11);
    const first = w.a.client.sendFile(memoryFileSource('doc.bin', file));
    await until(() => first.bytes > 100_000, 'a part');
    w.a.client.leave();
    await expect(first.finished).rejects.toThrow();
    const [key, part] = [...w.received.parts.entries()][0]!;
    part[10] = part[10]! ^ 0xff; // the part on disk got corrupted
    w.received.parts.set(key, part);
    await w.pair();
    const again = await w.a.client.sendFile(memoryFileSource('doc.bin', file)).finished;
    expect(again.resumedFrom).toBe(0);
    expect(sha(w.received.saved.get('doc.bin')!)).toBe(sha(file));
  });

  it('bytes that do not hash to the offered SHA-256 are never saved: both sides fail with the reason', async () => {
    const w = world();
    await w.pair();
    const good = bytesOf(100_000, 1);
    const bad = bytesOf(100_000, 2);
    let reads = 0;
    // hashed from `good`, then sends `bad` (a file changed under the sender, or a lying one)
    const source: FileSource = {
      name: 'x.bin',
      size: good.byteLength,
      type: '',
      read: async (o, l) => (reads++ < 1 ? good : bad).slice(o, o + l),
    };
    const t = w.a.client.sendFile(source);
    await expect(t.finished).rejects.toThrow(/sha256 mismatch/);
    const [theirs] = incomingTransfers(w.b.events);
    await expect(theirs!.finished).rejects.toThrow(/sha256 mismatch/);
    expect(w.received.saved.size).toBe(0);
    expect(w.received.parts.size).toBe(0);
  });

  it('a store that reads its part back checks what was written, not what arrived: bytes spoilt on the way to disk fail', async () => {
    // the same damage without read-back passes unseen (the bytes that arrived were right)
    const spoil = (bytes: Uint8Array, at: number) => {
      if (at <= 5000 && at + bytes.byteLength > 5000) bytes[5000 - at]! ^= 0x01;
      return bytes;
    };
    const file = bytesOf(120_000, 4);
    const streaming = world({}, { damage: spoil });
    await streaming.pair();
    await streaming.a.client.sendFile(memoryFileSource('a.bin', file)).finished;
    expect(sha(streaming.received.saved.get('a.bin')!)).not.toBe(sha(file));

    const w = world({}, { damage: spoil, readBack: true });
    await w.pair();
    const t = w.a.client.sendFile(memoryFileSource('a.bin', file));
    await expect(t.finished).rejects.toThrow(/sha256 mismatch/);
    expect(w.received.saved.size).toBe(0);
  });

  it('with read-back and one-shot hashing nothing streams through the hasher; the file and its hash are the same', async () => {
    let updates = 0;
    const counting = () => {
      const h = createHash('sha256');
      const wrap = (x: typeof h): ReturnType<NonNullable<FilesOptions['createHash']>> => ({
        update: (b) => void (updates++, x.update(b)),
        digest: () => x.copy().digest(),
        clone: () => wrap(x.copy()),
      });
      return wrap(h);
    };
    const w = world({}, { readBack: true }, { files: { createHash: counting } });
    const b = createTandemClient({
      url: 'mem://server',
      transport: memoryTransport(w.server).factory,
      createPeer: w.fake.createPeer,
      peerWaitMs: 200,
      files: { createHash: counting },
      onFileOffer: w.received.decide,
    });
    await until(() => w.a.client.id !== null && b.id !== null, 'ids');
    w.a.client.pair(b.id!);
    await until(() => w.a.client.status === 'open' && b.status === 'open', 'open');
    const file = bytesOf(300_000, 6);
    const done = await w.a.client.sendFile(memoryFileSource('b.bin', file, '', true)).finished;
    expect(done.sha256).toBe(sha(file));
    expect(sha(w.received.saved.get('b.bin')!)).toBe(sha(file));
    expect(updates).toBe(0);
    b.close();
  });

  it('with read-back, a cut transfer resumes from the part: the prefix hash is the part read back', async () => {
    const w = world({ bytesPerTurn: 32 * 1024 }, { slowWrites: true, readBack: true });
    await w.pair();
    const file = bytesOf(600_000, 8);
    const first = w.a.client.sendFile(memoryFileSource('clip.webm', file, '', true));
    await until(() => first.bytes > 150_000, 'a good part sent');
    w.a.client.leave();
    await expect(first.finished).rejects.toThrow();
    const [, part] = [...w.received.parts.entries()][0]!;
    await w.pair();
    const again = await w.a.client.sendFile(memoryFileSource('clip.webm', file, '', true)).finished;
    expect(again.resumedFrom).toBeGreaterThanOrEqual(part.byteLength);
    expect(sha(w.received.saved.get('clip.webm')!)).toBe(sha(file));
    // a part that went bad meanwhile is caught by its read-back prefix: the sender starts over
    const second = w.a.client.sendFile(memoryFileSource('clip2.webm', file, '', true));
    await until(() => second.bytes > 150_000, 'a second part');
    w.a.client.leave();
    await expect(second.finished).rejects.toThrow();
    const [key2, part2] = [...w.received.parts.entries()][0]!;
    part2[7] = part2[7]! ^ 0xff;
    w.received.parts.set(key2, part2);
    await w.pair();
    const over = await w.a.client.sendFile(memoryFileSource('clip2.webm', file, '', true)).finished;
    expect(over.resumedFrom).toBe(0);
    expect(sha(w.received.saved.get('clip2.webm')!)).toBe(sha(file));
  });

  it('a v1 (chat-only) peer is never offered a file', async () => {
    const w = world();
    const plain = createTandemClient({
      url: 'mem://server',
      transport: memoryTransport(w.server).factory,
      createPeer: w.fake.createPeer,
      features: [],
    });
    await until(() => plain.id !== null && w.a.client.id !== null, 'ids');
    w.a.client.pair(plain.id!);
    await until(() => w.a.client.status === 'open', 'open');
    const t = w.a.client.sendFile(memoryFileSource('x', bytesOf(10)));
    await expect(t.finished).rejects.toThrow(/peer/);
    expect(w.fake.stats.channelsOpened).toBe(0);
    plain.close();
  });
});

describe('received names', () => {
  it.each([
    ['../../etc/passwd', 'passwd'],
    ['C:\\Windows\\system32\\evil.dll', 'evil.dll'],
    ['.bashrc', 'bashrc'],
    ['...', 'file'],
    ['', 'file'],
    ['CON', '_CON'],
    ['nul.txt', '_nul.txt'],
    ['a\u202egnp.exe', 'agnp.exe'],
    ['bad\u0000name\n.txt', 'badname.txt'],
    ['what?.txt', 'what_.txt'],
    ['trailing. . ', 'trailing'],
  ])('%j is saved as %j', (raw, clean) => expect(safeFileName(raw)).toBe(clean));

  it('any name from a peer becomes a plain, non-empty name with no path part, no leading dot, at most 200 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (raw) => {
        const name = safeFileName(raw);
        expect(name.length).toBeGreaterThan(0);
        expect(name).not.toMatch(/[/\\\u0000-\u001f]/);
        expect(name.startsWith('.')).toBe(false);
        expect(new TextEncoder().encode(name).byteLength).toBeLessThanOrEqual(200);
        expect(['.', '..']).not.toContain(name);
      }),
    );
  });

  it('numbered names keep the extension', () => {
    expect(numberedName('a.tar.gz', 2)).toBe('a.tar (2).gz');
    expect(numberedName('README', 1)).toBe('README (1)');
    expect(numberedName('x.txt', 0)).toBe('x.txt');
  });
});

describe('any interleaving of chunks, cuts and resumes', () => {
  it('ends in a file whose hash matches (or a clear failure), never past the window', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 200_000 }),
        fc.array(fc.integer({ min: 1, max: 150_000 }), { maxLength: 3 }), // bytes written before each cut
        fc.integer({ min: 4 * 1024, max: 64 * 1024 }),
        fc.integer({ min: 8 * 1024, max: 96 * 1024 }),
        async (size, cuts, bytesPerTurn, windowBytes) => {
          const w = world({ bytesPerTurn }, { slowWrites: true });
          const file = bytesOf(size, size + 1);
          const opts = { windowBytes, chunkBytes: Math.min(16 * 1024, windowBytes) };
          const a = createTandemClient({
            url: 'mem://server',
            transport: memoryTransport(w.server).factory,
            createPeer: w.fake.createPeer,
            peerWaitMs: 200,
            files: { ...opts, identity: 'sender' },
          });
          const b = createTandemClient({
            url: 'mem://server',
            transport: memoryTransport(w.server).factory,
            createPeer: w.fake.createPeer,
            peerWaitMs: 200,
            files: opts,
            onFileOffer: w.received.decide,
          });
          const held: Transfer[] = [];
          b.on('transfer', ({ transfer }) => held.push(transfer));
          const pair = async () => {
            await until(() => a.id !== null && b.id !== null, 'ids');
            a.pair(b.id!);
            await until(() => a.status === 'open' && b.status === 'open', 'open');
          };
          try {
            let outcome: Awaited<Transfer['finished']> | null = null;
            for (const cut of [...cuts, null]) {
              await pair();
              const t = a.sendFile(memoryFileSource('f.bin', file));
              if (cut === null) {
                outcome = await t.finished;
                break;
              }
              await until(
                () => t.state === 'done' || t.state === 'failed' || t.bytes >= Math.min(cut, size),
                'the cut point',
              );
              a.leave();
              await t.finished.catch(() => undefined);
              await until(() => b.status !== 'open' && a.status !== 'open', 'left');
              if (t.state === 'done') {
                outcome = await t.finished;
                break;
              }
            }
            expect(outcome).not.toBeNull();
            expect(sha(w.received.saved.get('f.bin')!)).toBe(sha(file));
            expect(outcome!.sha256).toBe(sha(file));
            for (const t of held) expect(t.peakHeld).toBeLessThanOrEqual(windowBytes);
          } finally {
            a.close();
            b.close();
          }
        },
      ),
      { numRuns: 15 },
    );
  }, 120_000);
});
