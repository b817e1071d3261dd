// Stage 2: pairing by ID, and each wire-v1 pairing error.
import { ErrorText } from '@tandem/protocol';
import { expectEq, isError, type Case } from '../verdicts.js';

/** Stage 2 cases, in order. */
export const stage2Cases: Case[] = [
  {
    name: 'stage2.pair_success',
    async run(ctx) {
      const a = await ctx.client('A');
      const b = await ctx.client('B');
      a.json({ type: 'pair_request', target_id: b.id });
      expectEq(
        await a.next((m) => m['type'] === 'paired', 'paired'),
        { type: 'paired', peer_id: b.id, initiator: true },
        'requester paired',
      );
      expectEq(
        await b.next((m) => m['type'] === 'paired', 'paired'),
        { type: 'paired', peer_id: a.id, initiator: false },
        'target paired',
      );
    },
  },
  {
    name: 'stage2.error_target_not_found',
    async run(ctx) {
      const a = await ctx.client();
      a.json({ type: 'pair_request', target_id: 'no-such-client-00000000' });
      await a.next(isError(ErrorText.TargetNotFound), `"${ErrorText.TargetNotFound}" error`);
    },
  },
  {
    name: 'stage2.error_self',
    async run(ctx) {
      const a = await ctx.client();
      a.json({ type: 'pair_request', target_id: a.id });
      await a.next(isError(ErrorText.CannotPairWithSelf), `"${ErrorText.CannotPairWithSelf}" error`);
    },
  },
  {
    name: 'stage2.error_already_paired_and_target_paired',
    async run(ctx) {
      const [a, b] = await ctx.pair();
      const c = await ctx.client('C');
      const before = a.frames.length;
      a.json({ type: 'pair_request', target_id: c.id });
      await a.next(isError(ErrorText.AlreadyPaired), `"${ErrorText.AlreadyPaired}" error`, undefined, before - 1);
      c.json({ type: 'pair_request', target_id: b.id });
      await c.next(isError(ErrorText.TargetAlreadyPaired), `"${ErrorText.TargetAlreadyPaired}" error`);
      // nothing changed: A and B still relay to each other, C is still free
      a.json({ type: 'offer', sdp: 'still-paired' });
      await b.next((m) => m['sdp'] === 'still-paired', 'relayed offer after failed requests');
      expectEq(c.count('paired'), 0, 'C got no paired');
    },
  },
];
