// Bundles the bench's tandem page (tandem-page.ts) into one classic script, as the bench adds it to
// a blank page: minified, as an app ships it.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

let cached: string | undefined;
export async function tandemPageScript(): Promise<string> {
  if (cached !== undefined) return cached;
  const r = await build({
    entryPoints: [fileURLToPath(new URL('./tandem-page.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@tandem/source', 'module'],
    minify: true,
    logLevel: 'warning',
  });
  return (cached = r.outputFiles[0]!.text);
}
