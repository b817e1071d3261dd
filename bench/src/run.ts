// npm run bench [-- --quick] [--only relay,memory,latency,keepalive,churn,design,attack,access,resume,restore,codes,calls,cluster,nat,files,bundle]
// Runs each figure side by side with its baselines in one run, prints a table of ratios, writes
// bench/results/<time>.json, latest.json and latest.svg.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import {
  churn,
  designCheck,
  keepaliveTraffic,
  memoryPerConnection,
  pairToOpen,
  relayCost,
  slowConsumerAttack,
  type Sizes,
} from './figures.js';
import { chart, rows, table, type Results } from './report.js';
import { resumeFigures } from './resume.js';
import { clusterFigures } from './cluster.js';
import { natFigures } from './nat.js';
import { accessFigures } from './access.js';
import { filesFigures } from './files.js';
import { restoreFigures } from './restore.js';
import { codesFigures } from './codes.js';
import { callsFigures } from './calls.js';
import { bundleFigures } from './bundle.js';

const all = [
  'relay',
  'memory',
  'latency',
  'keepalive',
  'churn',
  'design',
  'attack',
  'access',
  'resume',
  'restore',
  'codes',
  'calls',
  'cluster',
  'nat',
  'files',
  'bundle',
] as const;
const opts = new Command('tandem-bench')
  .description('tandem-server against PeerServer and a bare ws relay, ratios from one run')
  .option('--quick', 'smaller counts; finishes in under two minutes')
  .addOption(new Option('--only <figures>', `comma-separated subset of ${all.join(',')}`).default(all.join(',')))
  .parse()
  .opts<{ quick?: boolean; only: string }>();

const quick = opts.quick === true;
const sizes: Sizes = quick
  ? {
      relayMessages: 40_000,
      relayPairs: 20,
      relayRounds: 1,
      idleConnections: 19_000,
      latencyPairings: 20,
      churnConnections: 2_000,
      keepaliveCycles: 6,
      keepaliveRealMinute: false,
      designConnections: 10_000,
      attackers: 2,
      attackSeconds: 15,
    }
  : {
      relayMessages: 150_000,
      relayPairs: 50,
      relayRounds: 3,
      idleConnections: 19_000,
      latencyPairings: 40,
      churnConnections: 10_000,
      keepaliveCycles: 20,
      keepaliveRealMinute: true,
      designConnections: 50_000,
      attackers: 2,
      attackSeconds: 40,
    };
const only = new Set(opts.only.split(','));
const results: Results = {
  startedAt: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  machine: { cpus: cpus().length, node: process.version },
  commit: gitCommit(),
};
function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}
const t0 = Date.now();
const step = async <T>(name: (typeof all)[number], fn: () => Promise<T>): Promise<T | undefined> => {
  if (!only.has(name)) return undefined;
  process.stderr.write(`${name}...\n`);
  return fn();
};
results.relay = await step('relay', () => relayCost(sizes));
results.memory = await step('memory', () => memoryPerConnection(sizes));
results.latency = await step('latency', () => pairToOpen(sizes));
results.keepalive = await step('keepalive', () => keepaliveTraffic(sizes));
results.churn = await step('churn', () => churn(sizes));
results.design = await step('design', () => designCheck(sizes));
results.attack = await step('attack', () => slowConsumerAttack(sizes));
results.access = await step('access', () => accessFigures(quick));
results.resume = await step('resume', () => resumeFigures(20));
results.restore = await step('restore', () => restoreFigures(quick));
results.codes = await step('codes', () => codesFigures(quick));
results.calls = await step('calls', () => callsFigures(quick));
results.cluster = await step('cluster', () =>
  clusterFigures(
    quick
      ? { relayMessages: 40_000, relayRounds: 1, relayPairs: 20, latencyPairings: 10, kills: 3, idlePerNode: 19_000 }
      : { relayMessages: 150_000, relayRounds: 3, relayPairs: 50, latencyPairings: 30, kills: 8, idlePerNode: 19_000 },
  ),
);
results.nat = await step('nat', () => natFigures(quick ? 4 : 12));
results.files = await step('files', () => filesFigures(quick));
results.bundle = await step('bundle', () => bundleFigures());

const rs = rows(results);
console.log(
  `\ntandem benchmarks (${results.mode}, ${((Date.now() - t0) / 1000).toFixed(0)} s, node ${process.version}, ${results.machine.cpus} cpus; servers pinned to core 0, load to core 1)\n`,
);
console.log(table(rs));
const dir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(dir, { recursive: true });
const stamp = results.startedAt.replace(/[:.]/g, '-');
const json = JSON.stringify({ ...results, rows: rs }, null, 2);
writeFileSync(`${dir}${stamp}.json`, json);
writeFileSync(`${dir}latest.json`, json);
writeFileSync(
  `${dir}latest.svg`,
  await chart(rs, `tandem vs same-run baselines (${results.mode}, ${results.startedAt.slice(0, 10)})`),
);
console.log(`\nwrote bench/results/${stamp}.json, latest.json, latest.svg`);
process.exit(0);
