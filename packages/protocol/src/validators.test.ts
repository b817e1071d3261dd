// The generated checkers: the committed file is what the generator writes now, no decoder
// evaluates strings at run time, and each generated check agrees with TypeBox's interpreter
// on random and garbage values.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Value } from '@sinclair/typebox/value';
import { Errors } from '@sinclair/typebox/errors';
import { catalogue } from './messages.js';
import { clientChecks, clientExplain, serverChecks, serverExplain } from './validators.generated.js';
import { generateValidators } from './validators-source.js';
import { explain, type ExplainNode } from './explain.js';
import { arbClientMessage, arbServerMessage } from './arbitraries.js';

const checksOf = (direction: 'client' | 'server') =>
  (direction === 'client' ? clientChecks : serverChecks) as Record<string, (v: unknown) => boolean>;
const explainsOf = (direction: 'client' | 'server') => {
  const schemas = (direction === 'client' ? clientExplain : serverExplain) as Record<string, ExplainNode>;
  return (type: string, v: unknown) => explain(schemas[type]!, v);
};

const UNDEFINED = Symbol('set to undefined');

/** A message of the type with one field broken: removed, retyped, or set to a near miss. */
const arbBroken = fc
  .tuple(
    fc.oneof(
      arbClientMessage().map((m) => ({ direction: 'client' as const, m })),
      arbServerMessage().map((m) => ({ direction: 'server' as const, m })),
    ),
    fc.nat(),
    fc.oneof(
      fc.constant(undefined),
      fc.constant(UNDEFINED),
      fc.anything(),
      fc.string({ maxLength: 600 }),
      fc.integer({ min: -2, max: 70000 }),
      fc.double(),
      fc.array(fc.anything(), { maxLength: 20 }),
      fc.constant(null),
      fc.array(fc.string({ maxLength: 600 }), { maxLength: 20 }),
    ),
  )
  .map(([{ direction, m }, i, broken]) => {
    const keys = Object.keys(m);
    const key = keys[i % keys.length]!;
    const v: Record<string, unknown> = { ...m };
    if (broken === undefined) delete v[key];
    else v[key] = broken === UNDEFINED ? undefined : broken; // present, but undefined: not the same as absent
    return { direction, v: { ...v, type: m.type } };
  });

describe('generated validators', () => {
  it('the committed file matches the schemas (run `npm run generate` after changing a schema)', () => {
    expect(readFileSync(new URL('./validators.generated.ts', import.meta.url), 'utf8')).toBe(generateValidators());
  });

  it('nothing the decoders load evaluates strings (new Function, eval): they run under a strict CSP', () => {
    for (const file of ['./validators.generated.ts', './codec.ts', './explain.ts'])
      expect(readFileSync(new URL(file, import.meta.url), 'utf8')).not.toMatch(
        /new Function|\beval\(|@sinclair\/typebox/,
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

  it("explain the first error of a failing value as TypeBox's Errors(...).First() does (same path, same words)", () => {
    const agree = (e: (typeof catalogue)[number], v: unknown) => {
      const ours = explainsOf(e.direction)(e.type, v);
      const first = Errors(e.schema, v).First();
      expect(ours).toEqual(first === undefined ? undefined : [first.path, first.message]);
    };
    fc.assert(
      fc.property(arbBroken, ({ direction, v }) => {
        agree(
          catalogue.find((e) => e.direction === direction && e.type === v.type)!,
          v,
        );
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...catalogue),
        fc.anything(),
        fc.dictionary(fc.string(), fc.anything()),
        (e, junk, extra) => {
          agree(e, junk);
          agree(e, { ...extra, type: e.type });
        },
      ),
    );
  });
});
