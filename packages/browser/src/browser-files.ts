/// <reference lib="dom" />
// Files on a page, for client-core's transfers: a picked or dropped File as a source, received
// files in the origin-private file system (or memory), and SHA-256 in a worker.
import {
  nobleSha256,
  numberedName,
  safeFileName,
  type FileOffer,
  type FileSink,
  type FileSource,
  type Hasher,
  type HasherFactory,
  type OfferDecision,
} from '@tandem/client-core';

/** A `File` or `Blob` picked or dropped on a page, as a transfer's source (read a slice at a time). */
export function browserFileSource(file: Blob, name = (file as File).name ?? 'file'): FileSource {
  return {
    name,
    size: file.size,
    type: file.type,
    read: async (offset, length) => new Uint8Array(await file.slice(offset, offset + length).arrayBuffer()),
  };
}

/** Settings of a page's received files. */
export interface BrowserFileStoreOptions {
  /** Offers larger than this are declined. Default 4 GiB with the origin-private file system, else `memoryLimit`. */
  readonly maxFileSize?: number;
  /** Without the origin-private file system, files are held in memory up to this size. Default 512 MiB. */
  readonly memoryLimit?: number;
  /**
   * The URL of hash-worker.js: parts are then written from that worker through a sync access
   * handle, straight to the file (no swap file, no IPC per write, nothing on the page's main
   * thread). Without it, or where the worker cannot open one, the page writes with `createWritable()`.
   */
  readonly worker?: string | URL;
}

/** Parts written from a worker (hash-worker.ts's `open`/`write`/`truncate`/`close`), one request at a time per part. */
class WorkerParts {
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
      close: () =>
        this.ask(id, { op: 'close' }).then(() => {
          this.waiting.delete(id);
        }),
    };
  }
}

/** What a page's store hands back for a saved file: a File to link to or save. */
export interface SavedFile {
  readonly name: string;
  readonly file: Blob;
}

/**
 * Received files for a page. Where the browser has the origin-private file system (Chromium,
 * headless too) each file is written there as it arrives, a part at a time, and a cut transfer
 * resumes from the part even after a reload; elsewhere it is held in memory up to `memoryLimit`.
 * `saved(name)` gives the finished file (for a download link, or `showSaveFilePicker`).
 */
export function browserFileStore(options: BrowserFileStoreOptions = {}): {
  decide: (offer: FileOffer) => Promise<OfferDecision>;
  saved(name: string): Blob | undefined;
  readonly kind: Promise<'opfs' | 'memory'>;
  /** Who writes the part accepted last: the file worker, the page (`createWritable()`), or memory; null before any. */
  readonly writer: 'worker' | 'page' | 'memory' | null;
} {
  const memoryLimit = options.memoryLimit ?? 512 * 1024 ** 2;
  const parts = options.worker === undefined ? null : WorkerParts.start(options.worker);
  const files = new Map<string, Blob>();
  const memoryParts = new Map<string, Blob[]>();
  const root: Promise<FileSystemDirectoryHandle | null> = (async () => {
    try {
      const dir = await navigator.storage.getDirectory();
      return await dir.getDirectoryHandle('tandem-parts', { create: true });
    } catch {
      return null;
    }
  })();
  const kind = root.then((r): 'opfs' | 'memory' => (r === null ? 'memory' : 'opfs'));
  let writer: 'worker' | 'page' | 'memory' | null = null;
  const freeName = (name: string) => {
    let n = 0;
    while (files.has(numberedName(name, n))) n++;
    return numberedName(name, n);
  };
  async function decide(offer: FileOffer): Promise<OfferDecision> {
    const dir = await root;
    const max = options.maxFileSize ?? (dir === null ? memoryLimit : 4 * 1024 ** 3);
    if (offer.size > max) return { decline: `too large (${offer.size} bytes; this page takes at most ${max})` };
    const clean = safeFileName(offer.name);
    // the part's name says whose file it is: the same file from the same sender resumes
    const partName = `${offer.sha256}-${offer.size}-${offer.from.replace(/[^0-9a-zA-Z]/g, '').slice(0, 40)}.part`;
    if (dir === null) {
      writer = 'memory';
      const parts = memoryParts.get(partName) ?? [];
      memoryParts.set(partName, parts);
      const held = parts.reduce((n, b) => n + b.size, 0);
      const sink: FileSink = {
        held,
        readHeld: async (o, l) => new Uint8Array(await new Blob(parts).slice(o, o + l).arrayBuffer()),
        truncate: async () => void parts.splice(0),
        write: async (bytes) => void parts.push(new Blob([bytes as Uint8Array<ArrayBuffer>])),
        commit: async () => {
          const name = freeName(clean);
          files.set(name, new Blob(parts, { type: offer.type }));
          memoryParts.delete(partName);
          return name;
        },
        abort: async (keep) => void (keep || memoryParts.delete(partName)),
      };
      return { accept: sink };
    }
    const handle = await dir.getFileHandle(partName, { create: true });
    const fromWorker = parts === null ? null : await workerSink(parts, handle, partName, offer.size);
    writer = fromWorker === null ? 'page' : 'worker';
    if (fromWorker !== null)
      return {
        accept: {
          ...fromWorker,
          commit: async () => {
            await fromWorker.commit();
            const name = freeName(clean);
            files.set(name, new Blob([await handle.getFile()], { type: offer.type }));
            return name;
          },
          abort: async (keep) => {
            await fromWorker.commit().catch(() => undefined);
            if (!keep) await dir.removeEntry(partName).catch(() => undefined);
          },
        },
      };
    let held = (await handle.getFile()).size;
    const writable = await handle.createWritable({ keepExistingData: true });
    if (held > offer.size) {
      await writable.truncate(0);
      held = 0;
    }
    await writable.seek(held);
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await writable.close();
    };
    const sink: FileSink = {
      held,
      readHeld: async (o, l) => new Uint8Array(await (await handle.getFile()).slice(o, o + l).arrayBuffer()),
      truncate: async () => {
        await writable.truncate(0);
        await writable.seek(0);
      },
      write: async (bytes) => writable.write(bytes as Uint8Array<ArrayBuffer>),
      commit: async () => {
        await close();
        const name = freeName(clean);
        const file = await handle.getFile();
        files.set(name, new Blob([file], { type: offer.type }));
        return name;
      },
      abort: async (keep) => {
        await close().catch(() => undefined);
        if (!keep) await dir.removeEntry(partName).catch(() => undefined);
      },
    };
    return { accept: sink };
  }
  return {
    decide,
    saved: (name) => files.get(name),
    kind,
    get writer() {
      return writer;
    },
  };
}

/**
 * A part written from the worker. The part's held bytes are read (to hash the prefix) before the
 * worker opens it: a sync access handle locks the file. Null where the worker cannot open one.
 */
async function workerSink(
  parts: WorkerParts,
  handle: FileSystemFileHandle,
  partName: string,
  size: number,
): Promise<(Pick<FileSink, 'held' | 'readHeld' | 'truncate' | 'write'> & { commit(): Promise<void> }) | null> {
  let held = (await handle.getFile()).size;
  let writer: Awaited<ReturnType<WorkerParts['open']>> | null = null;
  let at = held > size ? 0 : held;
  const opened = async () => {
    if (writer === null) {
      writer = await parts.open('tandem-parts', partName);
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
    commit: async () => {
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
