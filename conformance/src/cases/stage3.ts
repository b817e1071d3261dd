// Stage 3: signals relayed exactly, inside a pair only.
import { ErrorText } from '@tandem/protocol';
import { expectEq, isError, sleep, type Case } from '../verdicts.js';

/** Stage 3 cases, in order. */
export const stage3Cases: Case[] = [
  {
    name: 'stage3.relay_offer_answer_candidates_exactly',
    async run(ctx) {
      const [a, b] = await ctx.pair();
      const by = await ctx.client('bystander');
      const sdp = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ü "quoted" \\ back\r\n';
      a.json({ type: 'offer', sdp });
      expectEq(
        await b.next((m) => m['type'] === 'offer', 'offer'),
        { type: 'offer', sdp, from_peer: true },
        'relayed offer',
      );
      b.json({ type: 'answer', sdp });
      expectEq(
        await a.next((m) => m['type'] === 'answer', 'answer'),
        { type: 'answer', sdp, from_peer: true },
        'relayed answer',
      );
      const cand = {
        candidate: 'candidate:1 1 UDP 2122252543 192.168.1.2 54400 typ host',
        sdpMid: '0',
        sdpMLineIndex: 0,
      };
      a.json({ type: 'candidate', candidate: cand });
      expectEq(
        await b.next((m) => m['type'] === 'candidate', 'candidate'),
        { type: 'candidate', candidate: cand, from_peer: true },
        'relayed candidate',
      );
      const eoc = { candidate: '', sdpMid: null, sdpMLineIndex: null };
      b.json({ type: 'candidate', candidate: eoc });
      expectEq(
        await a.next((m) => m['type'] === 'candidate', 'end-of-candidates'),
        { type: 'candidate', candidate: eoc, from_peer: true },
        'end-of-candidates',
      );
      await sleep(200);
      // keepalive pings may land on anyone at any time: they are not traffic to a bystander
      const stray = by.messages().filter((m) => m['type'] !== 'your_id' && m['type'] !== 'ping');
      expectEq(stray, [], 'frames the bystander got besides your_id and pings');
    },
  },
  {
    name: 'stage3.not_paired',
    async run(ctx) {
      const a = await ctx.client();
      a.json({ type: 'offer', sdp: 'v=0' });
      await a.next(isError(ErrorText.NotPaired), `"${ErrorText.NotPaired}" error`);
      a.json({ type: 'candidate', candidate: { candidate: '', sdpMid: null, sdpMLineIndex: null } });
      await a.next(
        isError(ErrorText.NotPaired),
        `"${ErrorText.NotPaired}" error for a candidate`,
        undefined,
        a.frames.length - 1,
      );
    },
  },
];
