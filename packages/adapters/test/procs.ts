// Spawning the reference binaries from source for integration tests: every wait is bounded and
// every process is killed in teardown.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = (name: string) => fileURLToPath(new URL(`../src/bin/${name}.ts`, import.meta.url));

/** A running binary with its output lines. */
export interface Proc {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[];
  /** Resolve with the first match of `re` in a line (past or future), or reject after `ms`. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Everything it wrote so far, stdout and stderr as they came, the unfinished line included. */
  output(): string;
  /** Count lines matching `re` so far. */
  count(re: RegExp): number;
  /** A line (newline added), or on a tty the keystrokes as they are (\r for Enter). */
  write(line: string): void;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

const live = new Set<Proc>();

/**
 * The key every tandem-server these helpers start names clients with (`--log-key-file`), so a
 * test can tell which client a log line is about: `logHandle(id)` is what the server writes.
 */
const testLogKey = randomBytes(32);
const testLogKeyFile = join(mkdtempSync(join(tmpdir(), 'tandem-logkey-')), 'key');
writeFileSync(testLogKeyFile, testLogKey);
export const logHandle = (id: string): string => createHmac('sha256', testLogKey).update(id).digest('hex').slice(0, 8);

/** Start `tandem-server` or `tandem-client` from source with tsx. */
export function start(
  name: 'tandem-server' | 'tandem-client',
  args: string[],
  options: { fileLimit?: number; netns?: string; env?: Record<string, string>; tty?: boolean } = {},
): Proc {
  const naming =
    name === 'tandem-server' && !args.includes('--log-full-ids') && !args.includes('--log-key-file')
      ? ['--log-key-file', testLogKeyFile]
      : [];
  let argv = [process.execPath, '--conditions=@tandem/source', '--import', 'tsx', bin(name), ...args, ...naming];
  // with a file limit, through prlimit (util-linux) so the limit is the process's own
  if (options.fileLimit !== undefined) argv = ['prlimit', `--nofile=${options.fileLimit}`, '--', ...argv];
  // inside a network namespace the test made
  if (options.netns !== undefined) argv = ['ip', 'netns', 'exec', options.netns, ...argv];
  // on a pseudo-terminal: its output is the terminal's (echo, \r\n, escapes); write() sends keystrokes
  if (options.tty === true)
    argv = ['/usr/bin/python3', fileURLToPath(new URL('./on-terminal.py', import.meta.url)), ...argv];
  const [cmd, ...rest] = argv;
  const child = spawn(cmd!, rest, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_NO_WARNINGS: '1', ...options.env },
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let buf = '';
  let all = '';
  const onData = (d: Buffer) => {
    buf += d.toString();
    all += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    for (const w of waiters) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const proc: Proc = {
    child,
    lines,
    waitFor(re, ms = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (const l of lines) {
            const m = l.match(re);
            if (m) {
              waiters.delete(check);
              clearTimeout(timer);
              resolve(m);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${name}: no line matching ${re} within ${ms} ms; output:\n${lines.join('\n')}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    output: () => all,
    count: (re) => lines.filter((l) => re.test(l)).length,
    write: (line) => child.stdin.write(options.tty === true ? line : `${line}\n`),
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      const code = await exited;
      clearTimeout(t);
      live.delete(proc);
      return code;
    },
  };
  live.add(proc);
  return proc;
}

/** Kill every process still running. */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill('SIGKILL')));
}

/** Start a server on a free port and return it with its URL. */
export async function startServer(
  args: string[] = [],
  options: { fileLimit?: number } = {},
): Promise<{ server: Proc; url: string }> {
  const server = start('tandem-server', ['--port', '0', ...args], options);
  const m = await server.waitFor(/Listening on (wss?:\/\/[^\s"]+)/);
  return { server, url: m[1]! };
}

/** Start a client and wait for its ID. */
export async function startClient(
  url: string,
  args: string[] = [],
  options: { netns?: string; env?: Record<string, string> } = {},
): Promise<{ client: Proc; id: string }> {
  const client = start('tandem-client', ['--url', url, ...args], options);
  const m = await client.waitFor(/\*\*\* Your Client ID: (\S+) \*\*\*/);
  return { client, id: m[1]! };
}

/**
 * Whether log `lines` give away a pairing code's secret words: the code, its words together, or
 * one word on its own — a whole word the log did not use before the code existed (`before`, the
 * lines written until then), since BIP-39 words such as "client" or "pair" are the log's own too.
 */
export function leaksCode(lines: readonly string[], code: string, before: number): boolean {
  const words = code.split('-').slice(1);
  const whole = (w: string) => new RegExp(`(^|[^a-z])${w}([^a-z]|$)`, 'i');
  const usual = new Set(words.filter((w) => lines.slice(0, before).some((l) => whole(w).test(l))));
  return lines.some(
    (l) =>
      l.includes(code) ||
      l.includes(words.join('-')) ||
      l.includes(words.join(' ')) ||
      words.some((w) => !usual.has(w) && whole(w).test(l)),
  );
}
