import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ResumeLedger } from './resume.js';
import { ACK_EVERY_FRAMES } from './messages.js';

describe('ResumeLedger', () => {
  it('acks every ACK_EVERY_FRAMES small frames, and by size for big ones', () => {
    const l = new ResumeLedger();
    const due = Array.from({ length: 40 }, () => l.receiving(10));
    expect(due.map((d, i) => (d ? i + 1 : 0)).filter(Boolean)).toEqual([ACK_EVERY_FRAMES, 2 * ACK_EVERY_FRAMES]);
    const big = new ResumeLedger();
    expect([big.receiving(200_000), big.receiving(70_000)]).toEqual([false, true]);
  });
  it('replays exactly the frames the other side lacks, and refuses impossible counts (model)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constant({ send: true as const }),
            fc.nat().map((n) => ({ ack: n })),
          ),
        ),
        fc.nat(),
        (ops, resumeAt) => {
          const l = new ResumeLedger();
          let acked = 0;
          const sent: string[] = [];
          for (const op of ops) {
            if ('send' in op) {
              const frame = `f${sent.length + 1}`;
              sent.push(frame);
              l.sending(frame);
            } else {
              const ok = op.ack >= acked && op.ack <= sent.length;
              expect(l.acknowledged(op.ack)).toBe(ok);
              if (ok) acked = op.ack;
            }
            expect(l.retainedCount).toBe(sent.length - acked);
          }
          const replay = l.replayAfter(resumeAt);
          if (resumeAt < acked || resumeAt > sent.length) expect(replay).toBeNull();
          else expect(replay).toEqual(sent.slice(resumeAt));
        },
      ),
    );
  });
});
