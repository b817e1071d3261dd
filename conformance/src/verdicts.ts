// What a case is and what it can conclude: levels, verdicts, the two ways a case stops early
// (a failure, a skip), the asserts, and the context every case runs with.
import type { RecordingClient } from './recording-client.js';
import type { SuiteOptions } from './runner.js';

/** How strongly a case's rule binds: wire-v1 (or the capability's spec) requires it, tandem recommends it, or it is only informational. */
export type Level = 'MUST' | 'SHOULD' | 'MAY';
/** A case's outcome: `non-strict` is a SHOULD missed, `informational` a MAY not met; only `fail` fails a run. */
export type Verdict = 'pass' | 'non-strict' | 'fail' | 'informational' | 'skip';

export interface CaseResult {
  name: string;
  level: Level;
  status: Verdict;
  reason?: string;
  /** Recommendations (SHOULD) the server missed in a case that otherwise held. */
  missed?: string[];
  /** Frames seen by the case's clients, for failure reports. */
  frames?: string[];
  ms: number;
}

/** A case does not apply to this server (e.g. a capability it does not advertise). */
export class Skip extends Error {}
/** A rule the server broke (or a bound it missed), in words. */
export class Failure extends Error {}

/** What a case gets: its clients, opened on the server under test, and the options. */
export interface Ctx {
  opts: Required<Omit<SuiteOptions, 'token'>>;
  log: string[];
  /** Open a client and wait for its your_id. */
  client(label?: string): Promise<RecordingClient & { id: string }>;
  /** Two clients, paired (first is the initiator). */
  pair(): Promise<[RecordingClient & { id: string }, RecordingClient & { id: string }]>;
  /** Answer every JSON ping with pong. */
  keepAlive(c: RecordingClient): void;
  /** A recommendation (SHOULD): when `holds` is false the case ends non-strict, not failed. */
  should(holds: boolean, what: string): void;
}

export const expectEq = (actual: unknown, expected: unknown, what: string) => {
  if (JSON.stringify(actual) !== JSON.stringify(expected))
    throw new Failure(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
};
export const expectTrue = (cond: boolean, what: string) => {
  if (!cond) throw new Failure(what);
};
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const isError = (text: string) => (m: Record<string, unknown>) =>
  m['type'] === 'error' && String(m['message']).includes(text);

export interface Case {
  name: string;
  /** Default MUST. */
  level?: Level;
  run(ctx: Ctx): Promise<void>;
}
