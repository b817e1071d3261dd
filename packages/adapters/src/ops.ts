// The operator's HTTP endpoints: /healthz (the process is up), /readyz (accepting connections),
// /metrics (Prometheus). A request handler that answers those paths and leaves the rest.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TandemMetrics } from './metrics.js';

export interface OpsOptions {
  /** Whether the server accepts connections now (false while draining, or with a cluster, while its directory is unreachable). */
  ready(): boolean;
  /** Serve /metrics from these; without, /metrics is 404. */
  metrics?: TandemMetrics;
}

const TEXT = 'text/plain; charset=utf-8';

/** Answers /healthz, /readyz and /metrics; returns false (and writes nothing) for any other path. */
export function opsHandler(options: OpsOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return true;
    }
    const reply = (status: number, type: string, body: string) => {
      res
        .writeHead(status, { 'content-type': type, 'cache-control': 'no-store' })
        .end(req.method === 'HEAD' ? undefined : body);
    };
    if (path === '/healthz') reply(200, TEXT, 'ok\n');
    else if (path === '/readyz') {
      if (options.ready()) reply(200, TEXT, 'ready\n');
      else reply(503, TEXT, 'not ready\n');
    } else if (options.metrics === undefined) reply(404, TEXT, 'metrics are off\n');
    else {
      options.metrics.scrape().then(
        ({ contentType, body }) => reply(200, contentType, body),
        (err: Error) => reply(500, TEXT, `metrics failed: ${err.message}\n`),
      );
    }
    return true;
  };
}
