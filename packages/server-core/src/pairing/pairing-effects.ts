// Runs the pairing machine's table for one connection and carries out what it emits, with the
// data each effect needs passed down as a typed payload (what caused the transition).
import { encode, pairingErrorText, type PairingErrorCode } from '@tandem/protocol';
import { Connection, RemotePeer } from '../connection.js';
import { countError, type EngineContext, type Turn } from '../engine-context.js';
import type { SignalType } from '../effects.js';
import { post, tellRemotePartner } from '../to-nodes.js';
import { deliver } from '../to-clients.js';
import { PairingInput, PairingState, pairingTable } from '../tables.js';
import type { PairingEffect } from './pairing.machine.js';
import { relaySignal } from './relay.js';
import { pairingEnded } from '../codes/code-ends.js';

/** The target the directory paired a request with, and that pairing's epoch. */
export interface Match<H> {
  readonly target: Connection<H> | RemotePeer;
  readonly epoch: string;
}

/** The data a pairing transition's effects refer to, by what caused it. */
export type PairingPayload<H> =
  | { readonly cause: 'request'; readonly targetId: string; readonly match: Match<H> | null }
  | { readonly cause: 'signal'; readonly messageType: SignalType; readonly frame: string }
  | { readonly cause: 'peer'; readonly peer: Connection<H> | RemotePeer }
  | { readonly cause: 'end' };

/** The payload of a transition no message caused (close, shutdown, leave). */
export const END: PairingPayload<never> = Object.freeze({ cause: 'end' });

/** Run one pairing-machine transition for `conn` and carry out what it emitted. */
export function pairingEvent<H>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  conn: Connection<H>,
  input: number,
  payload: PairingPayload<H>,
): void {
  const row = pairingTable.table[conn.pairingState]![input]!;
  conn.pairingState = row.next;
  for (const effect of row.emitted) pairingEffect(ctx, turn, conn, effect, payload);
}

function pairingEffect<H>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  conn: Connection<H>,
  effect: PairingEffect,
  payload: PairingPayload<H>,
): void {
  switch (effect.type) {
    case 'reply_error':
      return replyPairingError(ctx, turn, conn, effect.error, payload);
    case 'pair_with_target': {
      if (payload.cause !== 'request' || payload.match === null) throw unexpected(effect, payload);
      const { target, epoch } = payload.match;
      conn.peer = target;
      conn.pairEpoch = epoch;
      ctx.counters.pairs++;
      ctx.sink.log?.({ type: 'paired', id: conn.id, peerId: target.id });
      if (target instanceof RemotePeer)
        return post(ctx, target.node, { type: 'paired', to: target.id, peer: conn.id, peerNode: ctx.node, epoch });
      target.peer = conn;
      target.pairEpoch = epoch;
      return pairingEvent(ctx, turn, target, PairingInput.pairedByPeer, { cause: 'peer', peer: conn });
    }
    case 'send_paired': {
      // the nameplate only to the pair the claim made (not another pairing that came first)
      const c = conn.codes;
      const peer = conn.peer!;
      const nameplate = c !== null && c.pairingPeer === peer.id ? c.pairingNameplate : null;
      // a v2 client learns what its partner asked for in hello (a v1 partner: nothing); a partner
      // on another node is not known here, so the field is left out and the client assumes nothing
      const told = conn.saidHello && !(peer instanceof RemotePeer);
      return deliver(
        ctx,
        turn,
        conn,
        encode({
          type: 'paired',
          peer_id: peer.id,
          initiator: effect.initiator,
          ...(nameplate !== null ? { nameplate } : {}),
          ...(told ? { peer_capabilities: [...(peer as Connection<H>).announced] } : {}),
        }),
      );
    }
    case 'relay_to_peer':
      if (payload.cause !== 'signal') throw unexpected(effect, payload);
      return relaySignal(ctx, turn, conn, payload.messageType, payload.frame);
    case 'release_peer': {
      pairingEnded(ctx, turn, conn.id);
      const peer = conn.peer;
      const epoch = conn.pairEpoch;
      conn.peer = null;
      conn.pairEpoch = null;
      // the directory clears both sides (a closing connection's unregistration does it); its
      // answer names the partner, whose node tells it when it is elsewhere
      if (conn.pairingState !== PairingState.closed && peer !== null)
        tellRemotePartner(ctx, conn.id, ctx.directory.unpair(conn.id, epoch!));
      if (peer instanceof RemotePeer) {
        ctx.counters.pairs--;
        return;
      }
      if (peer !== null && peer.pairingState === PairingState.paired) {
        ctx.counters.pairs--;
        pairingEvent(ctx, turn, peer, PairingInput.peerLeft, { cause: 'peer', peer: conn });
      }
      return;
    }
    case 'forget_peer': {
      pairingEnded(ctx, turn, conn.id);
      const peer = conn.peer;
      conn.peer = null;
      conn.pairEpoch = null;
      if (peer instanceof RemotePeer)
        ctx.counters.pairs--; // the partner stays up: unregistering tells it
      else if (peer !== null && peer.pairingState === PairingState.paired) ctx.counters.pairs--;
      return;
    }
    case 'send_peer_disconnected': {
      if (payload.cause !== 'peer') throw unexpected(effect, payload);
      pairingEnded(ctx, turn, conn.id);
      conn.peer = null;
      conn.pairEpoch = null;
      deliver(ctx, turn, conn, encode({ type: 'peer_disconnected', peer_id: payload.peer.id }));
      ctx.sink.log?.({ type: 'peer_notified', id: conn.id, peerId: payload.peer.id });
      return;
    }
  }
}

/**
 * Refuse a pair request or a signal. The words are wire v1's; a v2 client (one that said
 * `hello`) also gets the code, so it never has to match the words.
 */
export function replyPairingError<H>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  conn: Connection<H>,
  error: PairingErrorCode,
  payload: PairingPayload<H>,
): void {
  const message = pairingErrorText[error];
  countError(ctx, error);
  if (payload.cause === 'signal') ctx.sink.log?.({ type: 'not_paired', id: conn.id, messageType: payload.messageType });
  else if (payload.cause === 'request')
    ctx.sink.log?.({ type: 'pair_failed', id: conn.id, targetId: payload.targetId, error, message });
  deliver(
    ctx,
    turn,
    conn,
    encode(conn.saidHello ? { type: 'error', message, code: error } : { type: 'error', message }),
  );
}

/**
 * The directory paired `conn` anew while the news that its last partner (on another node) left
 * is still on its way: end that pairing first, so the client hears it before `paired`.
 */
export function endStalePairing<H>(ctx: EngineContext<H>, turn: Turn<H>, conn: Connection<H>): void {
  if (conn.pairingState !== PairingState.paired || !(conn.peer instanceof RemotePeer)) return;
  ctx.counters.pairs--;
  pairingEvent(ctx, turn, conn, PairingInput.peerLeft, { cause: 'peer', peer: conn.peer });
}

function unexpected(effect: PairingEffect, payload: { cause: string }): Error {
  return new Error(`ServerEngine: effect ${effect.type} cannot follow a ${payload.cause} event`);
}
