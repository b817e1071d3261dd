// The API reference builds, in CI: TypeDoc over every package's public entries (typedoc.config.mjs)
// with warnings as errors, so an exported name that points at an unexported type, or a broken
// {@link}, fails here. The pages name each module by its import and carry the JSDoc.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'tandem-api-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('API reference', () => {
  it('builds with no warning, one page per import, with the JSDoc of what embedders call first', () => {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', out], {
      cwd: root,
      encoding: 'utf8',
    });
    for (const module of [
      '_tandem_adapters_ws',
      '_tandem_client-core',
      '_tandem_browser',
      '_tandem_protocol_wire',
      '_tandem_server-core',
    ])
      expect(existsSync(join(out, 'modules', `${module}.html`)), module).toBe(true);
    const page = (p: string) => readFileSync(join(out, p), 'utf8');
    expect(page('functions/_tandem_adapters_ws.createWsServer.html')).toMatch(/tsd-comment/);
    expect(page('functions/_tandem_client-core.createTandemClient.html')).toMatch(/tsd-comment/);
    expect(page('functions/_tandem_browser.browserTransport.html')).toMatch(/called, as Node/);
  }, 120_000);
});
