// Builds the demo page: esbuild bundles app.ts with @tandem/client-core and the browser adapter
// (from source, via the @tandem/source condition) into one ES module next to index.html.
// Run by the package build (node dist/demo/bundle.js) and by the browser tests.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const src = (p: string) => fileURLToPath(new URL(`../../src/demo/${p}`, import.meta.url));

/** Bundle into `outDir` (default: the package's dist/demo). Returns the directory. */
export async function bundleDemo(
  outDir = fileURLToPath(new URL('../../dist/demo/', import.meta.url)),
): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  rmSync(`${outDir}/chunks`, { recursive: true, force: true });
  const bundle = (entry: string, outfile: string, sourcemap: boolean) =>
    build({
      entryPoints: { [outfile.replace(/^.*\//, '').replace(/\.js$/, '')]: entry },
      outdir: outDir,
      // what the page loads only when used (the code crypto) goes in chunks/, fetched on demand
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      // the QR generator is its own file, fetched when a code is shown
      external: ['./qr.js'],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      conditions: ['@tandem/source', 'module'],
      minify: true,
      sourcemap,
      legalComments: 'none',
      logLevel: 'warning',
    });
  await bundle(src('app.ts'), `${outDir}/app.js`, true);
  // the hashing worker, on its own (a page under script-src 'self' starts it from this origin)
  // @tandem/browser sits beside this package, in the repository's packages/ and in node_modules/@tandem/
  await bundle(
    fileURLToPath(new URL('../../../browser/src/hash-worker.ts', import.meta.url)),
    `${outDir}/hash-worker.js`,
    false,
  );
  await bundle(src('qr.ts'), `${outDir}/qr.js`, false);
  copyFileSync(src('index.html'), `${outDir}/index.html`);
  return outDir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await bundleDemo();
