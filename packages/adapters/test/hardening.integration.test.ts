// The ws binding under abuse, over real sockets on loopback: slow consumers, caps before the
// upgrade, trusted proxies, origins, oversized frames, metrics and health, drain.
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createWsServer, type WsServerOptions, type WsTandemServer } from '../src/ws.js';
import { createMetrics } from '../src/metrics.js';
import { opsHandler } from '../src/ops.js';
import type { Refusal } from '../src/gate.js';
import { connect, pairUp, refusedStatus } from './ws-client.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function serve(
  options: WsServerOptions = {},
): Promise<{ server: WsTandemServer; url: string; refusals: Refusal[] }> {
  const refusals: Refusal[] = [];
  const server = createWsServer({ host: '127.0.0.1', port: 0, onRefused: (r) => refusals.push(r), ...options });
  open.push(server);
  const { port } = await server.ready;
  return { server, url: `ws://127.0.0.1:${port}`, refusals };
}

describe('slow consumers', () => {
  it('a paired client that stops reading is closed once its queue passes the cap; its partner is told and carries on', async () => {
    const cap = 256 * 1024;
    const { server, url } = await serve({
      settings: {
        maxBufferedBytes: cap,
        rateLimitPerSecond: 10_000,
        rateLimitBurst: 10_000,
        rateLimitBytesPerSecond: 1e9,
        rateLimitBytesBurst: 1e9,
      },
    });
    const sender = await connect(url);
    const reader = await connect(url);
    await pairUp(sender, reader);
    (reader.ws as unknown as { _socket: { pause(): void } })._socket.pause(); // stops reading: the kernel buffers fill, then ws's
    const sdp = 'v=0 '.repeat(15_000); // 60 kB
    for (let i = 0; i < 600 && server.stats().slowConsumers === 0; i++) {
      sender.send({ type: 'offer', sdp });
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5));
    }
    const told = await sender.next(
      (m) => m['type'] === 'peer_disconnected',
      'peer_disconnected for the slow reader',
      10_000,
    );
    expect(told['peer_id']).toBe(reader.id);
    expect(server.stats()).toMatchObject({ slowConsumers: 1, pairs: 0 });
    expect(server.engine.connection(reader.id)).toBeUndefined();
    // the sender's connection is unharmed
    sender.send({ type: 'pair_request', target_id: 'nobody' });
    await sender.next((m) => m['message'] === 'Target client not found', 'an answer after the partner was closed');
  });
});

