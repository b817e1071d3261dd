// The size budget of a browser app on tandem (the client core with the browser adapter), in CI:
// it fails when the initial load grows past the budget, or when code that loads as a chunk of its
// own when used (pairing by code: its engine, the word list, @noble/curves; file transfers and
// safety codes, with @noble/hashes; calls) slips back into it.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { measureBundle } from './bundle-size.js';
import { bundleDemo } from '../src/demo/bundle.js';

/**
 * Gzipped bytes a page loads at start. The issue's target is 25 KB; this is where it stands
 * (41.7 KB at 0.2.0; 33.8 KB with files, safety codes, the code engine and calls as chunks:
 * xstate's interpreter alone is about 12 KB of it, see the CHANGELOG), so that it can only shrink. Lower it when the bundle
 * shrinks; never raise it without saying why.
 */
export const INITIAL_GZIP_BUDGET = 34_000;

/** Packages and files only a feature beyond chat needs: never in the initial load, always in a chunk of their own. */
const LAZY_ONLY = [
  '@noble/curves',
  '@scure/bip39',
  '@noble/hashes',
  'client-core/src/files.ts',
  'client-core/src/safety-code.ts',
  'client-core/src/code-engine.ts',
  'client-core/src/media.ts',
];
/** An input of the bundle (a package, or a source file by its path from packages/) is `p`. */
const is = (p: string) => (input: string) => input === p || input.endsWith(`/${p}`);

describe('bundle size', () => {
  it(`a minimal browser app loads at most ${INITIAL_GZIP_BUDGET} bytes gzipped at start, and the code crypto only when used`, async () => {
    const m = await measureBundle();
    console.log(
      `initial: ${m.initialGzip} B gzipped (${m.initialMinified} B minified); lazy: ${m.lazy
        .map((l) => `${l.file} ${l.gzip} B`)
        .join(', ')}`,
    );
    expect(m.initialGzip).toBeLessThanOrEqual(INITIAL_GZIP_BUDGET);
    for (const p of LAZY_ONLY) {
      expect(m.initialInputs.map((i) => i.input).filter(is(p)), `${p} in the initial load`).toEqual([]);
      expect(
        m.lazy.some((l) => l.inputs.some(is(p))),
        `${p} in a chunk of its own`,
      ).toBe(true);
    }
    // no TypeBox at run time: the validators are generated code and a schema table
    expect(m.initialInputs.map((i) => i.input)).not.toContain('@sinclair/typebox');
  });

  it('the demo page loads the word list in a chunk of its own, and that chunk is served', async () => {
    const dir = await bundleDemo(mkdtempSync(join(tmpdir(), 'tandem-demo-')));
    expect(readFileSync(join(dir, 'app.js'), 'utf8')).not.toContain('abandon');
    const chunks = readdirSync(join(dir, 'chunks'));
    expect(chunks.some((c) => readFileSync(join(dir, 'chunks', c), 'utf8').includes('abandon'))).toBe(true);
    expect(readFileSync(join(dir, 'app.js'), 'utf8')).toMatch(/import\("\.\/chunks\/code-lazy-[\w-]+\.js"\)/);
  });
});
