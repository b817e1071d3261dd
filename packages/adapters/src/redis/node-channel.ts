// What travels on a node's Redis channel: envelopes (JSON, checked against @tandem/protocol's
// schemas), and relayed signals in a lean text form of their own — the hot path: the frame goes
// as it is, not escaped into JSON again (IDs, epochs and types hold no newline). What one node
// has for another while it handles one piece of work goes as one batch: one PUBLISH, in order.
import { decodeNodeEnvelope, isNodeSignal, type NodeEnvelope, type NodeMessage } from '@tandem/protocol/cluster';

type Signal = Extract<NodeMessage, { type: 'signal' }>;

/** The text of an envelope. */
export function encodeEnvelope(envelope: NodeEnvelope): string {
  return JSON.stringify(envelope);
}

/** The lean text of a relayed signal: `S<to>\n<from>\n<epoch>\n<type>\n<frame>`. */
export function encodeSignal(s: Signal): string {
  return `S${s.to}\n${s.from}\n${s.epoch}\n${s.messageType}\n${s.frame}`;
}

/** What arrived on the channel: a signal, an envelope, or why it is neither. */
export type ChannelText =
  | { readonly kind: 'signal'; readonly signal: Signal }
  | { readonly kind: 'envelope'; readonly envelope: NodeEnvelope }
  | { readonly kind: 'malformed'; readonly error: string };

/** Several texts as one: `B` then, for each, its length in UTF-16 units, a newline, and the text. */
export function encodeBatch(texts: readonly string[]): string {
  let out = 'B';
  for (const text of texts) out += `${text.length}\n${text}`;
  return out;
}

/** Read what one PUBLISH carried: one text, or each text of a batch, in order (never throws). */
export function decodeChannelTexts(payload: string): ChannelText[] {
  if (payload.charCodeAt(0) !== 66 /* B */) return [decodeChannelText(payload)];
  const out: ChannelText[] = [];
  for (let at = 1; at < payload.length;) {
    const nl = payload.indexOf('\n', at);
    const digits = nl < 0 ? '' : payload.slice(at, nl);
    const length = /^[0-9]{1,9}$/.test(digits) ? Number(digits) : -1;
    if (length < 0 || nl + 1 + length > payload.length) {
      out.push({ kind: 'malformed', error: 'a batch whose framing is broken' });
      break;
    }
    const text = payload.slice(nl + 1, nl + 1 + length);
    out.push(
      text.charCodeAt(0) === 66 ? { kind: 'malformed', error: 'a batch inside a batch' } : decodeChannelText(text),
    );
    at = nl + 1 + length;
  }
  return out;
}

/** Read one channel text (never throws). */
export function decodeChannelText(text: string): ChannelText {
  if (text.charCodeAt(0) !== 83 /* S */) {
    const decoded = decodeNodeEnvelope(text);
    return decoded.ok ? { kind: 'envelope', envelope: decoded.value } : { kind: 'malformed', error: decoded.error };
  }
  const a = text.indexOf('\n');
  const b = a < 0 ? -1 : text.indexOf('\n', a + 1);
  const c = b < 0 ? -1 : text.indexOf('\n', b + 1);
  const d = c < 0 ? -1 : text.indexOf('\n', c + 1);
  if (d < 0) return { kind: 'malformed', error: 'a signal without its header' };
  const signal = {
    type: 'signal',
    to: text.slice(1, a),
    from: text.slice(a + 1, b),
    epoch: text.slice(b + 1, c),
    messageType: text.slice(c + 1, d),
    frame: text.slice(d + 1),
  };
  return isNodeSignal(signal) ? { kind: 'signal', signal } : { kind: 'malformed', error: 'a signal with a bad header' };
}
