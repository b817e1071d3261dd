// tandem-server and its own output, over real sockets: a reader that goes away (`| head -3`) or
// stops reading must never hang or kill the server. It keeps serving (/healthz, pairing, relay),
// a signal still ends it, and a second signal always does.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from './ws-client.js';

const bin = fileURLToPath(new URL('../src/bin/tandem-server.ts', import.meta.url));
const children = new Set<ChildProcessWithoutNullStreams>();
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});

/** Start tandem-server and read its stdout until it says where it listens; then `after` decides what the reader does. */
async function serverWithReader(args: string[], after: 'close' | 'stop-reading') {
  const child = spawn(
    process.execPath,
    ['--conditions=@tandem/source', '--import', 'tsx', bin, '--port', '0', ...args],
    {
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    },
  );
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`no Listening line: ${out}${stderr}`)), 20_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /Listening on (ws:\/\/[^\s"]+)/.exec(out);
      if (!m) return;
      clearTimeout(t);
      child.stdout.off('data', onData);
      if (after === 'close')
        child.stdout.destroy(); // as `head -3` exits: the pipe's read end is gone
      else child.stdout.pause(); // a reader that never reads again: the pipe fills
      resolve(m[1]!);
    };
    child.stdout.on('data', onData);
  });
  return { child, url, exit, stderr: () => stderr };
}

/** Work that logs a lot: connections, a pairing, relayed offers. */
async function busy(url: string, offers: number, sdpBytes = 8_000) {
  const a = await connect(url);
  const b = await connect(url);
  a.send({ type: 'pair_request', target_id: b.id });
  await b.next((m) => m['type'] === 'paired', 'paired');
  const sdp = 'v=0 '.repeat(sdpBytes / 4);
  for (let i = 0; i < offers; i++) a.send({ type: 'offer', sdp: `${i} ${sdp}` });
  await b.next((m) => m['type'] === 'offer' && String(m['sdp']).startsWith(`${offers - 1} `), 'the last offer', 20_000);
  a.ws.close();
  b.ws.close();
}
const healthy = async (url: string) => {
  const res = await fetch(url.replace('ws://', 'http://') + '/healthz', { signal: AbortSignal.timeout(2_000) });
  return res.status;
};
// the load streams faster than one client may by default, and in bursts bigger than the slow-consumer cap
const relaxed = [
  '--rate-limit',
  '1e6',
  '--rate-burst',
  '1e6',
  '--byte-rate-limit',
  '1e12',
  '--byte-rate-burst',
  '1e12',
  '--max-buffered-bytes',
  '1000000000',
];

describe('tandem-server with a closed or stuck standard output', () => {
  for (const format of ['json', 'text'] as const) {
    it(`${format} logs, the reader gone (| head -3): it serves on, and a signal ends it cleanly`, async () => {
      const s = await serverWithReader(['--log-format', format, '--log-level', 'debug', ...relaxed], 'close');
      await busy(s.url, 200);
      expect(await healthy(s.url)).toBe(200);
      await busy(s.url, 50); // and again, after the first writes failed
      expect(s.child.exitCode).toBeNull(); // no EPIPE crash
      s.child.kill('SIGINT');
      expect(await s.exit).toEqual({ code: 0, signal: null });
      expect(s.stderr()).not.toMatch(/EPIPE|Unhandled|Error:/);
    }, 60_000);
  }

  it('a reader that stops reading: the pipe fills, the server serves on; a second signal always exits', async () => {
    const s = await serverWithReader(['--log-format', 'json', '--log-level', 'debug', ...relaxed], 'stop-reading');
    await busy(s.url, 12_000, 40); // 12,000 relay lines: well past the pipe's 64 KiB and the 1 MiB the log keeps unwritten
    expect(await healthy(s.url)).toBe(200);
    const metrics = await (await fetch(s.url.replace('ws://', 'http://') + '/metrics')).text();
    expect(Number(/^tandem_log_lines_dropped_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    // SIGTERM drains (a client keeps it open), the second signal exits at once
    const stay = await connect(s.url);
    (stay.ws as unknown as { _socket: { pause(): void } })._socket.pause(); // it never answers the drain's close
    s.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    s.child.kill('SIGINT');
    expect((await s.exit).code).toBe(1);
    stay.ws.terminate();
  }, 60_000);
});
