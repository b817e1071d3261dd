// Keepalive of one connection (seed 003 stage 5, wire-v1 "Keepalive"): any frame is proof of
// life; a connection quiet for the ping interval is probed; one still quiet a timeout after the
// probe is closed. With `resume`, losing the link (closed, or silent past the deadline) detaches
// the session instead: it waits a grace period for its client to come back on a new link. The
// engine's timer wheel delivers DUE, DEADLINE and GRACE_OVER; the machine decides.
import { emit, setup } from 'xstate';

/** Events of the keepalive machine. */
export type KeepaliveEvent =
  | { type: 'HEARD' }
  | { type: 'DUE' }
  /** The ping deadline passed; `resumable` when the session may outlive its link. */
  | { type: 'DEADLINE'; resumable: boolean }
  /** The link closed under a resumable session. */
  | { type: 'LOST' }
  /** A new link took the session over. */
  | { type: 'RESUMED' }
  | { type: 'GRACE_OVER' }
  | { type: 'CLOSE' };

/** Effects of the keepalive machine. */
export type KeepaliveEffect =
  | { type: 'send_ping' }
  | { type: 'arm_deadline' }
  | { type: 'arm_interval' }
  | { type: 'close_timed_out' }
  /** Cut a link that missed its deadline; its session lives on, detached. */
  | { type: 'drop_link_timed_out' }
  | { type: 'arm_grace' }
  /** The grace period passed with no resume: end the session as a departure. */
  | { type: 'end_detached' };

/** Every event, for compiling the machine into a table. */
export const keepaliveEvents: readonly KeepaliveEvent[] = [
  { type: 'HEARD' },
  { type: 'DUE' },
  { type: 'DEADLINE', resumable: false },
  { type: 'DEADLINE', resumable: true },
  { type: 'LOST' },
  { type: 'RESUMED' },
  { type: 'GRACE_OVER' },
  { type: 'CLOSE' },
];

/** One connection's liveness: live → probing → (heard: live | deadline: dead, or detached with resume); detached → (resumed: live | grace over: dead). */
export const keepaliveMachine = setup({
  types: { events: {} as KeepaliveEvent, emitted: {} as KeepaliveEffect },
  actions: {
    sendPing: emit({ type: 'send_ping' } as const),
    armDeadline: emit({ type: 'arm_deadline' } as const),
    armInterval: emit({ type: 'arm_interval' } as const),
    closeTimedOut: emit({ type: 'close_timed_out' } as const),
    dropLinkTimedOut: emit({ type: 'drop_link_timed_out' } as const),
    armGrace: emit({ type: 'arm_grace' } as const),
    endDetached: emit({ type: 'end_detached' } as const),
  },
  guards: {
    resumable: ({ event }) => event.type === 'DEADLINE' && event.resumable,
  },
}).createMachine({
  id: 'keepalive',
  initial: 'live',
  states: {
    live: {
      on: {
        // HEARD while live changes nothing: the engine just stamps the time (the hot path).
        DUE: { target: 'probing', actions: ['sendPing', 'armDeadline'] },
        LOST: { target: 'detached', actions: 'armGrace' },
        CLOSE: 'dead',
      },
    },
    probing: {
      on: {
        HEARD: { target: 'live', actions: 'armInterval' },
        DEADLINE: [
          { guard: 'resumable', target: 'detached', actions: ['dropLinkTimedOut', 'armGrace'] },
          { target: 'dead', actions: 'closeTimedOut' },
        ],
        LOST: { target: 'detached', actions: 'armGrace' },
        CLOSE: 'dead',
      },
    },
    detached: {
      on: {
        RESUMED: { target: 'live', actions: 'armInterval' },
        GRACE_OVER: { target: 'dead', actions: 'endDetached' },
        CLOSE: 'dead',
      },
    },
    dead: { type: 'final' },
  },
});
