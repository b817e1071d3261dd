// Bindings to the `ws` package: the server engine on a WebSocketServer (one binding, used by the
// binary, the conformance tests and embedders), and a client signaling transport. All rules stay
// in the cores; this file moves bytes and reads the clock.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
export {
  ConnectionGate,
  defaultConnectionLimits,
  type ConnectionLimits,
  type Refusal,
  type RefusalReason,
} from './gate.js';
import {
  CloseCode,
  DEFAULT_CLIENT_MAX_BYTES,
  DEFAULT_HOST,
  DEFAULT_PORT,
  TANDEM_SUBPROTOCOL,
  tokenSubprotocols,
} from '@tandem/protocol';
import {
  ServerEngine,
  type ServerEngineOptions,
  defaultServerSettings,
  resolveSettings,
  scheduleEngine,
  type Directory,
  type EffectSink,
  type EngineTimers,
  type ServerLogEvent,
  type ServerSettings,
  type ServerStats,
  type Principal,
  type Connection,
} from '@tandem/server-core';
import { ConnectionGate, type ConnectionLimits, type Refusal } from './gate.js';
import type { Authorize } from './auth.js'; // types only: jose loads only where tokens are checked
import { batchWrites, linkSocket, unsentBytes } from './ws-batching.js';
import { linkSlots, trackPendingSockets } from './ws-admission.js';
import type { TransportFactory } from '@tandem/client-core';

