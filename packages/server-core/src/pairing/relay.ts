// The hot path: a validated signal goes to the partner, on this node or another, byte for byte
// with `from_peer` added. No resume, cluster or ICE code is on this path.
import { RemotePeer, type Connection } from '../connection.js';
import type { EngineContext, Turn } from '../engine-context.js';
import type { SignalType } from '../effects.js';
import { addFromPeer } from '../relay-frame.js';
import { deliver, watchQueue } from '../to-clients.js';
import { post } from '../to-nodes.js';

/** Relay `frame` (a validated `messageType`) from `conn` to its partner. */
export function relaySignal<H>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  conn: Connection<H>,
  messageType: SignalType,
  frame: string,
): void {
  const peer = conn.peer!;
  const counters = ctx.counters;
  counters.relayed++;
  counters.relayedByType[messageType]++;
  const relayed = addFromPeer(frame);
  if (peer instanceof RemotePeer) {
    post(ctx, peer.node, {
      type: 'signal',
      to: peer.id,
      from: conn.id,
      epoch: conn.pairEpoch!,
      messageType,
      frame: relayed,
    });
    if (ctx.logRelays) ctx.sink.log!({ type: 'relayed', from: conn.id, to: peer.id, messageType });
    return;
  }
  deliver(ctx, turn, peer, relayed);
  if (ctx.logRelays) ctx.sink.log!({ type: 'relayed', from: conn.id, to: peer.id, messageType });
  watchQueue(ctx, turn, peer);
}
