// Every TypeScript snippet in the READMEs type-checks against the packages as they are. A snippet
// that uses names the prose assumes (a `client` made above, the app's `chunks`) says so in an HTML
// comment right above its fence, which GitHub does not show:
//   <!-- ts-context: import type { TandemClient } from '@tandem/client-core'; declare const client: TandemClient; -->
// Each snippet is its own module in a scratch folder inside the repository (so the workspace
// packages resolve, from source), checked by one `tsc` run with the DOM and Node types, strict.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const readmes = [
  'README.md',
  'packages/protocol/README.md',
  'packages/server-core/README.md',
  'packages/client-core/README.md',
  'packages/adapters/README.md',
  'packages/browser/README.md',
  'conformance/README.md',
];

export interface Snippet {
  readonly file: string;
  readonly line: number;
  readonly context: string;
  readonly code: string;
}

/** The ```ts blocks of a Markdown text, each with the ts-context comment just above its fence. */
export function snippetsOf(file: string, text: string): Snippet[] {
  const lines = text.split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```ts') continue;
    const end = lines.findIndex((l, j) => j > i && l.trim() === '```');
    if (end < 0) throw new Error(`${file}:${i + 1}: unclosed fence`);
    const above = lines[i - 1]?.match(/^<!-- ts-context: (.*) -->$/);
    out.push({ file, line: i + 1, context: above?.[1] ?? '', code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return out;
}

describe('README snippets', () => {
  const snippets = readmes.flatMap((f) => snippetsOf(f, readFileSync(join(root, f), 'utf8')));

  it('finds the snippets (every README that has code has some)', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(9);
    for (const f of readmes) expect(snippets.some((s) => s.file === f)).toBe(true);
  });

  it('every snippet type-checks against the packages (strict, DOM and Node types)', () => {
    const dir = join(root, 'node_modules', '.cache', 'tandem-readme-snippets');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const names = snippets.map((s, i) => {
      const name = `${String(i).padStart(2, '0')}-${s.file.replace(/[/.]/g, '_')}-${s.line}.ts`;
      // where a tsc error in this file points back to
      writeFileSync(join(dir, name), `// ${s.file}:${s.line}\n${s.context}\n${s.code}\nexport {};\n`);
      return name;
    });
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: relative(dir, join(root, 'tsconfig.base.json')),
        compilerOptions: {
          noEmit: true,
          lib: ['ES2023', 'DOM', 'DOM.Iterable'],
          types: ['node'],
          typeRoots: [join(root, 'node_modules', '@types')],
          customConditions: ['@tandem/source'],
          noUnusedLocals: false,
        },
        files: names,
      }),
    );
    let output = '';
    try {
      execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], {
        encoding: 'utf8',
      });
    } catch (e) {
      output = String((e as { stdout?: string }).stdout ?? e);
    }
    // name the README line of each error, not the scratch file
    const readable = output.replace(/^(\S+\.ts)\((\d+),\d+\)/gm, (_, f: string, l: string) => {
      const s = snippets[Number(f.replace(/^.*\//, '').slice(0, 2))]!;
      return `${s.file}:${s.line + Number(l) - 2}`;
    });
    expect(readable).toBe('');
  }, 120_000);
});
