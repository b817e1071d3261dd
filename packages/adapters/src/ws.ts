// Bindings to the `ws` package: the server engine on a WebSocketServer, and a client signaling
// transport. All rules stay in the cores; this file moves bytes and reads the clock.
import { randomUUID } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { ServerEngine, type ServerLogEvent, type ServerSettings, type ServerStats } from '@tandem/server-core';
import type { TransportFactory } from '@tandem/client-core';

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
}

/** A running tandem signaling server on `ws`. */
export interface WsTandemServer {
  readonly wss: WebSocketServer;
  readonly engine: ServerEngine<WebSocket>;
  /** Resolves once listening (standalone mode); the bound port. */
  readonly ready: Promise<{ host: string; port: number }>;
  stats(): ServerStats;
  /** Close every client with 1001 and stop listening. */
  close(): Promise<void>;
}

/** Start a tandem server on a `ws` WebSocketServer. */
export function createWsServer(options: WsServerOptions = {}): WsTandemServer {
  const engine = new ServerEngine<WebSocket>({
    generateId: randomUUID,
    random: Math.random,
    settings: options.settings,
    sink: {
      send: (ws, frame) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(frame);
      },
      ping: (ws) => {
        if (ws.readyState === WebSocket.OPEN) ws.ping();
      },
      close: (ws, code, reason) => {
        // a client that missed its ping deadline is gone: don't wait for a closing handshake
        if (reason === 'ping timeout') ws.terminate();
        else ws.close(code, reason);
      },
      ...(options.log ? { log: options.log } : {}),
    },
  });
  const wss = new WebSocketServer({
    ...(options.server ? { server: options.server, ...(options.path ? { path: options.path } : {}) } : { host: options.host ?? '127.0.0.1', port: options.port ?? 8787 }),
    perMessageDeflate: false,
    maxPayload: engine.settings.maxFrameBytes,
    clientTracking: true,
  });
  wss.on('connection', (ws) => {
    const conn = engine.open(ws, Date.now());
    ws.on('message', (data: RawData, isBinary: boolean) => {
      engine.receive(conn, isBinary ? toBytes(data) : data.toString(), Date.now(), isBinary);
    });
    ws.on('pong', () => engine.heard(conn, Date.now()));
    ws.on('close', (code) => engine.closed(conn, Date.now(), code === 1006 ? 'connection lost' : 'closed'));
    ws.on('error', () => ws.terminate());
  });
  const timer = setInterval(() => engine.advance(Date.now()), engine.settings.tickMs);
  timer.unref();
  const ready = options.server
    ? Promise.resolve({ host: options.host ?? '', port: options.port ?? 0 })
    : new Promise<{ host: string; port: number }>((resolve, reject) => {
        wss.once('listening', () => {
          const a = wss.address();
          resolve(a === null || typeof a === 'string' ? { host: String(a), port: 0 } : { host: a.address, port: a.port });
        });
        wss.once('error', reject);
      });
  return {
    wss,
    engine,
    ready,
    stats: () => engine.stats(),
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        engine.shutdown();
        wss.close(() => resolve());
        // clients that don't finish the closing handshake in time are cut off
        setTimeout(() => {
          for (const ws of wss.clients) ws.terminate();
        }, 1000).unref();
      }),
  };
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

/** A client-core TransportFactory over `ws`. */
export function wsTransport(options: { maxPayload?: number } = {}): TransportFactory {
  return (url, handlers) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: options.maxPayload ?? 1 << 20 });
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
      finish(1006, err.message);
      ws.terminate();
    });
    return {
      send: (text) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(text);
      },
      close: (code = 1000, reason = '') => {
        closed = true;
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(code, reason);
      },
    };
  };
}
