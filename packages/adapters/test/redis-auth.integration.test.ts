// A cluster behind a Redis that wants a password (ACL user, the default user off): the node joins
// with the credential from the URL, pairs and relays; a wrong password never joins; and neither
// credential reaches the log. Over TLS (rediss://), a node joins a redis-server whose certificate it
// trusts, and one that does not trust it never joins.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, start } from './procs.js';
import { connect } from './ws-client.js';
import { startRedis, stopAllRedis, type RedisProc } from './redis.js';

const PASSWORD = 'n0t-in-any-log';
let redis: RedisProc;
beforeAll(async () => {
  redis = await startRedis({ acl: { user: 'tandem', password: PASSWORD } });
}, 30_000);
afterAll(async () => {
  await killAll();
  await stopAllRedis();
});

const node = (url: string) =>
  start('tandem-server', ['--port', '0', '--redis', url, '--no-demo', '--log-level', 'info']);

describe('Redis with a password', () => {
  it('joins with the URL credential, pairs and relays; the log shows the URL without it', async () => {
    const proc = node(redis.url);
    const listening = await proc.waitFor(/Listening on (ws:\/\/\S+)/);
    const ready = await proc.waitFor(/Cluster node \S+ is ready \(Redis (\S+)\)/);
    expect(ready[1]).toBe(`redis://***:***@127.0.0.1:${redis.port}`);
    const a = await connect(listening[1]!);
    const b = await connect(listening[1]!);
    a.send({ type: 'pair_request', target_id: b.id });
    await b.next((m) => m['type'] === 'paired', 'paired');
    a.send({ type: 'offer', sdp: 'through an authenticated Redis' });
    await b.next((m) => m['sdp'] === 'through an authenticated Redis', 'the relayed offer');
    expect(proc.lines.filter((l) => l.includes(PASSWORD))).toEqual([]);
  });

  it('a wrong password never joins, says why, and does not log either password', async () => {
    const wrong = redis.url.replace(encodeURIComponent(PASSWORD), 'wrong-pass-also-secret');
    const proc = node(wrong);
    await proc.waitFor(/WRONGPASS|invalid username-password/i, 10_000);
    expect(proc.count(/Cluster node \S+ is ready/)).toBe(0);
    expect(proc.lines.filter((l) => l.includes(PASSWORD) || l.includes('wrong-pass-also-secret'))).toEqual([]);
  });
});

describe('Redis over TLS (rediss://)', () => {
  it('a node joins a TLS-only redis-server it trusts (NODE_EXTRA_CA_CERTS), pairs and relays; one that does not trust it never joins', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-redis-tls-'));
    const f = (name: string) => join(dir, name);
    const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=test CA',
      '-keyout',
      f('ca.key'),
      '-out',
      f('ca.pem'),
    );
    ssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      f('redis.key'),
      '-out',
      f('redis.csr'),
    );
    writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    ssl(
      'x509',
      '-req',
      '-in',
      f('redis.csr'),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      f('san.ext'),
      '-out',
      f('redis.pem'),
    );
    const tlsRedis = await startRedis({ tls: { cert: f('redis.pem'), key: f('redis.key'), ca: f('ca.pem') } });
    expect(tlsRedis.url).toMatch(/^rediss:\/\//);
    const args = ['--port', '0', '--redis', tlsRedis.url, '--no-demo'];
    const trusted = start('tandem-server', args, { env: { NODE_EXTRA_CA_CERTS: f('ca.pem') } });
    const listening = await trusted.waitFor(/Listening on (ws:\/\/\S+)/);
    await trusted.waitFor(/Cluster node \S+ is ready/);
    const a = await connect(listening[1]!);
    const b = await connect(listening[1]!);
    a.send({ type: 'pair_request', target_id: b.id });
    await b.next((m) => m['type'] === 'paired', 'paired');
    a.send({ type: 'offer', sdp: 'through TLS' });
    await b.next((m) => m['sdp'] === 'through TLS', 'the relayed offer');
    // without the CA, the certificate is not trusted: it never joins, and says why
    const untrusted = start('tandem-server', args);
    await untrusted.waitFor(/certificate|self[- ]signed|unable to verify/i, 10_000);
    expect(untrusted.count(/Cluster node \S+ is ready/)).toBe(0);
  }, 60_000);
});
