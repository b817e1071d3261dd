// Running the tandem-conformance binary from source for the CLI tests: its output and exit code,
// bounded in time.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/bin/tandem-conformance.ts', import.meta.url));

/** Run tandem-conformance with `args` (and extra environment); killed after `ms`. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  ms = 170_000,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--conditions=@tandem/source', '--import', 'tsx', cli, ...args], {
      env: { ...process.env, NODE_NO_WARNINGS: '1', ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, out, err });
    });
  });
}

/** The verdict lines of a run's output (one per case). */
export const verdictLines = (out: string): string[] =>
  out.split('\n').filter((l) => /^(PASS|FAIL|SKIP|NON-STRICT|INFORMATIONAL)\s/.test(l));
