// Pairing by code (capability `codes`), the server's part: hand out nameplates, pair a claimer
// with a nameplate's owner (an ordinary pairing, with `nameplate` in both `paired` frames), and
// release or burn the nameplate by what the two sides report. The words of a code and the PAKE
// never pass here: the server can refuse service, never join or listen.
import { ErrorText, encode } from '@tandem/protocol';
import type { Connection } from '../connection.js';
import type { EngineContext, Turn } from '../engine-context.js';
import { pairRequest } from '../pairing/pair-request.js';
import { PairingState } from '../tables.js';
import { deliver, rejectFrame } from '../to-clients.js';
import type { Refusal } from './nameplates.js';
import { tellEnded } from './code-ends.js';

const refusalWords: Record<Refusal, [string, string]> = {
  unknown: [
    `${ErrorText.UnknownNameplate}: no such code is waiting (never made, expired, or its owner left)`,
    'nameplate_unknown',
  ],
  burnt: [`${ErrorText.NameplateBurnt}: someone already tried this code; ask for a new one`, 'nameplate_burnt'],
  claimed: [`${ErrorText.NameplateClaimed}: this code is being used right now`, 'nameplate_claimed'],
  rate_limited: [
    `${ErrorText.NameplateRateLimited}: too many codes from this address; wait a minute`,
    'nameplate_rate_limited',
  ],
  full: [
    `${ErrorText.NameplateRateLimited}: the server holds as many codes as it may; try again later`,
    'nameplate_full',
  ],
};

function refuse<H>(ctx: EngineContext<H>, turn: Turn<H>, conn: Connection<H>, refusal: Refusal): void {
  const [text, code] = refusalWords[refusal];
  rejectFrame(ctx, turn, conn, text, code);
}

/** Whether `conn` may use codes: the server offers them and the client asked in `hello`. */
function granted<H>(ctx: EngineContext<H>, turn: Turn<H>, conn: Connection<H>): boolean {
  if (ctx.codes !== null && conn.codes !== null) return true;
  rejectFrame(
    ctx,
    turn,
    conn,
    `${ErrorText.UnknownType}: codes were not granted (ask for them in hello)`,
    'codes_not_granted',
  );
  return false;
}

/** `nameplate_request`. */
export function requestNameplate<H>(ctx: EngineContext<H>, turn: Turn<H>, conn: Connection<H>): void {
  if (!granted(ctx, turn, conn)) return;
  const book = ctx.codes!;
  const r = book.allocate(conn.id, ctx.addressOf(conn.handle), turn.now);
  if (!r.ok) return refuse(ctx, turn, conn, r.refusal);
  if (r.replaced !== null) tellEnded(ctx, turn, r.replaced);
  ctx.sink.log?.({ type: 'nameplate', id: conn.id, event: 'allocated' });
  deliver(
    ctx,
    turn,
    conn,
    encode({ type: 'nameplate', nameplate: r.nameplate.number, expires_in_ms: r.nameplate.expiresAt - turn.now }),
  );
}

/** `claim`: pair with the nameplate's owner, under the claim. */
export function claimNameplate<H>(ctx: EngineContext<H>, turn: Turn<H>, conn: Connection<H>, number: string): void {
  if (!granted(ctx, turn, conn)) return;
  const book = ctx.codes!;
  if (conn.pairingState !== PairingState.unpaired) {
    return rejectFrame(ctx, turn, conn, ErrorText.AlreadyPaired, 'already_paired');
  }
  const r = book.claim(number, conn.id, ctx.addressOf(conn.handle), turn.now);
  if (!r.ok) {
    ctx.sink.log?.({ type: 'nameplate', id: conn.id, event: 'claim_refused' });
    return refuse(ctx, turn, conn, r.refusal);
  }
  const owner = ctx.local.get(r.nameplate.owner);
  if (owner === undefined || owner.codes === null || owner.pairingState !== PairingState.unpaired) {
    book.unclaim(r.nameplate); // nothing was tried: the code still holds
    return refuse(ctx, turn, conn, 'unknown');
  }
  // both `paired` frames carry the nameplate: each side then knows to verify before trusting the call
  conn.codes!.pairingNameplate = number;
  owner.codes.pairingNameplate = number;
  pairRequest(ctx, turn, conn, owner.id);
  const paired = conn.pairingState === PairingState.paired && conn.peer === owner;
  if (!paired) {
    conn.codes!.pairingNameplate = null;
    owner.codes.pairingNameplate = null;
    book.unclaim(r.nameplate);
    return;
  }
  ctx.sink.log?.({ type: 'nameplate', id: conn.id, event: 'claimed' });
}

/** `claim_result`: one side's outcome of the code exchange. */
export function claimResult<H>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  conn: Connection<H>,
  ok: boolean,
  reason: string | undefined,
): void {
  if (!granted(ctx, turn, conn)) return;
  const book = ctx.codes!;
  if (book.claimOf(conn.id) === undefined) return; // nothing to settle (already released or burnt): ignored
  const ended = ok ? book.confirm(conn.id) : book.burn(conn.id, reason ?? 'the other side could not confirm the code');
  if (ended !== null) tellEnded(ctx, turn, ended);
}
