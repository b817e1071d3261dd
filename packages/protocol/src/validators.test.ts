// The generated checkers: the committed file is what the generator writes now, no decoder
// evaluates strings at run time, and each generated check agrees with TypeBox's interpreter
// on random and garbage values.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Value } from '@sinclair/typebox/value';
import { catalogue } from './messages.js';
import { clientChecks, serverChecks } from './validators.generated.js';
import { generateValidators } from './validators-source.js';
import { arbClientMessage, arbServerMessage } from './arbitraries.js';

const checksOf = (direction: 'client' | 'server') =>
  (direction === 'client' ? clientChecks : serverChecks) as Record<string, (v: unknown) => boolean>;

describe('generated validators', () => {
  it('the committed file matches the schemas (run `npm run generate` after changing a schema)', () => {
    expect(readFileSync(new URL('./validators.generated.ts', import.meta.url), 'utf8')).toBe(generateValidators());
  });

  it('nothing the decoders load evaluates strings (new Function, eval): they run under a strict CSP', () => {
    for (const file of ['./validators.generated.ts', './codec.ts'])
      expect(readFileSync(new URL(file, import.meta.url), 'utf8')).not.toMatch(
        /new Function|\beval\(|@sinclair\/typebox\/compiler/,
      );
  });

  it('agree with the interpreter on every message type, for valid messages and garbage alike', () => {
    const valid = fc.oneof(
      arbClientMessage().map((m) => ({ direction: 'client' as const, m })),
      arbServerMessage().map((m) => ({ direction: 'server' as const, m })),
    );
    fc.assert(
      fc.property(valid, ({ direction, m }) => {
        const entry = catalogue.find((e) => e.direction === direction && e.type === m.type)!;
        expect(checksOf(direction)[entry.type]!(m)).toBe(true);
        expect(Value.Check(entry.schema, m)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...catalogue),
        fc.anything(),
        fc.dictionary(fc.string(), fc.anything()),
        (e, junk, extra) => {
          for (const v of [junk, { ...extra, type: e.type }])
            expect(checksOf(e.direction)[e.type]!(v)).toBe(Value.Check(e.schema, v));
        },
      ),
    );
  });
});
