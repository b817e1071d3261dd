// tandem-conformance out of the box: against a v2 server whose keepalive timings differ from the
// flags, it says so and uses the server's own (the README's example works against `npm start`),
// shows each case as it starts, and refuses a flag that is not a number.
import { runCli, verdictLines } from './run-cli.js';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, startServer } from '../../packages/adapters/test/procs.js';

afterAll(killAll);

describe('tandem-conformance CLI', () => {
  it('uses the timings a v2 server states when the flags disagree, says so, and shows each case as it starts', async () => {
    const { url } = await startServer(['--ping-interval', '1', '--ping-timeout', '1', '--no-demo']);
    const { code, out, err } = await runCli([
      '--url',
      url,
      '--ping-interval',
      '25',
      '--ping-timeout',
      '20',
      '--filter',
      'stage5',
    ]);
    expect(err).toContain(
      "warning: the server states a 1 s ping interval and 1 s timeout; --ping-interval 25 --ping-timeout 20 disagree, so the server's are used",
    );
    const started = err.split('\n').filter((l) => l.startsWith('… stage5.'));
    const verdicts = verdictLines(out);
    expect(started.length).toBe(verdicts.length);
    expect(verdicts.length).toBeGreaterThanOrEqual(2);
    expect(
      verdicts.filter((l) => !l.startsWith('PASS')),
      out,
    ).toEqual([]);
    expect(code).toBe(0);
  }, 130_000);

  it('refuses a timing flag that is not a number, in one line', async () => {
    const { code, err } = await runCli(['--url', 'ws://127.0.0.1:1', '--ping-interval', 'soon']);
    expect(code).toBe(1);
    expect(err.trim()).toMatch(
      /^error: option '--ping-interval <seconds>' argument 'soon' is invalid\. not a positive number: soon$/,
    );
  });
});
