#!/usr/bin/env node
// tandem-server: the reference signaling server on `ws`: one process with an in-memory directory,
// or, with --redis, one node of a cluster sharing its directory through Redis.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Command, Option } from 'commander';
import { atLeast, host, int, list, nonNegative, num, port, versionLine } from './cli-args.js';
import { pino } from 'pino';
import { DEFAULT_HOST, DEFAULT_PORT } from '@tandem/protocol';
import { defaultServerSettings } from '@tandem/server-core';
import { createWsServer, defaultConnectionLimits, type WsTandemServer } from '../ws.js';
import { RedisDirectory, redisUrlForLogs } from '../redis-directory.js';
import {
  DEFAULT_TURN_TTL_S,
  checkIceSettings,
  iceServersFor,
  iceServersHandler,
  type IceSettings,
} from '../ice-config.js';
import { createMetrics } from '../metrics.js';
import { opsHandler } from '../ops.js';
import {
  clientHandle,
  nameClients,
  processLogKey,
  refusalLine,
  serverLogLevel,
  serverLogLine,
  subjectNames,
  type ClientNaming,
  type LogLevel,
} from '../server-log.js';
import { demoHandler } from '../demo/serve.js';
import { logOutput } from '../log-output.js';
import { jwtAuthorizer, type Authorize } from '../auth.js';
import type { JSONWebKeySet } from 'jose';

