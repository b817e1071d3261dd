// The node channel's texts: envelopes and lean signals round-trip, a batch carries any texts in
// order, and nothing malformed gets through (or throws).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NodeMessage } from '@tandem/protocol/cluster';
import { decodeChannelTexts, encodeBatch, encodeEnvelope, encodeSignal } from './node-channel.js';

const id = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes('\n'));
const signal = fc.record({
  type: fc.constant('signal' as const),
  to: id,
  from: id,
  epoch: fc.integer({ min: 1, max: 1e9 }).map(String),
  messageType: fc.constantFrom('offer' as const, 'answer' as const, 'candidate' as const),
  frame: fc.string({ maxLength: 300, unit: 'grapheme' }),
});
const peerLeft = fc.record({ type: fc.constant('peer_left' as const), to: id, peer: id, epoch: fc.constant('7') });
const message: fc.Arbitrary<NodeMessage> = fc.oneof(signal, peerLeft);
const text = (m: NodeMessage) => (m.type === 'signal' ? encodeSignal(m) : encodeEnvelope({ t: 'm', m }));
const read = (r: ReturnType<typeof decodeChannelTexts>[number]) =>
  r.kind === 'signal' ? r.signal : r.kind === 'envelope' && r.envelope.t === 'm' ? r.envelope.m : r;

describe('node channel texts', () => {
  it('a batch of any messages comes out whole and in order; one alone goes as it is', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 12 }), (messages) => {
        const texts = messages.map(text);
        const payload = texts.length === 1 ? texts[0]! : encodeBatch(texts);
        expect(decodeChannelTexts(payload).map(read)).toEqual(messages);
      }),
    );
  });
  it('garbage, whole or inside a batch, is reported malformed and never throws; the good items still pass', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (junk) => {
        for (const r of decodeChannelTexts(junk)) expect(['malformed', 'signal', 'envelope']).toContain(r.kind);
      }),
    );
    const good: NodeMessage = { type: 'peer_left', to: 'a', peer: 'b', epoch: '7' };
    const batch = encodeBatch([text(good), 'null', '{"t":"m","m":null}', encodeBatch(['x']), text(good)]);
    expect(decodeChannelTexts(batch).map((r) => r.kind)).toEqual([
      'envelope',
      'malformed',
      'malformed',
      'malformed',
      'envelope',
    ]);
    expect(decodeChannelTexts('B12\nshort')).toEqual([{ kind: 'malformed', error: 'a batch whose framing is broken' }]);
    expect(decodeChannelTexts('Bx\n{}')).toEqual([{ kind: 'malformed', error: 'a batch whose framing is broken' }]);
  });
});
