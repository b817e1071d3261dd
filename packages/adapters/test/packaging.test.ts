// `npx tandem-server` on a fresh clone: npm links a package's bins when it installs, and skips a
// bin whose file is missing, as dist/ is before the first build. Every bin must therefore be a
// launcher committed in the source tree, executable, with a node shebang.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const tracked = new Map(
  execFileSync('git', ['ls-files', '-s'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [mode, , , path] = line.split(/\s+/);
      return [path!, mode!] as const;
    }),
);
const workspaces = [
  'packages/protocol',
  'packages/server-core',
  'packages/client-core',
  'packages/browser',
  'packages/adapters',
  'conformance',
];

describe('binaries link on a fresh clone', () => {
  const bins = workspaces.flatMap((dir) => {
    const pkg = JSON.parse(readFileSync(`${root}${dir}/package.json`, 'utf8')) as { bin?: Record<string, string> };
    return Object.entries(pkg.bin ?? {}).map(([name, target]) => ({
      name,
      path: `${dir}/${target.replace(/^\.\//, '')}`,
    }));
  });
  it('declares the three reference binaries', () => {
    expect(bins.map((b) => b.name).sort()).toEqual(['tandem-client', 'tandem-conformance', 'tandem-server']);
  });
  it.each(bins)('$name points at a committed, executable launcher outside dist/', ({ path }) => {
    expect(path).not.toMatch(/\/dist\//);
    expect(tracked.get(path), `${path} is not committed`).toBe('100755');
    expect(readFileSync(`${root}${path}`, 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });
  it('the lockfile records the same bins (npm links from the lock on a fresh clone)', () => {
    const lock = JSON.parse(readFileSync(`${root}package-lock.json`, 'utf8')) as {
      packages: Record<string, { bin?: Record<string, string> }>;
    };
    for (const dir of workspaces) {
      const pkg = JSON.parse(readFileSync(`${root}${dir}/package.json`, 'utf8')) as { bin?: Record<string, string> };
      const strip = (bins: Record<string, string> = {}) =>
        Object.fromEntries(Object.entries(bins).map(([k, v]) => [k, v.replace(/^\.\//, '')]));
      expect(strip(lock.packages[dir]?.bin), dir).toEqual(strip(pkg.bin));
    }
  });
});

describe('what the packages ship', () => {
  it.each(workspaces)(
    '%s ships a README and a LICENSE and no test files; the wire spec is in the repository',
    (dir) => {
      const listing = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: `${root}${dir}`,
        encoding: 'utf8',
      });
      const files = (JSON.parse(listing) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
      expect(files).toContain('LICENSE');
      expect(files).toContain('README.md');
      expect(files.filter((f) => /\.test\.(ts|js|d\.ts)$|\.test\.js\.map$/.test(f))).toEqual([]);
      expect(tracked.has('docs/wire-v1.md')).toBe(true);
    },
  );
});
