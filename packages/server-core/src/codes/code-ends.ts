// How a claim or a nameplate ends, from the engine's side: a pairing that ended or a client that
// left burns an unconfirmed claim, time runs out, and the owner (and claimer) are told. Kept apart
// from the handlers so the pairing effects can call it without importing the pairing request.
import { encode } from '@tandem/protocol';
import type { EngineContext, Turn } from '../engine-context.js';
import { PairingState } from '../tables.js';
import { deliver } from '../to-clients.js';
import { NameplateBook, type NameplateEnded } from './nameplates.js';
import type { ServerSettings } from '../settings.js';
import type { Directory } from '../directory/directory.js';
import { post, settle } from '../to-nodes.js';
import { refuse } from './refusals.js';

/**
 * The nameplate book for these settings, on a directory that hands out nameplate numbers
 * cluster-wide (null: codes are not offered). Numbers the book frees go back to the directory.
 */
export function nameplateBook(settings: ServerSettings, directory: Directory): NameplateBook | null {
  if (!settings.codes || directory.takeNameplate === undefined) return null;
  return new NameplateBook(
    {
      ttlMs: settings.nameplateTtlMs,
      claimTimeoutMs: settings.claimTimeoutMs,
      perAddressPerMinute: settings.nameplatesPerAddressPerMinute,
      max: settings.maxNameplates,
    },
    (number) => settle(directory.releaseNameplate?.(number)),
  );
}

/** The earlier of the wheel's next tick and the next nameplate due (engine ms), or null. */
export function withCodesDue<H>(ctx: EngineContext<H>, wheelDue: number | null): number | null {
  const codes = ctx.codes?.nextDue() ?? null;
  return wheelDue === null ? codes : codes === null ? wheelDue : Math.min(wheelDue, codes);
}

/** `id`'s pairing ended (a leave, a disconnect, a peer gone): a claim still unconfirmed burns. */
export function pairingEnded<H>(ctx: EngineContext<H>, turn: Turn<H>, id: string): void {
  const book = ctx.codes;
  if (book === null) return;
  // a claim held on another node: that node burns it when it hears the pairing ended
  const conn = ctx.local.get(id);
  if (conn?.codes) conn.codes.remoteClaim = null;
  const ended = book.burn(id, 'the pairing ended before both sides confirmed the code');
  if (ended !== null) tellEnded(ctx, turn, ended);
}

/** `id` left the engine: its nameplate goes (burnt, if it was being claimed). */
export function codesGone<H>(ctx: EngineContext<H>, turn: Turn<H>, id: string): void {
  const book = ctx.codes;
  if (book === null) return;
  book.awaiting.forget(id);
  const ended = book.ownerGone(id) ?? book.burn(id, 'the other side left during the exchange');
  if (ended !== null) tellEnded(ctx, turn, ended);
}

/** Expiries and claim deadlines due now. */
export function codesDue<H>(ctx: EngineContext<H>, turn: Turn<H>): void {
  const book = ctx.codes;
  if (book === null) return;
  for (const ended of book.due(turn.now)) tellEnded(ctx, turn, ended);
  // claims of nameplates on another node whose answer never came (that node may be gone)
  for (const { claimer } of book.awaiting.overdue(turn.now)) {
    const conn = ctx.local.get(claimer);
    if (conn !== undefined && conn.pairingState !== PairingState.closed) refuse(ctx, turn, conn, 'unknown');
  }
}

/** Tell the owner (and, unless it expired or was replaced, the claimer) that a nameplate ended. */
export function tellEnded<H>(ctx: EngineContext<H>, turn: Turn<H>, e: NameplateEnded): void {
  const n = e.nameplate;
  if (e.reason === 'burnt') ctx.counters.nameplatesBurnt++;
  if (e.reason === 'confirmed') ctx.counters.codesConfirmed++;
  ctx.sink.log?.({ type: 'nameplate', id: n.owner, event: e.reason });
  const frame = encode({
    type: 'nameplate_closed',
    nameplate: n.number,
    reason: e.reason,
    ...(e.detail !== undefined ? { detail: e.detail } : {}),
  });
  // the owner, and the claimer of a claim that ended (the one it made), here or on its own node
  for (const id of e.claimer === undefined ? [n.owner] : [n.owner, e.claimer]) {
    const c = ctx.local.get(id);
    if (c === undefined) {
      if (id === e.claimer && e.claimerNode && e.reason !== 'replaced') {
        const m = { type: 'nameplate_closed', to: id, nameplate: n.number, reason: e.reason } as const;
        post(ctx, e.claimerNode, e.detail === undefined ? m : { ...m, detail: e.detail.slice(0, 256) });
      }
      continue;
    }
    if (c.pairingState === PairingState.closed) continue;
    deliver(ctx, turn, c, frame);
    if (c.codes) c.codes.pairingNameplate = null;
  }
}