const limits = defaultConnectionLimits();
const program = new Command('tandem-server')
  .description('WebRTC pairing and signaling server (wire-v1 compatible)')
  .version(versionLine('tandem-server'), '-V, --version', 'print tandem-server and its version')
  .addOption(
    new Option('--host <host>', 'address to listen on').default(DEFAULT_HOST).argParser(host).env('TANDEM_HOST'),
  )
  .addOption(
    new Option('--port <port>', 'port to listen on (0 picks a free one)')
      .default(DEFAULT_PORT)
      .argParser(port)
      .env('TANDEM_PORT'),
  )
  .addOption(
    new Option('--ping-interval <seconds>', 'quiet time before a client is pinged')
      .default(defaultServerSettings.pingIntervalMs / 1000)
      .argParser(num)
      .env('TANDEM_PING_INTERVAL'),
  )
  .addOption(
    new Option('--ping-timeout <seconds>', 'time a pinged client has to answer')
      .default(defaultServerSettings.pingTimeoutMs / 1000)
      .argParser(num)
      .env('TANDEM_PING_TIMEOUT'),
  )
  .addOption(
    new Option(
      '--max-frame-bytes <bytes>',
      'largest accepted frame; larger ones close the connection with 1009 and the limit in words',
    )
      .default(defaultServerSettings.maxFrameBytes)
      .argParser(atLeast(4_096, 'an offer or answer carries a whole SDP'))
      .env('TANDEM_MAX_FRAME_BYTES'),
  )
  .addOption(
    new Option('--rate-limit <perSecond>', 'sustained messages per second per client')
      .default(defaultServerSettings.rateLimitPerSecond)
      .argParser(num)
      .env('TANDEM_RATE_LIMIT'),
  )
  .addOption(
    new Option('--rate-burst <messages>', 'burst allowance per client')
      .default(defaultServerSettings.rateLimitBurst)
      .argParser(num)
      .env('TANDEM_RATE_BURST'),
  )
  .addOption(
    new Option('--byte-rate-limit <bytesPerSecond>', 'sustained bytes per second per client')
      .default(defaultServerSettings.rateLimitBytesPerSecond)
      .argParser(num)
      .env('TANDEM_BYTE_RATE_LIMIT'),
  )
  .addOption(
    new Option('--byte-rate-burst <bytes>', 'byte burst allowance per client (at least --max-frame-bytes)')
      .default(defaultServerSettings.rateLimitBytesBurst)
      .argParser(num)
      .env('TANDEM_BYTE_RATE_BURST'),
  )
  .addOption(
    new Option(
      '--max-buffered-bytes <bytes>',
      'unsent bytes queued for one client before it is closed as a slow consumer (1008)',
    )
      .default(defaultServerSettings.maxBufferedBytes)
      .argParser(int)
      .env('TANDEM_MAX_BUFFERED_BYTES'),
  )
  .addOption(
    new Option(
      '--resume-grace <seconds>',
      'how long a resume-capable client whose link dropped keeps its ID and pairing (its partner is not told); 0 turns resume off',
    )
      .default(defaultServerSettings.resumeGraceMs / 1000)
      .argParser(nonNegative)
      .env('TANDEM_RESUME_GRACE'),
  )
  .addOption(new Option('--no-codes', 'do not offer pairing by code (nameplates)').env('TANDEM_NO_CODES'))
  .addOption(
    new Option('--nameplate-ttl <seconds>', 'how long a code can be joined after it is made')
      .default(defaultServerSettings.nameplateTtlMs / 1000)
      .argParser(num)
      .env('TANDEM_NAMEPLATE_TTL'),
  )
  .addOption(
    new Option('--nameplate-rate <n>', 'codes made plus codes joined, per client address per minute')
      .default(defaultServerSettings.nameplatesPerAddressPerMinute)
      .argParser(num)
      .env('TANDEM_NAMEPLATE_RATE'),
  )
  .addOption(
    new Option(
      '--claim-timeout <seconds>',
      'how long the two sides of a code have to confirm it; past it the code is burnt',
    )
      .default(defaultServerSettings.claimTimeoutMs / 1000)
      .argParser(num)
      .env('TANDEM_CLAIM_TIMEOUT'),
  )
  .addOption(
    new Option(
      '--resume-buffer-frames <n>',
      'frames kept per session for replay after a resume; past it the session ends',
    )
      .default(defaultServerSettings.resumeBufferFrames)
      .argParser(int)
      .env('TANDEM_RESUME_BUFFER_FRAMES'),
  )
  .addOption(
    new Option('--resume-buffer-bytes <bytes>', 'bytes of such frames kept per session')
      .default(defaultServerSettings.resumeBufferBytes)
      .argParser(int)
      .env('TANDEM_RESUME_BUFFER_BYTES'),
  )
  .addOption(
    new Option(
      '--max-detached-sessions <n>',
      'resumable sessions kept link-less at once (each also holds its slot under the connection caps); past it a lost link ends its session',
    )
      .default(defaultServerSettings.maxDetachedSessions)
      .argParser(int)
      .env('TANDEM_MAX_DETACHED_SESSIONS'),
  )
  .addOption(
    new Option('--max-detached-bytes <bytes>', 'bytes all detached sessions together keep for replay')
      .default(defaultServerSettings.maxDetachedBytes)
      .argParser(int)
      .env('TANDEM_MAX_DETACHED_BYTES'),
  )
  .addOption(
    new Option('--max-connections <n>', 'open connections in all; more get HTTP 503')
      .default(limits.maxConnections, `${limits.maxConnections}: the file limit less a reserve`)
      .argParser(int)
      .env('TANDEM_MAX_CONNECTIONS'),
  )
  .addOption(
    new Option('--max-connections-per-ip <n>', 'open connections from one client address; more get HTTP 429')
      .default(limits.maxConnectionsPerIp)
      .argParser(int)
      .env('TANDEM_MAX_CONNECTIONS_PER_IP'),
  )
  .addOption(
    new Option(
      '--max-pending-per-ip <n>',
      'sockets from one address that are not WebSockets yet (a request on its way, or none); more are closed at accept',
    )
      .default(limits.maxPendingPerIp, `${limits.maxPendingPerIp}: a quarter of --max-connections, at most 256`)
      .argParser(int)
      .env('TANDEM_MAX_PENDING_PER_IP'),
  )
  .addOption(
    new Option(
      '--max-pending <n>',
      'sockets beyond --max-connections (live and not yet WebSockets together) before new ones are closed at accept',
    )
      .default(limits.maxPending, `${limits.maxPending}: half the files kept in reserve`)
      .argParser(int)
      .env('TANDEM_MAX_PENDING'),
  )
  .addOption(
    new Option('--header-timeout <seconds>', 'time a socket has to send a whole HTTP request head before it is closed')
      .default(10)
      .argParser(num)
      .env('TANDEM_HEADER_TIMEOUT'),
  )
  .addOption(
    new Option(
      '--trust-proxy <address...>',
      "reverse proxy whose X-Forwarded-For names the client's address (repeatable)",
    )
      .default([])
      .argParser(list)
      .env('TANDEM_TRUST_PROXY'),
  )
  .addOption(
    new Option(
      '--allow-origin <origin...>',
      'browser origin allowed to connect, exact or *.example.com (repeatable); others get HTTP 403. Default: any',
    )
      .default([])
      .argParser(list)
      .env('TANDEM_ALLOW_ORIGIN'),
  )
  .addOption(
    new Option('--tls-cert <file>', 'PEM certificate chain: serve wss:// and https:// (needs --tls-key)').env(
      'TANDEM_TLS_CERT',
    ),
  )
  .addOption(new Option('--tls-key <file>', 'PEM private key for --tls-cert').env('TANDEM_TLS_KEY'))
  .addOption(
    new Option(
      '--admin-port <port>',
      'serve /healthz, /readyz and /metrics on this port only (on --admin-host), not the public one',
    )
      .argParser(port)
      .env('TANDEM_ADMIN_PORT'),
  )
  .addOption(
    new Option('--admin-host <host>', 'address for --admin-port')
      .default('127.0.0.1')
      .argParser(host)
      .env('TANDEM_ADMIN_HOST'),
  )
  .addOption(new Option('--no-metrics', 'do not serve /metrics'))
  .addOption(
    new Option('--stun-url <url...>', 'STUN server handed to clients (stun:host[:port], repeatable)')
      .default([])
      .argParser(list)
      .env('TANDEM_STUN_URL'),
  )
  .addOption(
    new Option(
      '--turn-url <url...>',
      'TURN server handed to clients with short-lived credentials (turn:host[:port][?transport=udp|tcp], repeatable; needs --turn-secret or --turn-secret-file)',
    )
      .default([])
      .argParser(list)
      .env('TANDEM_TURN_URL'),
  )
  .addOption(
    new Option(
      '--turn-secret <secret>',
      "coturn's static-auth-secret (use-auth-secret); never sent to clients. Prefer --turn-secret-file or TANDEM_TURN_SECRET: a command line is visible to every local user",
    ).env('TANDEM_TURN_SECRET'),
  )
  .addOption(
    new Option(
      '--ice-servers-route',
      'also serve GET /ice-servers (TURN credentials over HTTP for apps with their own signaling): origin-checked with --allow-origin, 6 a minute per address (burst 10); off by default, since tandem clients get theirs in welcome',
    ).env('TANDEM_ICE_SERVERS_ROUTE'),
  )
  .addOption(
    new Option(
      '--turn-secret-file <file>',
      "read coturn's static-auth-secret from this file (one line; a trailing newline is ignored)",
    ).env('TANDEM_TURN_SECRET_FILE'),
  )
  .addOption(
    new Option(
      '--turn-ttl <seconds>',
      'lifetime of the TURN credentials a client gets (at most a day); long sessions get fresh ones before expiry',
    )
      .default(DEFAULT_TURN_TTL_S)
      .argParser(int)
      .env('TANDEM_TURN_TTL'),
  )
  .addOption(
    new Option(
      '--redis <url>',
      'join a cluster through this Redis (redis://[user:password@]host:port[/db], rediss:// for TLS; prefer TANDEM_REDIS for a URL with a password: the command line is visible to every local user); without it the server is one process with an in-memory directory',
    ).env('TANDEM_REDIS'),
  )
  .addOption(
    new Option(
      '--redis-prefix <prefix>',
      'prefix of the keys and channels in Redis (several clusters can share one Redis)',
    )
      .default('tandem:')
      .env('TANDEM_REDIS_PREFIX'),
  )
  .addOption(
    new Option(
      '--lease-ttl <seconds>',
      "with --redis: how long a silent node is presumed alive; its clients' partners are told within this plus a second",
    )
      .default(5)
      .argParser(num)
      .env('TANDEM_LEASE_TTL'),
  )
  .addOption(
    new Option(
      '--drain-timeout <seconds>',
      'on SIGTERM: refuse new clients, close the others with 1012 (reconnect elsewhere), exit once they are gone or after this long',
    )
      .default(10)
      .argParser(num)
      .env('TANDEM_DRAIN_TIMEOUT'),
  )
  .addOption(new Option('--no-demo', 'do not serve the demo chat page over HTTP on the same port'))
  .addOption(
    new Option(
      '--demo-allow-server <origin...>',
      "a signaling server (wss://host[:port]) the demo page's ?server= may point at besides this one (repeatable); default none",
    )
      .default([])
      .argParser(list)
      .env('TANDEM_DEMO_ALLOW_SERVER'),
  )
  .addOption(new Option('--no-extensions', 'do not advertise v2 extensions in your_id (pure v1)'))
  .addOption(
    new Option('--log-format <format>', 'text lines (client strings escaped) or JSON (pino)')
      .choices(['text', 'json'])
      .default('text')
      .env('TANDEM_LOG_FORMAT'),
  )
  .addOption(
    new Option('--log-level <level>', 'info logs every pairing and relay; warn only problems')
      .choices(['debug', 'info', 'warn', 'silent'])
      .default('info')
      .env('TANDEM_LOG_LEVEL'),
  )
  .addOption(
    new Option(
      '--auth-jwt-secret <secret>',
      'require a JWT signed with this HS256 secret (at least 32 bytes) to connect; prefer --auth-jwt-secret-file or the variable',
    ).env('TANDEM_AUTH_JWT_SECRET'),
  )
  .addOption(
    new Option(
      '--auth-jwt-secret-file <file>',
      'read the HS256 secret from this file (a trailing newline is ignored)',
    ).env('TANDEM_AUTH_JWT_SECRET_FILE'),
  )
  .addOption(
    new Option(
      '--auth-jwks-file <file>',
      'require a JWT signed (RS256/ES256) by a key of this JWKS file to connect',
    ).env('TANDEM_AUTH_JWKS_FILE'),
  )
  .addOption(
    new Option(
      '--auth-jwks-url <url>',
      'require a JWT signed (RS256/ES256) by a key of the JWKS at this URL (cached; fetched again for an unknown kid)',
    ).env('TANDEM_AUTH_JWKS_URL'),
  )
  .addOption(new Option('--auth-issuer <iss>', 'with JWT auth: the iss a token must carry').env('TANDEM_AUTH_ISSUER'))
  .addOption(
    new Option('--auth-audience <aud>', 'with JWT auth: the aud a token must carry').env('TANDEM_AUTH_AUDIENCE'),
  )
  .addOption(
    new Option('--auth-clock-skew <seconds>', 'with JWT auth: skew allowed on exp and nbf')
      .default(30)
      .argParser(nonNegative)
      .env('TANDEM_AUTH_CLOCK_SKEW'),
  )
  .addOption(
    new Option(
      '--auth-tenant-claim <claim>',
      'with JWT auth: the claim naming a tenant; clients pair only within their tenant',
    )
      .default('tenant')
      .env('TANDEM_AUTH_TENANT_CLAIM'),
  )
  .addOption(
    new Option(
      '--log-key-file <file>',
      'key (any bytes) for the 8-hex-digit handles that name clients in the log; give every node the same file to follow a client across a cluster (default: a random key per process)',
    ).env('TANDEM_LOG_KEY_FILE'),
  )
  .addOption(
    new Option(
      '--log-full-ids',
      'write client IDs to the log in full instead of handles (IDs are pairing keys: whoever reads the log can pair with those clients)',
    ).env('TANDEM_LOG_FULL_IDS'),
  )
  .addHelpText(
    'after',
    '\nSignals: SIGTERM drains (see --drain-timeout); SIGINT closes every client with 1001 and exits.\nEvery option also reads the TANDEM_* variable shown.',
  )
  .parse();
