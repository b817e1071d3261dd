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
import { post, settle } from '../to-nodes.js';
import type { MaybePromise } from '../directory/directory.js';
import { awaitAnswer } from '../directory-turns.js';
import { refuse } from './refusals.js';
import { tellEnded } from './code-ends.js';

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

/** `nameplate_request`: the directory hands out the smallest number free on every node; this node holds it. */
export function requestNameplate<H>(ctx: EngineContext<H>, turn: Turn<H>, conn: Connection<H>): void {
  if (!granted(ctx, turn, conn)) return;
  const book = ctx.codes!;
  const refusal = book.admitRequest(conn.id, ctx.addressOf(conn.handle), turn.now);
  if (refusal !== null) return refuse(ctx, turn, conn, refusal);
  const replaced = book.replaceHeld(conn.id); // first, so its number is free to be handed out again
  if (replaced !== null) tellEnded(ctx, turn, replaced);
  let answer: MaybePromise<string | null>;
  try {
    // held until it expires, or a claim made just before runs to its deadline
    answer = ctx.directory.takeNameplate!(book.limits.max, book.limits.ttlMs + book.limits.claimTimeoutMs);
  } catch {
    return refuse(ctx, turn, conn, 'unavailable');
  }
  awaitAnswer(
    ctx,
    turn,
    conn,
    answer,
    (t, number) => {
      if (number === null) return refuse(ctx, t, conn, 'full');
      if (conn.pairingState === PairingState.closed || book.ownedBy(conn.id)?.state.kind === 'claimed') {
        return settle(ctx.directory.releaseNameplate!(number)); // gone, or claimed meanwhile: not needed
      }
      const nameplate = book.place(conn.id, number, t.now);
      ctx.sink.log?.({ type: 'nameplate', id: conn.id, event: 'allocated' });
      deliver(
        ctx,
        t,
        conn,
        encode({ type: 'nameplate', nameplate: number, expires_in_ms: nameplate.expiresAt - t.now }),
      );
    },
    (t) => refuse(ctx, t, conn, 'unavailable'),
  );
}

/** `claim`: pair with the nameplate's owner, under the claim; a nameplate another node holds is claimed there. */
export function claimNameplate<H>(ctx: EngineContext<H>, turn: Turn<H>, conn: Connection<H>, number: string): void {
  if (!granted(ctx, turn, conn)) return;
  const book = ctx.codes!;
  if (conn.pairingState !== PairingState.unpaired) {
    return rejectFrame(ctx, turn, conn, ErrorText.AlreadyPaired, 'already_paired');
  }
  if (book.awaiting.has(conn.id) || conn.codes!.remoteClaim !== null) return refuse(ctx, turn, conn, 'claimed');
  if (book.get(number) !== undefined) return claimHere(ctx, turn, conn, number);
  if (!book.admitClaim(ctx.addressOf(conn.handle), turn.now)) return refuse(ctx, turn, conn, 'rate_limited');
  let answer: MaybePromise<string | null>;
  try {
    answer = ctx.directory.findNameplate!(number);
  } catch {
    return refuse(ctx, turn, conn, 'unavailable');
  }
  awaitAnswer(
    ctx,
    turn,
    conn,
    answer,
    (t, node) => {
      if (conn.pairingState !== PairingState.unpaired) return;
      if (node === ctx.node && book.get(number) !== undefined) return claimHere(ctx, t, conn, number);
      if (node === null || node === ctx.node) {
        ctx.sink.log?.({ type: 'nameplate', id: conn.id, event: 'claim_refused' });
        return refuse(ctx, t, conn, 'unknown');
      }
      book.awaiting.add(conn.id, number, t.now);
      post(ctx, node, { type: 'code_claim', nameplate: number, claimer: conn.id, claimerNode: ctx.node });
    },
    (t) => refuse(ctx, t, conn, 'unavailable'),
  );
}

/** A claim of a nameplate this node holds. */
function claimHere<H>(ctx: EngineContext<H>, turn: Turn<H>, conn: Connection<H>, number: string): void {
  const book = ctx.codes!;
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
  underClaim(conn, number, owner.id);
  underClaim(owner, number, conn.id);
  pairRequest(ctx, turn, conn, owner.id, (_t, paired) => {
    if (paired) return ctx.sink.log?.({ type: 'nameplate', id: conn.id, event: 'claimed' });
    underClaim(conn, null, null);
    underClaim(owner, null, null);
    book.unclaim(r.nameplate, conn.id);
  });
}

/** Mark `conn`'s next pairing, with `peer`, as made under the claim of `nameplate` (null: none). */
export function underClaim<H>(conn: Connection<H>, nameplate: string | null, peer: string | null): void {
  if (conn.codes === null) return;
  conn.codes.pairingNameplate = nameplate;
  conn.codes.pairingPeer = peer;
}

/** `claim_result`: one side's outcome of the code exchange (a claimer's goes to the node that holds the nameplate). */
export function claimResult<H>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  conn: Connection<H>,
  ok: boolean,
  reason: string | undefined,
): void {
  if (!granted(ctx, turn, conn)) return;
  const book = ctx.codes!;
  const remote = conn.codes!.remoteClaim;
  if (remote !== null) {
    if (!ok) conn.codes!.remoteClaim = null; // a failure ends it: nothing more to report
    const message = { type: 'code_result', nameplate: remote.nameplate, claimer: conn.id, ok } as const;
    return post(ctx, remote.node, reason === undefined ? message : { ...message, reason: reason.slice(0, 256) });
  }
  if (book.claimOf(conn.id) === undefined) return; // nothing to settle (already released or burnt): ignored
  const ended = ok ? book.confirm(conn.id) : book.burn(conn.id, reason ?? 'the other side could not confirm the code');
  if (ended !== null) tellEnded(ctx, turn, ended);
}
