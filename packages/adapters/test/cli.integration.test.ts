// What a newcomer sees from the binaries: a bad flag is one line saying what is wrong (never a
// stack trace), --version says `<binary> <semver>`, the listening address is printed at any log
// level, a client that cannot reach its server says so once in plain words, and server errors
// come with the same plain words as the page.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './redis.js';
import { killAll, start, startClient, startServer } from './procs.js';
import { connect } from './ws-client.js';

afterAll(killAll);

const bins = {
  'tandem-server': fileURLToPath(new URL('../src/bin/tandem-server.ts', import.meta.url)),
  'tandem-client': fileURLToPath(new URL('../src/bin/tandem-client.ts', import.meta.url)),
  'tandem-conformance': fileURLToPath(new URL('../../../conformance/src/bin/tandem-conformance.ts', import.meta.url)),
};
const version = (await import('../package.json', { with: { type: 'json' } })).default.version as string;

/** Run a binary to its end; bounded. */
function run(name: keyof typeof bins, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--conditions=@tandem/source', '--import', 'tsx', bins[name], ...args], {
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}
const oneLineError = (out: string, what: RegExp) => {
  const lines = out.trim().split('\n');
  expect(lines, out).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(what);
  expect(out).not.toMatch(/\n\s+at |RangeError|SyntaxError|TypeError/);
};