const opts = program.opts<{
  host: string;
  port: number;
  pingInterval: number;
  pingTimeout: number;
  maxFrameBytes: number;
  rateLimit: number;
  rateBurst: number;
  byteRateLimit: number;
  byteRateBurst: number;
  maxBufferedBytes: number;
  resumeGrace: number;
  codes: boolean;
  nameplateTtl: number;
  claimTimeout: number;
  nameplateRate: number;
  resumeBufferFrames: number;
  resumeBufferBytes: number;
  maxConnections: number;
  maxDetachedSessions: number;
  maxDetachedBytes: number;
  maxConnectionsPerIp: number;
  maxPendingPerIp: number;
  maxPending: number;
  headerTimeout: number;
  trustProxy: string[];
  allowOrigin: string[];
  redis?: string;
  redisPrefix: string;
  leaseTtl: number;
  stunUrl: string[];
  turnUrl: string[];
  turnSecret?: string;
  turnSecretFile?: string;
  iceServersRoute?: boolean;
  turnTtl: number;
  tlsCert?: string;
  tlsKey?: string;
  adminPort?: number;
  adminHost: string;
  metrics: boolean;
  drainTimeout: number;
  extensions: boolean;
  demo: boolean;
  demoAllowServer: string[];
  logFormat: 'text' | 'json';
  logKeyFile?: string;
  logFullIds?: boolean;
  logLevel: LogLevel | 'silent';
  authJwtSecret?: string;
  authJwtSecretFile?: string;
  authJwksFile?: string;
  authJwksUrl?: string;
  authIssuer?: string;
  authAudience?: string;
  authClockSkew: number;
  authTenantClaim: string;
}>();
// checked here, not by commander, whose own message would quote the value (and its password)
if (opts.redis !== undefined && !/^rediss?:\/\/[^\s]+$/.test(opts.redis))
  program.error('error: --redis is not a redis:// or rediss:// URL (its value is not shown: it may hold a password)');
