// File transfers and safety codes load as chunks of their own the first time a session uses them
// (client.ts): the first session of a fresh client module is the one that waits for them. Each
// test here imports the client anew (vi.resetModules), so its first session is such a session.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TandemClientEvent } from './client.js';
import type { Transfer } from './files.js';
import { until } from './testing.js';

const bytesOf = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Two clients and a server core over in-memory links, on fake peers, from freshly imported modules. */
async function freshWorld() {
  vi.resetModules();
  const { createTandemClient } = await import('./client.js');
  const { FakeNetwork, memoryFileStore, memoryTransport, memoryFileSource } = await import('./testing.js');
  const { MemoryServer } = await import('@tandem/server-core/testing');
  const server = new MemoryServer({ settings: { pingIntervalMs: 10_000, pingTimeoutMs: 5_000, tickMs: 100 } });
  const fake = new FakeNetwork({});
  const link = memoryTransport(server);
  const received = memoryFileStore({});
  const spawn = (extra: object = {}) => {
    const client = createTandemClient({
      url: 'mem://server',
      transport: link.factory,
      createPeer: fake.createPeer,
      peerWaitMs: 200,
      ...extra,
    });
    const events: TandemClientEvent[] = [];
    for (const t of [
      'open',
      'message',
      'transfer',
      'error',
      'safetyCode',
      'peerFeatures',
      'incomingCall',
      'callAnswered',
      'track',
    ] as const)
      client.on(t, (e) => events.push(e));
    return { client, events };
  };
  const a = spawn();
  const b = spawn({ onFileOffer: received.decide });
  await until(() => a.client.id !== null && b.client.id !== null, 'ids');
  const { FakeTrack } = await import('./testing.js');
  return { a, b, fake, FakeTrack, received, memoryFileSource, close: () => (a.client.close(), b.client.close()) };
}

/** A fresh world whose `module` cannot load, its two clients paired with chat open. */
async function pairedWithout(module: './files.js' | './media.js') {
  vi.doMock(module, () => {
    throw new Error('chunk not found');
  });
  const w = await freshWorld();
  w.a.client.pair(w.b.client.id!);
  await until(() => w.a.client.status === 'open' && w.b.client.status === 'open', 'chat open');
  return w;
}

afterEach(() => {
  vi.doUnmock('./files.js');
  vi.doUnmock('./media.js');
  vi.resetModules();
});

