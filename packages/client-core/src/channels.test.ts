// Named channels between two real client cores and a real server core over in-memory links, on
// fake peers whose channels have send buffers draining at a set speed and enforce the peer's
// max-message-size. Then the framing alone, property-tested.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryServer } from '@tandem/server-core/testing';
import { createTandemClient, type TandemClientEvent } from './client.js';
import { FakeNetwork, memoryTransport, type FakeNetworkOptions, until } from './testing.js';
import { ChannelError, Reassembler, fragmentsOf, maxMessageSizeOf, type TandemChannel } from './channels.js';
import { CHAT_PROTOCOL, CONTROL_LABEL } from './channel-hub.js';

function world(net: FakeNetworkOptions = {}) {
  const server = new MemoryServer({ settings: { pingIntervalMs: 10_000, pingTimeoutMs: 5_000, tickMs: 100 } });
  const fake = new FakeNetwork(net);
  const link = memoryTransport(server);
  const spawn = (extra: Partial<Parameters<typeof createTandemClient>[0]> = {}) => {
    const client = createTandemClient({
      url: 'mem://server',
      transport: link.factory,
      createPeer: fake.createPeer,
      peerWaitMs: 200,
      ...extra,
    });
    const events: TandemClientEvent[] = [];
    for (const t of ['open', 'message', 'channel', 'peerFeatures', 'peerLeft', 'error'] as const)
      client.on(t, (e) => events.push(e));
    return { client, events };
  };
  return { server, fake, spawn };
}

async function paired(w: ReturnType<typeof world>, aExtra = {}, bExtra = {}) {
  const a = w.spawn(aExtra);
  const b = w.spawn(bExtra);
  await until(() => a.client.id !== null && b.client.id !== null, 'ids');
  a.client.pair(b.client.id!);
  await until(() => a.client.status === 'open' && b.client.status === 'open', 'chat open');
  return { a, b };
}

const features = (events: TandemClientEvent[]) => events.filter((e) => e.type === 'peerFeatures');
const incoming = (c: { events: TandemClientEvent[] }, label: string) =>
  c.events.flatMap((e) => (e.type === 'channel' && e.channel.label === label ? [e.channel] : []));

function collect(channel: TandemChannel) {
  const got: (string | Uint8Array)[] = [];
  channel.on('message', ({ data }) => got.push(data));
  return got;
}