describe('admission before the upgrade', () => {
  it('caps connections per address (429) and in all (503), counting closes', async () => {
    const { url, refusals } = await serve({ limits: { maxConnections: 3, maxConnectionsPerIp: 2 } });
    const a1 = await connect(url);
    await connect(url);
    expect(await refusedStatus(url)).toEqual({ status: 429, body: 'too many connections from 127.0.0.1 (limit 2)' });
    await connect(url, { localAddress: '127.0.0.2' });
    expect((await refusedStatus(url, { localAddress: '127.0.0.3' })).status).toBe(503);
    expect(refusals.map((r) => [r.reason, r.address])).toEqual([
      ['max_connections_per_ip', '127.0.0.1'],
      ['max_connections', '127.0.0.3'],
    ]);
    a1.ws.close();
    await a1.closed();
    await new Promise((r) => setTimeout(r, 50));
    await connect(url); // a freed slot is reused
  });
  it('reads X-Forwarded-For only from a trusted proxy', async () => {
    const trusting = await serve({ limits: { maxConnectionsPerIp: 1, trustProxy: ['127.0.0.1'] } });
    await connect(trusting.url, { headers: { 'x-forwarded-for': '203.0.113.5' } });
    expect(
      await refusedStatus(trusting.url, { headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.5' } }),
    ).toMatchObject({ status: 429 });
    expect(trusting.refusals[0]?.address).toBe('203.0.113.5');
    await connect(trusting.url, { headers: { 'x-forwarded-for': '203.0.113.6' } });
    // from an untrusted peer the header is ignored: the socket address is counted
    const plain = await serve({ limits: { maxConnectionsPerIp: 1 } });
    await connect(plain.url, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(await refusedStatus(plain.url, { headers: { 'x-forwarded-for': '203.0.113.8' } })).toMatchObject({
      status: 429,
    });
    expect(plain.refusals[0]?.address).toBe('127.0.0.1');
  });
  it('refuses origins outside the allowlist with 403; non-browser clients (no Origin) pass', async () => {
    const { url, refusals } = await serve({ limits: { allowOrigins: ['https://chat.example.com', '*.example.org'] } });
    await connect(url, { origin: 'https://chat.example.com' });
    await connect(url, { origin: 'https://eu.app.example.org' });
    await connect(url);
    for (const origin of [
      'https://evil.example',
      'http://chat.example.com',
      'https://example.org',
      'https://chat.example.com.evil.example',
    ]) {
      expect(await refusedStatus(url, { origin }), origin).toMatchObject({ status: 403 });
    }
    expect(refusals.every((r) => r.reason === 'origin')).toBe(true);
  });
});

describe('oversized frames', () => {
  it('are closed with 1009 and the limit in words; others carry on', async () => {
    const { server, url } = await serve({ settings: { maxFrameBytes: 4096 } });
    const big = await connect(url);
    const bystander = await connect(url);
    big.send({ type: 'offer', sdp: 'x'.repeat(10_000) });
    expect(await big.closed()).toEqual({ code: 1009, reason: 'frame too large (limit 4096 bytes)' });
    bystander.send({ type: 'pair_request', target_id: 'nobody' });
    await bystander.next((m) => m['message'] === 'Target client not found', 'bystander answer');
    expect(server.stats().errorsByCode).toEqual({ too_large: 1, target_not_found: 1 });
  });
});

describe('operator endpoints', () => {
  it('/healthz, /readyz and /metrics; draining turns readiness off, closes clients with 1012 and refuses new ones with 503', async () => {
    let tandem: WsTandemServer | null = null;
    const metrics = createMetrics(() => tandem!.stats());
    const ops = opsHandler({ ready: () => tandem!.accepting, metrics });
    const http: Server = createServer((req, res) => {
      if (!ops(req, res)) res.writeHead(404).end();
    });
    tandem = createWsServer({
      server: http,
      hooks: { frameArrived: () => metrics.frameArrived() },
      log: (e) => metrics.observe(e),
      wantsLog: metrics.wants,
      onRefused: metrics.refused,
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
    const url = base.replace('http', 'ws');
    try {
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const a = await connect(url);
      const b = await connect(url);
      await pairUp(a, b);
      a.send({ type: 'offer', sdp: 'o' });
      await b.next((m) => m['type'] === 'offer', 'offer');
      a.send('not json');
      await a.next((m) => m['type'] === 'error', 'error');
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(text).toMatch(/^tandem_connections 2$/m);
      expect(text).toMatch(/^tandem_pairs 1$/m);
      expect(text).toMatch(/^tandem_relayed_total\{type="offer"\} 1$/m);
      expect(text).toMatch(/^tandem_errors_total\{code="invalid_json"\} 1$/m);
      expect(text).toMatch(/^tandem_pair_latency_seconds_count 1$/m);
      expect(text).toMatch(/^tandem_refused_connections_total\{reason="origin"\} 0$/m);
      expect(text).toMatch(/^tandem_slow_consumer_closes_total 0$/m);
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
      const drained = tandem.drain(2_000);
      expect(await a.closed()).toEqual({ code: 1012, reason: 'server draining: reconnect' });
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect(await refusedStatus(url)).toMatchObject({ status: 503 });
      await drained;
      expect(await (await fetch(`${base}/metrics`)).text()).toMatch(
        /^tandem_refused_connections_total\{reason="draining"\} 1$/m,
      );
    } finally {
      await tandem.close();
      await new Promise((r) => http.close(r));
    }
  });
});
