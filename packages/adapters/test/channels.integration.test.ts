// Named channels between two real tandem client cores on real werift peers, paired through a real
// tandem server over real sockets on 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest';
import { createTandemClient, type TandemClient, type TandemChannel, type TandemClientEvent } from '@tandem/client-core';
import { createWsServer, wsTransport, type WsTandemServer } from '../src/ws.js';
import { weriftPeerFactory } from '../src/werift.js';

const until = async (cond: () => boolean, what: string, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

let server: WsTandemServer | null = null;
const clients: TandemClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = null;
});

async function pairedOverWerift(bFeatures?: readonly string[]) {
  server = createWsServer({ host: '127.0.0.1', port: 0 });
  const { port } = await server.ready;
  const spawn = (features?: readonly string[]) => {
    const client = createTandemClient({
      url: `ws://127.0.0.1:${port}`,
      transport: wsTransport(),
      createPeer: weriftPeerFactory(),
      ...(features ? { features } : {}),
    });
    clients.push(client);
    const events: TandemClientEvent[] = [];
    client.on('channel', (e) => events.push(e));
    client.on('peerFeatures', (e) => events.push(e));
    client.on('message', (e) => events.push(e));
    return { client, events };
  };
  const a = spawn();
  const b = spawn(bFeatures);
  await until(() => a.client.id !== null && b.client.id !== null, 'ids');
  a.client.pair(b.client.id!);
  await until(() => a.client.status === 'open' && b.client.status === 'open', 'chat open');
  return { a, b };
}

describe('named channels on werift', () => {
  it('a 4 MiB message and 200 small ones cross a named channel whole and in order, beside chat', async () => {
    const { a, b } = await pairedOverWerift();
    const ch = await a.client.channel('sync', { protocol: 'sync/1' });
    await ch.opened();
    await until(() => b.events.some((e) => e.type === 'channel'), 'the channel at b');
    const theirs = (b.events.find((e) => e.type === 'channel') as { channel: TandemChannel }).channel;
    expect(theirs.label).toBe('sync');
    expect(theirs.protocol).toBe('sync/1');
    const got: (string | Uint8Array)[] = [];
    theirs.on('message', ({ data }) => got.push(data));
    const big = new Uint8Array(4 * 1024 * 1024).map((_, i) => (i * 31) & 255);
    const sending = ch.write(big);
    a.client.send('chat while a big message is in flight');
    for (let i = 0; i < 200; i++) await ch.write(`line ${i}`);
    await sending;
    await until(() => got.length === 201, 'all messages', 60_000);
    // (Buffer.equals: vitest's deep equality walks a 4 MiB array element by element, for seconds)
    expect(Buffer.from(got[0] as Uint8Array).equals(Buffer.from(big))).toBe(true);
    expect(got.slice(1)).toEqual(Array.from({ length: 200 }, (_, i) => `line ${i}`));
    await until(
      () => b.events.some((e) => e.type === 'message' && e.data === 'chat while a big message is in flight'),
      'chat',
    );
  }, 90_000);

  it('a chat-only peer on werift gets no channel but chat; channel() says peer_unsupported', async () => {
    const { a, b } = await pairedOverWerift([]);
    await until(() => a.events.some((e) => e.type === 'peerFeatures'), 'features');
    expect(a.events.find((e) => e.type === 'peerFeatures')).toMatchObject({ tandem: false });
    await expect(a.client.channel('sync')).rejects.toMatchObject({ code: 'peer_unsupported' });
    expect(b.events.filter((e) => e.type === 'channel')).toEqual([]);
  }, 60_000);
});
