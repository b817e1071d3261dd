// Cluster mode: tandem-conformance --url A --url B against two tandem-server nodes sharing a real
// redis-server. Every case runs with its clients spread across the nodes, so each pair crosses
// them; every case must pass, or be skipped for a stated reason.
import { runCli, verdictLines } from './run-cli.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, start, type Proc } from '../../packages/adapters/test/procs.js';
import { startRedis, stopAllRedis, type RedisProc } from '../../packages/adapters/test/redis.js';

let redis: RedisProc;
const nodes: { proc: Proc; url: string }[] = [];
beforeAll(async () => {
  redis = await startRedis();
  for (let i = 0; i < 2; i++) {
    const proc = start('tandem-server', [
      '--port',
      '0',
      '--redis',
      redis.url,
      '--ping-interval',
      '1',
      '--ping-timeout',
      '1',
      '--no-demo',
      '--log-level',
      'info',
    ]);
    const m = await proc.waitFor(/Listening on (ws:\/\/\S+)/);
    nodes.push({ proc, url: m[1]! });
  }
}, 60_000);
afterAll(async () => {
  await killAll();
  await stopAllRedis();
});

describe('tandem-conformance in cluster mode', () => {
  it('passes every case against two nodes, with every pair split across them', async () => {
    const { code, out } = await runCli([
      '--url',
      nodes[0]!.url,
      '--url',
      nodes[1]!.url,
      '--ping-interval',
      '1',
      '--ping-timeout',
      '1',
      '--tolerance',
      '1000',
    ]);
    const lines = out.split('\n');
    const verdicts = verdictLines(out);
    expect(verdicts.length, out).toBeGreaterThanOrEqual(18);
    expect(
      verdicts.filter((l) => !l.startsWith('PASS') && !l.startsWith('SKIP')),
      out,
    ).toEqual([]);
    // the only skips are extensions a cluster node does not advertise, with the reason
    for (const l of verdicts.filter((v) => v.startsWith('SKIP'))) expect(l).toMatch(/skipped: /);
    expect(out).toMatch(/^\d+ passed, 0 failed, \d+ skipped$/m);
    // pairing by code runs across the nodes too: a nameplate held on one, claimed from the other, burnt for both
    for (const name of ['claim_pairs_and_confirming_releases', 'failed_confirmation_burns_the_nameplate'])
      expect(verdicts.find((v) => v.includes(`ext.codes.${name}`)) ?? '', out).toMatch(/^PASS/);
    expect(code).toBe(0);
    // the clients really were spread: pairs crossed, so each node relayed to partners it does not hold
    for (const n of nodes) {
      const log = n.proc.lines.join('\n');
      expect(log).not.toMatch(/Lost Redis|Cannot listen/);
      expect(n.proc.count(/^Paired /)).toBeGreaterThan(5);
    }
  }, 180_000);
});
