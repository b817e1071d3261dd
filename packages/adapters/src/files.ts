// Files from and to disk for client-core's transfers, in Node: a source reads a file a chunk at a
// time; a store takes offers into one folder, writing `<name>.part` (with a `<name>.part.json`
// saying whose file it is, for resumes) and renaming it to the clean name only after the hash
// matched, never over an existing file. Nothing is ever held whole in memory.
import { createHash } from 'node:crypto';
import { link, open, readFile, readdir, rm, stat, statfs, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  numberedName,
  safeFileName,
  type FileOffer,
  type FileSink,
  type FileSource,
  type Hasher,
  type HasherFactory,
  type OfferDecision,
} from '@tandem/client-core';

/** node:crypto's SHA-256 as client-core's Hasher (several times faster than a JS one). */
export const nodeSha256: HasherFactory = () => wrap(createHash('sha256'));
const wrap = (h: ReturnType<typeof createHash>): Hasher => ({
  update: (b) => void h.update(b),
  digest: () => new Uint8Array(h.digest()),
  clone: () => wrap(h.copy()),
});

/** Up to `length` bytes of an open file at `offset` (fewer only at its end). */
async function readAt(handle: FileHandle, offset: number, length: number): Promise<Uint8Array> {
  const buf = Buffer.allocUnsafe(length);
  const { bytesRead } = await handle.read(buf, 0, length, offset);
  return new Uint8Array(buf.buffer, buf.byteOffset, bytesRead);
}

/** A file on disk as a transfer's source; the name offered is its base name. */
export async function nodeFileSource(path: string, type = ''): Promise<FileSource> {
  const handle = await open(path, 'r');
  const { size, isFile } = await handle.stat().then((s) => ({ size: s.size, isFile: s.isFile() }));
  if (!isFile) {
    await handle.close();
    throw new Error(`${path} is not a file`);
  }
  let closed = false;
  return {
    name: basename(path),
    size,
    type,
    read: (offset, length) => readAt(handle, offset, length),
    async close() {
      if (closed) return;
      closed = true;
      await handle.close();
    },
  };
}

/** Settings of a folder that takes files. */
export interface NodeFileStoreOptions {
  /** The folder files are saved in (it must exist). */
  readonly dir: string;
  /** Offers larger than this are declined. Default 4 GiB. */
  readonly maxFileSize?: number;
  /** Keep at least this much of the disk free: offers that would not leave it are declined. Default 64 MiB. */
  readonly reserveBytes?: number;
}

interface PartMeta {
  sha256: string;
  size: number;
  from: string;
}

/** A folder that takes offered files: `decide(offer)` accepts into it (or declines with a reason). */
export function nodeFileStore(options: NodeFileStoreOptions): { decide: (offer: FileOffer) => Promise<OfferDecision> } {
  const { dir, maxFileSize = 4 * 1024 ** 3, reserveBytes = 64 * 1024 ** 2 } = options;
  /** Parts being written now (two offers of one name must not share a part). */
  const busy = new Set<string>();
  const metaOf = async (part: string): Promise<PartMeta | null> => {
    try {
      const m = JSON.parse(await readFile(`${part}.json`, 'utf8')) as Partial<PartMeta>;
      return typeof m.sha256 === 'string' && typeof m.size === 'number' && typeof m.from === 'string'
        ? (m as PartMeta)
        : null;
    } catch {
      return null;
    }
  };
  const exists = (path: string) =>
    stat(path).then(
      () => true,
      () => false,
    );

  async function decide(offer: FileOffer): Promise<OfferDecision> {
    if (offer.size > maxFileSize)
      return { decline: `too large (${offer.size} bytes; this side takes at most ${maxFileSize})` };
    const free = await statfs(dir).then(
      (s) => s.bavail * s.bsize,
      () => Infinity,
    );
    if (offer.size + reserveBytes > free) return { decline: `not enough disk space (${offer.size} bytes offered)` };
    const clean = safeFileName(offer.name);
    const wanted: PartMeta = { sha256: offer.sha256, size: offer.size, from: offer.from };
    // a part of this very file from this sender (any of its numbered names) is resumed
    let part: string | null = null;
    for (const entry of await readdir(dir)) {
      if (!entry.endsWith('.part')) continue;
      const path = join(dir, entry);
      if (busy.has(path)) continue;
      const meta = await metaOf(path);
      if (meta !== null && meta.sha256 === wanted.sha256 && meta.size === wanted.size && meta.from === wanted.from) {
        part = path;
        break;
      }
    }
    if (part === null) {
      for (let n = 0; part === null; n++) {
        const candidate = join(dir, `${numberedName(clean, n)}.part`);
        if (!busy.has(candidate) && !(await exists(candidate))) part = candidate;
      }
      await writeFile(`${part}.json`, JSON.stringify(wanted));
    }
    const path: string = part;
    busy.add(path);
    const handle: FileHandle = await open(path, 'a+');
    let held = (await handle.stat()).size;
    if (held > offer.size) {
      await handle.truncate(0);
      held = 0;
    }
    let position = held;
    let done = false;
    const finish = async () => {
      if (done) return;
      done = true;
      busy.delete(path);
      await handle.close();
    };
    const sink: FileSink = {
      held,
      readHeld: (offset, length) => readAt(handle, offset, length),
      async truncate() {
        await handle.truncate(0);
        position = 0;
      },
      async write(bytes) {
        // 'a+' appends whatever position is given; position is kept for reads and truncation
        let at = 0;
        while (at < bytes.byteLength) {
          const { bytesWritten } = await handle.write(bytes, at, bytes.byteLength - at);
          at += bytesWritten;
        }
        position += bytes.byteLength;
      },
      async commit() {
        await handle.sync();
        await finish();
        // link fails if the name exists: never overwrite, take the next free number
        for (let n = 0; ; n++) {
          const name = numberedName(clean, n);
          try {
            await link(path, join(dir, name));
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
            throw err;
          }
          await unlink(path);
          await rm(`${path}.json`, { force: true });
          return name;
        }
      },
      async abort(keep) {
        await finish();
        if (keep && position > 0) return;
        await rm(path, { force: true });
        await rm(`${path}.json`, { force: true });
      },
    };
    return { accept: sink };
  }
  return { decide };
}
