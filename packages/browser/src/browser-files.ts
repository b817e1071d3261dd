/// <reference lib="dom" />
// Files on a page, for client-core's transfers: a picked or dropped File as a source, and received
// files in the origin-private file system (written by the file worker, or the page) or memory.
import {
  numberedName,
  safeFileName,
  type FileOffer,
  type FileSink,
  type FileSource,
  type OfferDecision,
} from '@tandem/client-core';
import { PARTS_DIR, WorkerParts, workerSink } from './file-worker.js';

export { workerSha256 } from './file-worker.js';

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
      return await dir.getDirectoryHandle(PARTS_DIR, { create: true });
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
            await fromWorker.close();
            const name = freeName(clean);
            files.set(name, new Blob([await handle.getFile()], { type: offer.type }));
            return name;
          },
          abort: async (keep) => {
            await fromWorker.close().catch(() => undefined);
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