/** The wall clock and Node's timers, unref'd so a schedule never keeps a process alive. */
export const nodeTimers: EngineTimers = {
  now: Date.now,
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

const TEXT_FRAME = Object.freeze({ binary: false });

/** Resume token halves: 144 bits from the CSPRNG each, URL-safe. */
export const resumeToken = (): string => randomBytes(18).toString('base64url');

/** How the ws sink behaves. */
export interface WsSinkOptions {
  /** Structured log sink. */
  log?: (event: ServerLogEvent) => void;
  /** Which log events `log` wants (asked once per type); the others are never built. Default: all. */
  wantsLog?: (type: ServerLogEvent['type']) => boolean;
  /** How long a closing handshake the server started may take before the socket is cut. Default: the engine default (1 s). */
  closeHandshakeTimeoutMs?: number;
  timers?: EngineTimers;
}

/** The engine's effects carried out on `ws` sockets. */
export function wsEffectSink(options: WsSinkOptions = {}): EffectSink<WebSocket> {
  const timers = options.timers ?? nodeTimers;
  const handshakeMs = options.closeHandshakeTimeoutMs ?? defaultServerSettings.closeHandshakeTimeoutMs;
  return {
    send: (ws, frame) => {
      // Encoded here, not by the socket: a string chunk sends Node's writev down its slower
      // mixed-chunk path (a few per cent of relay CPU here, by the bench's relay figure).
      if (ws.readyState !== WebSocket.OPEN) return;
      batchWrites(ws);
      ws.send(Buffer.from(frame), TEXT_FRAME);
    },
    ping: (ws) => {
      if (ws.readyState === WebSocket.OPEN) ws.ping();
    },
    // what is queued in ws and in the socket, unsent: grows when the client stops reading
    bufferedBytes: unsentBytes,
    close: (ws, close) => {
      if (close.abrupt) return ws.terminate();
      ws.close(close.code, close.text);
      // a client that does not read will never answer the close frame queued behind its backlog
      timers.setTimeout(() => ws.terminate(), handshakeMs);
    },
    ...(options.log ? { log: options.log } : {}),
    ...(options.wantsLog ? { wantsLog: options.wantsLog } : {}),
  };
}

/** An engine bound to a WebSocketServer. */
export interface EngineBinding {
  /**
   * Close every client and stop accepting. `shutdown` (1001) says the server goes away; `drain`
   * (1012) tells clients to reconnect at once, to another node. Clients still open after
   * `timeoutMs` (default: the engine's closeHandshakeTimeoutMs) are cut off.
   */
  close(reason?: 'shutdown' | 'drain', timeoutMs?: number): Promise<void>;
}

/** Per-frame and per-link hooks of the binding (metrics, admission). */
export interface BindingHooks {
  /** Called just before each frame is handed to the engine. */
  frameArrived?(): void;
  /** Whether a session whose link `ws` was lost may wait detached (e.g. a per-address cap). Default yes. */
  mayDetach?(ws: WebSocket): boolean;
  /** Link `ws` of `conn` closed; `detached`: its session waits for a resume. */
  linkClosed?(ws: WebSocket, conn: Connection<WebSocket>, detached: boolean): void;
  /** Link `ws` opened as `conn`. */
  linkOpened?(ws: WebSocket, conn: Connection<WebSocket>): void;
  /** Link `ws` took a session over (a resume); told once. */
  linkResumed?(ws: WebSocket): void;
}

/**
 * The subprotocol a server answers: `tandem` when offered (a token subprotocol is never echoed),
 * otherwise none, as a v1 client expects.
 */
export function chooseSubprotocol(offered: Set<string>): string | false {
  return offered.has(TANDEM_SUBPROTOCOL) ? TANDEM_SUBPROTOCOL : false;
}

/** The principal each upgrade was authorized as, for `attachEngine` to hand to the engine. */
const principals = new WeakMap<IncomingMessage, Principal>();

/** Feed every connection of `wss` to `engine` and keep its timers; the only ws↔engine glue. */
export function attachEngine(
  wss: WebSocketServer,
  engine: ServerEngine<WebSocket>,
  timers: EngineTimers = nodeTimers,
  hooks: BindingHooks = {},
): EngineBinding {
  const schedule = scheduleEngine(engine, timers);
  engine.onWake(() => schedule.poke());
  const handshakeMs = engine.settings.closeHandshakeTimeoutMs;
  const frameArrived = hooks.frameArrived;
  wss.on('connection', (ws, req) => {
    linkSocket(ws, req.socket);
    const conn = engine.open(ws, timers.now(), principals.get(req));
    let resumeUntold = hooks.linkResumed !== undefined;
    hooks.linkOpened?.(ws, conn);
    schedule.poke();
    // ws checks its payload limit before anyone sees the frame and then closes with a bare 1009;
    // it has no hook in between, so that one close is routed through the engine, which closes
    // with the limit in words (and counts and logs it).
    const wsClose = ws.close;
    ws.close = (code?: number, reason?: string | Buffer) => {
      if (code === CloseCode.MessageTooBig && reason === undefined && !conn.isClosed)
        engine.frameTooLarge(conn, timers.now());
      else wsClose.call(ws, code, reason);
    };
    ws.on('message', (data: RawData, isBinary: boolean) => {
      frameArrived?.();
      const bytes = Array.isArray(data)
        ? Buffer.concat(data)
        : data instanceof ArrayBuffer
          ? new Uint8Array(data)
          : data;
      engine.receive(conn, isBinary ? bytes : bytes.toString(), timers.now(), isBinary, bytes.byteLength);
      if (resumeUntold && conn.resumedInto !== null) {
        resumeUntold = false;
        hooks.linkResumed?.(ws);
      }
    });
    ws.on('pong', () => engine.heard(conn, timers.now()));
    ws.on('close', (code) => {
      engine.closed(conn, timers.now(), code, hooks.mayDetach?.(ws) ?? true);
      hooks.linkClosed?.(ws, conn, engine.detachedOn(conn));
      schedule.poke(); // a detached session's grace may end before anything else is due
    });
    // a protocol error (bad UTF-8, bad opcode, oversized) arrives while ws closes with its code:
    // let that close frame go out, and cut the socket if the handshake does not finish
    ws.on('error', () => {
      if (ws.readyState === WebSocket.CLOSING) timers.setTimeout(() => ws.terminate(), handshakeMs);
      else ws.terminate();
    });
  });
  return {
    close: async (reason = 'shutdown', timeoutMs = handshakeMs) => {
      schedule.stop();
      engine.shutdown(reason);
      await allClosed(wss, timeoutMs, timers);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** Resolves once every client of `wss` has closed; those still open after `timeoutMs` are cut off. */
function allClosed(wss: WebSocketServer, timeoutMs: number, timers: EngineTimers): Promise<void> {
  const open = new Set([...wss.clients].filter((ws) => ws.readyState !== WebSocket.CLOSED));
  if (open.size === 0) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const cut = timers.setTimeout(() => {
      for (const ws of open) ws.terminate();
    }, timeoutMs);
    for (const ws of open) {
      ws.once('close', () => {
        open.delete(ws);
        if (open.size > 0) return;
        timers.clearTimeout(cut);
        resolve();
      });
    }
  });
}

/** Options of the ws server binding. */
export interface WsServerOptions {
  /** Attach to an existing HTTP(S) server (shares its port and its request handler); otherwise one is made on host/port. */
  server?: HttpServer | HttpsServer;
  host?: string;
  port?: number;
  /** URL path to accept upgrades on. Default: any. */
  path?: string;
  settings?: Partial<ServerSettings>;
  /** Connection caps, trusted proxies and allowed origins, checked before the upgrade. */
  limits?: Partial<ConnectionLimits>;
  /** Structured log sink. */
  log?: (event: ServerLogEvent) => void;
  /** Which log events `log` wants (asked once per type); the others are never built. Default: all. */
  wantsLog?: (type: ServerLogEvent['type']) => boolean;
  /**
   * Who may connect, decided before the upgrade (after the caps): e.g. `jwtAuthorizer(...)` from
   * `@tandem/adapters/auth`. A refusal is answered with its status (401 with `WWW-Authenticate`);
   * the principal goes to the engine (`connection.auth`), which keeps pairing within its tenant and
   * closes the link (4003) when it expires. Default: everyone, no principal.
   */
  authorize?: Authorize;
  /** Told of every upgrade refused before it became a WebSocket. */
  onRefused?: (refusal: Refusal) => void;
  /** Per-frame hooks (metrics). */
  hooks?: Pick<BindingHooks, 'frameArrived'>;
  /** How long a link let in over a cap (for a detached session of its address) has to resume it. Default 5 000 ms. */
  resumeWindowMs?: number;
  /**
   * How long a socket may take from accept to a whole first HTTP request head (its upgrade, or a
   * page or /healthz request) before it is closed. Default 10 000 ms.
   */
  headerTimeoutMs?: number;
  /** The cluster directory (e.g. a started RedisDirectory); a private in-memory one by default. Its owner closes it after the server. */
  directory?: Directory;
  /**
   * ICE servers for clients that ask (capability `ice-servers`), e.g.
   * `(id, now) => iceServersFor(settings, handle(id), now)` with `handle = clientHandle({ full: false, key })`
   * from `@tandem/adapters/ice`: a TURN username carrying the ID would put the client's key in TURN logs.
   */
  iceServers?: ServerEngineOptions<WebSocket>['iceServers'];
}

/** A running tandem signaling server on `ws`. */
export interface WsTandemServer {
  readonly wss: WebSocketServer;
  readonly engine: ServerEngine<WebSocket>;
  /** The admission gate (caps, origins), with its live counts. */
  readonly gate: ConnectionGate;
  /** The HTTP(S) server the upgrades arrive on (given or made). */
  readonly http: HttpServer | HttpsServer;
  /** Resolves once listening; the bound address and port. */
  readonly ready: Promise<{ host: string; port: number }>;
  /** Whether new connections are accepted (false once draining or closing). */
  readonly accepting: boolean;
  /** Whether pairings can be decided (false while a cluster directory is unreachable). */
  readonly available: boolean;
  stats(): ServerStats;
  /** Close every client (1001, server shutting down) and stop listening. */
  close(): Promise<void>;
  /** Refuse new connections (503), close every client with 1012 so it reconnects elsewhere, and stop once they are gone or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<void>;
}

/** Start a tandem server on a `ws` WebSocketServer, behind the admission gate. */
export function createWsServer(options: WsServerOptions = {}): WsTandemServer {
  const settings = resolveSettings(options.settings);
  const sink = wsEffectSink({
    log: options.log,
    wantsLog: options.wantsLog,
    closeHandshakeTimeoutMs: settings.closeHandshakeTimeoutMs,
  });
  // each link's client address (after the gate's proxy rules), for the engine's per-address limits
  const addresses = new WeakMap<WebSocket, string>();
  const engine = new ServerEngine<WebSocket>({
    generateId: randomUUID,
    addressOf: (ws) => addresses.get(ws) ?? null,
    // the keys are lower-case UUIDs: one typed in capitals (or pasted with spaces) is the same key
    keyOf: (k) => k.trim().toLowerCase(),
    random: Math.random,
    settings,
    sink,
    generateToken: resumeToken,
    clock: nodeTimers.now,
    ...(options.directory ? { directory: options.directory } : {}),
    ...(options.iceServers ? { iceServers: options.iceServers } : {}),
  });
  const gate = new ConnectionGate(options.limits);
  const owned = options.server === undefined;
  const http =
    options.server ??
    createHttpServer((_req, res) =>
      res
        .writeHead(426, { 'content-type': 'text/plain; charset=utf-8' })
        .end('This is a tandem signaling server: connect with a WebSocket.\n'),
    );
  // a socket that never finishes a request holds a file: it counts from accept and has a deadline
  const sockets = trackPendingSockets(http, gate, options.headerTimeoutMs ?? 10_000);
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: settings.maxFrameBytes,
    clientTracking: true,
    handleProtocols: chooseSubprotocol,
  });
  // detached sessions keep their link's slot under the caps until they resume, move or end
  const slots = linkSlots(gate, sink, options.resumeWindowMs ?? 5_000, nodeTimers);
  const binding = attachEngine(wss, engine, nodeTimers, { ...options.hooks, ...slots.hooks });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.upgrading(req.socket); // admitted or refused below
    if (options.path !== undefined && new URL(req.url ?? '/', 'http://x').pathname !== options.path)
      return refuseUpgrade(socket, 404, 'not a tandem endpoint');
    const { address, refusal, borrowed } = gate.admit(
      req.socket.remoteAddress ?? '',
      req.headers['x-forwarded-for'],
      req.headers.origin,
    );
    if (refusal !== null) {
      refuseUpgrade(socket, refusal.status, refusal.message);
      options.onRefused?.(refusal);
      return;
    }
    // until it is a WebSocket the socket holds the slot; after, its link does (see the hooks above)
    let upgraded = false;
    socket.once('close', () => {
      if (!upgraded) {
        gate.release(address);
        if (borrowed) gate.unborrow(address);
      }
    });
    const upgrade = () =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        upgraded = true;
        addresses.set(ws, address);
        slots.admitted(ws, address, borrowed);
        wss.emit('connection', ws, req);
      });
    const authorize = options.authorize;
    if (authorize === undefined) return upgrade();
    const origin = req.headers.origin;
    const refused = (status: Refusal['status'], message: string) => {
      refuseUpgrade(socket, status, message);
      options.onRefused?.({ reason: 'unauthorized', status, message, address, origin });
    };
    void (async () => authorize(req))().then(
      (decision) => {
        if (socket.destroyed) return;
        if (!decision.ok) return refused(decision.status, decision.message);
        principals.set(req, decision.principal);
        upgrade();
      },
      () => !socket.destroyed && refused(503, 'cannot check the token now'),
    );
  });
  let stopped: Promise<void> | null = null;
  const stop = (reason: 'shutdown' | 'drain', timeoutMs: number) => {
    gate.draining = true;
    stopped ??= binding.close(reason, timeoutMs).then(() => {
      if (!owned) return undefined;
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections(); // idle keep-alive requests would hold close() open
      return closed;
    });
    return stopped;
  };
  if (owned) http.listen(options.port ?? DEFAULT_PORT, options.host ?? DEFAULT_HOST);
  const ready = new Promise<{ host: string; port: number }>((resolve, reject) => {
    const done = () => {
      const a = http.address();
      resolve(a === null || typeof a === 'string' ? { host: String(a), port: 0 } : { host: a.address, port: a.port });
    };
    if (http.listening) return done();
    http.once('listening', done);
    http.once('error', reject);
  });
  return {
    wss,
    engine,
    gate,
    http,
    ready,
    get accepting() {
      return !gate.draining && http.listening;
    },
    get available() {
      return engine.available;
    },
    stats: () => engine.stats(),
    close: () => stop('shutdown', settings.closeHandshakeTimeoutMs),
    drain: (timeoutMs) => stop('drain', timeoutMs),
  };
}

