#!/usr/bin/env node
// tandem-server: the reference signaling server (in-memory directory) on `ws`.
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { DEFAULT_HOST, DEFAULT_PORT } from '@tandem/protocol';
import { defaultServerSettings, type ServerLogEvent } from '@tandem/server-core';
import { createServer } from 'node:http';
import { createWsServer } from '../ws.js';
import { demoHandler } from '../demo/serve.js';

const num = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`not a positive number: ${v}`);
  return n;
};
const program = new Command('tandem-server')
  .description('WebRTC pairing and signaling server (wire-v1 compatible)')
  .addOption(new Option('--host <host>', 'address to listen on').default(DEFAULT_HOST).env('TANDEM_HOST'))
  .addOption(new Option('--port <port>', 'port to listen on (0 picks a free one)').default(DEFAULT_PORT).argParser(Number).env('TANDEM_PORT'))
  .addOption(new Option('--ping-interval <seconds>', 'quiet time before a client is pinged').default(defaultServerSettings.pingIntervalMs / 1000).argParser(num).env('TANDEM_PING_INTERVAL'))
  .addOption(new Option('--ping-timeout <seconds>', 'time a pinged client has to answer').default(defaultServerSettings.pingTimeoutMs / 1000).argParser(num).env('TANDEM_PING_TIMEOUT'))
  .addOption(new Option('--max-frame-bytes <bytes>', 'largest accepted frame').default(defaultServerSettings.maxFrameBytes).argParser(num).env('TANDEM_MAX_FRAME_BYTES'))
  .addOption(new Option('--rate-limit <perSecond>', 'sustained messages per second per client').default(defaultServerSettings.rateLimitPerSecond).argParser(num).env('TANDEM_RATE_LIMIT'))
  .addOption(new Option('--rate-burst <messages>', 'burst allowance per client').default(defaultServerSettings.rateLimitBurst).argParser(num).env('TANDEM_RATE_BURST'))
  .addOption(new Option('--no-demo', 'do not serve the demo chat page over HTTP on the same port'))
  .addOption(new Option('--no-extensions', 'do not advertise v2 extensions in your_id (pure v1)'))
  .addOption(new Option('--log-format <format>', 'text lines or JSON (pino)').choices(['text', 'json']).default('text').env('TANDEM_LOG_FORMAT'))
  .addOption(new Option('--log-level <level>', 'info logs every pairing and relay; warn only problems').choices(['debug', 'info', 'warn', 'silent']).default('info').env('TANDEM_LOG_LEVEL'))
  .parse();
const opts = program.opts<{
  host: string; port: number; pingInterval: number; pingTimeout: number; maxFrameBytes: number;
  rateLimit: number; rateBurst: number; extensions: boolean; demo: boolean; logFormat: 'text' | 'json'; logLevel: 'debug' | 'info' | 'warn' | 'silent';
}>();

type Level = 'info' | 'warn' | 'debug';
/** Each event's level, known before any line is formatted. */
const levelOf: Record<ServerLogEvent['type'], Level> = {
  connected: 'info', disconnected: 'info', paired: 'info', pair_failed: 'info', relayed: 'info', peer_notified: 'info',
  not_paired: 'warn', rejected: 'warn', timed_out: 'warn', rate_limited: 'warn', pinged: 'debug',
};
const text = (e: ServerLogEvent): string => {
  switch (e.type) {
    case 'connected': return `Client ${e.id} connected.`;
    case 'disconnected': return `Client ${e.id} disconnected. (${e.reason})`;
    case 'paired': return `Paired ${e.id} with ${e.peerId}.`;
    case 'pair_failed': return `Pair request from ${e.id} for ${e.targetId} failed: ${e.message}`;
    case 'relayed': return `Relaying ${e.messageType} from ${e.from} to ${e.to}`;
    case 'not_paired': return `Client ${e.id} sent ${e.messageType} while not paired`;
    case 'rejected': return `Rejected frame from ${e.id}: ${e.message}`;
    case 'pinged': return `Pinged ${e.id} (${e.mode})`;
    case 'timed_out': return `Client ${e.id} timed out (no pong); closing.`;
    case 'rate_limited': return `Client ${e.id} exceeded the rate limit; closing.`;
    case 'peer_notified': return `Notified ${e.id} that peer ${e.peerId} disconnected.`;
  }
};
const rank = { debug: 10, info: 20, warn: 30, silent: 99 } as const;
const json = opts.logFormat === 'json' ? pino({ level: opts.logLevel === 'silent' ? 'silent' : opts.logLevel, base: { service: 'tandem-server' } }) : null;
const say = (level: Level, line: string, fields: object = {}) => {
  if (rank[level] < rank[opts.logLevel]) return;
  if (json) json[level](fields, line);
  else process.stdout.write(`${line}\n`);
};

say('info', `Server starting... ws://${opts.host}:${opts.port}`);
// One port for both: the demo page over HTTP, the signaling endpoint as a WebSocket upgrade.
const http = createServer(
  opts.demo
    ? demoHandler()
    : (_req, res) => res.writeHead(426, { 'content-type': 'text/plain; charset=utf-8' }).end('This is a tandem signaling server: connect with a WebSocket.\n'),
);
const server = createWsServer({
  server: http,
  settings: {
    pingIntervalMs: opts.pingInterval * 1000,
    pingTimeoutMs: opts.pingTimeout * 1000,
    maxFrameBytes: opts.maxFrameBytes,
    rateLimitPerSecond: opts.rateLimit,
    rateLimitBurst: opts.rateBurst,
    advertiseExtensions: opts.extensions,
  },
  // relays and pings are hot: the engine builds only the events shown at this level
  wantsLog: (type) => rank[levelOf[type]] >= rank[opts.logLevel],
  log: (e) => say(levelOf[e.type], text(e), e),
});
http.on('error', (err: Error) => {
  say('warn', `Cannot listen: ${err.message}`);
  process.exit(1);
});
http.listen(opts.port, opts.host, () => {
  const a = http.address() as { address: string; port: number };
  const host = a.address.includes(':') ? `[${a.address}]` : a.address;
  say('info', `Listening on ws://${host}:${a.port}`, { host: a.address, port: a.port });
  if (opts.demo) say('info', `Demo page: http://${host}:${a.port}/`);
});

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  say('info', `Received ${signal}; shutting down.`);
  server.close().then(() => {
    http.close();
    say('info', 'Server stopped.');
    process.exit(0);
  });
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
