// The Redis directory meets the same directory contract as the in-memory one, against a real
// redis-server (started on a free port; scripts/ensure-redis.sh installs it).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import type { NodeMessage } from '@tandem/server-core';
import { describeDirectoryContract } from '@tandem/server-core/directory-contract';
import { RedisDirectory, type RedisDirectoryEvent } from '../src/redis-directory.js';
import { startRedis, stopAllRedis, type RedisProc } from './redis.js';

const LEASE_MS = 600;
let redis: RedisProc;
beforeAll(async () => {
  redis = await startRedis();
}, 30_000);
afterAll(stopAllRedis);

let cluster = 0;
describeDirectoryContract(
  'RedisDirectory',
  async (n) => {
    // each test its own key space in the one Redis
    const prefix = `contract${++cluster}:`;
    const directories = Array.from(
      { length: n },
      (_, i) =>
        new RedisDirectory({ url: redis.url, prefix, node: `node-${i}`, leaseTtlMs: LEASE_MS, reapIntervalMs: 100 }),
    );
    await Promise.all(directories.map((d) => d.start()));
    const dead = new Set<number>();
    return {
      directories,
      kill: async (i) => {
        dead.add(i);
        directories[i]!.crash();
      },
      close: async () => {
        await Promise.all(directories.filter((_, i) => !dead.has(i)).map((d) => d.close()));
      },
    };
  },
  { noticeDeathMs: LEASE_MS + 2000, raceRuns: 25 },
);

describe('the node channel', () => {
  it('drops and counts what is not a node message, and carries on with what is', async () => {
    const prefix = `channel${++cluster}:`;
    const events: RedisDirectoryEvent[] = [];
    const [a, b] = [0, 1].map(
      (i) =>
        new RedisDirectory({
          url: redis.url,
          prefix,
          node: `node-${i}`,
          ...(i === 1 ? { onEvent: (e: RedisDirectoryEvent) => events.push(e) } : {}),
        }),
    ) as [RedisDirectory, RedisDirectory];
    const got: NodeMessage[] = [];
    const listener = {
      message: (m: NodeMessage) => got.push(m),
      reset: () => [],
      handover: () => ({ ok: false, why: 'no' }) as const,
    };
    a.listen(listener);
    b.listen(listener);
    await Promise.all([a.start(), b.start()]);
    const raw = new Redis(redis.url);
    try {
      const garbage = [
        'not json',
        '{"t":"m","m":{"type":"paired","to":"x"}}', // fields missing
        '{"t":"m","m":{"type":"teleport","to":"x"}}',
        '{"t":"given","ticket":"t","result":{"ok":true}}', // a session that is not one
        '{"t":"take","ticket":"t","from":"node-0","key":"k","secret":"s","received":-1}',
        'S\nonly a header',
        'Sto\nfrom\n7\nbogus\n{}', // not a signal type
        '[]',
      ];
      for (const text of garbage) await raw.publish(`${prefix}ch:node-1`, text);
      a.post('node-1', { type: 'peer_left', to: 'someone', peer: 'other', epoch: '7' });
      a.post('node-1', {
        type: 'signal',
        to: 'someone',
        from: 'other',
        epoch: '7',
        messageType: 'offer',
        frame: '{"type":"offer","sdp":"x\\ny","from_peer":true}',
      });
      await vi.waitFor(() => expect(got).toHaveLength(2), { timeout: 5000 });
      expect(got).toEqual([
        { type: 'peer_left', to: 'someone', peer: 'other', epoch: '7' },
        {
          type: 'signal',
          to: 'someone',
          from: 'other',
          epoch: '7',
          messageType: 'offer',
          frame: '{"type":"offer","sdp":"x\\ny","from_peer":true}',
        },
      ]);
      expect(b.invalidMessages).toBe(garbage.length);
      // reported at most once per invalidReportMs (10 s by default): the first at once, the rest counted
      const errors = events.filter((e) => e.type === 'error');
      expect(errors).toEqual([
        { type: 'error', error: expect.stringMatching(/^unreadable message on the node channel dropped: not JSON/) },
      ]);
    } finally {
      raw.disconnect();
      await Promise.all([a.close(), b.close()]);
    }
  });
});
