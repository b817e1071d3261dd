// Stage 4: many pairs at once, no cross-talk.
import { expectEq, sleep, type Case } from '../verdicts.js';

/** Stage 4 cases, in order. */
export const stage4Cases: Case[] = [
  {
    name: 'stage4.no_cross_talk_many_pairs',
    async run(ctx) {
      const pairs = await Promise.all(Array.from({ length: 10 }, () => ctx.pair()));
      pairs.forEach(([a], i) => a.json({ type: 'offer', sdp: `pair-${i}` }));
      await Promise.all(pairs.map(([, b], i) => b.next((m) => m['type'] === 'offer', `offer for pair ${i}`)));
      await sleep(200);
      pairs.forEach(([, b], i) =>
        expectEq(
          b
            .messages()
            .filter((m) => m['type'] === 'offer')
            .map((m) => m['sdp']),
          [`pair-${i}`],
          `offers seen by pair ${i}`,
        ),
      );
    },
  },
];
