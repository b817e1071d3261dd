// What the feature modules share: the engine's state (taken as a parameter, never imported) and
// the turn, the one value that carries a host call's time and the work it leaves for its end.
import type { IceServer } from '@tandem/protocol';
import type { Connection } from './connection.js';
import type { Directory } from './directory/directory.js';
import type { CloseReasonCode, ConnectionClose, EffectSink, ServerStats } from './effects.js';
import type { ServerSettings } from './settings.js';
import type { TimerWheel } from './timer-wheel.js';
import type { NameplateBook } from './codes/nameplates.js';

/**
 * Why a connection is ended at the end of a turn: it does not read its socket, or its frames kept
 * for replay passed the buffer limits (an attached client that never acknowledges is closed; a
 * detached session cannot take more and expires).
 */
export type DeferredEnd = 'slow_consumer' | 'overflow';

/**
 * One host call's work (open, frame, close, advance, a directory answer, a node message). `now`
 * is its time on the engine's clock; a send that finds a connection over a limit queues it in
 * `ends`, and the engine ends those once the effect in progress is done, so no effect has to
 * expect its connection to vanish under it.
 */
export interface Turn<H> {
  readonly now: number;
  ends: { readonly conn: Connection<H>; readonly why: DeferredEnd }[] | null;
}

/** The STUN/TURN servers the host's policy names for one client. */
export type IceServerPolicy = (
  clientId: string,
  now: number,
) => { readonly servers: IceServer[]; readonly ttlMs: number };

/** A session handed to another node: late messages for it are sent on until `until` (engine ms). */
export interface MovedAway {
  readonly node: string;
  readonly until: number;
}

/** The engine's shared state, built once by the facade and passed to every feature function. */
export interface EngineContext<H> {
  readonly settings: ServerSettings;
  readonly sink: EffectSink<H>;
  readonly directory: Directory;
  /** This engine's name in its cluster. */
  readonly node: string;
  /** This engine's connections by ID (the directory knows every node's). */
  readonly local: Map<string, Connection<H>>;
  /** Resumable sessions by the lookup half of their token. */
  readonly sessions: Map<string, Connection<H>>;
  /** Sessions handed to other nodes, by ID. */
  readonly moved: Map<string, MovedAway>;
  readonly wheel: TimerWheel<Connection<H>>;
  readonly counters: ServerStats;
  /** Every close the engine asks for, by reason (the frame-size one names this engine's limit). */
  readonly closes: Readonly<Record<CloseReasonCode, ConnectionClose>>;
  /** Whether the sink reports queued bytes, so slow consumers can be caught. */
  readonly watchesBuffers: boolean;
  /** Whether the sink wants the hot-path log events (decided once, not per frame). */
  readonly logRelays: boolean;
  readonly logPings: boolean;
  /** Secret generator for resume tokens; null when `resume` is not offered. */
  readonly generateToken: (() => string) | null;
  readonly iceServers: IceServerPolicy | null;
  /** Nameplates for pairing by code; null when `codes` is not offered. */
  readonly codes: NameplateBook | null;
  /** The address a link comes from, as the host tells it (null: it does not), for per-address limits. */
  readonly addressOf: (handle: H) => string | null;
  /** A presented key as the engine looks it up (e.g. lower case, for keys the host makes lower case). */
  readonly keyOf: (presented: string) => string;
  /** Engine ms → the host's clock (ICE policies read real time). */
  readonly hostTime: (t: number) => number;
  /**
   * Run `work` for `conn` in a turn of its own once a directory answer is in, then the frames
   * that waited behind it (the facade's, so that waiting never imports frame handling).
   */
  readonly afterAnswer: (conn: Connection<H>, work: (turn: Turn<H>) => void) => void;
}

/** Count an error reply or refused frame by its code. */
export function countError<H>(ctx: EngineContext<H>, code: string): void {
  ctx.counters.errors++;
  ctx.counters.errorsByCode[code] = (ctx.counters.errorsByCode[code] ?? 0) + 1;
}

/** How many fresh IDs or token keys are tried before deciding a generator is broken. */
export const ID_ATTEMPTS = 8;