for (const [flag, value] of [
  ['--max-buffered-bytes', opts.maxBufferedBytes],
  ['--resume-buffer-bytes', opts.resumeBufferBytes],
] as const)
  if (value < opts.maxFrameBytes)
    program.error(`error: ${flag} ${value} is smaller than one frame (--max-frame-bytes ${opts.maxFrameBytes})`);
if (opts.adminPort !== undefined && opts.adminPort === opts.port && opts.port !== 0)
  program.error('error: --admin-port must differ from --port');
if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined))
  program.error('error: --tls-cert and --tls-key go together');
if (opts.turnSecret !== undefined && opts.turnSecretFile !== undefined)
  program.error('error: give the TURN secret once: --turn-secret or --turn-secret-file');
const turnSecret = ((): string | undefined => {
  if (opts.turnSecretFile === undefined) return opts.turnSecret;
  try {
    return readFileSync(opts.turnSecretFile, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    return program.error(`error: cannot read --turn-secret-file: ${(err as Error).message}`);
  }
})();
const ice: IceSettings = {
  stunUrls: opts.stunUrl,
  turnUrls: opts.turnUrl,
  turnSecret,
  turnTtlS: opts.turnTtl,
};
const iceProblem = checkIceSettings(ice);
if (iceProblem !== null) program.error(`error: ${iceProblem}`);
const iceConfigured = ice.stunUrls.length > 0 || ice.turnUrls.length > 0;
const iceRoute = ((): ReturnType<typeof iceServersHandler> => {
  if (!opts.iceServersRoute) return () => false;
  try {
    // proof: the current resume token of a live session (its TURN username is that client's), or,
    // when the server authorizes clients, a valid token of its own
    return iceServersHandler(ice, { allowOrigins: opts.allowOrigin, trustProxy: opts.trustProxy }, async (req) => {
      const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
      const id = bearer === undefined ? null : server.engine.sessionWithToken(bearer);
      if (id !== null) return { ok: true, name: turnHandle(id) };
      if (authorize === undefined)
        return {
          ok: false,
          status: 401,
          message: "proof of a live session required: Authorization: Bearer <the session's resume token>",
        };
      const decision = await authorize(req);
      if (!decision.ok) return decision;
      return { ok: true, name: `http-${turnHandle(decision.principal.subject ?? 'anonymous')}` };
    });
  } catch (err) {
    return program.error(`error: ${(err as Error).message}`);
  }
})();

const authorize = ((): Authorize | undefined => {
  const given = [opts.authJwtSecret, opts.authJwtSecretFile, opts.authJwksFile, opts.authJwksUrl].filter(
    (x) => x !== undefined,
  );
  if (given.length === 0) return undefined;
  if (given.length > 1)
    program.error(
      'error: give one token check: --auth-jwt-secret, --auth-jwt-secret-file, --auth-jwks-file or --auth-jwks-url',
    );
  const read = (file: string, flag: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      return program.error(`error: cannot read ${flag}: ${(err as Error).message}`);
    }
  };
  try {
    const common = {
      clockToleranceS: opts.authClockSkew,
      tenantClaim: opts.authTenantClaim,
      ...(opts.authIssuer !== undefined ? { issuer: opts.authIssuer } : {}),
      ...(opts.authAudience !== undefined ? { audience: opts.authAudience } : {}),
    };
    if (opts.authJwtSecret !== undefined) return jwtAuthorizer({ ...common, secret: Buffer.from(opts.authJwtSecret) });
    if (opts.authJwtSecretFile !== undefined) {
      const secret = read(opts.authJwtSecretFile, '--auth-jwt-secret-file')
        .toString('utf8')
        .replace(/\r?\n$/, '');
      return jwtAuthorizer({ ...common, secret: Buffer.from(secret) });
    }
    if (opts.authJwksFile !== undefined) {
      const text = read(opts.authJwksFile, '--auth-jwks-file').toString('utf8');
      let jwks: JSONWebKeySet;
      try {
        jwks = JSON.parse(text) as JSONWebKeySet;
      } catch {
        return program.error('error: --auth-jwks-file is not JSON');
      }
      if (!Array.isArray(jwks?.keys)) program.error('error: --auth-jwks-file has no "keys" array');
      return jwtAuthorizer({ ...common, jwks });
    }
    let url: URL;
    try {
      url = new URL(opts.authJwksUrl!);
    } catch {
      return program.error(`error: --auth-jwks-url is not a URL`);
    }
    return jwtAuthorizer({ ...common, jwksUrl: url });
  } catch (err) {
    return program.error(`error: ${(err as Error).message}`);
  }
})();

