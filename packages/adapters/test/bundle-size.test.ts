// The size budget of a browser app on tandem (the client core with the browser adapter), in CI:
// it fails when the initial load grows past the budget, or when the code pairing's crypto (the
// word list, @noble/curves) slips back into it instead of loading as its own chunk when used.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { measureBundle } from './bundle-size.js';
import { bundleDemo } from '../src/demo/bundle.js';

/**
 * Gzipped bytes a page loads at start. The issue's target is 25 KB; this is where it stands
 * (41.7 KB at 0.2.0: xstate's interpreter alone is about 11 KB of it, see the CHANGELOG), so
 * that it can only shrink. Lower it when the bundle shrinks; never raise it without saying why.
 */
export const INITIAL_GZIP_BUDGET = 43_000;

/** Packages only the code pairing needs: never in the initial load. */
const LAZY_ONLY = ['@noble/curves', '@scure/bip39'];

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
      expect(m.initialInputs.map((i) => i.input)).not.toContain(p);
      expect(m.lazy.some((l) => l.inputs.includes(p))).toBe(true);
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
