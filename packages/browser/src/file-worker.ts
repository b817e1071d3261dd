/// <reference lib="dom" />
// The page's side of hash-worker.js (the file worker): streaming SHA-256 off the main thread, and
// received parts written straight to the origin-private file system through a sync access handle.
import { nobleSha256, type FileSink, type Hasher, type HasherFactory } from '@tandem/client-core';

/** The origin-private folder the parts live in. */
export const PARTS_DIR = 'tandem-parts';

/** Parts written from a worker (hash-worker.ts's `open`/`write`/`truncate`/`close`), one request at a time per part. */
export class WorkerParts {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve(m: Record<string, unknown>): void; reject(e: Error): void }[]>();
  private constructor(private readonly worker: Worker) {
    worker.onmessage = (e: MessageEvent<{ id: number; error?: string } & Record<string, unknown>>) => {
      const m = e.data;
      const w = this.waiting.get(m.id)?.shift();
      if (w === undefined) return;
      if (m.error !== undefined) w.reject(new Error(m.error));
      else w.resolve(m);
    };
    worker.onerror = () => {
      for (const list of this.waiting.values())
        for (const w of list.splice(0)) w.reject(new Error('the file worker failed'));
    };
  }
  static start(url: string | URL): WorkerParts | null {
    try {
      return new WorkerParts(new Worker(url, { type: 'module' }));
    } catch {
      return null;
    }
  }
  private ask(id: number, message: object, transfer: Transferable[] = []): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(id) ?? [];
      this.waiting.set(id, list);
      list.push({ resolve, reject });
      this.worker.postMessage({ id, ...message }, transfer);
    });
  }
  /** Open a part in the worker; resolves to its writer, or rejects where a sync access handle cannot be had. */
  async open(dir: string, name: string) {
    const id = ++this.nextId;
    await this.ask(id, { op: 'open', dir, name });
    return {
      write: (bytes: Uint8Array, at: number) => {
        const copy = bytes.slice();
        return this.ask(id, { op: 'write', bytes: copy, at }, [copy.buffer]).then(() => undefined);
      },
      truncate: () => this.ask(id, { op: 'truncate' }).then(() => undefined),
      sha256: (length: number, oneShot: number) =>
        this.ask(id, { op: 'sha256', length, oneShot }).then((m) => m.sha256 as Uint8Array),
      close: () =>
        this.ask(id, { op: 'close' }).then(() => {
          this.waiting.delete(id);
        }),
    };
  }
}

/**
 * A part written from the worker, and hashed there as written (read back through the worker's
 * handle: WebCrypto in one go up to `oneShot` bytes, streaming past it). Null where the worker
 * cannot open a sync access handle.
 */
export async function workerSink(
  parts: WorkerParts,
  handle: FileSystemFileHandle,
  partName: string,
  size: number,
  oneShot: number,
): Promise<
  (Pick<FileSink, 'held' | 'readHeld' | 'truncate' | 'write' | 'digest'> & { close(): Promise<void> }) | null
> {
  let held = (await handle.getFile()).size;
  let writer: Awaited<ReturnType<WorkerParts['open']>> | null = null;
  let at = held > size ? 0 : held;
  const opened = async () => {
    if (writer === null) {
      writer = await parts.open(PARTS_DIR, partName);
      if (held > size) await writer.truncate();
    }
    return writer;
  };
  // a worker that cannot open the part (no sync access handles here): the caller writes itself
  try {
    const probe = await opened();
    await probe.close();
    writer = null;
  } catch {
    return null;
  }
  if (held > size) held = 0;
  let closed = false;
  return {
    held,
    readHeld: async (o, l) => new Uint8Array(await (await handle.getFile()).slice(o, o + l).arrayBuffer()),
    truncate: async () => {
      await (await opened()).truncate();
      at = 0;
    },
    write: async (bytes) => {
      const w = await opened();
      const from = at;
      at += bytes.byteLength;
      await w.write(bytes, from);
    },
    digest: async (length) => (await opened()).sha256(length, oneShot),
    close: async () => {
      if (closed) return;
      closed = true;
      await writer?.close();
    },
  };
}

/**
 * SHA-256 in a dedicated worker (hash-worker.js, served beside the page), so hashing a file never
 * holds up the page's main thread, where the data channels' messages arrive. `update` posts a
 * copy and returns at once; past `maxQueuedBytes` (default 16 MiB) in flight it waits for the
 * worker. Falls back to hashing on the main thread where a worker cannot start.
 */
export function workerSha256(url: string | URL, options: { maxQueuedBytes?: number } = {}): HasherFactory {
  const maxQueued = options.maxQueuedBytes ?? 16 * 1024 * 1024;
  let worker: Worker | null = null;
  try {
    worker = new Worker(url, { type: 'module' });
  } catch {
    return nobleSha256;
  }
  const w = worker;
  let nextId = 0;
  let queued = 0;
  const drainWaiters: (() => void)[] = [];
  const digests = new Map<number, (d: Uint8Array) => void>();
  let broken = false;
  w.onerror = () => {
    broken = true;
    for (const r of drainWaiters.splice(0)) r();
  };
  w.onmessage = (e: MessageEvent<{ id: number; acked?: number; digest?: Uint8Array | null }>) => {
    const m = e.data;
    if (m.acked !== undefined) {
      queued -= m.acked;
      if (queued <= maxQueued) for (const r of drainWaiters.splice(0)) r();
    }
    if (m.digest !== undefined) {
      digests.get(m.id)?.(m.digest ?? new Uint8Array(32));
      digests.delete(m.id);
    }
  };
  const make = (id: number): Hasher => ({
    update(bytes) {
      const copy = bytes.slice();
      queued += copy.byteLength;
      w.postMessage({ op: 'update', id, bytes: copy }, [copy.buffer]);
      if (queued <= maxQueued || broken) return;
      return new Promise<void>((resolve) => drainWaiters.push(resolve));
    },
    digest() {
      if (broken) return Promise.reject(new Error('the hashing worker failed'));
      return new Promise<Uint8Array>((resolve) => {
        digests.set(id, resolve);
        w.postMessage({ op: 'digest', id });
      });
    },
    clone() {
      const to = ++nextId;
      w.postMessage({ op: 'clone', id, to });
      return make(to);
    },
  });
  return () => {
    const id = ++nextId;
    w.postMessage({ op: 'new', id });
    return make(id);
  };
}