const rank = { debug: 10, info: 20, warn: 30, silent: 99 } as const;
// the log never blocks or kills the server: asynchronous writes, dropped (and counted) when the
// reader falls behind, off when it goes away (`| head -3`)
const output = logOutput();
const json =
  opts.logFormat === 'json'
    ? pino(
        { level: opts.logLevel === 'silent' ? 'silent' : opts.logLevel, base: { service: 'tandem-server' } },
        output.destination,
      )
    : null;
const shows = (level: LogLevel) => rank[level] >= rank[opts.logLevel];
const say = (level: LogLevel, line: string, fields: object = {}) => {
  if (!shows(level)) return;
  if (json) json[level](fields, line);
  else output.line(line);
};
/** Where it listens is said at every level but silent: with --port 0 it is the only way to learn the port. */
const sayAlways = (line: string, fields: object = {}) => {
  if (opts.logLevel === 'silent') return;
  if (json) json.warn(fields, line);
  else output.line(line);
};

const naming = ((): ClientNaming => {
  if (opts.logFullIds) return { full: true };
  if (opts.logKeyFile === undefined) return { full: false, key: processLogKey() };
  try {
    return { full: false, key: readFileSync(opts.logKeyFile) };
  } catch (err) {
    return program.error(`error: cannot read --log-key-file: ${(err as Error).message}`);
  }
})();
// a client authorized as a subject is named `<sub>#<handle>` while connected
const names = subjectNames(clientHandle(naming));
/** The handle in a client's TURN usernames: its log handle (a private one when the log shows full IDs). */
const turnHandle = clientHandle(naming.full ? { full: false, key: processLogKey() } : naming);
if (naming.full)
  say('warn', 'Client IDs are logged in full (--log-full-ids): anyone who reads this log can pair with those clients.');

