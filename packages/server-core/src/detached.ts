// The count of detached sessions and the bytes they hold for replay: one place that adds a
// session when its link is lost and takes it off when it resumes, moves or ends, so the caps on
// both (maxDetachedSessions, maxDetachedBytes) hold for the whole engine, and the host hears
// when a link no longer carries anything of the engine's (to free what it counted for it).
import type { Connection } from './connection.js';
import type { EngineContext } from './engine-context.js';

/** Whether one more session may detach, the host willing (else it ends as a v1 client's would). */
export function mayDetach<H>(ctx: EngineContext<H>, hostWilling = true): boolean {
  if (hostWilling && ctx.counters.detached < ctx.settings.maxDetachedSessions) return true;
  ctx.counters.detachRefused++;
  return false;
}

/** `conn`'s link was lost and its session waits, detached. */
export function countDetached<H>(ctx: EngineContext<H>, conn: Connection<H>): void {
  const r = conn.resume!;
  ctx.counters.detached++;
  r.heldBytes = r.ledger.retainedSize;
  ctx.counters.detachedBytes += r.heldBytes;
}

/** `conn`'s session is no longer detached (it resumed, moved or ends): its old link is free. */
export function uncountDetached<H>(ctx: EngineContext<H>, conn: Connection<H>): void {
  const r = conn.resume!;
  ctx.counters.detached--;
  ctx.counters.detachedBytes -= r.heldBytes;
  r.heldBytes = 0;
  ctx.sink.linkReleased?.(conn.handle);
}
