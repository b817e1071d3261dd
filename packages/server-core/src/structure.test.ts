// The shape issue 23 asked for, held: no import circle among server-core's source files (type
// imports included), the facade and every file small enough to have one job.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = dirname(fileURLToPath(import.meta.url));
const isSource = (f: string) => f.endsWith('.ts') && !f.endsWith('.test.ts');
const sources = (readdirSync(root, { recursive: true }) as string[]).filter(isSource).map((f) => join(root, f));

/** Every relative import of a file (static `import … from` and `export … from`), as absolute paths. */
export function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  const found = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\sfrom\s+'(\.{1,2}\/[^']+)'/gms)].map((m) => m[1]!);
  return found.map((spec) => resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
}

/** The first import circle found, as a list of files, or null. */
export function findCircle(graph: ReadonlyMap<string, readonly string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (f: string): string[] | null => {
    if (state.get(f) === 'done') return null;
    if (state.get(f) === 'open') return [...path.slice(path.indexOf(f)), f];
    state.set(f, 'open');
    path.push(f);
    for (const g of graph.get(f) ?? []) {
      const circle = visit(g);
      if (circle !== null) return circle;
    }
    path.pop();
    state.set(f, 'done');
    return null;
  };
  for (const f of graph.keys()) {
    const circle = visit(f);
    if (circle !== null) return circle;
  }
  return null;
}

describe('server-core layout', () => {
  it('has no import circle', () => {
    const graph = new Map(sources.map((f) => [f, importsOf(f)] as const));
    const circle = findCircle(graph);
    expect(circle?.map((f) => relative(root, f)) ?? null).toBeNull();
  });
  it('finds a circle when there is one (the check itself can fail)', () => {
    const a = join(root, 'a.ts');
    const b = join(root, 'x/b.ts');
    const graph = new Map([
      [a, importsOf(a, "import { b } from './x/b.js';\nimport type { C } from './c.js';")],
      [b, importsOf(b, "export {\n  a,\n} from '../a.js';")],
    ]);
    expect(findCircle(graph)?.map((f) => relative(root, f))).toEqual(['a.ts', 'x/b.ts', 'a.ts']);
  });
  it('keeps engine.ts a facade of at most 350 lines and every other source file (test kits aside) at most 250', () => {
    const lines = (f: string) => readFileSync(f, 'utf8').split('\n').length;
    const over = sources
      .filter((f) => !relative(root, f).startsWith('testing/'))
      .filter((f) => lines(f) > (relative(root, f) === 'engine.ts' ? 350 : 250))
      .map((f) => `${relative(root, f)}: ${lines(f)} lines`);
    expect(over).toEqual([]);
  });
});
