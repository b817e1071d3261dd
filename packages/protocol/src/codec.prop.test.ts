import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeClientMessage, decodeServerMessage, encode } from './codec.js';
import { arbClientMessage, arbInvalidClientMessage, arbServerMessage } from './arbitraries.js';

describe('codec properties', () => {
  it('every client message encodes and decodes to itself', () => {
    fc.assert(
      fc.property(arbClientMessage(), (m) => {
        expect(decodeClientMessage(encode(m))).toEqual({ ok: true, value: m });
      }),
      { numRuns: 500 },
    );
  });
  it('every server message encodes and decodes to itself', () => {
    fc.assert(
      fc.property(arbServerMessage(), (m) => {
        expect(decodeServerMessage(encode(m))).toEqual({ ok: true, value: m });
      }),
      { numRuns: 500 },
    );
  });
  it('arbitrary strings never throw and yield a result', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        for (const d of [decodeClientMessage, decodeServerMessage]) {
          const r = d(s);
          if (!r.ok) expect(r.error.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 1000 },
    );
  });
  it('arbitrary bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        const r = decodeClientMessage(b);
        if (!r.ok) expect(r.error.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 1000 },
    );
  });
  it('arbitrary JSON values never throw; non-messages are rejected with a reason', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const r = decodeClientMessage(JSON.stringify(v) ?? 'null');
        if (!r.ok) expect(r.error.message).toMatch(/^(Invalid|Unknown message type)/);
      }),
      { numRuns: 1000 },
    );
  });
  it('objects with a known type but a broken field name that field', () => {
    fc.assert(
      fc.property(arbInvalidClientMessage(), ({ frame, field }) => {
        const r = decodeClientMessage(JSON.stringify(frame));
        expect(r.ok).toBe(false);
        if (!r.ok) {
          expect(r.error.code).toBe('invalid_field');
          expect(r.error.message).toContain(`field "${field}`);
        }
      }),
      { numRuns: 500 },
    );
  });
});
