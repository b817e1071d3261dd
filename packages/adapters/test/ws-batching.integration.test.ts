// Write batching on real sockets: the frames the server writes to one client while it handles one
// read go out in one write call, in order, and a burst written in one tick is not taken for a
// client that stopped reading.
import { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createWsServer, type WsTandemServer } from '../src/ws.js';
import { connect, type TestClient } from './ws-client.js';

let server: WsTandemServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

/** Count the write calls the server makes on the socket to the client at `port` while `work` runs. */
async function writesTo(port: number, work: () => Promise<void>): Promise<number> {
  const proto = Socket.prototype as unknown as Record<'_write' | '_writev', (...a: unknown[]) => unknown>;
  const original = { write: proto._write, writev: proto._writev };
  let calls = 0;
  proto._write = function (this: Socket, ...a: unknown[]) {
    if (this.remotePort === port) calls++;
    return original.write.apply(this, a);
  };
  proto._writev = function (this: Socket, ...a: unknown[]) {
    if (this.remotePort === port) calls++;
    return original.writev.apply(this, a);
  };
  try {
    await work();
  } finally {
    proto._write = original.write;
    proto._writev = original.writev;
  }
  return calls;
}

async function pairedClients(settings = {}): Promise<[TestClient, TestClient]> {
  server = createWsServer({ host: '127.0.0.1', port: 0, settings });
  const { port } = await server.ready;
  const a = await connect(`ws://127.0.0.1:${port}`);
  const b = await connect(`ws://127.0.0.1:${port}`);
  a.send({ type: 'pair_request', target_id: b.id });
  await b.next((m) => m['type'] === 'paired', 'paired');
  return [a, b];
}

describe('write batching', () => {
  it('relays a burst from one read to the partner in one write, in order', async () => {
    const [a, b] = await pairedClients();
    const bPort = (b.ws as unknown as { _socket: Socket })._socket.localPort!;
    const burst = 12;
    const calls = await writesTo(bPort, async () => {
      for (let i = 0; i < burst; i++) a.send({ type: 'offer', sdp: `sdp-${i}` }); // one tick: one read on the server
      await b.next((m) => m['sdp'] === `sdp-${burst - 1}`, 'the last offer');
    });
    expect(b.frames.filter((m) => m['type'] === 'offer').map((m) => m['sdp'])).toEqual(
      Array.from({ length: burst }, (_, i) => `sdp-${i}`),
    );
    expect(calls, 'write calls for the burst').toBeLessThanOrEqual(2); // one, unless the read was split
  });

  it('a burst in one tick is not a slow consumer; a client that stopped reading still is', async () => {
    // the cap is below one burst's size, so counting this tick's own bytes would close B at once
    const [a, b] = await pairedClients({
      maxBufferedBytes: 32 * 1024,
      maxFrameBytes: 16 * 1024,
      rateLimitPerSecond: 1e6,
      rateLimitBurst: 1e6,
      rateLimitBytesPerSecond: 1e9,
      rateLimitBytesBurst: 1e9,
    });
    const sdp = 'x'.repeat(12 * 1024);
    for (let i = 0; i < 4; i++) a.send({ type: 'offer', sdp: `${i}${sdp}` }); // 48 KiB: one read, over the cap
    await b.next((m) => typeof m['sdp'] === 'string' && m['sdp'].startsWith('3'), 'the fourth offer');
    expect(server!.stats().slowConsumers).toBe(0);
    // B stops reading: what piles up is seen at the next look, and B is closed
    (b.ws as unknown as { _socket: Socket })._socket.pause();
    for (let round = 0; round < 4000 && server!.stats().slowConsumers === 0; round++) {
      a.send({ type: 'offer', sdp }); // up to 48 MiB: more than loopback's socket buffers hold
      if (round % 16 === 15) await new Promise((r) => setTimeout(r, 1));
    }
    expect(server!.stats().slowConsumers).toBe(1);
  });
});
