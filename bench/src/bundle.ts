// What tandem costs a browser page (issue: bundle under 25 KB gzipped), against PeerJS's own
// minified browser build gzipped the same way in the same run. The measure is the budget test's
// (packages/adapters/test/bundle-size.ts): a minimal embedder, esbuild with code splitting.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { measureBundle } from '../../packages/adapters/test/bundle-size.js';

export interface BundleFigures {
  initialGzip: number;
  initialMinified: number;
  lazy: { file: string; gzip: number }[];
  largest: { input: string; bytes: number }[];
  peerjsGzip: number;
}

export async function bundleFigures(): Promise<BundleFigures> {
  const m = await measureBundle();
  const require = createRequire(import.meta.url);
  const peerjs = readFileSync(require.resolve('peerjs/dist/peerjs.min.js'));
  return {
    initialGzip: m.initialGzip,
    initialMinified: m.initialMinified,
    lazy: m.lazy.map((l) => ({ file: l.file, gzip: l.gzip })),
    largest: m.initialInputs.slice(0, 6).map((i) => ({ ...i })),
    peerjsGzip: gzipSync(peerjs, { level: 9 }).length,
  };
}