let tls: { cert: Buffer; key: Buffer } | null = null;
try {
  if (opts.tlsCert !== undefined && opts.tlsKey !== undefined)
    tls = { cert: readFileSync(opts.tlsCert), key: readFileSync(opts.tlsKey) };
} catch (err) {
  program.error(`error: cannot read the TLS files: ${(err as Error).message}`);
}
const scheme = tls ? 'wss' : 'ws';
if (authorize)
  say(
    'info',
    `Clients need a token to connect (JWT, ${opts.authJwksFile !== undefined || opts.authJwksUrl !== undefined ? 'RS256/ES256 against the JWKS' : 'HS256'}).`,
  );
say('info', `Server starting... ${scheme}://${opts.host}:${opts.port}`);

// One port for both: the demo page (and, without --admin-port, the ops endpoints) over HTTP(S),
// the signaling endpoint as a WebSocket upgrade.
const page = opts.demo
  ? ((): ReturnType<typeof demoHandler> => {
      try {
        return demoHandler(undefined, { allowServers: opts.demoAllowServer });
      } catch (err) {
        return program.error(`error: ${(err as Error).message}`);
      }
    })()
  : (_req: IncomingMessage, res: ServerResponse) =>
      res
        .writeHead(426, { 'content-type': 'text/plain; charset=utf-8' })
        .end('This is a tandem signaling server: connect with a WebSocket.\n');
