// The in-memory directory meets the directory contract (the Redis one runs the same suite).
import { describeDirectoryContract } from './testing/directory-contract.js';
import { InMemoryDirectory, MemoryHub } from './directory/memory-directory.js';

describeDirectoryContract(
  'InMemoryDirectory',
  async (n) => {
    const hub = new MemoryHub();
    const directories = Array.from({ length: n }, (_, i) => new InMemoryDirectory(hub, `node-${i}`));
    return { directories, kill: async (i) => hub.kill(directories[i]!.node), close: async () => undefined };
  },
  { noticeDeathMs: 100 },
);
