// The pairing lifecycle of one connection (seed 003 stages 2–5, wire-v1). Context-free: the
// engine looks the target up in the directory and sends the verdict as the event, so the
// machine decides every rule and the engine only carries it out.
import { emit, setup } from 'xstate';
import type { PairingErrorCode } from '@tandem/protocol';

/** What the engine found when it looked up a pair request's target. */
/** `requester_busy`: the directory found the requester itself paired meanwhile (from another node). */
export type TargetVerdict = 'unknown' | 'self' | 'busy' | 'free' | 'requester_busy';

/** Events of the pairing machine. */
export type PairingEvent =
  | { type: 'PAIR_REQUEST'; target: TargetVerdict }
  | { type: 'PAIRED_BY_PEER' }
  | { type: 'SIGNAL' }
  | { type: 'PEER_LEFT' }
  | { type: 'CLOSE' }
  | { type: 'SHUTDOWN' }
  /** The client ends its pairing and stays connected (v2 `leave`). */
  | { type: 'LEAVE' };

/** Effects of the pairing machine, carried out by the engine. */
export type PairingEffect =
  | { type: 'reply_error'; error: PairingErrorCode }
  | { type: 'pair_with_target' }
  | { type: 'send_paired'; initiator: boolean }
  | { type: 'relay_to_peer' }
  | { type: 'send_peer_disconnected' }
  /** Tell the partner this side left (it gets PEER_LEFT). */
  | { type: 'release_peer' }
  /** Let go of the partner without telling it: the whole server is closing. */
  | { type: 'forget_peer' };

/** Every event the engine can send, for compiling the machine into a table. */
export const pairingEvents: readonly PairingEvent[] = [
  { type: 'PAIR_REQUEST', target: 'unknown' },
  { type: 'PAIR_REQUEST', target: 'self' },
  { type: 'PAIR_REQUEST', target: 'busy' },
  { type: 'PAIR_REQUEST', target: 'free' },
  { type: 'PAIR_REQUEST', target: 'requester_busy' },
  { type: 'PAIRED_BY_PEER' },
  { type: 'SIGNAL' },
  { type: 'PEER_LEFT' },
  { type: 'CLOSE' },
  { type: 'SHUTDOWN' },
  { type: 'LEAVE' },
];

/** One connection's pairing lifecycle: unpaired ⇄ paired, then closed. */
export const pairingMachine = setup({
  types: { events: {} as PairingEvent, emitted: {} as PairingEffect },
  actions: {
    replyError: emit(
      (_, params: { error: PairingErrorCode }) => ({ type: 'reply_error', error: params.error }) as const,
    ),
    pairWithTarget: emit({ type: 'pair_with_target' } as const),
    sendPaired: emit(
      (_, params: { initiator: boolean }) => ({ type: 'send_paired', initiator: params.initiator }) as const,
    ),
    relayToPeer: emit({ type: 'relay_to_peer' } as const),
    sendPeerDisconnected: emit({ type: 'send_peer_disconnected' } as const),
    releasePeer: emit({ type: 'release_peer' } as const),
    forgetPeer: emit({ type: 'forget_peer' } as const),
  },
  guards: {
    targetIs: ({ event }, target: TargetVerdict) => event.type === 'PAIR_REQUEST' && event.target === target,
  },
}).createMachine({
  id: 'pairing',
  initial: 'unpaired',
  states: {
    unpaired: {
      on: {
        PAIR_REQUEST: [
          {
            guard: { type: 'targetIs', params: 'self' },
            actions: { type: 'replyError', params: { error: 'cannot_pair_with_self' } },
          },
          {
            guard: { type: 'targetIs', params: 'unknown' },
            actions: { type: 'replyError', params: { error: 'target_not_found' } },
          },
          {
            guard: { type: 'targetIs', params: 'busy' },
            actions: { type: 'replyError', params: { error: 'target_already_paired' } },
          },
          {
            guard: { type: 'targetIs', params: 'requester_busy' },
            actions: { type: 'replyError', params: { error: 'already_paired' } },
          },
          { target: 'paired', actions: ['pairWithTarget', { type: 'sendPaired', params: { initiator: true } }] },
        ],
        PAIRED_BY_PEER: { target: 'paired', actions: { type: 'sendPaired', params: { initiator: false } } },
        SIGNAL: { actions: { type: 'replyError', params: { error: 'not_paired' } } },
        CLOSE: 'closed',
        SHUTDOWN: 'closed',
        // LEAVE while unpaired: nothing to end (a late leave after the partner left first)
      },
    },
    paired: {
      on: {
        PAIR_REQUEST: { actions: { type: 'replyError', params: { error: 'already_paired' } } },
        SIGNAL: { actions: 'relayToPeer' },
        PEER_LEFT: { target: 'unpaired', actions: 'sendPeerDisconnected' },
        CLOSE: { target: 'closed', actions: 'releasePeer' },
        SHUTDOWN: { target: 'closed', actions: 'forgetPeer' },
        LEAVE: { target: 'unpaired', actions: 'releasePeer' },
      },
    },
    closed: { type: 'final' },
  },
});
