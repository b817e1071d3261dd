// tandem-conformance --token against a tandem-server that requires a JWT: with the token every
// case of the staged spec passes; without it the suite says it could not connect.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, verdictLines } from './run-cli.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { killAll, startServer, type Proc } from '../../packages/adapters/test/procs.js';

const SECRET = 'conformance-secret-of-at-least-32-bytes';
let server: Proc;
let url: string;
beforeAll(async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'tandem-conf-auth-')), 'secret');
  writeFileSync(file, SECRET);
  ({ server, url } = await startServer([
    '--auth-jwt-secret-file',
    file,
    '--ping-interval',
    '1',
    '--ping-timeout',
    '1',
    '--no-demo',
  ]));
}, 30_000);
afterAll(killAll);

const common = () => [
  '--url',
  url,
  '--ping-interval',
  '1',
  '--ping-timeout',
  '1',
  '--tolerance',
  '1000',
  '--filter',
  'stage',
];

describe('tandem-conformance --token', () => {
  it('passes the staged spec against a server that requires a token, and the token is not in the server log', async () => {
    const token = await new SignJWT({ sub: 'conformance' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('10m')
      .sign(Buffer.from(SECRET));
    const { code, out } = await runCli(common(), { TANDEM_TOKEN: token });
    const verdicts = verdictLines(out);
    expect(verdicts.length, out).toBeGreaterThanOrEqual(8);
    expect(
      verdicts.filter((l) => !l.startsWith('PASS')),
      out,
    ).toEqual([]);
    expect(code).toBe(0);
    expect(server.lines.filter((l) => l.includes(token.split('.')[2]!))).toEqual([]);
  }, 180_000);

  it('without one, the cases fail for want of a connection', async () => {
    const { code, out } = await runCli([...common(), '--filter', 'stage1']);
    expect(out).toMatch(/^FAIL\s/m);
    expect(out).toMatch(/401/);
    expect(code).toBe(1);
  }, 180_000);
});
