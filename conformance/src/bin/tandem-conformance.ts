#!/usr/bin/env node
// tandem-conformance: check any signaling server URL against wire v1 and tandem's extensions.
import { Command, Option } from 'commander';
import { DEFAULT_URL, tokenSubprotocols } from '@tandem/protocol';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { WebSocket } from 'ws';
import { formatResult, runSuite, suiteDefaults, summary } from '../suite.js';
import { htmlReport, jsonReport, type RunInfo } from '../report.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
const opts = new Command('tandem-conformance')
  .description('Check a signaling server against the tandem / wire-v1 protocol')
  .version(`tandem-conformance ${version}`, '-V, --version', 'print tandem-conformance and its version')
  .requiredOption(
    '--url <url...>',
    `server URL, e.g. ${DEFAULT_URL}; give several nodes of one cluster (--url A --url B) to spread each case's clients across them, so every pair crosses nodes`,
  )
  .addOption(
    new Option('--ping-interval <seconds>', "the server's ping interval")
      .default(suiteDefaults.pingIntervalMs / 1000)
      .argParser(Number),
  )
  .addOption(
    new Option('--ping-timeout <seconds>', "the server's ping timeout")
      .default(suiteDefaults.pingTimeoutMs / 1000)
      .argParser(Number),
  )
  .addOption(
    new Option('--tolerance <ms>', 'lateness allowed on timing bounds')
      .default(suiteDefaults.toleranceMs)
      .argParser(Number),
  )
  .addOption(
    new Option('--early-tolerance <ms>', 'earliness allowed on timing bounds (clock granularity)')
      .default(suiteDefaults.earlyToleranceMs)
      .argParser(Number),
  )
  .addOption(
    new Option('--answer-timeout <ms>', 'how long to wait for an answer that has no timing rule of its own')
      .default(suiteDefaults.answerTimeoutMs)
      .argParser(Number),
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
const startedAt = new Date();

const results = await runSuite(
  {
    urls: opts.url,
    pingIntervalMs: opts.pingInterval * 1000,
    pingTimeoutMs: opts.pingTimeout * 1000,
    toleranceMs: opts.tolerance,
    earlyToleranceMs: opts.earlyTolerance,
    answerTimeoutMs: opts.answerTimeout,
    filter: opts.filter ?? '',
    ...(opts.token !== undefined ? { token: opts.token } : {}),
  },
  (r) => console.log(formatResult(r)),
);
console.log(summary(results));
if (opts.json || opts.html) {
  const info: RunInfo = {
    url: opts.url.join(' '),
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    server: await serverInfo(),
    timing: {
      pingIntervalMs: opts.pingInterval * 1000,
      pingTimeoutMs: opts.pingTimeout * 1000,
      toleranceMs: opts.tolerance,
      earlyToleranceMs: opts.earlyTolerance,
      answerTimeoutMs: opts.answerTimeout,
    },
  };
  if (opts.json) writeFileSync(opts.json, jsonReport(results, info));
  if (opts.html) writeFileSync(opts.html, htmlReport(results, info));
}
process.exit(results.some((r) => r.status === 'fail') ? 1 : 0);
