// A cluster behind a Redis that wants a password (ACL user, the default user off): the node joins
// with the credential from the URL, pairs and relays; a wrong password never joins; and neither
// credential reaches the log.
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