describe('flags', () => {
  const cases: [keyof typeof bins, string[], RegExp][] = [
    ['tandem-server', ['--port', 'abc'], /not a port \(0–65535\): abc/],
    ['tandem-server', ['--port', '99999'], /not a port \(0–65535\): 99999/],
    ['tandem-server', ['--admin-port', '-1'], /not a port/],
    ['tandem-server', ['--max-frame-bytes', '10'], /10 is too small: at least 4096/],
    ['tandem-server', ['--ping-interval', 'abc'], /not a positive number: abc/],
    ['tandem-server', ['--max-buffered-bytes', '5000'], /--max-buffered-bytes 5000 is smaller than one frame/],
    ['tandem-server', ['--host', ''], /not a host name or address/],
    [
      'tandem-server',
      ['--redis', 'tcp://user:hunter2-secret@redis:6379'],
      /--redis is not a redis:\/\/ or rediss:\/\/ URL \(its value is not shown/,
    ],
    ['tandem-client', ['--url', 'garbage'], /not a URL: garbage \(e\.g\. ws:\/\/127\.0\.0\.1:8787\)/],
    ['tandem-client', ['--url', 'http://127.0.0.1:8787'], /not a ws: or wss: URL/],
    ['tandem-client', ['--ice-server', 'http://stun.example'], /not a stun:, stuns:, turn: or turns: URL/],
    ['tandem-client', ['--join', 'not a code'], /not a code \(a number, then words\): not a code/],
    ['tandem-client', ['--join', '7-notaword-abandon'], /not a code/],
    ['tandem-client', ['--code', '--code-words', '1'], /a whole number from 2 to 16/],
    ['tandem-client', ['--code', '--pair', 'x'], /cannot be used with/],
  ];
  for (const [bin, args, what] of cases)
    it(`${bin} ${args.join(' ')}: one line saying what is wrong, exit 1`, async () => {
      const { code, out } = await run(bin, args);
      expect(code).toBe(1);
      oneLineError(out, what);
      expect(out).not.toContain('hunter2-secret');
    });

  for (const bin of Object.keys(bins) as (keyof typeof bins)[])
    it(`${bin} --version and -V print "${bin} <semver>"`, async () => {
      for (const flag of ['--version', '-V']) {
        const { code, out } = await run(bin, [flag]);
        expect(code).toBe(0);
        expect(out.trim()).toBe(
          `${bin} ${bin === 'tandem-conformance' ? (await import('../../../conformance/package.json', { with: { type: 'json' } })).default.version : version}`,
        );
      }
    });
});

describe('what the binaries say', () => {
  it('tandem-server --log-level warn --port 0 still says where it listens (text and JSON)', async () => {
    const text = start('tandem-server', ['--port', '0', '--log-level', 'warn', '--no-demo']);
    await text.waitFor(/^Listening on ws:\/\/127\.0\.0\.1:\d+$/);
    const json = start('tandem-server', ['--port', '0', '--log-level', 'warn', '--log-format', 'json', '--no-demo']);
    await json.waitFor(/"msg":"Listening on ws:\/\/127\.0\.0\.1:\d+"/);
  });

  it('tandem-client with no server says once that it cannot reach it, in plain words, and retries quietly', async () => {
    const port = await freePort();
    const client = start('tandem-client', ['--url', `ws://127.0.0.1:${port}`]);
    await client.waitFor(
      new RegExp(
        `^\\*\\*\\* cannot reach ws://127\\.0\\.0\\.1:${port}: connection refused — is a tandem-server running\\? \\(npm start\\) \\*\\*\\*$`,
      ),
    );
    await new Promise((r) => setTimeout(r, 4_000)); // several retries
    expect(client.count(/cannot reach/)).toBe(1);
    expect(client.count(/Signaling connection lost|reconnecting in/)).toBe(0);
    // and once a server is there, it connects
    const server = start('tandem-server', ['--port', String(port), '--no-demo']);
    await server.waitFor(/Listening on/);
    await client.waitFor(/\*\*\* Your Client ID: \S+ \*\*\*/, 20_000);
  }, 40_000);

  it('tandem-client commands: /help lists them, an unknown one says so, /quit exits; end of piped input does not', async () => {
    const { url } = await startServer(['--no-demo']);
    const c = await startClient(url);
    c.client.write('/help');
    await c.client.waitFor(/^ {2}\/quit +close the chat and exit/);
    c.client.write('/nope');
    await c.client.waitFor(/^Unknown command \/nope; \/help lists them\.$/);
    c.client.child.stdin.end(); // a pipe at its end: the client stays
    await new Promise((r) => setTimeout(r, 500));
    expect(c.client.child.exitCode).toBeNull();
    const again = await startClient(url);
    again.client.write('/quit');
    expect(await new Promise((r) => again.client.child.once('exit', r))).toBe(0);
  });

  it('tandem-client /leave ends the pairing on both sides; they can pair again', async () => {
    const { url } = await startServer(['--no-demo']);
    const a = await startClient(url);
    const b = await startClient(url);
    b.client.write(a.id);
    await a.client.waitFor(/Data channel opened/, 20_000);
    await b.client.waitFor(/Data channel opened/, 20_000);
    a.client.write('/leave');
    await a.client.waitFor(new RegExp(`^\\*\\*\\* Left ${b.id}\\. \\*\\*\\*$`));
    await b.client.waitFor(new RegExp(`^\\*\\*\\* Peer ${a.id} disconnected\\. \\*\\*\\*$`));
    b.client.write(a.id);
    await b.client.waitFor(new RegExp(`Paired with ${a.id}`), 10_000);
  }, 60_000);

  it('a key typed in capitals, or pasted with spaces, is the same key', async () => {
    const { url } = await startServer(['--no-demo']);
    const a = await connect(url);
    const b = await connect(url);
    b.send({ type: 'pair_request', target_id: `  ${a.id.toUpperCase()} ` });
    expect(await b.next((m) => m['type'] === 'paired' || m['type'] === 'error', 'the answer')).toMatchObject({
      type: 'paired',
      peer_id: a.id,
    });
  });

  it('a server error keeps its wire text and adds the plain words the page shows', async () => {
    const { url } = await startServer(['--no-demo']);
    const a = await startClient(url);
    a.client.write('00000000-0000-4000-8000-000000000000');
    await a.client.waitFor(/^Server error: Target client not found$/);
    await a.client.waitFor(/^ {2}No one is online with that key\. Check that you copied all of it\.$/);
    a.client.write(a.id);
    await a.client.waitFor(/^Server error: Cannot pair with yourself$/);
    await a.client.waitFor(/^ {2}That's your own key — paste the other person's key\.$/);
  });
});
