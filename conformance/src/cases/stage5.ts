// Stage 5: keepalive, timeouts and the partner told when its peer leaves.
import { expectEq, expectTrue, sleep, type Case } from '../verdicts.js';

/** Stage 5 cases, in order. */
export const stage5Cases: Case[] = [
  {
    name: 'stage5.ping_and_pong_keep_alive',
    async run(ctx) {
      const a = await ctx.client();
      ctx.keepAlive(a);
      const span = 2 * ctx.opts.pingIntervalMs + ctx.opts.pingTimeoutMs + ctx.opts.toleranceMs;
      await a.next(
        (m) => m['type'] === 'ping',
        `a ping within the ${ctx.opts.pingIntervalMs} ms interval (+${ctx.opts.toleranceMs} ms tolerance)`,
        ctx.opts.pingIntervalMs + ctx.opts.toleranceMs,
      );
      await sleep(span);
      expectTrue(
        a.closed === null,
        `closed (${a.closed?.code}) within ${span} ms (2 × ${ctx.opts.pingIntervalMs} ms interval + ${ctx.opts.pingTimeoutMs} ms timeout + ${ctx.opts.toleranceMs} ms tolerance) although it answered every ping`,
      );
    },
  },
  {
    name: 'stage5.any_frame_is_proof_of_life',
    async run(ctx) {
      const a = await ctx.client();
      const end = Date.now() + 2 * ctx.opts.pingIntervalMs + ctx.opts.pingTimeoutMs + ctx.opts.toleranceMs;
      while (Date.now() < end) {
        a.json({ type: 'offer', sdp: 'x' }); // answered "Not paired", but it is a frame
        await sleep(Math.max(50, ctx.opts.pingIntervalMs / 4));
      }
      expectTrue(
        a.closed === null,
        `closed although it kept sending frames (watched 2 × ${ctx.opts.pingIntervalMs} ms interval + ${ctx.opts.pingTimeoutMs} ms timeout + ${ctx.opts.toleranceMs} ms tolerance)`,
      );
    },
  },
  {
    name: 'stage5.silent_client_times_out_and_partner_is_told',
    async run(ctx) {
      const [a, b] = await ctx.pair();
      ctx.keepAlive(b);
      const t0 = Date.now(); // A's last frame was its pair_request
      const bound = ctx.opts.pingIntervalMs + ctx.opts.pingTimeoutMs;
      const at = await a.waitClosed(
        bound + ctx.opts.toleranceMs,
        `the ${ctx.opts.pingIntervalMs} ms interval + ${ctx.opts.pingTimeoutMs} ms timeout (+${ctx.opts.toleranceMs} ms tolerance)`,
      );
      expectTrue(
        at - t0 >= ctx.opts.pingTimeoutMs - ctx.opts.earlyToleranceMs,
        `closed after ${at - t0} ms, before the ${ctx.opts.pingTimeoutMs} ms timeout (${ctx.opts.earlyToleranceMs} ms early allowed)`,
      );
      expectEq(
        await b.next((m) => m['type'] === 'peer_disconnected', 'peer_disconnected'),
        { type: 'peer_disconnected', peer_id: a.id },
        'notice',
      );
    },
  },
  {
    name: 'stage5.peer_disconnected_on_close_then_repair',
    async run(ctx) {
      const [a, b] = await ctx.pair();
      b.end(1000);
      expectEq(
        await a.next((m) => m['type'] === 'peer_disconnected', 'peer_disconnected'),
        { type: 'peer_disconnected', peer_id: b.id },
        'notice',
      );
      const c = await ctx.client('C');
      a.json({ type: 'pair_request', target_id: c.id });
      await c.next((m) => m['type'] === 'paired', 'paired after re-pair');
      await sleep(100);
      expectEq(a.count('peer_disconnected'), 1, 'exactly one notice');
    },
  },
  {
    name: 'stage5.peer_disconnected_on_abrupt_loss',
    async run(ctx) {
      const [a, b] = await ctx.pair();
      b.close(); // no closing handshake
      expectEq(
        await a.next((m) => m['type'] === 'peer_disconnected', 'peer_disconnected', 10_000),
        { type: 'peer_disconnected', peer_id: b.id },
        'notice',
      );
    },
  },
];
