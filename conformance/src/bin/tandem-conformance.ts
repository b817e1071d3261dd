#!/usr/bin/env node
// tandem-conformance: check any signaling server URL against wire v1 and tandem's extensions.
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_URL, tokenSubprotocols } from '@tandem/protocol';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { WebSocket } from 'ws';
import { formatResult, runSuite, suiteDefaults, summary } from '../suite.js';
import { htmlReport, jsonReport, type RunInfo } from '../report.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
const positive = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`not a positive number: ${v}`);
  return n;
};
const zeroOrMore = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`not zero or more: ${v}`);
  return n;
};
const opts = new Command('tandem-conformance')
  .description('Check a signaling server against the tandem / wire-v1 protocol')
  .version(`tandem-conformance ${version}`, '-V, --version', 'print tandem-conformance and its version')
  .requiredOption(
    '--url <url...>',
    `server URL, e.g. ${DEFAULT_URL}; give several nodes of one cluster (--url A --url B) to spread each case's clients across them, so every pair crosses nodes`,
  )
  .addOption(
    new Option(
      '--ping-interval <seconds>',
      "the server's ping interval (a v2 server states its own in welcome, and that is used)",
    )
      .default(suiteDefaults.pingIntervalMs / 1000)
      .argParser(positive),
  )
  .addOption(
    new Option('--ping-timeout <seconds>', "the server's ping timeout (likewise)")
      .default(suiteDefaults.pingTimeoutMs / 1000)
      .argParser(positive),
  )
  .addOption(
    new Option('--tolerance <ms>', 'lateness allowed on timing bounds')
      .default(suiteDefaults.toleranceMs)
      .argParser(zeroOrMore),
  )
  .addOption(
    new Option('--early-tolerance <ms>', 'earliness allowed on timing bounds (clock granularity)')
      .default(suiteDefaults.earlyToleranceMs)
      .argParser(zeroOrMore),
  )
  .addOption(
    new Option('--answer-timeout <ms>', 'how long to wait for an answer that has no timing rule of its own')
      .default(suiteDefaults.answerTimeoutMs)
      .argParser(positive),
  )
  .addOption(
    new Option(
      '--token <token>',
      'token for a server that requires one (sent as the tandem.token. subprotocol); prefer TANDEM_TOKEN',
    ).env('TANDEM_TOKEN'),
  )
  .option('--filter <text>', 'only run cases whose name contains this')
  .option('--json <file>', 'also write a JSON report to this file')
  .option('--html <file>', 'also write a self-contained HTML report to this file')
  .parse()
  .opts<{
    url: string[];
    pingInterval: number;
    pingTimeout: number;
    tolerance: number;
    earlyTolerance: number;
    answerTimeout: number;
    filter?: string;
    token?: string;
    json?: string;
    html?: string;
  }>();

/** The server's your_id, for the report's header (null when it cannot be had). */
const serverInfo = (): Promise<RunInfo['server']> =>
  new Promise((resolve) => {
    const ws = new WebSocket(opts.url[0]!, opts.token === undefined ? [] : tokenSubprotocols(opts.token));
    const done = (v: RunInfo['server']) => {
      ws.terminate();
      resolve(v);
    };
    ws.once('message', (d) => {
      try {
        const m = JSON.parse(d.toString()) as { version?: number; capabilities?: string[] };
        done({
          ...(m.version !== undefined ? { version: m.version } : {}),
          ...(m.capabilities ? { capabilities: m.capabilities } : {}),
        });
      } catch {
        done(undefined);
      }
    });
    ws.once('error', () => done(undefined));
    setTimeout(() => done(undefined), 5_000).unref();
  });
/**
 * The keepalive timings a v2 server states in `welcome` (null from a v1 server, or when it cannot
 * be reached): the timing cases use them, so the suite's defaults never fail a server for its own
 * settings.
 */
const statedTimings = (): Promise<{ intervalMs: number; timeoutMs: number } | null> =>
  new Promise((resolve) => {
    const ws = new WebSocket(opts.url[0]!, opts.token === undefined ? [] : tokenSubprotocols(opts.token));
    const done = (v: { intervalMs: number; timeoutMs: number } | null) => {
      ws.terminate();
      resolve(v);
    };
    ws.on('message', (d) => {
      try {
        const m = JSON.parse(d.toString()) as Record<string, unknown>;
        if (m['type'] === 'your_id') {
          if (!Array.isArray(m['capabilities'])) return done(null);
          ws.send(JSON.stringify({ type: 'hello', version: 2, capabilities: [] }));
        } else if (m['type'] === 'welcome') {
          const interval = m['ping_interval_ms'];
          const timeout = m['ping_timeout_ms'];
          done(
            typeof interval === 'number' && typeof timeout === 'number'
              ? { intervalMs: interval, timeoutMs: timeout }
              : null,
          );
        }
      } catch {
        done(null);
      }
    });
    ws.once('error', () => done(null));
    setTimeout(() => done(null), 5_000).unref();
  });
let pingIntervalMs = opts.pingInterval * 1000;
let pingTimeoutMs = opts.pingTimeout * 1000;
const stated = await statedTimings();
if (stated !== null && (stated.intervalMs !== pingIntervalMs || stated.timeoutMs !== pingTimeoutMs)) {
  console.error(
    `warning: the server states a ${stated.intervalMs / 1000} s ping interval and ${stated.timeoutMs / 1000} s timeout; ` +
      `--ping-interval ${pingIntervalMs / 1000} --ping-timeout ${pingTimeoutMs / 1000} disagree, so the server's are used`,
  );
  pingIntervalMs = stated.intervalMs;
  pingTimeoutMs = stated.timeoutMs;
}
const startedAt = new Date();

const results = await runSuite(
  {
    urls: opts.url,
    pingIntervalMs,
    pingTimeoutMs,
    toleranceMs: opts.tolerance,
    earlyToleranceMs: opts.earlyTolerance,
    answerTimeoutMs: opts.answerTimeout,
    filter: opts.filter ?? '',
    ...(opts.token !== undefined ? { token: opts.token } : {}),
  },
  (r) => console.log(formatResult(r)),
  // progress on standard error: timing cases can take a while (interval + timeout, several times)
  (name) => process.stderr.write(`… ${name}\n`),
);
console.log(summary(results));
if (opts.json || opts.html) {
  const info: RunInfo = {
    url: opts.url.join(' '),
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    server: await serverInfo(),
    timing: {
      pingIntervalMs,
      pingTimeoutMs,
      toleranceMs: opts.tolerance,
      earlyToleranceMs: opts.earlyTolerance,
      answerTimeoutMs: opts.answerTimeout,
    },
  };
  if (opts.json) writeFileSync(opts.json, jsonReport(results, info));
  if (opts.html) writeFileSync(opts.html, htmlReport(results, info));
}
process.exit(results.some((r) => r.status === 'fail') ? 1 : 0);