describe('named channels between tandem clients', () => {
  it('both ends learn the peer is a tandem client; a channel carries text and binary of any size, in order', async () => {
    const w = world({ maxMessageSize: 8_192 }); // smaller than 16 KiB: the peer's limit decides
    const { a, b } = await paired(w);
    await until(() => features(a.events).length === 1 && features(b.events).length === 1, 'features');
    expect(features(a.events)[0]).toMatchObject({ tandem: true, features: ['channels', 'files', 'safety', 'media'] });
    expect(features(b.events)[0]).toMatchObject({ tandem: true, peerId: a.client.id });
    const game = await a.client.channel('game', { ordered: true, protocol: 'game/1' });
    await game.opened();
    await until(() => incoming(b, 'game').length === 1, 'the channel at b');
    const theirs = incoming(b, 'game')[0]!;
    expect(theirs.protocol).toBe('game/1');
    const got = collect(theirs);
    const big = new Uint8Array(1_000_000).map((_, i) => (i * 7) & 255);
    game.send('hello');
    await game.write(big);
    game.send('é'.repeat(10_000)); // 20 000 bytes of UTF-8, fragmented
    game.send(new Uint8Array(0));
    await until(() => got.length === 4, 'four messages');
    expect(got[0]).toBe('hello');
    expect(Buffer.from(got[1] as Uint8Array).equals(Buffer.from(big))).toBe(true);
    expect(got[2]).toBe('é'.repeat(10_000));
    expect(got[3]).toEqual(new Uint8Array(0));
    // chat is untouched and keeps flowing beside it
    b.client.send('chat line');
    await until(() => a.events.some((e) => e.type === 'message' && e.data === 'chat line'), 'chat');
  });

  it('write() waits for the buffer: the stack never holds more than the threshold plus one fragment', async () => {
    const w = world({ bytesPerTurn: 32 * 1024 });
    const { a, b } = await paired(w);
    const ch = await a.client.channel('bulk', {}, { bufferedAmountLowThreshold: 64 * 1024 });
    await ch.opened();
    await until(() => incoming(b, 'bulk').length === 1, 'bulk at b');
    let received = 0;
    incoming(b, 'bulk')[0]!.on('message', ({ data }) => (received += (data as Uint8Array).byteLength));
    for (let i = 0; i < 64; i++) await ch.write(new Uint8Array(64 * 1024));
    await until(() => received === 64 * 64 * 1024, 'all bytes');
    expect(w.fake.stats.maxBufferedAmount).toBeGreaterThan(32 * 1024); // it did fill up
    expect(w.fake.stats.maxBufferedAmount).toBeLessThanOrEqual(64 * 1024 + 16 * 1024);
  });

  it('fragmentBytes sets the largest message sent, never past the peer’s max-message-size; default 16 KiB', async () => {
    const largest = async (maxMessageSize: number, fragmentBytes?: number) => {
      const w = world({ maxMessageSize });
      const { a, b } = await paired(w);
      const ch = await a.client.channel('bulk', {}, fragmentBytes === undefined ? {} : { fragmentBytes });
      await ch.opened();
      await until(() => incoming(b, 'bulk').length === 1, 'bulk at b');
      const got = collect(incoming(b, 'bulk')[0]!);
      const big = new Uint8Array(300_000).map((_, i) => (i * 13) & 255);
      await ch.write(big);
      await until(() => got.length === 1, 'the message');
      expect(Buffer.from(got[0] as Uint8Array).equals(Buffer.from(big))).toBe(true);
      return w.fake.stats.maxMessageSent;
    };
    expect(await largest(262_144)).toBe(16 * 1024);
    expect(await largest(262_144, 64 * 1024)).toBe(64 * 1024);
    expect(await largest(20_000, 64 * 1024)).toBe(20_000);
  });

  it('send() refuses what would overfill the buffer, with buffer_full; an unordered channel refuses a fragmented message', async () => {
    const w = world({ bytesPerTurn: 1024 });
    const { a } = await paired(w);
    const ch = await a.client.channel('fast', {}, { maxBufferedBytes: 100_000 });
    await ch.opened();
    ch.send(new Uint8Array(60_000));
    expect(() => ch.send(new Uint8Array(60_000))).toThrow(expect.objectContaining({ code: 'buffer_full' }));
    const loose = await a.client.channel('input', { ordered: false, maxRetransmits: 0 });
    await loose.opened();
    loose.send(new Uint8Array(1_000));
    expect(() => loose.send(new Uint8Array(20_000))).toThrow(expect.objectContaining({ code: 'message_too_large' }));
  });

  it('a message over the receiver’s limit fails that channel only (error, then close); the call carries on', async () => {
    const w = world();
    const { a, b } = await paired(w, {}, { channelLimits: { maxMessageBytes: 100_000 } });
    const ch = await a.client.channel('x');
    await ch.opened();
    await until(() => incoming(b, 'x').length === 1, 'x at b');
    const theirs = incoming(b, 'x')[0]!;
    const errors: ChannelError[] = [];
    theirs.on('error', ({ error }) => errors.push(error));
    await ch.write(new Uint8Array(200_000));
    await until(() => theirs.readyState === 'closed' && ch.readyState === 'closed', 'both ends closed');
    expect(errors.map((e) => e.code)).toEqual(['message_too_large']);
    b.client.send('still here');
    await until(() => a.events.some((e) => e.type === 'message' && e.data === 'still here'), 'chat');
  });

  it('streams: a ReadableStream piped into channel.writable comes out of the other end’s readable', async () => {
    const w = world({ bytesPerTurn: 64 * 1024 });
    const { a, b } = await paired(w);
    const ch = await a.client.channel('pipe');
    await ch.opened();
    await until(() => incoming(b, 'pipe').length === 1, 'pipe at b');
    const reader = incoming(b, 'pipe')[0]!.readable;
    const chunks = Array.from({ length: 40 }, (_, i) => new Uint8Array(50_000).fill(i));
    const source = new ReadableStream<Uint8Array>({
      pull(c) {
        const next = chunks.shift();
        if (next === undefined) c.close();
        else c.enqueue(next);
      },
    });
    const sent = source.pipeTo(ch.writable);
    const out: Uint8Array[] = [];
    for await (const m of reader as unknown as AsyncIterable<Uint8Array>) out.push(m);
    await sent;
    expect(out).toHaveLength(40);
    expect(out.every((m, i) => m.byteLength === 50_000 && m[0] === i && m[49_999] === i)).toBe(true);
  });

  it('the call ending closes every channel; a write waiting for room rejects with closed', async () => {
    const w = world({ bytesPerTurn: 1024 });
    const { a, b } = await paired(w);
    const ch = await a.client.channel('doomed');
    await ch.opened();
    const pending = ch.write(new Uint8Array(2_000_000));
    b.client.close();
    await expect(pending).rejects.toMatchObject({ code: 'closed' });
    expect(ch.readyState).toBe('closed');
    await expect(a.client.channel('after')).rejects.toBeInstanceOf(ChannelError);
  });

  it('labels starting tandem. are refused to the app', async () => {
    const w = world();
    const { a } = await paired(w);
    await expect(a.client.channel('tandem.files')).rejects.toMatchObject({ code: 'closed' });
  });
});

