// Byte helpers the code and safety-code exchanges share.
import { hexToBytes } from '@noble/hashes/utils';

/** The parts one after another. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Equal bytes, compared in time that does not depend on where they differ. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** `v` as exactly `bytes` bytes of lower-case hex, else null (a peer's message field). */
export function hexOf(v: unknown, bytes: number): Uint8Array | null {
  return typeof v === 'string' && v.length === bytes * 2 && /^[0-9a-f]+$/.test(v) ? hexToBytes(v) : null;
}
