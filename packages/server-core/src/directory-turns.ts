// Frames waiting in order behind a pending directory answer. The in-memory directory answers at
// once and nothing waits; a cluster's answers come later, and a client's next frames must not
// overtake the one that asked.
import { HeldFrames, type Connection, type WaitingFrame } from './connection.js';
import type { EngineContext, Turn } from './engine-context.js';
import { isThenable, type MaybePromise } from './directory/directory.js';
import { PairingState } from './tables.js';

/** Frames a connection may send while it waits for the directory; more means it is not waiting for answers. */
export const MAX_HELD_FRAMES = 256;

/**
 * Carry on with `then` when `answer` is in: at once, in this turn, for a value; for a promise,
 * `conn` holds its later frames back until the answer is handled in a turn of its own.
 */
export function awaitAnswer<H, T>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  conn: Connection<H>,
  answer: MaybePromise<T>,
  then: (turn: Turn<H>, value: T) => void,
  failed: (turn: Turn<H>) => void,
): void {
  if (!isThenable(answer)) return then(turn, answer);
  conn.held = new HeldFrames();
  answer.then(
    (value) => ctx.afterAnswer(conn, (t) => then(t, value)),
    () => ctx.afterAnswer(conn, (t) => failed(t)),
  );
}

/**
 * Handle the answer `work` carries, then the frames that waited behind it, until one waits again;
 * `finish` ends what each of them queued before the next frame is looked at.
 */
export function continueAfterAnswer<H>(
  turn: Turn<H>,
  conn: Connection<H>,
  work: (turn: Turn<H>) => void,
  handleFrame: (turn: Turn<H>, conn: Connection<H>, frame: WaitingFrame) => void,
  finish: (turn: Turn<H>) => void,
): void {
  const frames = release(conn);
  work(turn);
  for (let i = 0; i < frames.length; i++) {
    finish(turn);
    if (conn.pairingState === PairingState.closed) return;
    if (conn.held !== null) {
      // that frame asked the directory again: the rest wait behind its answer
      conn.held.frames.unshift(...frames.slice(i));
      return;
    }
    handleFrame(turn, conn, frames[i]!);
  }
}

/** The answer is in: `conn` stops holding frames back; returns the ones it held. */
function release<H>(conn: Connection<H>): WaitingFrame[] {
  const frames = conn.held?.frames ?? [];
  conn.held = null;
  return frames;
}
