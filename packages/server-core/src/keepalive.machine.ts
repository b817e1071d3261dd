// Keepalive of one connection (seed 003 stage 5, wire-v1 "Keepalive"): any frame is proof of
// life; a connection quiet for the ping interval is probed; one still quiet a timeout after the
// probe is closed. The engine's timer wheel delivers DUE and DEADLINE; the machine decides.
import { emit, setup } from 'xstate';

/** Events of the keepalive machine. */
export type KeepaliveEvent = { type: 'HEARD' } | { type: 'DUE' } | { type: 'DEADLINE' } | { type: 'CLOSE' };

/** Effects of the keepalive machine. */
export type KeepaliveEffect =
  | { type: 'send_ping' }
  | { type: 'arm_deadline' }
  | { type: 'arm_interval' }
  | { type: 'close_timed_out' };

/** Every event, for compiling the machine into a table. */
export const keepaliveEvents: readonly KeepaliveEvent[] = [{ type: 'HEARD' }, { type: 'DUE' }, { type: 'DEADLINE' }, { type: 'CLOSE' }];

/** One connection's liveness: live → probing → (heard: live | deadline: dead). */
export const keepaliveMachine = setup({
  types: { events: {} as KeepaliveEvent, emitted: {} as KeepaliveEffect },
  actions: {
    sendPing: emit({ type: 'send_ping' } as const),
    armDeadline: emit({ type: 'arm_deadline' } as const),
    armInterval: emit({ type: 'arm_interval' } as const),
    closeTimedOut: emit({ type: 'close_timed_out' } as const),
  },
}).createMachine({
  id: 'keepalive',
  initial: 'live',
  states: {
    live: {
      on: {
        // HEARD while live changes nothing: the engine just stamps the time (the hot path).
        DUE: { target: 'probing', actions: ['sendPing', 'armDeadline'] },
        CLOSE: 'dead',
      },
    },
    probing: {
      on: {
        HEARD: { target: 'live', actions: 'armInterval' },
        DEADLINE: { target: 'dead', actions: 'closeTimedOut' },
        CLOSE: 'dead',
      },
    },
    dead: { type: 'final' },
  },
});