let ops: ((req: IncomingMessage, res: ServerResponse) => boolean) | null = null;
const onRequest = (req: IncomingMessage, res: ServerResponse) => {
  if (opts.adminPort === undefined && ops?.(req, res)) return;
  if (iceRoute(req, res)) return;
  page(req, res);
};
const http = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, onRequest) : createServer(onRequest);

const directory =
  opts.redis === undefined
    ? null
    : new RedisDirectory({
        url: opts.redis,
        prefix: opts.redisPrefix,
        leaseTtlMs: Math.round(opts.leaseTtl * 1000),
        reapIntervalMs: Math.min(1000, Math.round(opts.leaseTtl * 250)),
        onEvent: (e) => {
          switch (e.type) {
            case 'ready':
              return say('info', `Cluster node ${directory!.node} is ready (Redis ${redisUrlForLogs(opts.redis!)}).`, {
                node: directory!.node,
              });
            case 'lost':
              return say(
                'warn',
                `Lost Redis (${e.error}): new pairings fail until it is back; pairs that cross nodes end when it returns.`,
              );
            case 'reset':
              return say(
                'info',
                `Rejoined the cluster (${e.why}); registered ${e.registered} client${e.registered === 1 ? '' : 's'} again.`,
              );
            case 'reaped':
              return say(
                'info',
                `Lease of ${e.nodes} node${e.nodes === 1 ? '' : 's'} lapsed: forgot ${e.clients} client${e.clients === 1 ? '' : 's'}, their partners told.`,
              );
            case 'error':
              return say('warn', `Redis: ${e.error}`);
          }
        },
      });

