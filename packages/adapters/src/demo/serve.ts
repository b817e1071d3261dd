// Serving the demo page (index.html + the esbuild bundle) from any node:http server — tandem-server
// does, on the same port as its WebSocket endpoint. Exported at @tandem/adapters/demo.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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
  'hash-worker.js': 'text/javascript; charset=utf-8',
  'qr.js': 'text/javascript; charset=utf-8',
};

/** How the page is served. */
export interface DemoOptions {
  /**
   * Signaling servers other than the page's own that `?server=` may point the page at, as
   * origins (`wss://signal.example.com`, `https://…` is read as `wss://…`). Default none: a link
   * to this page can only make it talk to this server.
   */
  readonly allowServers?: readonly string[];
}

/** A server origin as the page compares it: ws(s)://host[:port], lower case. Throws on anything else. */
export function serverOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`--demo-allow-server: not a URL: ${JSON.stringify(value)}`);
  }
  const scheme = { 'ws:': 'ws', 'wss:': 'wss', 'http:': 'ws', 'https:': 'wss' }[url.protocol];
  if (scheme === undefined)
    throw new Error(`--demo-allow-server: not a ws(s) or http(s) origin: ${JSON.stringify(value)}`);
  return `${scheme}://${url.host}`;
}

const escapeAttribute = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/**
 * The page's policy: scripts from the page only and no evaluated strings (the protocol's
 * validators are generated at build time), styles from the page (the one inline stylesheet
 * aside), signaling to its own origin and the allowed servers, no framing, no referrer.
 */
export function demoSecurityHeaders(allowServers: readonly string[]): Record<string, string> {
  const connect = ["'self'", ...allowServers].join(' ');
  return {
    'content-security-policy':
      `default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; ` +
      `connect-src ${connect}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'cross-origin-opener-policy': 'same-origin',
  };
}

/** A request handler for the page; anything else gets 404. Files are read once. */
export function demoHandler(
  dir: string | null = demoDir(),
  options: DemoOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const allowServers = (options.allowServers ?? []).map(serverOrigin);
  const security = demoSecurityHeaders(allowServers);
  const files = new Map<string, Buffer>();
  if (dir) for (const name of Object.keys(types)) if (existsSync(dir + name)) files.set(name, readFileSync(dir + name));
  // the chunks the page loads when used (the code crypto), named by content hash by the bundler
  if (dir && existsSync(`${dir}chunks`))
    for (const name of readdirSync(`${dir}chunks`))
      if (/^[\w-]+\.js$/.test(name)) files.set(`chunks/${name}`, readFileSync(`${dir}chunks/${name}`));
  const page = files.get('index.html');
  // the page learns which other servers it may be pointed at from the server that served it
  if (page !== undefined)
    files.set(
      'index.html',
      Buffer.from(
        page
          .toString('utf8')
          .replace(
            '</head>',
            `  <meta name="tandem-allow-server" content="${escapeAttribute(allowServers.join(' '))}" />\n  </head>`,
          ),
      ),
    );
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
        'content-type': types[name] ?? 'text/javascript; charset=utf-8',
        'content-length': body.length,
        'cache-control': 'no-cache',
        ...security,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    }
  };
}
