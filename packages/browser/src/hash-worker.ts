/// <reference lib="webworker" />
// SHA-256 off the page's main thread: a dedicated worker holding streaming hashers by id
// (@noble/hashes), fed by `workerSha256` in browser.ts. Bundled on its own (hash-worker.js), so a
// page under `script-src 'self'` can start it.
import { sha256 } from '@noble/hashes/sha2';

type Request =
  | { op: 'new'; id: number }
  | { op: 'update'; id: number; bytes: Uint8Array }
  | { op: 'clone'; id: number; to: number }
  | { op: 'digest'; id: number }
  | { op: 'drop'; id: number };

const hashers = new Map<number, ReturnType<typeof sha256.create>>();
const scope = self as unknown as DedicatedWorkerGlobalScope;
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
  }
};