describe('features that load when a session first uses them', () => {
  it('a file sent the moment the pairing starts, before the files code has loaded, is one transfer that completes', async () => {
    const w = await freshWorld();
    const file = bytesOf(300_000);
    let sent: Transfer | null = null;
    let transfersThen: readonly Transfer[] | null = null;
    w.a.client.on('paired', () => {
      sent = w.a.client.sendFile(w.memoryFileSource('early.bin', file));
      transfersThen = w.a.client.transfers;
    });
    w.a.client.pair(w.b.client.id!);
    await until(() => sent !== null, 'paired');
    const t = sent!;
    // the code was still loading: the transfer stands for the one to come
    expect(transfersThen).toEqual([]);
    expect(t.state).toBe('hashing');
    const progress: number[] = [];
    t.on('progress', (e) => progress.push(e.bytes));
    await expect(t.finished).resolves.toMatchObject({ name: 'early.bin', size: file.length, sha256: sha(file) });
    expect(t.state).toBe('done');
    expect(t.bytes).toBe(file.length);
    expect(progress.at(-1)).toBe(file.length);
    // the app heard of it once, as the very object it was handed, under the id the receiver saw
    const announced = w.a.events.flatMap((e) => (e.type === 'transfer' ? [e.transfer] : []));
    expect(announced).toEqual([t]);
    const theirs = w.b.events.flatMap((e) => (e.type === 'transfer' ? [e.transfer] : []));
    expect(theirs.map((x) => x.id)).toEqual([t.id]);
    await until(() => w.received.saved.has('early.bin'), 'saved');
    expect(sha(w.received.saved.get('early.bin')!)).toBe(sha(file));
    // and the safety codes, loaded the same way, agree
    await until(() => w.a.client.safetyCode !== null && w.b.client.safetyCode !== null, 'safety codes');
    expect(w.a.client.safetyCode).toBe(w.b.client.safetyCode);
    w.close();
  });

  it('a transfer cancelled while the files code loads fails with its reason and never reaches the peer', async () => {
    const w = await freshWorld();
    let sent: Transfer | null = null;
    w.a.client.on('paired', () => {
      sent = w.a.client.sendFile(w.memoryFileSource('never.bin', bytesOf(1000)));
      sent.cancel('changed my mind');
    });
    w.a.client.pair(w.b.client.id!);
    await until(() => sent !== null, 'paired');
    await expect(sent!.finished).rejects.toThrow('changed my mind');
    await until(() => w.a.client.status === 'open' && w.b.client.peer !== null, 'chat open, peer known');
    await w.a.client.sendFile(w.memoryFileSource('later.bin', bytesOf(1000))).finished;
    expect([...w.received.saved.keys()]).toEqual(['later.bin']);
    w.close();
  });

  it('files code that cannot load: each side says so once, chat still works, and a file is refused with a reason', async () => {
    const w = await pairedWithout('./files.js');
    await until(
      () => [w.a, w.b].every((s) => s.events.some((e) => e.type === 'error' && e.code === 'feature_unavailable')),
      'both told',
    );
    for (const s of [w.a, w.b]) {
      const errors = s.events.filter((e) => e.type === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({
        source: 'client',
        message: expect.stringMatching(/^file transfers are unavailable in this call: their code did not load/),
      });
    }
    w.a.client.send('still here');
    await until(() => w.b.events.some((e) => e.type === 'message' && e.data === 'still here'), 'chat');
    // the hellos went out anyway: both know each other, and the safety codes still agree
    await until(() => w.a.client.safetyCode !== null && w.b.client.safetyCode !== null, 'safety codes');
    expect(w.a.client.safetyCode).toBe(w.b.client.safetyCode);
    await expect(w.a.client.sendFile(w.memoryFileSource('x.bin', bytesOf(10))).finished).rejects.toThrow(
      'this client does not send files',
    );
    w.close();
  });

  it('a pairing that starts with a call while the calls code is still loading: the first offer waits for it and carries the tracks', async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => (release = r));
    vi.doMock('./media.js', async () => {
      await gate;
      return vi.importActual('./media.js');
    });
    const w = await freshWorld();
    const cam = new w.FakeTrack('video');
    w.a.client.pair(w.b.client.id!, { call: [cam] });
    await until(() => w.a.client.status === 'negotiating' && w.b.client.status === 'negotiating', 'paired');
    await new Promise((r) => setTimeout(r, 30));
    // both sessions are made, and hold their negotiation for the calls code: no offer yet
    expect(w.fake.live().map((p) => p.history)).toEqual([[], []]);
    expect(w.a.client.callState).toBe('idle');
    release();
    await until(() => w.b.events.some((e) => e.type === 'incomingCall'), 'ringing');
    expect(w.b.events.find((e) => e.type === 'incomingCall')).toMatchObject({ kinds: ['video'] });
    expect(w.a.client.callState).toBe('calling');
    w.b.client.answerCall([]);
    await until(() => w.a.events.some((e) => e.type === 'callAnswered'), 'answered');
    await until(() => w.b.events.some((e) => e.type === 'track'), "the caller's camera shown");
    // one negotiation carried chat and the call
    expect(
      w.fake.live().flatMap((p) => p.history.filter((h) => h.startsWith('offer') || h.startsWith('renegotiate'))),
    ).toEqual(['offer gen0']);
    w.close();
  });

  it('calls code that cannot load: each side says so once, the pairing and chat go on, and a call is refused', async () => {
    const w = await pairedWithout('./media.js');
    for (const s of [w.a, w.b]) {
      const errors = s.events.filter((e) => e.type === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({
        code: 'feature_unavailable',
        message: expect.stringMatching(/^calls are unavailable in this call: their code did not load/),
      });
    }
    w.a.client.send('still here');
    await until(() => w.b.events.some((e) => e.type === 'message' && e.data === 'still here'), 'chat');
    expect(() => w.a.client.call([new w.FakeTrack('video')])).toThrow('their code has not loaded');
    w.close();
  });
});
