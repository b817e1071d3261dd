// CPace (CPACE-RISTR255-SHA512) against the draft's published test vectors, kept in the repository
// (cpace.vectors.json: no network at test time), and the draft's own examples of its encodings.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils';
import vectors from './cpace.vectors.json' with { type: 'json' };
import {
  CPACE_DSI,
  calculateGenerator,
  generatorString,
  intermediateSessionKey,
  lvCat,
  prependLen,
  scalarFrom,
  scalarMult,
  scalarMultVfy,
} from './cpace.js';

const h = (s: string) => hexToBytes(s.toLowerCase());
const hex = (b: Uint8Array) => bytesToHex(b).toUpperCase();
const utf8 = (s: string) => new TextEncoder().encode(s);

describe('CPace encodings (the draft’s examples)', () => {
  it('prepend_len and lv_cat', () => {
    expect(bytesToHex(prependLen(new Uint8Array(0)))).toBe('00');
    expect(bytesToHex(prependLen(utf8('1234')))).toBe('0431323334');
    expect(bytesToHex(prependLen(Uint8Array.from({ length: 128 }, (_, i) => i)).slice(0, 3))).toBe('800100');
    expect(bytesToHex(prependLen(Uint8Array.from({ length: 127 }, (_, i) => i)).slice(0, 2))).toBe('7f00');
    expect(bytesToHex(lvCat(utf8('1234'), utf8('5'), new Uint8Array(0), utf8('678')))).toBe('043132333401350003363738');
  });
});

describe('CPACE-RISTR255-SHA512 test vectors (draft-irtf-cfrg-cpace, cfrg repository at 8fb4056)', () => {
  const prs = h(vectors.PRS);
  const ci = h(vectors.CI);
  const sid = h(vectors.sid);
  it('generator_string, its hash and the generator g', () => {
    expect(bytesToHex(generatorString(CPACE_DSI, prs, ci, sid))).toBe(vectors.generator_string);
    expect(hex(calculateGenerator(prs, ci, sid).toBytes())).toBe(vectors.g);
  });
  it('Ya, Yb, K from both sides, ISK', () => {
    const g = calculateGenerator(prs, ci, sid);
    const ya = scalarFrom(h(vectors.ya));
    const yb = scalarFrom(h(vectors.yb));
    const Ya = scalarMult(ya, g);
    const Yb = scalarMult(yb, g);
    expect(hex(Ya)).toBe(vectors.Ya);
    expect(hex(Yb)).toBe(vectors.Yb);
    const kA = scalarMultVfy(ya, Yb)!;
    const kB = scalarMultVfy(yb, Ya)!;
    expect(hex(kA)).toBe(vectors.K);
    expect(hex(kB)).toBe(vectors.K);
    expect(hex(intermediateSessionKey(sid, kA, Ya, h(vectors.ADa), Yb, h(vectors.ADb)))).toBe(vectors.ISK_IR);
  });
  it('scalar_mult_vfy: the valid point, and the two invalid encodings give the identity (null)', () => {
    const p = vectors.points;
    expect(hex(scalarMultVfy(scalarFrom(h(p.Valid.s)), h(p.Valid.X))!)).toBe(p.Valid['G.scalar_mult_vfy(s,X)']);
    expect(scalarMultVfy(scalarFrom(h(p.Valid.s)), h(p['Invalid Y1']))).toBeNull();
    expect(scalarMultVfy(scalarFrom(h(p.Valid.s)), h(p['Invalid Y2']))).toBeNull();
  });
  it('two sides agree on K iff they used the same password (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 24 }),
        fc.string({ minLength: 1, maxLength: 24 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (pa, pb, ra, rb) => {
          fc.pre(scalarFrom(ra) !== 0n && scalarFrom(rb) !== 0n);
          const Ya = scalarMult(scalarFrom(ra), calculateGenerator(utf8(pa), ci, sid));
          const Yb = scalarMult(scalarFrom(rb), calculateGenerator(utf8(pb), ci, sid));
          const kA = scalarMultVfy(scalarFrom(ra), Yb)!;
          const kB = scalarMultVfy(scalarFrom(rb), Ya)!;
          expect(bytesToHex(kA) === bytesToHex(kB)).toBe(pa === pb);
        },
      ),
      { numRuns: 40 },
    );
  });
});
