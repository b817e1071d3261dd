// The pairing lifecycle of one connection (seed 003 stages 2–5, wire-v1). Context-free: the
// engine looks the target up in the directory and sends the verdict as the event, so the
// machine decides every rule and the engine only carries it out.
import { emit, setup } from 'xstate';
import { ErrorText } from '@tandem/protocol';

/** What the engine found when it looked up a pair request's target. */
export type TargetVerdict = 'unknown' | 'self' | 'busy' | 'free';

/** Events of the pairing machine. */
export type PairingEvent =
  | { type: 'PAIR_REQUEST'; target: TargetVerdict }
  | { type: 'PAIRED_BY_PEER' }
  | { type: 'SIGNAL' }
  | { type: 'PEER_LEFT' }
  | { type: 'CLOSE' };

/** Effects of the pairing machine, carried out by the engine. */
export type PairingEffect =
  | { type: 'reply_error'; message: string }
  | { type: 'pair_with_target' }
  | { type: 'send_paired'; initiator: boolean }
  | { type: 'relay_to_peer' }
  | { type: 'send_peer_disconnected' }
  | { type: 'release_peer' };

/** Every event the engine can send, for compiling the machine into a table. */
export const pairingEvents: readonly PairingEvent[] = [
  { type: 'PAIR_REQUEST', target: 'unknown' },
  { type: 'PAIR_REQUEST', target: 'self' },
  { type: 'PAIR_REQUEST', target: 'busy' },
  { type: 'PAIR_REQUEST', target: 'free' },
  { type: 'PAIRED_BY_PEER' },
  { type: 'SIGNAL' },
  { type: 'PEER_LEFT' },
  { type: 'CLOSE' },
];

/** One connection's pairing lifecycle: unpaired ⇄ paired, then closed. */
export const pairingMachine = setup({
  types: { events: {} as PairingEvent, emitted: {} as PairingEffect },
  actions: {
    replyError: emit((_, params: { message: string }) => ({ type: 'reply_error', message: params.message }) as const),
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
          { guard: { type: 'targetIs', params: 'self' }, actions: { type: 'replyError', params: { message: ErrorText.CannotPairWithSelf } } },
          { guard: { type: 'targetIs', params: 'unknown' }, actions: { type: 'replyError', params: { message: ErrorText.TargetNotFound } } },
          { guard: { type: 'targetIs', params: 'busy' }, actions: { type: 'replyError', params: { message: ErrorText.TargetAlreadyPaired } } },
          {
            target: 'paired',
            actions: [emit({ type: 'pair_with_target' } as const), emit({ type: 'send_paired', initiator: true } as const)],
          },
        ],
        PAIRED_BY_PEER: { target: 'paired', actions: emit({ type: 'send_paired', initiator: false } as const) },
        SIGNAL: { actions: { type: 'replyError', params: { message: ErrorText.NotPaired } } },
        CLOSE: 'closed',
      },
    },
    paired: {
      on: {
        PAIR_REQUEST: { actions: { type: 'replyError', params: { message: ErrorText.AlreadyPaired } } },
        SIGNAL: { actions: emit({ type: 'relay_to_peer' } as const) },
        PEER_LEFT: { target: 'unpaired', actions: emit({ type: 'send_peer_disconnected' } as const) },
        CLOSE: { target: 'closed', actions: emit({ type: 'release_peer' } as const) },
      },
    },
    closed: { type: 'final' },
  },
});
