#!/usr/bin/env node
// tandem-conformance: check any signaling server URL against wire v1 and tandem's extensions.
import { Command, Option } from 'commander';
import { formatResult, runSuite, summary } from '../suite.js';

const opts = new Command('tandem-conformance')
  .description('Check a signaling server against the tandem / wire-v1 protocol')
  .requiredOption('--url <url>', 'server URL, e.g. ws://127.0.0.1:8787')
  .addOption(new Option('--ping-interval <seconds>', "the server's ping interval").default(25).argParser(Number))
  .addOption(new Option('--ping-timeout <seconds>', "the server's ping timeout").default(20).argParser(Number))
  .addOption(new Option('--tolerance <ms>', 'lateness allowed on timing bounds').default(1500).argParser(Number))
  .option('--filter <text>', 'only run cases whose name contains this')
  .option('--json', 'print a JSON report instead of lines')
  .parse()
  .opts<{ url: string; pingInterval: number; pingTimeout: number; tolerance: number; filter?: string; json?: boolean }>();

const results = await runSuite(
  { url: opts.url, pingIntervalMs: opts.pingInterval * 1000, pingTimeoutMs: opts.pingTimeout * 1000, toleranceMs: opts.tolerance, filter: opts.filter ?? '' },
  (r) => {
    if (!opts.json) console.log(formatResult(r));
  },
);
if (opts.json) console.log(JSON.stringify({ url: opts.url, results, summary: summary(results) }, null, 2));
else console.log(summary(results));
process.exit(results.some((r) => r.status === 'fail') ? 1 : 0);
