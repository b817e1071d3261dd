// The two machines compiled into tables once, at import, with their states and events named so
// the engine reads as the machines do.
import { compileMachine } from './compile.js';
import { pairingEvents, pairingMachine, type PairingEffect, type PairingEvent } from './pairing/pairing.machine.js';
import {
  keepaliveEvents,
  keepaliveMachine,
  type KeepaliveEffect,
  type KeepaliveEvent,
} from './keepalive/keepalive.machine.js';

/** The pairing machine as a table. */
export const pairingTable = compileMachine<PairingEvent, PairingEffect>(pairingMachine, pairingEvents);
/** The keepalive machine as a table. */
export const keepaliveTable = compileMachine<KeepaliveEvent, KeepaliveEffect>(keepaliveMachine, keepaliveEvents);

/** Pairing state indices. */
export const PairingState = {
  unpaired: pairingTable.state('unpaired'),
  paired: pairingTable.state('paired'),
  closed: pairingTable.state('closed'),
} as const;

/** Pairing event indices. */
export const PairingInput = {
  requestUnknown: pairingTable.event({ type: 'PAIR_REQUEST', target: 'unknown' }),
  requestSelf: pairingTable.event({ type: 'PAIR_REQUEST', target: 'self' }),
  requestBusy: pairingTable.event({ type: 'PAIR_REQUEST', target: 'busy' }),
  requestFree: pairingTable.event({ type: 'PAIR_REQUEST', target: 'free' }),
  requestRequesterBusy: pairingTable.event({ type: 'PAIR_REQUEST', target: 'requester_busy' }),
  pairedByPeer: pairingTable.event({ type: 'PAIRED_BY_PEER' }),
  signal: pairingTable.event({ type: 'SIGNAL' }),
  peerLeft: pairingTable.event({ type: 'PEER_LEFT' }),
  close: pairingTable.event({ type: 'CLOSE' }),
  shutdown: pairingTable.event({ type: 'SHUTDOWN' }),
  leave: pairingTable.event({ type: 'LEAVE' }),
} as const;

/** Keepalive state indices. */
export const KeepaliveState = {
  live: keepaliveTable.state('live'),
  probing: keepaliveTable.state('probing'),
  detached: keepaliveTable.state('detached'),
  dead: keepaliveTable.state('dead'),
} as const;

/** Keepalive event indices. */
export const KeepaliveInput = {
  heard: keepaliveTable.event({ type: 'HEARD' }),
  due: keepaliveTable.event({ type: 'DUE' }),
  deadline: keepaliveTable.event({ type: 'DEADLINE', resumable: false }),
  deadlineResumable: keepaliveTable.event({ type: 'DEADLINE', resumable: true }),
  lost: keepaliveTable.event({ type: 'LOST' }),
  resumed: keepaliveTable.event({ type: 'RESUMED' }),
  graceOver: keepaliveTable.event({ type: 'GRACE_OVER' }),
  close: keepaliveTable.event({ type: 'CLOSE' }),
} as const;
