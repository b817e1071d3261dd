// Frames to clients: counted delivery with the resume ledger, acknowledgements, frame errors,
// and the watch on a socket's unsent bytes. A send that finds its connection over a limit never
// ends it here: it queues the end on the turn (see lifecycle.ts).
import { encode } from '@tandem/protocol';
import type { Connection } from './connection.js';
import { countError, type DeferredEnd, type EngineContext, type Turn } from './engine-context.js';
import { PairingState } from './tables.js';

/** Queue `conn`'s end for when the effect in progress is done. */
export function endLater<H>(turn: Turn<H>, conn: Connection<H>, why: DeferredEnd): void {
  (turn.ends ??= []).push({ conn, why });
}

/**
 * Send a counted frame. A resumable session keeps it until acknowledged (and only keeps it
 * while detached); one whose kept frames pass the buffer limits is ended.
 */
export function deliver<H>(ctx: EngineContext<H>, turn: Turn<H>, conn: Connection<H>, frame: string): void {
  const r = conn.resume;
  if (r === null) return ctx.sink.send(conn.handle, frame);
  r.ledger.sending(frame);
  const s = ctx.settings;
  if (r.attached) ctx.sink.send(conn.handle, frame);
  else {
    r.heldBytes += frame.length;
    if ((ctx.counters.detachedBytes += frame.length) > s.maxDetachedBytes) return endLater(turn, conn, 'overflow');
  }
  if (r.ledger.retainedCount > s.resumeBufferFrames || r.ledger.retainedSize > s.resumeBufferBytes)
    endLater(turn, conn, 'overflow');
}

/** A counted frame arrived on a resumable session: acknowledge once enough are unacknowledged. */
export function countIncoming<H>(ctx: EngineContext<H>, conn: Connection<H>, bytes: number): void {
  const ledger = conn.resume!.ledger;
  if (ledger.receiving(bytes)) ctx.sink.send(conn.handle, `{"type":"ack","received":${ledger.received}}`);
}

/** Refuse a frame: count it, log it, and tell the client why (with its code). */
export function rejectFrame<H>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  conn: Connection<H>,
  message: string,
  code: string,
): void {
  countError(ctx, code);
  ctx.sink.log?.({ type: 'rejected', id: conn.id, message });
  deliver(ctx, turn, conn, encode({ type: 'error', message, code }));
}

/** A relayed signal was just queued for `conn`: a client that does not read is closed before they pile up. */
export function watchQueue<H>(ctx: EngineContext<H>, turn: Turn<H>, conn: Connection<H>): void {
  if (!ctx.watchesBuffers || !conn.attached || conn.pairingState === PairingState.closed) return;
  const queued = ctx.sink.bufferedBytes!(conn.handle);
  const limit = ctx.settings.maxBufferedBytes;
  if (queued <= limit || turn.ends?.some((e) => e.conn === conn)) return; // under its limit, or ending already
  ctx.counters.slowConsumers++;
  ctx.sink.log?.({ type: 'slow_consumer', id: conn.id, bufferedBytes: queued, limit });
  endLater(turn, conn, 'slow_consumer');
}
