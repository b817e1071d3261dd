// The cluster edge inward: messages from other nodes, and the reset after the directory lost its
// shared state. Messages about clients or pairings this engine no longer has are ignored, so a
// late or repeated one is harmless.
import { Connection, RemotePeer } from './connection.js';
import type { EngineContext, Turn } from './engine-context.js';
import type { NodeMessage, Registration } from './directory/directory.js';
import { endStalePairing, pairingEvent } from './pairing/pairing-effects.js';
import { PairingInput, PairingState } from './tables.js';
import { deliver, watchQueue } from './to-clients.js';
import { post } from './to-nodes.js';
import { codesFromNode, isCodeMessage } from './codes/cluster-codes.js';

/** A message from another node. */
export function fromNode<H>(ctx: EngineContext<H>, turn: Turn<H>, message: NodeMessage): void {
  ctx.counters.nodeMessagesReceived++;
  if (isCodeMessage(message)) return codesFromNode(ctx, turn, message);
  const conn = ctx.local.get(message.to);
  if (conn === undefined) {
    const moved = ctx.moved.get(message.to);
    if (moved !== undefined) post(ctx, moved.node, message); // it was resumed elsewhere: send it on
    return;
  }
  if (conn.pairingState === PairingState.closed) return;
  const peer = conn.peer;
  switch (message.type) {
    case 'paired': {
      if (peer !== null && conn.pairEpoch === message.epoch) return;
      endStalePairing(ctx, turn, conn);
      if (conn.pairingState !== PairingState.unpaired) return;
      const remote = new RemotePeer(message.peer, message.peerNode);
      conn.peer = remote;
      conn.pairEpoch = message.epoch;
      ctx.counters.pairs++;
      ctx.sink.log?.({ type: 'paired', id: message.peer, peerId: conn.id });
      return pairingEvent(ctx, turn, conn, PairingInput.pairedByPeer, { cause: 'peer', peer: remote });
    }
    case 'signal':
      if (!pairedWith(conn, message.from, message.epoch) || conn.pairingState !== PairingState.paired) return;
      deliver(ctx, turn, conn, message.frame);
      return watchQueue(ctx, turn, conn);
    case 'peer_left':
      if (!pairedWith(conn, message.peer, message.epoch) || conn.pairingState !== PairingState.paired) return;
      ctx.counters.pairs--;
      return pairingEvent(ctx, turn, conn, PairingInput.peerLeft, { cause: 'peer', peer: peer! });
    case 'peer_moved':
      if (!pairedWith(conn, message.peer, message.epoch)) return;
      conn.peer =
        message.node === ctx.node
          ? (ctx.local.get(message.peer) ?? new RemotePeer(message.peer, message.node))
          : new RemotePeer(message.peer, message.node);
      return;
  }
}

/** Whether `conn`'s current pairing is the one with `peerId` of `epoch`. */
function pairedWith<H>(conn: Connection<H>, peerId: string, epoch: string): boolean {
  return conn.peer !== null && conn.peer.id === peerId && conn.pairEpoch === epoch;
}

/**
 * The directory lost its shared state, or cannot vouch that no message was lost: every pair with
 * a partner on another node ends (the client is told `peer_disconnected` and may pair again), and
 * what this engine holds is handed back to be registered again.
 */
export function resetCluster<H>(ctx: EngineContext<H>, turn: Turn<H>): Registration[] {
  ctx.counters.clusterResets++;
  const registrations: Registration[] = [];
  for (const conn of [...ctx.local.values()]) {
    if (conn.pairingState === PairingState.closed) continue;
    if (conn.peer instanceof RemotePeer && conn.pairingState === PairingState.paired) {
      ctx.counters.pairs--;
      pairingEvent(ctx, turn, conn, PairingInput.peerLeft, { cause: 'peer', peer: conn.peer });
    }
    const localPeer = conn.peer instanceof Connection ? conn.peer.id : null;
    registrations.push({
      id: conn.id,
      localPeer,
      epoch: localPeer === null ? null : conn.pairEpoch,
      sessionKey: conn.resume?.token.key ?? null,
      tenant: conn.auth?.tenant ?? null,
    });
  }
  return registrations;
}
