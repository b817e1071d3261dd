/// <reference lib="webworker" />
// Hashing a received part as written, read back through the file worker's sync access handle
// (hash-worker.ts): WebCrypto over the whole part up to `oneShot` bytes, @noble/hashes past it.
import { sha256 } from '@noble/hashes/sha2';

/** SHA-256 of a part's first `length` bytes, read back from the file. */
export async function partSha256(
  h: Pick<FileSystemSyncAccessHandle, 'read'>,
  length: number,
  oneShot: number,
): Promise<Uint8Array> {
  const readInto = (buf: Uint8Array, at: number) => {
    for (let done = 0; done < buf.byteLength;) {
      const n = h.read(buf.subarray(done), { at: at + done });
      if (n <= 0) throw new Error('the part is shorter than was written');
      done += n;
    }
  };
  if (length <= oneShot && globalThis.crypto?.subtle !== undefined) {
    const all = new Uint8Array(length);
    readInto(all, 0);
    return new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  }
  const hasher = sha256.create();
  const buf = new Uint8Array(Math.min(length, 4 * 1024 * 1024));
  for (let at = 0; at < length; at += buf.byteLength) {
    const part = buf.subarray(0, Math.min(buf.byteLength, length - at));
    readInto(part, at);
    hasher.update(part);
  }
  return hasher.digest();
}
