// A real redis-server for cluster tests and benchmarks: Debian's binary (scripts/ensure-redis.sh
// installs it), on a free loopback port, no persistence, killed in teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

export const REDIS_SERVER = process.env['TANDEM_REDIS_SERVER'] ?? '/usr/bin/redis-server';

/** Why Redis cannot run here, or null when it can. */
export function redisUnavailable(): string | null {
  return existsSync(REDIS_SERVER) ? null : `${REDIS_SERVER} is missing (run scripts/ensure-redis.sh)`;
}

/** A free TCP port on 127.0.0.1 (closed again before use). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface RedisProc {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** Stop it the way a crash or restart would (SIGKILL by default); its data goes with it. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Start it again on the same port (empty). */
  restart(): Promise<void>;
}

const live = new Set<ChildProcess>();

/** Start redis-server on a free port and wait until it answers. */
export async function startRedis(
  options: {
    port?: number;
    acl?: { user: string; password: string };
    /** Serve TLS only (rediss://) with this PEM certificate and key; `ca` is what clients trust. */
    tls?: { cert: string; key: string; ca: string };
  } = {},
): Promise<RedisProc> {
  const port = options.port ?? (await freePort());
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(
      REDIS_SERVER,
      [
        ...(options.tls
          ? [
              '--port',
              '0',
              '--tls-port',
              String(port),
              '--tls-cert-file',
              options.tls.cert,
              '--tls-key-file',
              options.tls.key,
              '--tls-ca-cert-file',
              options.tls.ca,
              '--tls-auth-clients',
              'no',
            ]
          : ['--port', String(port)]),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'no',
        '--loglevel',
        'warning',
        // ACL mode: the default user is off, one named user may do anything
        ...(options.acl
          ? [
              '--user',
              'default',
              'off',
              '--user',
              options.acl.user,
              'on',
              `>${options.acl.password}`,
              '~*',
              '&*',
              '+@all',
            ]
          : []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    live.add(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${out}`);
      if (await answers(port, options.tls?.ca)) return;
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer within 10 s: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await launch();
  return {
    port,
    url: `${options.tls ? 'rediss' : 'redis'}://${
      options.acl ? `${options.acl.user}:${encodeURIComponent(options.acl.password)}@` : ''
    }127.0.0.1:${port}`,
    get pid() {
      return child.pid!;
    },
    async stop(signal = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
      live.delete(child);
    },
    restart: launch,
  };
}

/** Whether a Redis answers PING on the port (PONG, or NOAUTH from one that wants a password first). */
function answers(port: number, tlsCa?: string): Promise<boolean> {
  return new Promise((resolve) => {
    Promise.all([import('node:net'), import('node:tls'), import('node:fs')]).then(
      ([{ connect }, tls, fs]) => {
        const s =
          tlsCa === undefined
            ? connect(port, '127.0.0.1')
            : tls.connect({ port, host: '127.0.0.1', ca: fs.readFileSync(tlsCa) });
        const done = (ok: boolean) => {
          s.destroy();
          resolve(ok);
        };
        s.setTimeout(500, () => done(false));
        s.on('error', () => done(false));
        s.on(tlsCa === undefined ? 'connect' : 'secureConnect', () => s.write('PING\r\n'));
        s.on('data', (d) => done(d.toString().startsWith('+PONG') || d.toString().startsWith('-NOAUTH')));
      },
      () => resolve(false),
    );
  });
}

/** Kill every redis-server these helpers started. */
export async function stopAllRedis(): Promise<void> {
  for (const child of live) if (child.exitCode === null) child.kill('SIGKILL');
  live.clear();
}
