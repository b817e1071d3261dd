// Serving the demo page (index.html + the esbuild bundle) from any node:http server — tandem-server
// does, on the same port as its WebSocket endpoint. Exported at @tandem/adapters/demo.
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

/** Where the built page lives: next to this file in dist, or in dist when running from source. */
export function demoDir(): string | null {
  for (const rel of ['./', '../../dist/demo/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}app.js`) && existsSync(`${dir}index.html`)) return dir;
  }
  return null;
}

const types: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.js.map': 'application/json',
};

/** A request handler for the page; anything else gets 404. Files are read once. */
export function demoHandler(dir: string | null = demoDir()): (req: IncomingMessage, res: ServerResponse) => void {
  const files = new Map<string, Buffer>();
  if (dir) for (const name of Object.keys(types)) if (existsSync(dir + name)) files.set(name, readFileSync(dir + name));
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const name = path === '/' ? 'index.html' : path.slice(1);
    const body = files.get(name);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (body === undefined) {
      const missing =
        files.size === 0
          ? 'The demo page is not built (npm run build).\n'
          : 'Not found. This is a tandem signaling server: connect with a WebSocket.\n';
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(missing);
    } else {
      res.writeHead(200, {
        'content-type': types[name]!,
        'content-length': body.length,
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    }
  };
}