describe('a chat-only (wire v1) peer sees nothing but chat', () => {
  for (const v1Side of ['responder', 'initiator'] as const)
    it(`with the v1 peer as ${v1Side}: no extra channel is ever opened, channel() says peer_unsupported`, async () => {
      const w = world();
      const plain = { features: [] };
      const { a, b } = v1Side === 'responder' ? await paired(w, {}, plain) : await paired(w, plain, {});
      const tandem = v1Side === 'responder' ? a : b;
      await until(() => features(tandem.events).length === 1, 'features');
      expect(features(tandem.events)[0]).toMatchObject({ tandem: false, features: [] });
      await expect(tandem.client.channel('game')).rejects.toMatchObject({ code: 'peer_unsupported' });
      expect(w.fake.stats.channelsOpened).toBe(0);
      // chat still works both ways
      a.client.send('to b');
      b.client.send('to a');
      await until(
        () =>
          a.events.some((e) => e.type === 'message' && e.data === 'to a') &&
          b.events.some((e) => e.type === 'message' && e.data === 'to b'),
        'chat',
      );
    });

  it('a v1 initiator offers chat without the tandem subprotocol; a tandem initiator offers it', async () => {
    const w = world();
    await paired(w, { features: [] }, {});
    expect([...w.fake.peers.values()].map((p) => p.chatProtocol)).toEqual(['', '']);
    const w2 = world();
    await paired(w2);
    expect([...w2.fake.peers.values()].map((p) => p.chatProtocol).sort()).toEqual(['', CHAT_PROTOCOL]);
    await until(() => w2.fake.stats.channelLabels.includes(CONTROL_LABEL), 'control');
  });
});

describe('framing', () => {
  it('max-message-size from SDP (absent: 64 KiB; 0: any size)', () => {
    expect(maxMessageSizeOf('v=0\r\na=max-message-size:262144\r\n')).toBe(262_144);
    expect(maxMessageSizeOf('v=0\r\n')).toBe(65_536);
    expect(maxMessageSizeOf('a=max-message-size:0\r\n')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('any message, cut at any fragment size, comes back whole; fragments never exceed that size', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.uint8Array({ maxLength: 3_000 })), {
          maxLength: 8,
        }),
        fc.integer({ min: 2, max: 4_096 }),
        (messages, size) => {
          const r = new Reassembler(1 << 20);
          const out: (string | Uint8Array)[] = [];
          for (const m of messages)
            for (const f of fragmentsOf(m, size)) {
              expect(f.byteLength).toBeLessThanOrEqual(size);
              const whole = r.push(f);
              if (whole !== null) out.push(whole);
            }
          expect(out).toEqual(messages);
          expect(r.held).toBe(0);
        },
      ),
    );
  });

  it('garbage fragments give a ChannelError, never another throw; held bytes stay under the limit', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.string({ maxLength: 5 })), { maxLength: 30 }),
        (frags) => {
          const r = new Reassembler(1_000);
          for (const f of frags) {
            try {
              r.push(f);
            } catch (err) {
              expect(err).toBeInstanceOf(ChannelError);
              return;
            }
            expect(r.held).toBeLessThanOrEqual(1_000);
          }
        },
      ),
    );
  });
});
