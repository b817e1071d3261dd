/// <reference lib="webworker" />
// A page's file work off its main thread, in one dedicated worker (hash-worker.js, bundled on its
// own so a page under `script-src 'self'` can start it):
//  - SHA-256: streaming hashers by id (@noble/hashes), fed by `workerSha256` (file-worker.ts);
//  - writing received parts into the origin-private file system through a sync access handle
//    (`browserFileStore({ worker })`): the bytes go straight to the file, with no swap file and no
//    IPC per write, which `createWritable()` on the main thread costs;
//  - hashing a part as written, read back through the same handle: in one go by WebCrypto up to
//    `oneShot` bytes (one transient buffer of that size), in 4 MiB reads through @noble/hashes past it.
import { sha256 } from '@noble/hashes/sha2';
import { partSha256 } from './part-hash.js';

type Request =
  | { op: 'new'; id: number }
  | { op: 'update'; id: number; bytes: Uint8Array }
  | { op: 'clone'; id: number; to: number }
  | { op: 'digest'; id: number }
  | { op: 'drop'; id: number }
  | { op: 'open'; id: number; dir: string; name: string }
  | { op: 'write'; id: number; bytes: Uint8Array; at: number }
  | { op: 'truncate'; id: number }
  | { op: 'sha256'; id: number; length: number; oneShot: number }
  | { op: 'close'; id: number };

const hashers = new Map<number, ReturnType<typeof sha256.create>>();
const files = new Map<number, FileSystemSyncAccessHandle>();
/** A file's operations run one after another (opening is asynchronous; writes must not pass it). */
const chains = new Map<number, Promise<void>>();
const scope = self as unknown as DedicatedWorkerGlobalScope;

const fileOp = (id: number, run: () => Promise<object> | object) => {
  const next = (chains.get(id) ?? Promise.resolve()).then(run).then(
    (reply) => scope.postMessage({ id, ...reply }),
    (err: unknown) => scope.postMessage({ id, error: err instanceof Error ? err.message : String(err) }),
  );
  chains.set(id, next);
};
const handle = (id: number) => {
  const h = files.get(id);
  if (h === undefined) throw new Error('the part is not open');
  return h;
};

scope.onmessage = (e: MessageEvent<Request>) => {
  const m = e.data;
  switch (m.op) {
    case 'new':
      hashers.set(m.id, sha256.create());
      return;
    case 'update':
      hashers.get(m.id)?.update(m.bytes);
      scope.postMessage({ id: m.id, acked: m.bytes.byteLength });
      return;
    case 'clone': {
      const h = hashers.get(m.id);
      if (h) hashers.set(m.to, h.clone());
      return;
    }
    case 'digest': {
      const h = hashers.get(m.id);
      hashers.delete(m.id);
      scope.postMessage({ id: m.id, digest: h ? h.digest() : null });
      return;
    }
    case 'drop':
      hashers.delete(m.id);
      return;
    case 'open':
      return fileOp(m.id, async () => {
        const root = await navigator.storage.getDirectory();
        const dir = await root.getDirectoryHandle(m.dir, { create: true });
        const file = await dir.getFileHandle(m.name, { create: true });
        const h = await file.createSyncAccessHandle();
        files.set(m.id, h);
        return { size: h.getSize() };
      });
    case 'write':
      return fileOp(m.id, () => {
        let at = m.at;
        for (let done = 0; done < m.bytes.byteLength;) {
          const n = handle(m.id).write(m.bytes.subarray(done), { at });
          if (n <= 0) throw new Error('the disk took no bytes (full?)');
          done += n;
          at += n;
        }
        return { written: m.bytes.byteLength };
      });
    case 'truncate':
      return fileOp(m.id, () => {
        handle(m.id).truncate(0);
        return { truncated: true };
      });
    case 'sha256':
      return fileOp(m.id, async () => ({ sha256: await partSha256(handle(m.id), m.length, m.oneShot) }));
    case 'close':
      return fileOp(m.id, () => {
        const h = files.get(m.id);
        files.delete(m.id);
        chains.delete(m.id);
        if (h !== undefined) {
          h.flush();
          h.close();
        }
        return { closed: true };
      });
  }
};
