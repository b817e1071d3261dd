// A browser app installs @tandem/browser with the client core and nothing of the Node side: the
// packed tarballs (as npm would publish them) go into an empty app, which must hold no werift, ws,
// ioredis, pino, prom-client (nor werift's @types/dom-webcodecs, whose duplicate identifiers broke
// `tsc --lib es2022,dom`), and whose code type-checks with `skipLibCheck: false`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'tandem-browser-consumer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const NODE_ONLY = [
  'werift',
  'ws',
  'ioredis',
  'pino',
  'prom-client',
  'commander',
  '@types/dom-webcodecs',
  '@types/node',
];

describe('a browser-only consumer', () => {
  it('installs @tandem/browser and @tandem/client-core without any Node-only package, and type-checks with skipLibCheck: false', () => {
    const packs = join(work, 'packs');
    mkdirSync(packs);
    const tarballs = ['packages/protocol', 'packages/client-core', 'packages/browser'].map((dir) => {
      const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', packs], {
        cwd: join(root, dir),
        encoding: 'utf8',
      });
      return join(packs, out.trim().split('\n').pop()!);
    });
    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'browser-app',
        private: true,
        type: 'module',
        dependencies: Object.fromEntries(
          tarballs.map((t, i) => [['@tandem/protocol', '@tandem/client-core', '@tandem/browser'][i]!, `file:${t}`]),
        ),
      }),
    );
    execFileSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--loglevel=error'],
      {
        cwd: app,
        encoding: 'utf8',
        env: { ...process.env, npm_config_workspaces: 'false' },
      },
    );
    const installed = (scope = '') =>
      readdirSync(join(app, 'node_modules', scope)).map((n) => (scope ? `${scope}/${n}` : n));
    const all = [
      ...installed().filter((n) => !n.startsWith('@') && !n.startsWith('.')),
      ...installed()
        .filter((n) => n.startsWith('@'))
        .flatMap((s) => installed(s)),
    ];
    expect(all).toContain('@tandem/browser');
    expect(all).toContain('xstate');
    for (const p of NODE_ONLY) expect(all, `${p} came with a browser install`).not.toContain(p);

    writeFileSync(
      join(app, 'main.ts'),
      [
        "import { createTandemClient } from '@tandem/client-core';",
        "import { browserFileSource, browserFileStore, browserPeerFactory, browserTransport } from '@tandem/browser';",
        '',
        'const store = browserFileStore();',
        'const client = createTandemClient({',
        "  url: 'wss://signal.example.com',",
        '  transport: browserTransport(),',
        '  createPeer: browserPeerFactory(),',
        '  onFileOffer: (offer) => store.decide(offer),',
        '});',
        "client.on('id', ({ id }) => (document.title = id));",
        "client.on('track', ({ track }) => ((document.querySelector('video') as HTMLVideoElement).srcObject = track.stream as MediaStream));",
        "const input = document.querySelector('input[type=file]') as HTMLInputElement;",
        "input.addEventListener('change', () => input.files?.[0] && client.sendFile(browserFileSource(input.files[0])));",
        'navigator.mediaDevices.getUserMedia({ video: true }).then((s) => client.call(s.getTracks()));',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          module: 'ESNext',
          moduleResolution: 'Bundler',
          strict: true,
          skipLibCheck: false,
          types: [],
          noEmit: true,
        },
        files: ['main.ts'],
      }),
    );
    expect(existsSync(join(app, 'node_modules', '@tandem', 'browser', 'dist', 'index.d.ts'))).toBe(true);
    let output = '';
    try {
      execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], {
        encoding: 'utf8',
      });
    } catch (e) {
      output = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(output).toBe('');
  }, 180_000);
});
