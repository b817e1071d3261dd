// Bindings to the `ws` package: the server engine on a WebSocketServer (one binding, used by the
// binary, the conformance tests and embedders), and a client signaling transport. All rules stay
// in the cores; this file moves bytes and reads the clock.
import { randomUUID } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { CloseCode, DEFAULT_CLIENT_MAX_BYTES, DEFAULT_HOST, DEFAULT_PORT } from '@tandem/protocol';
import {
  ServerEngine, scheduleEngine, type EffectSink, type EngineTimers, type ServerLogEvent, type ServerSettings, type ServerStats,
} from '@tandem/server-core';
import type { TransportFactory } from '@tandem/client-core';

/** The wall clock and Node's timers, unref'd so a schedule never keeps a process alive. */
export const nodeTimers: EngineTimers = {
  now: Date.now,
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

const TEXT_FRAME = Object.freeze({ binary: false });

/** The engine's effects carried out on `ws` sockets; `wantsLog` says which log events `log` reads. */
export function wsEffectSink(log?: (event: ServerLogEvent) => void, wantsLog?: (type: ServerLogEvent['type']) => boolean): EffectSink<WebSocket> {
  return {
    send: (ws, frame) => {
      // Encoded here, not by the socket: a string chunk sends Node's writev down its slower
      // mixed-chunk path (a few per cent of relay CPU here, by the bench's relay figure).
      if (ws.readyState === WebSocket.OPEN) ws.send(Buffer.from(frame), TEXT_FRAME);
    },
    ping: (ws) => {
      if (ws.readyState === WebSocket.OPEN) ws.ping();
    },
    close: (ws, close) => {
      if (close.abrupt) ws.terminate();
      else ws.close(close.code, close.text);
    },
    ...(log ? { log } : {}),
    ...(wantsLog ? { wantsLog } : {}),
  };
}

/** An engine bound to a WebSocketServer. */
export interface EngineBinding {
  /** Close every client (the engine's shutdown), stop accepting, and cut off clients that don't finish the closing handshake in time. */
  close(): Promise<void>;
}

/** Feed every connection of `wss` to `engine` and keep its timers; the only ws↔engine glue. */
export function attachEngine(wss: WebSocketServer, engine: ServerEngine<WebSocket>, timers: EngineTimers = nodeTimers): EngineBinding {
  const schedule = scheduleEngine(engine, timers);
  wss.on('connection', (ws) => {
    const conn = engine.open(ws, timers.now());
    schedule.poke();
    ws.on('message', (data: RawData, isBinary: boolean) => {
      engine.receive(conn, isBinary ? toBytes(data) : data.toString(), timers.now(), isBinary);
    });
    ws.on('pong', () => engine.heard(conn, timers.now()));
    ws.on('close', (code) => engine.closed(conn, timers.now(), code));
    ws.on('error', () => ws.terminate());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        schedule.stop();
        engine.shutdown();
        wss.close(() => resolve());
        timers.setTimeout(() => {
          for (const ws of wss.clients) ws.terminate();
        }, engine.settings.closeHandshakeTimeoutMs);
      }),
  };
}

/** Options of the ws server binding. */
export interface WsServerOptions {
  /** Attach to an existing HTTP server (shares its port), or give host/port to listen on. */
  server?: HttpServer;
  host?: string;
  port?: number;
  /** URL path to accept upgrades on (with `server`). Default: any. */
  path?: string;
  settings?: Partial<ServerSettings>;
  /** Structured log sink. */
  log?: (event: ServerLogEvent) => void;
  /** Which log events `log` wants (asked once per type); the others are never built. Default: all. */
  wantsLog?: (type: ServerLogEvent['type']) => boolean;
}

/** A running tandem signaling server on `ws`. */
export interface WsTandemServer {
  readonly wss: WebSocketServer;
  readonly engine: ServerEngine<WebSocket>;
  /** Resolves once listening (standalone mode); the bound port. */
  readonly ready: Promise<{ host: string; port: number }>;
  stats(): ServerStats;
  /** Close every client (1001, server shutting down) and stop listening. */
  close(): Promise<void>;
}

/** Start a tandem server on a `ws` WebSocketServer. */
export function createWsServer(options: WsServerOptions = {}): WsTandemServer {
  const engine = new ServerEngine<WebSocket>({ generateId: randomUUID, random: Math.random, settings: options.settings, sink: wsEffectSink(options.log, options.wantsLog) });
  const wss = new WebSocketServer({
    ...(options.server
      ? { server: options.server, ...(options.path ? { path: options.path } : {}) }
      : { host: options.host ?? DEFAULT_HOST, port: options.port ?? DEFAULT_PORT }),
    perMessageDeflate: false,
    maxPayload: engine.settings.maxFrameBytes,
    clientTracking: true,
  });
  const binding = attachEngine(wss, engine);
  const ready = options.server
    ? Promise.resolve({ host: options.host ?? '', port: options.port ?? 0 })
    : new Promise<{ host: string; port: number }>((resolve, reject) => {
        wss.once('listening', () => {
          const a = wss.address();
          resolve(a === null || typeof a === 'string' ? { host: String(a), port: 0 } : { host: a.address, port: a.port });
        });
        wss.once('error', reject);
      });
  return { wss, engine, ready, stats: () => engine.stats(), close: () => binding.close() };
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

/** A client-core TransportFactory over `ws`. `maxPayload` defaults to the protocol's client limit. */
export function wsTransport(options: { maxPayload?: number } = {}): TransportFactory {
  return (url, handlers) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: options.maxPayload ?? DEFAULT_CLIENT_MAX_BYTES });
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
