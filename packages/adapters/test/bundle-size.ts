// What tandem costs a page: esbuild bundles a minimal embedder (fixtures/embedder.ts: the client
// core with the browser adapter) as an app's bundler would — minified, ES modules, code splitting,
// the package exports' `module` condition — and gzips each output. "Initial" is what the page
// loads at start (the entry and the chunks it imports statically); "lazy" is what loads only when
// used (the code pairing's crypto). Shared by the budget test (bundle-size.test.ts) and the bench.
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

export interface BundleSize {
  /** Bytes the page loads at start, minified and gzipped (level 9). */
  readonly initialGzip: number;
  readonly initialMinified: number;
  /** Bytes of the chunks loaded only on use (gzipped), by chunk. */
  readonly lazy: readonly { readonly file: string; readonly gzip: number; readonly inputs: readonly string[] }[];
  /** The packages and source files in the initial load, with their minified bytes, largest first. */
  readonly initialInputs: readonly { readonly input: string; readonly bytes: number }[];
}

const packageOf = (input: string) =>
  input.match(/node_modules\/(@[^/]+\/[^/]+|[^/]+)/)?.[1] ?? input.replace(/^.*?packages\//, '');

/** Bundle `entry` (default: the minimal embedder) and measure it. */
export async function measureBundle(
  entry = fileURLToPath(new URL('./fixtures/embedder.ts', import.meta.url)),
): Promise<BundleSize> {
  const r = await build({
    entryPoints: { entry },
    bundle: true,
    write: false,
    metafile: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // source in this repo; `module` is what bundlers pick for a package's ES build (xstate's)
    conditions: ['@tandem/source', 'module'],
    minify: true,
    legalComments: 'none',
    outdir: fileURLToPath(new URL('../dist/bundle-size/', import.meta.url)),
    logLevel: 'silent',
  });
  const meta: Metafile = r.metafile;
  const bytes = new Map(r.outputFiles.map((f) => [f.path, f.contents] as const));
  const pathOf = (out: string) => [...bytes.keys()].find((p) => p.endsWith(out.replace(/^.*dist\//, 'dist/')))!;
  const entryOut = Object.keys(meta.outputs).find((o) => meta.outputs[o]!.entryPoint !== undefined)!;
  const initial = new Set<string>();
  const visit = (out: string) => {
    if (initial.has(out)) return;
    initial.add(out);
    for (const i of meta.outputs[out]!.imports) if (i.kind === 'import-statement') visit(i.path);
  };
  visit(entryOut);
  const gz = (out: string) => gzipSync(bytes.get(pathOf(out))!, { level: 9 }).length;
  const js = Object.keys(meta.outputs).filter((o) => o.endsWith('.js'));
  const perInput = new Map<string, number>();
  for (const out of initial)
    for (const [input, v] of Object.entries(meta.outputs[out]!.inputs))
      perInput.set(packageOf(input), (perInput.get(packageOf(input)) ?? 0) + v.bytesInOutput);
  return {
    initialGzip: [...initial].reduce((n, o) => n + gz(o), 0),
    initialMinified: [...initial].reduce((n, o) => n + bytes.get(pathOf(o))!.length, 0),
    lazy: js
      .filter((o) => !initial.has(o))
      .map((o) => ({
        file: o.replace(/^.*\//, ''),
        gzip: gz(o),
        inputs: Object.keys(meta.outputs[o]!.inputs).map(packageOf),
      })),
    initialInputs: [...perInput]
      .map(([input, n]) => ({ input, bytes: n }))
      .filter((x) => x.bytes > 0)
      .sort((a, b) => b.bytes - a.bytes),
  };
}
