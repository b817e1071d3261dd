// A bare `ws` test client: frames as parsed JSON, bounded waits, and the HTTP status when an
// upgrade is refused.
import { WebSocket, type ClientOptions } from 'ws';

export interface TestClient {
  readonly ws: WebSocket;
  readonly frames: Record<string, unknown>[];
  readonly id: string;
  send(message: unknown): void;
  next(pred: (m: Record<string, unknown>) => boolean, what: string, ms?: number): Promise<Record<string, unknown>>;
  closed(ms?: number): Promise<{ code: number; reason: string }>;
}

/** Open a client and wait for its your_id; rejects with `HTTP <status>: <body>` when refused. */
export function connect(url: string, options: ClientOptions = {}, ms = 5_000): Promise<TestClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...options });
    const frames: Record<string, unknown>[] = [];
    const listeners = new Set<() => void>();
    let closeInfo: { code: number; reason: string } | null = null;
    const timer = setTimeout(() => reject(new Error(`no your_id from ${url} within ${ms} ms`)), ms);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        clearTimeout(timer);
        reject(
          Object.assign(new Error(`HTTP ${res.statusCode}: ${body.trim()}`), {
            status: res.statusCode,
            body: body.trim(),
          }),
        );
      });
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on('close', (code, reason) => {
      closeInfo = { code, reason: reason.toString() };
      for (const l of listeners) l();
    });
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as Record<string, unknown>;
      frames.push(m);
      if (m['type'] === 'your_id' && frames.length === 1) {
        clearTimeout(timer);
        resolve(client);
      }
      for (const l of listeners) l();
    });
    const wait = <T>(check: () => T | undefined, what: string, limit: number) =>
      new Promise<T>((res, rej) => {
        const look = () => {
          const v = check();
          if (v === undefined) return;
          listeners.delete(look);
          clearTimeout(t);
          res(v);
        };
        const t = setTimeout(() => {
          listeners.delete(look);
          rej(new Error(`waited ${limit} ms for ${what}; frames: ${JSON.stringify(frames).slice(0, 2000)}`));
        }, limit);
        listeners.add(look);
        look();
      });
    const client: TestClient = {
      ws,
      frames,
      get id() {
        return String(frames[0]?.['id']);
      },
      send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
      next: (pred, what, limit = 5_000) => wait(() => frames.find(pred), what, limit),
      closed: (limit = 5_000) => wait(() => closeInfo ?? undefined, 'close', limit),
    };
  });
}

/** The status of a refused upgrade (throws if it was accepted). */
export async function refusedStatus(
  url: string,
  options: ClientOptions = {},
): Promise<{ status: number; body: string }> {
  try {
    const c = await connect(url, options);
    c.ws.terminate();
  } catch (err) {
    const e = err as { status?: number; body?: string };
    if (e.status !== undefined) return { status: e.status, body: e.body ?? '' };
    throw err;
  }
  throw new Error(`${url} accepted a connection that should have been refused`);
}

/** Pair two clients (a asks for b). */
export async function pairUp(a: TestClient, b: TestClient): Promise<void> {
  a.send({ type: 'pair_request', target_id: b.id });
  await a.next((m) => m['type'] === 'paired', 'paired (a)');
  await b.next((m) => m['type'] === 'paired', 'paired (b)');
}
