// Stage 1 (seed 003): every client gets an unguessable ID first.
import { expectEq, expectTrue, type Case } from '../verdicts.js';

/** Stage 1 (seed 003) cases, in order. */
export const stage1Cases: Case[] = [
  {
    name: 'stage1.your_id_first',
    async run(ctx) {
      const c = await ctx.client();
      const first = JSON.parse(c.frames[0]!);
      expectEq(first.type, 'your_id', 'first frame type');
      expectTrue(typeof first.id === 'string' && first.id.length > 0, 'your_id.id is a non-empty string');
    },
  },
  {
    name: 'stage1.unique_unguessable_ids',
    async run(ctx) {
      const cs = await Promise.all(Array.from({ length: 30 }, (_, i) => ctx.client(`c${i}`)));
      const ids = cs.map((c) => c.id);
      expectEq(new Set(ids).size, ids.length, 'distinct IDs');
      for (const id of ids) expectTrue(id.length >= 20, `ID ${id} is too short to carry 122 random bits`);
      const distinctChars = new Set(ids.join('')).size;
      expectTrue(distinctChars >= 10, `IDs use only ${distinctChars} distinct characters`);
      const numeric = ids.map((id) => Number.parseInt(id.replace(/\D/g, '').slice(-12) || '0', 10));
      const sequential = numeric.slice(1).filter((n, i) => n - numeric[i]! === 1).length;
      expectTrue(sequential < 3, 'IDs look sequential');
    },
  },
];
