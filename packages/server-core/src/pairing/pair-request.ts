// `pair_request`: the rules that need no directory, then the directory's verdict (at once in
// memory, later in a cluster) turned into the pairing machine's event.
import { ErrorText } from '@tandem/protocol';
import { RemotePeer, type Connection } from '../connection.js';
import type { EngineContext, Turn } from '../engine-context.js';
import type { MaybePromise, PairOutcome } from '../directory/directory.js';
import { awaitAnswer } from '../directory-turns.js';
import { PairingInput, PairingState } from '../tables.js';
import { rejectFrame } from '../to-clients.js';
import { endStalePairing, pairingEvent, replyPairingError } from './pairing-effects.js';

/**
 * `conn` asks to pair with `targetId`. `settled`, if given, hears whether `conn` is now paired
 * with it once the request is decided (at once in memory, later in a cluster).
 */
export function pairRequest<H>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  conn: Connection<H>,
  targetId: string,
  settled?: (turn: Turn<H>, paired: boolean) => void,
): void {
  const done = (t: Turn<H>) =>
    settled?.(t, conn.pairingState === PairingState.paired && conn.peer !== null && conn.peer.id === targetId);
  // the rules that need no directory: already paired, or yourself
  if (conn.pairingState !== PairingState.unpaired || targetId === conn.id) {
    const input = conn.pairingState === PairingState.unpaired ? PairingInput.requestSelf : PairingInput.requestUnknown;
    pairingEvent(ctx, turn, conn, input, { cause: 'request', targetId, match: null });
    return done(turn);
  }
  if (!ctx.directory.available) {
    unavailable(ctx, turn, conn);
    return done(turn);
  }
  let answer: MaybePromise<PairOutcome>;
  try {
    answer = ctx.directory.pair(conn.id, targetId, conn.auth?.tenant ?? null);
  } catch {
    unavailable(ctx, turn, conn);
    return done(turn);
  }
  awaitAnswer(
    ctx,
    turn,
    conn,
    answer,
    (t, outcome) => {
      pairAnswered(ctx, t, conn, targetId, outcome);
      done(t);
    },
    (t) => {
      unavailable(ctx, t, conn);
      done(t);
    },
  );
}

/** Each refusing verdict as the pairing machine's event, and as the error it answers with. */
const refusals = {
  busy: { input: PairingInput.requestBusy, error: 'target_already_paired' },
  unknown: { input: PairingInput.requestUnknown, error: 'target_not_found' },
  requester_busy: { input: PairingInput.requestRequesterBusy, error: 'already_paired' },
} as const;

/** The directory decided `conn`'s request for `targetId`. */
function pairAnswered<H>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  conn: Connection<H>,
  targetId: string,
  outcome: PairOutcome,
): void {
  // a requester that closed meanwhile is unregistered after the pairing, which clears its target too
  if (conn.pairingState === PairingState.closed) return;
  const refused = { cause: 'request', targetId, match: null } as const;
  if (outcome.verdict !== 'paired') {
    const refusal = refusals[outcome.verdict];
    // paired (by a message from another node) since it asked: the directory's verdict still answers the request
    if (conn.pairingState !== PairingState.unpaired) return replyPairingError(ctx, turn, conn, refusal.error, refused);
    return pairingEvent(ctx, turn, conn, refusal.input, refused);
  }
  // the directory found it free: a pairing it still holds is one whose end is on its way
  endStalePairing(ctx, turn, conn);
  if (conn.pairingState !== PairingState.unpaired) return;
  let target: Connection<H> | RemotePeer;
  if (outcome.node === ctx.node) {
    const local = ctx.local.get(targetId);
    // it closed after the directory paired it: its unregistration clears the pairing again
    if (local === undefined || local.pairingState === PairingState.closed)
      return pairingEvent(ctx, turn, conn, PairingInput.requestUnknown, refused);
    endStalePairing(ctx, turn, local);
    target = local;
  } else target = new RemotePeer(targetId, outcome.node);
  pairingEvent(ctx, turn, conn, PairingInput.requestFree, {
    cause: 'request',
    targetId,
    match: { target, epoch: outcome.epoch },
  });
}

function unavailable<H>(ctx: EngineContext<H>, turn: Turn<H>, conn: Connection<H>): void {
  if (conn.pairingState === PairingState.closed) return;
  rejectFrame(
    ctx,
    turn,
    conn,
    `${ErrorText.Unavailable}: the cluster directory is unreachable, try again shortly`,
    'unavailable',
  );
}