let server: WsTandemServer;
const metrics = opts.metrics ? createMetrics(() => server.stats(), { logDropped: () => output.dropped }) : null;
try {
  server = createWsServer({
    server: http,
    headerTimeoutMs: Math.round(opts.headerTimeout * 1000),
    settings: {
      pingIntervalMs: opts.pingInterval * 1000,
      pingTimeoutMs: opts.pingTimeout * 1000,
      maxFrameBytes: opts.maxFrameBytes,
      rateLimitPerSecond: opts.rateLimit,
      rateLimitBurst: opts.rateBurst,
      rateLimitBytesPerSecond: opts.byteRateLimit,
      rateLimitBytesBurst: opts.byteRateBurst,
      maxBufferedBytes: opts.maxBufferedBytes,
      resumeGraceMs: opts.resumeGrace * 1000,
      codes: opts.codes,
      nameplateTtlMs: Math.round(opts.nameplateTtl * 1000),
      claimTimeoutMs: Math.round(opts.claimTimeout * 1000),
      nameplatesPerAddressPerMinute: opts.nameplateRate,
      resumeBufferFrames: opts.resumeBufferFrames,
      resumeBufferBytes: opts.resumeBufferBytes,
      maxDetachedSessions: opts.maxDetachedSessions,
      maxDetachedBytes: opts.maxDetachedBytes,
      advertiseExtensions: opts.extensions,
    },
    limits: {
      maxConnections: opts.maxConnections,
      maxConnectionsPerIp: opts.maxConnectionsPerIp,
      maxPendingPerIp: opts.maxPendingPerIp,
      maxPending: opts.maxPending,
      trustProxy: opts.trustProxy,
      allowOrigins: opts.allowOrigin,
    },
    // relays and pings are hot: the engine builds only the events shown at this level or read by metrics
    wantsLog: (type) =>
      shows(serverLogLevel[type]) ||
      (metrics?.wants(type) ?? false) ||
      // the subjects that name clients in warnings are learned from these
      (authorize !== undefined && (type === 'connected' || type === 'disconnected')),
    log: (e) => {
      metrics?.observe(e);
      names.observe(e);
      const level = serverLogLevel[e.type];
      if (shows(level)) {
        const named = nameClients(e, names.name);
        say(level, json ? e.type : serverLogLine(named), named);
      }
      names.forget(e);
    },
    onRefused: (r) => {
      metrics?.refused(r);
      say('warn', json ? 'refused' : refusalLine(r), r);
    },
    hooks: metrics ? { frameArrived: () => metrics.frameArrived() } : {},
    ...(directory ? { directory } : {}),
    ...(authorize ? { authorize } : {}),
    // TURN usernames carry the client's log handle, never its ID (its key): coturn's log ties to ours
    ...(iceConfigured ? { iceServers: (id: string, now: number) => iceServersFor(ice, turnHandle(id), now)! } : {}),
  });
} catch (err) {
  program.error(`error: ${(err as Error).message}`);
}
// not ready while draining, or while the cluster's Redis is unreachable (no pairing can be decided)
ops = opsHandler({ ready: () => server.accepting && server.available, ...(metrics ? { metrics } : {}) });

const loopback = (host: string) => host === 'localhost' || host === '::1' || host.startsWith('127.');
if (opts.allowOrigin.length === 0 && !loopback(opts.host)) {
  say(
    'warn',
    `Warning: listening on ${opts.host} and accepting any browser origin; name the sites that may connect with --allow-origin.`,
  );
}
const fail = (err: Error) => {
  say('warn', `Cannot listen: ${err.message}`);
  void output.settle().then(() => process.exit(1));
};
http.on('error', fail);
// a cluster node joins before it listens; if Redis is away it listens anyway, not ready, and joins when Redis is back
if (directory) {
  say('info', `Joining the cluster through ${redisUrlForLogs(opts.redis!)} as node ${directory.node}...`);
  await directory.start();
}
http.listen(opts.port, opts.host, () => {
  const a = http.address() as AddressInfo;
  const host = a.address.includes(':') ? `[${a.address}]` : a.address;
  sayAlways(`Listening on ${scheme}://${host}:${a.port}`, { host: a.address, port: a.port });
  if (opts.demo) say('info', `Demo page: ${tls ? 'https' : 'http'}://${host}:${a.port}/`);
});
let admin: Server | null = null;
if (opts.adminPort !== undefined) {
  const handle = ops;
  admin = createServer((req, res) => {
    if (!handle(req, res))
      res
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('Not found: /healthz, /readyz, /metrics\n');
  });
  admin.on('error', fail);
  admin.listen(opts.adminPort, opts.adminHost, () => {
    const a = admin!.address() as AddressInfo;
    say(
      'info',
      `Admin endpoints on http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}/ (healthz, readyz${metrics ? ', metrics' : ''})`,
      { adminHost: a.address, adminPort: a.port },
    );
  });
}

let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) {
    try {
      say('warn', `Received ${signal} again; exiting now.`);
    } finally {
      process.exit(1); // the second signal always exits, whatever the log does
    }
  }
  stopping = true;
  const draining = signal === 'SIGTERM';
  say(
    'info',
    draining ? `Received SIGTERM; draining (up to ${opts.drainTimeout} s).` : `Received ${signal}; shutting down.`,
  );
  (draining ? server.drain(opts.drainTimeout * 1000) : server.close()).then(async () => {
    await directory?.close();
    admin?.close();
    say('info', 'Server stopped.');
    await output.settle();
    process.exit(0);
  });
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
