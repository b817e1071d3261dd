// NAT traversal figures (issue 17), in the namespace lab: two tandem-client processes (werift) in
// homes behind symmetric NATs, connected through Debian's coturn, against the same two clients on
// plain loopback in the same run: pair_request → data channel open (p50/p95), and the round trip
// of a data-channel message (through the relay vs direct). Needs root; reported as skipped, with
// the reason, where the lab cannot be built.
import { buildNatLab, natLabUnavailable, startCoturn } from '../../packages/adapters/test/natlab.js';
import { killAll, start, startClient, type Proc } from '../../packages/adapters/test/procs.js';
import { percentile } from './figures.js';

const log = (s: string) => process.stderr.write(`  ${s}\n`);

export interface NatFigures {
  skipped?: string;
  pairings: number;
  turn?: { openP50: number; openP95: number; rttP50: number; rttP95: number };
  loopback?: { openP50: number; openP95: number; rttP50: number; rttP95: number };
}

async function server(args: string[], netns?: string): Promise<{ proc: Proc; url: string }> {
  const proc = start(
    'tandem-server',
    ['--port', '0', '--no-demo', '--log-level', 'warn', ...args],
    netns ? { netns } : {},
  );
  // warn hides the Listening line: find the port from the log at info instead
  const m = await proc.waitFor(/Listening on (ws:\/\/\S+)/, 20_000).catch(() => null);
  if (m === null) throw new Error(`tandem-server did not listen: ${proc.lines.join('\n')}`);
  return { proc, url: m[1]! };
}

/** One pairing from pair_request to both channels open, then `rounds` message round trips. */
async function onePairing(
  url: string,
  homes: [string | undefined, string | undefined],
  extra: string[],
  rounds: number,
): Promise<{ openMs: number; rtts: number[] }> {
  const a = await startClient(url, extra, homes[0] ? { netns: homes[0] } : {});
  const b = await startClient(url, extra, homes[1] ? { netns: homes[1] } : {});
  try {
    const t0 = performance.now();
    b.client.write(a.id);
    await Promise.all([
      a.client.waitFor(/Data channel opened/, 30_000),
      b.client.waitFor(/Data channel opened/, 30_000),
    ]);
    const openMs = performance.now() - t0;
    const rtts: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const s = performance.now();
      a.client.write(`rtt-${i}`);
      await b.client.waitFor(new RegExp(`^< Peer: rtt-${i}$`), 10_000);
      b.client.write(`back-${i}`);
      await a.client.waitFor(new RegExp(`^< Peer: back-${i}$`), 10_000);
      rtts.push(performance.now() - s);
    }
    return { openMs, rtts };
  } finally {
    await Promise.all([a.client.kill('SIGKILL'), b.client.kill('SIGKILL')]);
  }
}

const summary = (open: number[], rtt: number[]) => ({
  openP50: percentile(open, 50),
  openP95: percentile(open, 95),
  rttP50: percentile(rtt, 50),
  rttP95: percentile(rtt, 95),
});

export async function natFigures(pairings: number, rounds = 10): Promise<NatFigures> {
  const why = natLabUnavailable();
  if (why !== null) {
    log(`nat: skipped (${why})`);
    return { skipped: why, pairings: 0 };
  }
  const lab = buildNatLab();
  const secret = 'bench-static-auth-secret';
  const turn = await startCoturn(lab, secret);
  try {
    const viaTurn = await server(
      ['--host', lab.service, '--log-level', 'info', '--turn-url', `turn:${lab.service}:3478`, '--turn-secret', secret],
      lab.pub,
    );
    const loop = await server(['--host', '127.0.0.1', '--log-level', 'info']);
    const open = { turn: [] as number[], loop: [] as number[] };
    const rtt = { turn: [] as number[], loop: [] as number[] };
    // interleaved, so drift on this shared machine hits both alike
    for (let i = 0; i < pairings; i++) {
      const t = await onePairing(viaTurn.url, [lab.homes[0], lab.homes[1]], [], rounds);
      open.turn.push(t.openMs);
      rtt.turn.push(...t.rtts);
      const l = await onePairing(loop.url, [undefined, undefined], [], rounds);
      open.loop.push(l.openMs);
      rtt.loop.push(...l.rtts);
      log(`nat pairing ${i + 1}: open through TURN ${t.openMs.toFixed(0)} ms, loopback ${l.openMs.toFixed(0)} ms`);
    }
    await Promise.all([viaTurn.proc.kill(), loop.proc.kill()]);
    return { pairings, turn: summary(open.turn, rtt.turn), loopback: summary(open.loop, rtt.loop) };
  } finally {
    await killAll();
    turn.stop();
    lab.teardown();
  }
}
