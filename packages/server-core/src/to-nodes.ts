// The cluster edge outward: messages to other nodes (counted), and telling a partner elsewhere
// that a pairing the directory ended is over. Directory writes whose answer is not needed settle here.
import type { EngineContext } from './engine-context.js';
import { isThenable, type MaybePromise, type NodeMessage, type PeerRef } from './directory/directory.js';

/** Send a message to another node (counted). */
export function post<H>(ctx: EngineContext<H>, node: string, message: NodeMessage): void {
  ctx.counters.nodeMessagesSent++;
  ctx.directory.post(node, message);
}

/** The directory ended a pairing (an unregister or unpair): a partner on another node is told by its own node. */
export function tellRemotePartner<H>(ctx: EngineContext<H>, id: string, answer: MaybePromise<PeerRef | null>): void {
  const tell = (partner: PeerRef | null) => {
    if (partner !== null && partner.node !== ctx.node)
      post(ctx, partner.node, { type: 'peer_left', to: partner.id, peer: id, epoch: partner.epoch });
  };
  if (isThenable(answer)) answer.then(tell, () => undefined);
  else tell(answer);
}

/** A directory write whose answer the engine does not need; a failure is repaired by the next reset. */
export function settle(answer: MaybePromise<unknown>): void {
  if (isThenable(answer)) answer.then(undefined, () => undefined);
}