const statusText: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/** Answer an upgrade with a plain HTTP error and drop the socket (before any WebSocket exists). */
function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const body = `${message}\n`;
  if (!socket.writable) return void socket.destroy();
  // end, then destroy once flushed: destroying at once may drop the answer unsent
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${statusText[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n${status === 503 ? 'Retry-After: 1\r\n' : ''}` +
      `${status === 401 ? 'WWW-Authenticate: Bearer realm="tandem"\r\n' : ''}\r\n${body}`,
  );
}

/** A client-core TransportFactory over `ws`. `maxPayload` defaults to the protocol's client limit. */
export function wsTransport(options: { maxPayload?: number } = {}): TransportFactory {
  return (url, handlers, transportOptions) => {
    const token = transportOptions?.token;
    // the token rides in the subprotocols, as a browser's must: never in the URL, which proxies log
    const ws = new WebSocket(url, token === undefined ? [] : tokenSubprotocols(token), {
      perMessageDeflate: false,
      maxPayload: options.maxPayload ?? DEFAULT_CLIENT_MAX_BYTES,
    });
    let closed = false;
    const finish = (code: number, reason: string) => {
      if (closed) return;
      closed = true;
      handlers.close(code, reason);
    };
    ws.on('open', () => handlers.open());
    ws.on('message', (data, isBinary) => {
      if (!isBinary) handlers.message(data.toString());
    });
    ws.on('close', (code, reason) => finish(code, reason.toString()));
    ws.on('error', (err) => {
      finish(CloseCode.Abnormal, err.message);
      ws.terminate();
    });
    return {
      send: (text) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(text);
      },
      close: (code = CloseCode.Normal, reason = '') => {
        closed = true;
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(code, reason);
      },
    };
  };
}
