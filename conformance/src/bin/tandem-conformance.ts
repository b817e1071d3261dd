#!/usr/bin/env node
// tandem-conformance: check any signaling server URL against wire v1 and tandem's extensions.
import { Command, Option } from 'commander';
import { DEFAULT_URL } from '@tandem/protocol';
import { formatResult, runSuite, suiteDefaults, summary } from '../suite.js';

const opts = new Command('tandem-conformance')
  .description('Check a signaling server against the tandem / wire-v1 protocol')
  .requiredOption('--url <url>', `server URL, e.g. ${DEFAULT_URL}`)
  .addOption(new Option('--ping-interval <seconds>', "the server's ping interval").default(suiteDefaults.pingIntervalMs / 1000).argParser(Number))
  .addOption(new Option('--ping-timeout <seconds>', "the server's ping timeout").default(suiteDefaults.pingTimeoutMs / 1000).argParser(Number))
  .addOption(new Option('--tolerance <ms>', 'lateness allowed on timing bounds').default(suiteDefaults.toleranceMs).argParser(Number))
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
