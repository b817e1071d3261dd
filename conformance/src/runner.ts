// Runs the cases against a server: builds each case's context (clients spread across a cluster's
// nodes), turns what a case threw into its verdict, and closes its clients.
import { defaultServerSettings } from '@tandem/server-core';
import { cases } from './cases/index.js';
import { wsDialer, type Dialer } from './dialer.js';
import { RecordingClient } from './recording-client.js';
import { Failure, Skip, type CaseResult, type Ctx, type Verdict } from './verdicts.js';

/** The suite's defaults: tandem-server's own timings, and the lateness allowed on timing bounds. */
export const suiteDefaults = Object.freeze({
  pingIntervalMs: defaultServerSettings.pingIntervalMs,
  pingTimeoutMs: defaultServerSettings.pingTimeoutMs,
  toleranceMs: 1500,
  earlyToleranceMs: 100,
  answerTimeoutMs: 5000,
});

/** Settings the suite needs to know about the server under test. */
export interface SuiteOptions {
  /** The server's URL. Give either this (or `urls`) or `dial`. */
  url?: string;
  /**
   * Cluster mode: several nodes of one cluster. Each case's clients are spread across them in
   * turn, so the two clients of every pair (opened one after the other) sit on different nodes.
   */
  urls?: string[];
  /** A token for a server that requires one (sent as the `tandem.token.` subprotocol). */
  token?: string;
  /** How to reach the server when it is not at a URL (e.g. an in-process engine); several for a cluster. */
  dial?: Dialer | Dialer[];
  /** The server's ping interval and timeout (ms), so timing cases can be checked and run fast. */
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /** Extra lateness allowed on timing bounds (ms). Default `suiteDefaults.toleranceMs`. */
  toleranceMs?: number;
  /** How much earlier than its bound a timed event may come (clock granularity, ms). Default `suiteDefaults.earlyToleranceMs`. */
  earlyToleranceMs?: number;
  /** How long to wait for an answer that has no timing rule of its own (ms). Default `suiteDefaults.answerTimeoutMs`. */
  answerTimeoutMs?: number;
  /** Only run cases whose name contains this. */
  filter?: string;
}

/** Run the suite (or the filtered part) and report every case. */
export async function runSuite(
  options: SuiteOptions,
  onResult?: (r: CaseResult) => void,
  /** Told as each case starts (its name), for progress on long runs. */
  onStart?: (name: string) => void,
): Promise<CaseResult[]> {
  const urls = options.urls ?? (options.url !== undefined ? [options.url] : []);
  if (!options.dial && urls.length === 0) throw new TypeError('runSuite needs a url or a dial function');
  const dials =
    options.dial === undefined
      ? urls.map((url) => wsDialer(url, options.token === undefined ? {} : { token: options.token }))
      : Array.isArray(options.dial)
        ? options.dial
        : [options.dial];
  if (dials.length === 0) throw new TypeError('runSuite needs at least one dial function');
  const opts: Required<Omit<SuiteOptions, 'token'>> = {
    toleranceMs: suiteDefaults.toleranceMs,
    earlyToleranceMs: suiteDefaults.earlyToleranceMs,
    answerTimeoutMs: suiteDefaults.answerTimeoutMs,
    filter: '',
    url: urls.join(' ') || '(in process)',
    urls,
    ...options,
    dial: dials,
  };
  delete (opts as SuiteOptions).token; // the dialers carry it; no case or report needs it
  const results: CaseResult[] = [];
  for (const c of cases) {
    if (opts.filter && !c.name.includes(opts.filter)) continue;
    onStart?.(c.name);
    const log: string[] = [];
    const clients: RecordingClient[] = [];
    const missed: string[] = [];
    const level = c.level ?? 'MUST';
    const ctx: Ctx = {
      opts,
      log,
      async client(label = `c${clients.length}`) {
        // cluster mode: the k-th client of a case goes to node k mod n
        const node = clients.length % dials.length;
        const raw = await RecordingClient.open(
          dials[node]!,
          log,
          dials.length > 1 ? `${label}@${node + 1}` : label,
          opts.answerTimeoutMs,
        );
        clients.push(raw);
        const first = await raw.next((m) => m['type'] === 'your_id', 'your_id');
        return Object.assign(raw, { id: String(first['id']) });
      },
      async pair() {
        const a = await ctx.client(`A${clients.length}`);
        const b = await ctx.client(`B${clients.length}`);
        a.json({ type: 'pair_request', target_id: b.id });
        await a.next((m) => m['type'] === 'paired', 'paired');
        await b.next((m) => m['type'] === 'paired', 'paired');
        return [a, b];
      },
      should(holds, what) {
        if (!holds) missed.push(what);
      },
      keepAlive(c) {
        c.onFrame.push(() => {
          if (c.messages().at(-1)?.['type'] === 'ping') c.json({ type: 'pong' });
        });
      },
    };
    const t0 = Date.now();
    let result: CaseResult;
    const base = { name: c.name, level };
    try {
      await c.run(ctx);
      const violations = clients.flatMap((cl) => cl.violations.map((v) => `${cl.label}: ${v}`));
      if (violations.length > 0)
        throw new Failure(`frames that are not protocol messages: ${violations.slice(0, 3).join('; ')}`);
      result =
        missed.length > 0
          ? { ...base, status: 'non-strict', reason: missed[0], missed, frames: log.slice(-30), ms: Date.now() - t0 }
          : { ...base, status: 'pass', ms: Date.now() - t0 };
    } catch (e) {
      const reason = (e as Error).message;
      if (e instanceof Skip) result = { ...base, status: 'skip', reason, ms: Date.now() - t0 };
      else {
        // a missed rule is as strong as the case's level
        const status: Verdict = level === 'MUST' ? 'fail' : level === 'SHOULD' ? 'non-strict' : 'informational';
        result = { ...base, status, reason, frames: log.slice(-30), ms: Date.now() - t0 };
      }
    } finally {
      // a deliberate close: a resumable session must end now, not wait out its grace
      for (const cl of clients) cl.end(1000);
    }
    results.push(result);
    onResult?.(result);
  }
  return results;
}
