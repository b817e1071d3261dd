// How a connection leaves the engine: one routine takes it out (wheel, local map, states,
// counters), and the three reasons to call it say what else happens — `end` (it closes: its
// partner is released and the directory forgets it), a fresh link retired by a resume (its
// identity was never shared), and a session handed to another node (the directory keeps it).
import type { Connection } from './connection.js';
import type { EngineContext, Turn } from './engine-context.js';
import type { CloseReasonCode, DisconnectReason } from './effects.js';
import { pairingEvent, END } from './pairing/pairing-effects.js';
import { forgetToken } from './resume/session.js';
import { uncountDetached } from './detached.js';
import { tellRemotePartner } from './to-nodes.js';
import { codesGone } from './codes/code-ends.js';
import { KeepaliveInput, PairingInput, PairingState, keepaliveTable } from './tables.js';

/** What leaving means for the directory: forget the ID (telling a partner elsewhere), or keep it (handed over). */
type DirectoryOnExit = 'unregister' | 'keep';

/** Take `conn` out of this engine: the one way out, for every reason. */
export function takeOut<H>(ctx: EngineContext<H>, conn: Connection<H>, directory: DirectoryOnExit): void {
  conn.pairingState = PairingState.closed;
  conn.keepaliveState = keepaliveTable.table[conn.keepaliveState]![KeepaliveInput.close]!.next; // dead, from every state
  ctx.wheel.unfile(conn);
  conn.held = null;
  if (ctx.local.get(conn.id) === conn) {
    ctx.local.delete(conn.id);
    if (directory === 'unregister') tellRemotePartner(ctx, conn.id, ctx.directory.unregister(conn.id));
  }
  ctx.counters.closed++;
}

/** `conn` closes (its own close, a limit, a timeout, shutdown): its partner is released and told. */
export function end<H>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  conn: Connection<H>,
  reason: DisconnectReason,
  input: number = PairingInput.close,
): void {
  if (conn.pairingState === PairingState.closed) return;
  pairingEvent(ctx, turn, conn, input, END);
  takeOut(ctx, conn, 'unregister');
  codesGone(ctx, turn, conn.id);
  const r = conn.resume;
  if (r !== null) {
    forgetToken(ctx, conn, 'tell directory');
    if (!r.attached) uncountDetached(ctx, conn);
    r.attached = false; // nothing more goes out on its link
    r.ledger.discard(); // its record may wait in a stale wheel filing: not with up to a MiB of frames
  }
  ctx.sink.log?.({ type: 'disconnected', id: conn.id, reason });
}

/** The engine ends `conn` and asks the host to close its link (when it has one). */
export function drop<H>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  conn: Connection<H>,
  reason: CloseReasonCode,
  input: number = PairingInput.close,
): void {
  if (conn.pairingState === PairingState.closed) return;
  const close = ctx.closes[reason];
  const attached = conn.attached;
  end(ctx, turn, conn, close.text, input);
  if (attached) ctx.sink.close(conn.handle, close);
}

/** A resume took over: the fresh link's own identity was never shared, so it is retired quietly. */
export function retireFreshLink<H>(ctx: EngineContext<H>, fresh: Connection<H>): void {
  takeOut(ctx, fresh, 'unregister');
}

/** End what the turn's sends found over their limits; ending may queue more (a partner's notice), so until none is left. */
export function finishTurn<H>(ctx: EngineContext<H>, turn: Turn<H>): void {
  while (turn.ends !== null) {
    const ends = turn.ends;
    turn.ends = null;
    for (const { conn, why } of ends) {
      if (conn.pairingState === PairingState.closed) continue;
      if (why === 'slow_consumer') drop(ctx, turn, conn, 'slow_consumer');
      else if (conn.attached) drop(ctx, turn, conn, 'unacknowledged');
      else {
        ctx.counters.resumeExpired++;
        end(ctx, turn, conn, 'resume buffer full');
      }
    }
  }
}
