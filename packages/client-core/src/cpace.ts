// CPace on ristretto255 with SHA-512 (CPACE-RISTR255-SHA512), as draft-irtf-cfrg-cpace specifies
// it at cfrg/draft-irtf-cfrg-cpace commit 8fb4056 (2026-04-23); its published test vectors for
// this suite are kept in cpace.vectors.json and checked by cpace.test.ts. Only the protocol
// layer is here: the group (ristretto255, RFC 9496, with its one-way map) comes from
// @noble/curves and the hash from @noble/hashes. Initiator-responder mode (transcript_ir).
//
//   g    = ristretto255 one-way map of SHA-512(generator_string(DSI, PRS, CI, sid, 128))
//   Y    = encode(y · g) for a fresh scalar y
//   K    = encode(y · decode(Y_peer)); abort if Y_peer does not decode or K is the identity
//   ISK  = SHA-512(lv_cat(DSI ‖ "_ISK", sid, K) ‖ lv_cat(Ya, ADa) ‖ lv_cat(Yb, ADb))
import { RistrettoPoint } from '@noble/curves/ed25519';
import { sha512 } from '@noble/hashes/sha2';
import { utf8ToBytes } from '@noble/hashes/utils';
import { concat } from './bytes.js';

export { concat };

export const CPACE_DSI = utf8ToBytes('CPaceRistretto255');
const DSI_ISK = utf8ToBytes('CPaceRistretto255_ISK');
/** SHA-512's input block size, H.s_in_bytes. */
const S_IN_BYTES = 128;
/** 2^252 + 27742317777372353535851937790883648493, the order of ristretto255. */
const ORDER = RistrettoPoint.Fn.ORDER;

/** LEB128 length, then the bytes (the draft's prepend_len). */
export function prependLen(data: Uint8Array): Uint8Array {
  const len: number[] = [];
  let n = data.length;
  do {
    const low = n & 0x7f;
    n >>>= 7;
    len.push(n > 0 ? low | 0x80 : low);
  } while (n > 0);
  return concat(Uint8Array.from(len), data);
}

/** Each argument with its length before it (the draft's lv_cat). */
export function lvCat(...args: Uint8Array[]): Uint8Array {
  return concat(...args.map(prependLen));
}

/** The string the generator is hashed from: the PRS padded so it fills the hash's first block. */
export function generatorString(dsi: Uint8Array, prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Uint8Array {
  const zpad = Math.max(0, S_IN_BYTES - 1 - prependLen(prs).length - prependLen(dsi).length);
  return lvCat(dsi, prs, new Uint8Array(zpad), ci, sid);
}

/** The password-derived generator g. */
export function calculateGenerator(
  prs: Uint8Array,
  ci: Uint8Array,
  sid: Uint8Array,
): InstanceType<typeof RistrettoPoint> {
  return RistrettoPoint.hashToCurve(sha512(generatorString(CPACE_DSI, prs, ci, sid)));
}

/** A scalar as the draft samples one: 32 random bytes, bits above 252 cleared, little-endian. */
export function scalarFrom(bytes: Uint8Array): bigint {
  if (bytes.length !== 32) throw new Error('a scalar takes 32 bytes');
  const b = Uint8Array.from(bytes);
  b[31]! &= 0x0f; // group_size_bits = 252
  let n = 0n;
  for (let i = 31; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  return n;
}

/** Y = encode(y · g). */
export function scalarMult(y: bigint, g: InstanceType<typeof RistrettoPoint>): Uint8Array {
  return g.multiply(reduce(y)).toBytes();
}

/**
 * K = encode(y · decode(X)), or null where the draft returns the identity: X does not decode,
 * or the product is the identity (the caller aborts then).
 */
export function scalarMultVfy(y: bigint, x: Uint8Array): Uint8Array | null {
  let point: InstanceType<typeof RistrettoPoint>;
  try {
    point = RistrettoPoint.fromBytes(x);
  } catch {
    return null;
  }
  const k = point.multiply(reduce(y));
  return k.equals(RistrettoPoint.ZERO) ? null : k.toBytes();
}

/** ISK in initiator-responder mode. */
export function intermediateSessionKey(
  sid: Uint8Array,
  k: Uint8Array,
  ya: Uint8Array,
  ada: Uint8Array,
  yb: Uint8Array,
  adb: Uint8Array,
): Uint8Array {
  return sha512(concat(lvCat(DSI_ISK, sid, k), lvCat(ya, ada), lvCat(yb, adb)));
}

function reduce(y: bigint): bigint {
  const r = y % ORDER;
  if (r === 0n) throw new Error('a zero scalar');
  return r;
}
