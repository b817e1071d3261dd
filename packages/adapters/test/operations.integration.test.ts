// tandem-server as operators run it: escaped text logs, TLS, the admin port, the non-loopback
// warning, and SIGTERM drain. Real processes, real sockets on loopback.
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAll, start, startServer } from './procs.js';
import { connect, type TestClient } from './ws-client.js';

afterEach(killAll);

describe('tandem-server operations', () => {
  it('text logs escape client strings: a newline in target_id or type cannot forge a line', async () => {
    const { server, url } = await startServer(['--log-full-ids']); // so the target ID is shown as sent
    const a = await connect(url);
    a.send({ type: 'pair_request', target_id: 'x\nClient FORGED connected.' });
    a.send('{"type":"offer\\nClient FORGED2 connected.","sdp":"x"}');
    await a.next((m) => m['type'] === 'error' && String(m['message']).includes('FORGED2'), 'error for the forged type');
    // (keys are read in lower case, so the target is logged as it was looked up)
    await server.waitFor(/Pair request from .* for x\\nclient forged connected\. failed: Target client not found$/i);
    await server.waitFor(/Rejected frame from .*FORGED2/);
    expect(server.lines.filter((l) => /^Client FORGED2? connected\.$/.test(l))).toEqual([]);
  });

  it('serves wss:// and https:// from one port with --tls-cert/--tls-key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-tls-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const server = start('tandem-server', ['--port', '0', '--tls-cert', cert, '--tls-key', key]);
    const url = (await server.waitFor(/Listening on (wss:\/\/\S+)/))[1]!;
    const ca = readFileSync(cert);
    const a = await connect(url, { ca });
    expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
    const health = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      request(`${url.replace('wss', 'https')}/healthz`, { ca }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
        .on('error', reject)
        .end();
    });
    expect(health).toEqual({ status: 200, body: 'ok\n' });
    await expect(connect(url)).rejects.toThrow(/self-signed|certificate/); // no CA: refused, as it must be
  });

  it('refuses a half-given TLS setting at start', async () => {
    const server = start('tandem-server', ['--port', '0', '--tls-cert', '/nonexistent.pem']);
    await server.waitFor(/--tls-cert and --tls-key go together/);
    expect(await server.kill()).not.toBe(0);
  });

  it('--admin-port serves health and metrics there only', async () => {
    const { server, url } = await startServer(['--admin-port', '0']);
    const admin = (await server.waitFor(/Admin endpoints on (http:\/\/\S+?)\/ /))[1]!;
    const metrics = await fetch(`${admin}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^tandem_connections 0$/m);
    expect((await fetch(`${admin}/readyz`)).status).toBe(200);
    expect((await fetch(`${url.replace('ws', 'http')}/metrics`)).status).toBe(404);
  });

  it('warns once when bound beyond loopback without --allow-origin, and not with it', async () => {
    const open = start('tandem-server', ['--port', '0', '--host', '0.0.0.0']);
    await open.waitFor(/Listening on/);
    expect(open.count(/^Warning: listening on 0\.0\.0\.0 and accepting any browser origin/)).toBe(1);
    await open.kill();
    const pinned = start('tandem-server', [
      '--port',
      '0',
      '--host',
      '0.0.0.0',
      '--allow-origin',
      'https://chat.example.com',
    ]);
    await pinned.waitFor(/Listening on/);
    expect(pinned.count(/Warning/)).toBe(0);
    const local = await startServer();
    expect(local.server.count(/Warning/)).toBe(0);
  });

  it('by default stays under its file limit: past the cap clients get 503 and a log line, and the server carries on', async () => {
    // a file limit of 400 makes the default cap 300 connections, leaving 100 files for the process
    const { server, url } = await startServer([], { fileLimit: 400 });
    const clients = await Promise.allSettled(
      Array.from({ length: 330 }, (_, i) => connect(url, { localAddress: `127.0.0.${2 + (i % 50)}` }, 10_000)),
    );
    const open = clients
      .filter((c) => c.status === 'fulfilled')
      .map((c) => (c as PromiseFulfilledResult<TestClient>).value);
    const refused = clients
      .filter((c) => c.status === 'rejected')
      .map((c) => String((c as PromiseRejectedResult).reason));
    expect(open).toHaveLength(300);
    expect(refused).toHaveLength(30);
    expect(new Set(refused)).toEqual(new Set(['Error: HTTP 503: server full (limit 300 connections)']));
    await server.waitFor(/^Refused connection from 127\.0\.0\.\d+: 503 server full \(limit 300 connections\)$/);
    for (const c of open.slice(0, 10)) c.ws.close();
    await Promise.all(open.slice(0, 10).map((c) => c.closed()));
    await new Promise((r) => setTimeout(r, 100));
    const again = await connect(url);
    again.send({ type: 'pair_request', target_id: open[20]!.id });
    await again.next((m) => m['type'] === 'paired', 'pairing still works at the cap');
  });

  it('SIGTERM drains: readiness off, clients closed with 1012 (reconnect elsewhere), exit 0', async () => {
    const { server, url } = await startServer(['--drain-timeout', '5']);
    const a = await connect(url);
    const b = await connect(url);
    const closes = Promise.all([a.closed(), b.closed()]);
    server.child.kill('SIGTERM');
    expect(await closes).toEqual([
      { code: 1012, reason: 'server draining: reconnect' },
      { code: 1012, reason: 'server draining: reconnect' },
    ]);
    await server.waitFor(/^Server stopped\.$/); // (a second SIGTERM would mean "exit now")
    expect(await server.kill()).toBe(0);
    expect(server.lines).toContain('Received SIGTERM; draining (up to 5 s).');
    expect(server.lines.at(-1)).toBe('Server stopped.');
  });
});
