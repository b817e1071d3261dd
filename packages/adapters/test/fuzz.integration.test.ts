// Fuzz over real sockets: frames from the protocol's arbitraries, invalid frames, mutated bytes,
// fragmented and oversized frames and random closes, all against one running server on loopback.
// After every run: each bad frame was answered (an error, or a close naming why), a paired
// bystander still relays, a new client still gets an ID, and nothing leaks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { arbClientMessage, arbInvalidClientMessage } from '@tandem/protocol/arbitraries';
import { encode, type ClientMessage } from '@tandem/protocol';
import { createWsServer, type WsTandemServer } from '../src/ws.js';
import { connect, pairUp, type TestClient } from './ws-client.js';

type Act =
  | { kind: 'valid'; message: ClientMessage }
  | { kind: 'invalid'; frame: Record<string, unknown> }
  | { kind: 'mutated'; message: ClientMessage; flips: [number, number][] }
  | { kind: 'fragmented'; message: ClientMessage; cuts: number }
  | { kind: 'oversized'; extra: number }
  | { kind: 'close'; code: number };

const arbAct: fc.Arbitrary<Act> = fc.oneof(
  arbClientMessage().map((message) => ({ kind: 'valid' as const, message })),
  arbInvalidClientMessage().map(({ frame }) => ({ kind: 'invalid' as const, frame })),
  fc.record({
    kind: fc.constant('mutated' as const),
    message: arbClientMessage(),
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
  }),
  fc.record({
    kind: fc.constant('fragmented' as const),
    message: arbClientMessage(),
    cuts: fc.integer({ min: 1, max: 5 }),
  }),
  fc.record({ kind: fc.constant('oversized' as const), extra: fc.integer({ min: 1, max: 100_000 }) }),
  fc.record({ kind: fc.constant('close' as const), code: fc.constantFrom(1000, 1001, 3000, 4999) }),
);

const LIMIT = 8_192;
let server: WsTandemServer;
let url: string;
let a: TestClient;
let b: TestClient;

beforeAll(async () => {
  server = createWsServer({
    host: '127.0.0.1',
    port: 0,
    settings: {
      maxFrameBytes: LIMIT,
      rateLimitPerSecond: 10_000,
      rateLimitBurst: 10_000,
      rateLimitBytesPerSecond: 1e9,
      rateLimitBytesBurst: 1e9,
    },
  });
  url = `ws://127.0.0.1:${(await server.ready).port}`;
  a = await connect(url);
  b = await connect(url);
  await pairUp(a, b);
});
afterAll(() => server.close());

/** Wait until `c` got a frame past `from` or closed; which one. */
async function answer(c: TestClient, from: number): Promise<'frame' | 'closed'> {
  return Promise.race([
    c.next((m) => c.frames.indexOf(m) >= from, 'an answer', 3_000).then(() => 'frame' as const),
    c.closed(3_000).then(() => 'closed' as const),
  ]);
}

describe('fuzz over real sockets', () => {
  it('bad input never harms the server, the sender gets an answer, others carry on', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    let bystanderOffers = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(arbAct, { minLength: 1, maxLength: 5 }), async (acts) => {
        let x = await connect(url);
        for (const act of acts) {
          if (x.ws.readyState !== x.ws.OPEN) x = await connect(url);
          const from = x.frames.length;
          switch (act.kind) {
            case 'valid': {
              x.send(encode(act.message));
              if (!['pong', 'ack', 'leave'].includes(act.message.type)) expect(await answer(x, from)).toBe('frame'); // these get no answer (leave tells the partner, if any)
              break;
            }
            case 'invalid': {
              x.send(act.frame);
              expect(await answer(x, from)).toBe('frame');
              expect(x.frames.at(-1)?.['type']).toBe('error');
              break;
            }
            case 'mutated': {
              const bytes = Buffer.from(encode(act.message));
              for (const [at, value] of act.flips) bytes[at % bytes.length] = value;
              x.ws.send(bytes, { binary: false });
              // valid UTF-8 and JSON by chance may be a pong; anything else gets an error or a close (1007 for bad UTF-8)
              const outcome = await answer(x, from).catch(() => 'silent' as const);
              if (outcome === 'silent') expect(bytes.toString()).toMatch(/pong/);
              break;
            }
            case 'fragmented': {
              const text = encode(act.message);
              const size = Math.ceil(text.length / (act.cuts + 1));
              for (let i = 0; i < text.length; i += size)
                x.ws.send(text.slice(i, i + size), { fin: i + size >= text.length });
              if (!['pong', 'ack', 'leave'].includes(act.message.type)) expect(await answer(x, from)).toBe('frame'); // these get no answer (leave tells the partner, if any)
              break;
            }
            case 'oversized': {
              x.send({ type: 'offer', sdp: 'x'.repeat(LIMIT + act.extra) });
              expect(await x.closed()).toEqual({ code: 1009, reason: `frame too large (limit ${LIMIT} bytes)` });
              break;
            }
            case 'close': {
              x.ws.close(act.code);
              await x.closed();
              break;
            }
          }
        }
        x.ws.close();
        // the bystander pair still relays, and a new client still gets an ID
        a.send({ type: 'offer', sdp: `check-${++bystanderOffers}` });
        await b.next((m) => m['sdp'] === `check-${bystanderOffers}`, 'the bystander relay');
        const fresh = await connect(url);
        fresh.ws.close();
      }),
      { numRuns: 60, seed: 1_405 },
    );
    // nothing leaks: only the bystander pair is left once the fuzz clients' closes land
    for (let i = 0; i < 100 && (server.stats().connections !== 2 || server.gate.connections !== 2); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(server.stats()).toMatchObject({ connections: 2, pairs: 1 });
    expect(server.gate.connections).toBe(2);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  }, 120_000);
});
