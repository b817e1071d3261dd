import { sha256 } from '@noble/hashes/sha2';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { partSha256 } from './part-hash.js';

/** A sync access handle over bytes in memory that hands out at most `most` bytes per read (as a disk may). */
const handleOver = (bytes: Uint8Array, most = Infinity) => ({
  reads: 0,
  read(buf: AllowSharedBufferSource, options?: { at?: number }) {
    this.reads++;
    const into = buf as Uint8Array;
    const at = options?.at ?? 0;
    const n = Math.max(0, Math.min(into.byteLength, bytes.byteLength - at, most));
    into.set(bytes.subarray(at, at + n));
    return n;
  },
});
const sha = (b: Uint8Array) => sha256(b);
/** Bytes that differ everywhere (no WebCrypto-sized random source in this tsconfig's libs). */
const randomBytes = (n: number) => {
  const out = new Uint8Array(n);
  for (let i = 0, x = 0x9e3779b9; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
};

describe("a part's SHA-256, read back", () => {
  it('is the SHA-256 of its first `length` bytes, in one go or streamed in 4 MiB reads, however short the reads', async () => {
    const bytes = randomBytes(9 * 1024 * 1024 + 5);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: bytes.length }),
        fc.constantFrom(0, 1024, bytes.length),
        fc.constantFrom(Infinity, 1_000_003),
        async (length, oneShot, most) => {
          const h = handleOver(bytes, most);
          expect(await partSha256(h, length, oneShot)).toEqual(sha(bytes.subarray(0, length)));
        },
      ),
      { numRuns: 25 },
    );
  });

  it('streams past the one-shot size: no read larger than 4 MiB', async () => {
    const bytes = randomBytes(10 * 1024 * 1024);
    const sizes: number[] = [];
    const h = {
      read(buf: AllowSharedBufferSource, options?: { at?: number }) {
        sizes.push((buf as Uint8Array).byteLength);
        return handleOver(bytes).read(buf, options);
      },
    };
    expect(await partSha256(h, bytes.length, 1024 * 1024)).toEqual(sha(bytes));
    expect(Math.max(...sizes)).toBe(4 * 1024 * 1024);
    sizes.length = 0;
    expect(await partSha256(h, bytes.length, bytes.length)).toEqual(sha(bytes));
    expect(sizes).toEqual([bytes.length]);
  });

  it('a part shorter than was written is an error, not a hash of zeros', async () => {
    const bytes = randomBytes(1000);
    await expect(partSha256(handleOver(bytes), 2000, 4096)).rejects.toThrow(/shorter/);
    await expect(partSha256(handleOver(bytes), 2000, 0)).rejects.toThrow(/shorter/);
  });
});
