// Another node asks for a session this engine holds (its client came back there): the session
// leaves this engine without ending — the directory keeps its ID and pairing — or the asker is told why not.
import { RemotePeer, type Holder } from '../connection.js';
import type { EngineContext, Turn } from '../engine-context.js';
import type { HandoverResult, PeerRef } from '../directory/directory.js';
import { takeOut } from '../lifecycle.js';
import { uncountDetached } from '../detached.js';
import { post } from '../to-nodes.js';
import { checkResume, forgetToken } from './session.js';

/** How long (ms) late messages for a session handed away are sent on, at least. */
const FORWARD_MIN_MS = 60_000;

/**
 * Hand the session of token `key`.`secret` to node `to`, whose client received `received` frames
 * and whose link is authorized as `asking`.
 */
export function handover<H>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  key: string,
  secret: string,
  received: number,
  to: string,
  asking: Holder | null,
): HandoverResult {
  const check = checkResume(ctx.sessions.get(key), secret, received, asking);
  if (!check.ok) return check;
  const { session, resume: r, replay } = check;
  if (r.attached) ctx.sink.close(session.handle, ctx.closes.taken_over);
  else uncountDetached(ctx, session);
  const peer = session.peer;
  const epoch = session.pairEpoch!;
  let peerRef: PeerRef | null = null;
  if (peer instanceof RemotePeer) {
    peerRef = { id: peer.id, node: peer.node, epoch };
    ctx.counters.pairs--;
    if (peer.node !== to) post(ctx, peer.node, { type: 'peer_moved', to: peer.id, peer: session.id, node: to, epoch });
  } else if (peer !== null) {
    peerRef = { id: peer.id, node: ctx.node, epoch };
    peer.peer = new RemotePeer(session.id, to); // the pair now crosses nodes; it is still counted here
  }
  forgetToken(ctx, session, 'quietly'); // the directory's record of the key is the new node's business
  takeOut(ctx, session, 'keep');
  session.peer = null;
  r.attached = false;
  ctx.counters.handedOver++;
  const now = turn.now;
  for (const [id, m] of ctx.moved) if (m.until <= now) ctx.moved.delete(id);
  ctx.moved.set(session.id, { node: to, until: now + Math.max(ctx.settings.resumeGraceMs, FORWARD_MIN_MS) });
  ctx.sink.log?.({ type: 'handed_over', id: session.id, node: to });
  const ledger = r.ledger;
  const moved = {
    id: session.id,
    peer: peerRef,
    wsPing: session.wsPing,
    sent: ledger.sent,
    acked: ledger.acked,
    received: ledger.received,
    retained: [...replay],
  };
  ledger.discard(); // the frames travel with the session; this record may wait in a stale wheel filing
  return { ok: true, session: session.ice !== null ? { ...moved, iceServers: true } : moved };
}
