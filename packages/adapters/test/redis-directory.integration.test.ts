// The Redis directory meets the same directory contract as the in-memory one, against a real
// redis-server (started on a free port; scripts/ensure-redis.sh installs it).
import { afterAll, beforeAll } from 'vitest';
import { describeDirectoryContract } from '@tandem/server-core/directory-contract';
import { RedisDirectory } from '../src/redis-directory.js';
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
