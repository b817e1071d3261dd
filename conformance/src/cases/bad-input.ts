// Bad input: a clear error or a close, and the server carries on.
import fc from 'fast-check';
import { arbInvalidClientMessage } from '@tandem/protocol/arbitraries';
import { CloseCode, ErrorText } from '@tandem/protocol';
import { Failure, expectEq, expectTrue, isError, type Case } from '../verdicts.js';

/** Bad input cases, in order. */
export const badInputCases: Case[] = [
  {
    name: 'bad_input.hand_written',
    async run(ctx) {
      const a = await ctx.client();
      const probes: [string | Buffer, boolean, string][] = [
        ['{nope', false, ErrorText.InvalidJson],
        ['', false, ''],
        ['{"type":"teleport"}', false, `${ErrorText.UnknownType}: teleport`],
        ['{"type":"pair_request"}', false, 'target_id'],
        ['{"type":"pair_request","target_id":42}', false, 'target_id'],
        ['{"type":"offer"}', false, 'sdp'],
        ['{"type":"candidate","candidate":"x"}', false, 'candidate'],
        [Buffer.from([1, 2, 3]), true, ''],
      ];
      for (const [frame, binary, text] of probes) {
        const from = a.frames.length;
        a.send(frame, binary);
        // MUST: some error answers it (wire v1 allows generic texts); SHOULD: it names the problem
        const e = await a.next(
          (m) => m['type'] === 'error',
          `an error for ${JSON.stringify(String(frame))}`,
          undefined,
          from,
        );
        ctx.should(
          String(e['message']).includes(text),
          `the error for ${JSON.stringify(String(frame))} names "${text}" (got "${String(e['message'])}")`,
        );
      }
      a.json({ type: 'pair_request', target_id: 'nobody-0000' });
      await a.next(isError(ErrorText.TargetNotFound), 'a normal answer after bad input', undefined, a.frames.length);
    },
  },
  {
    name: 'bad_input.generated',
    async run(ctx) {
      const a = await ctx.client();
      const samples = fc.sample(arbInvalidClientMessage(), { numRuns: 25, seed: 7 });
      for (const { frame, field } of samples) {
        const from = a.frames.length;
        a.json(frame);
        const e = await a.next((m) => m['type'] === 'error', `an error for ${JSON.stringify(frame)}`, undefined, from);
        ctx.should(
          String(e['message']).includes(field),
          `the error for ${JSON.stringify(frame)} names "${field}" (got "${String(e['message'])}")`,
        );
      }
      a.json({ type: 'pair_request', target_id: 'nobody-0000' });
      await a.next(isError(ErrorText.TargetNotFound), 'a normal answer after bad input', undefined, a.frames.length);
    },
  },
  {
    name: 'bad_input.oversized_frame_does_not_take_the_server_down',
    async run(ctx) {
      const a = await ctx.client('big');
      const bystander = await ctx.client('bystander');
      a.json({ type: 'offer', sdp: 'x'.repeat(2 * 1024 * 1024) });
      // the sender learns why: an error naming the size, or a 1009 (message too big) close
      const outcome = await Promise.race([
        a.waitClosed(ctx.opts.answerTimeoutMs).then(() => 'closed' as const),
        a.next((m) => m['type'] === 'error', 'error').then((m) => m),
      ]).catch(() => null);
      if (outcome === null) throw new Failure('a 2 MiB frame got neither an error nor a close within 5 s');
      if (outcome === 'closed') expectEq(a.closed?.code, CloseCode.MessageTooBig, 'close code for an oversized frame');
      else {
        expectTrue(
          /too large|too big|limit/i.test(String(outcome['message'])),
          `error names the size limit: ${String(outcome['message'])}`,
        );
        a.json({ type: 'pair_request', target_id: 'nobody-0000' }); // and the connection carries on
        await a.next(
          isError(ErrorText.TargetNotFound),
          'a normal answer after the oversized frame',
          undefined,
          a.frames.length,
        );
      }
      // nobody else is harmed, and new clients still get IDs
      bystander.json({ type: 'pair_request', target_id: 'nobody-0000' });
      await bystander.next(
        isError(ErrorText.TargetNotFound),
        'the bystander still gets answers',
        undefined,
        bystander.frames.length,
      );
      const b = await ctx.client('after');
      expectTrue(b.id.length > 0, 'server still assigns IDs');
    },
  },
];
