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

/** Files up to this size are hashed in one go by WebCrypto (one transient buffer of their size). */
export const ONE_SHOT_HASH_BYTES = 256 * 1024 * 1024;

/**
 * SHA-256 of a blob's first `length` bytes by WebCrypto, in one go: 10× the streaming hasher, for
 * one transient buffer of `length` bytes. Null past `limit`, or outside a secure context (no `crypto.subtle`).
 */
async function blobSha256(blob: Blob, length: number, limit: number): Promise<Uint8Array | null> {
  if (length > limit || globalThis.crypto?.subtle === undefined) return null;
  return new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.slice(0, length).arrayBuffer()));
}

/** Settings of a page's file source. */
export interface BrowserFileSourceOptions {
  /**
   * Up to this size the file is hashed in one go by WebCrypto (one transient buffer of its size);
   * larger files, or every file with 0, stream through the transfer's `createHash`. Default 256 MiB.
   */
  readonly oneShotHashBytes?: number;
  /**
   * The file is read this many bytes at a time (one Blob read each, an IPC round with the browser
   * process) and handed out a chunk at a time: the most a sending transfer holds. Default 4 MiB.
   */
  readonly readBytes?: number;
}

/** A `File` or `Blob` picked or dropped on a page, as a transfer's source (read a slice at a time). */
export function browserFileSource(
  file: Blob,
  name = (file as File).name ?? 'file',
  options: BrowserFileSourceOptions = {},
): FileSource {
  const limit = options.oneShotHashBytes ?? ONE_SHOT_HASH_BYTES;
  const blockBytes = options.readBytes ?? 4 * 1024 * 1024;
  let block: { at: number; bytes: Uint8Array } | null = null;
  const oneShot = file.size <= limit && globalThis.crypto?.subtle !== undefined;
  return {
    name,
    size: file.size,
    type: file.type,
    read: async (offset, length) => {
      // one Blob read per block, not per chunk: each read is a round of IPC with the browser process
      if (block === null || offset < block.at || offset + length > block.at + block.bytes.byteLength) {
        if (length >= blockBytes) return new Uint8Array(await file.slice(offset, offset + length).arrayBuffer());
        const at = offset;
        block = { at, bytes: new Uint8Array(await file.slice(at, Math.min(file.size, at + blockBytes)).arrayBuffer()) };
      }
      const from = offset - block.at;
      return block.bytes.slice(from, from + length);
    },
    close: async () => {
      block = null;
    },
    ...(oneShot && {
      digest: async (length: number) =>
        (await blobSha256(file, length, limit)) ?? Promise.reject(new Error('no WebCrypto')),
    }),
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
  /**
   * Received files are checked against their hash as written, read back: the file worker reads
   * the part through its handle and hashes it by WebCrypto in one go up to this size (one
   * transient buffer of the file's size, in the worker), in 4 MiB reads past it. Without the
   * worker, files up to this size are read back and hashed by WebCrypto on the page; larger ones
   * are hashed as they arrive, through the transfer's `createHash`. 0: always hash as they arrive.
   * Default 256 MiB.
   */
  readonly oneShotHashBytes?: number;
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
  /** How the part accepted last is checked: read back as written, or hashed as it arrives; null before any. */
  readonly hashing: 'read-back' | 'streaming' | null;
} {
  const memoryLimit = options.memoryLimit ?? 512 * 1024 ** 2;
  const oneShot = options.oneShotHashBytes ?? ONE_SHOT_HASH_BYTES;
  const subtle = globalThis.crypto?.subtle !== undefined;
  /** Read back and hashed on the page by WebCrypto, where the file is small enough; else streamed. */
  const pageReadBack = (size: number, blob: () => Promise<Blob>): Pick<FileSink, 'digest'> => {
    hashing = oneShot > 0 && size <= oneShot && subtle ? 'read-back' : 'streaming';
    if (hashing === 'streaming') return {};
    return {
      digest: async (length) =>
        (await blobSha256(await blob(), length, oneShot)) ?? Promise.reject(new Error('no WebCrypto')),
    };
  };
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
  let hashing: 'read-back' | 'streaming' | null = null;
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
        ...pageReadBack(offer.size, async () => new Blob(parts)),
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
    const fromWorker =
      parts === null ? null : await workerSink(parts, handle, partName, offer.size, Math.max(oneShot, 0));
    writer = fromWorker === null ? 'page' : 'worker';
    if (fromWorker !== null) {
      const { digest, ...worker } = fromWorker;
      hashing = oneShot > 0 ? 'read-back' : 'streaming';
      return {
        accept: {
          ...worker,
          ...(oneShot > 0 && { digest }),
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
    }
    hashing = 'streaming';
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
      // a writable's bytes reach the file when it closes: no read-back on this path
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
    get hashing() {
      return hashing;
    },
  };
}
