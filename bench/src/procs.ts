// Starting the systems under test as separate processes pinned to core 0, the load process on
// core 1, and reading a process's CPU time and RSS from the OS (Linux /proc).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { SystemName } from './protocols.js';
import type { LoadCommand, LoadReply } from './load.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return true;
  } catch {
    return false;
  }
})();
const pinned = (core: number, argv: string[]) =>
  (hasTaskset ? ['taskset', ['-c', String(core), ...argv]] : [argv[0]!, argv.slice(1)]) as [string, string[]];

/** User+system CPU time of a process, in ms (all its threads). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS; // utime, stime (fields 14, 15)
}

/** Resident set size of a process, in bytes. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitPort(port: number, child: ChildProcess, ms = 20_000, everyMs = 50): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`port ${port} not open within ${ms} ms`);
}

export interface RunningSystem {
  name: SystemName;
  pid: number;
  /** Base WebSocket URL. */
  base: string;
  port: number;
  stop(): Promise<void>;
}

const tandemBin = here('../../packages/adapters/dist/bin/tandem-server.js');
/**
 * The shipped binary with relay logging off and the per-client limits out of the way: the load
 * streams far faster than one client may by default, and spreads thousands of clients over a
 * few loopback addresses. Every frame is still schema-validated. Later flags override these.
 */
const tandemLoadArgs = [
  '--log-level',
  'warn',
  '--rate-limit',
  '1e9',
  '--rate-burst',
  '1e9',
  '--byte-rate-limit',
  '1e12',
  '--byte-rate-burst',
  '1e12',
  '--max-connections-per-ip',
  '100000',
  '--nameplate-rate',
  '1e6',
];

/** Extra tandem-server flags per figure (e.g. ping settings). */
export async function startSystem(
  name: SystemName,
  tandemArgs: string[] = [],
  /** A port to listen on (a server started again where its clients look for it); default a free one. */
  onPort?: number,
): Promise<RunningSystem> {
  const port = onPort ?? (await freePort());
  const node = process.execPath;
  const argv: Record<SystemName, string[]> = {
    // the shipped binary; relay logging off and the rate limit out of the way (load streams far
    // faster than the 50/s default allows one client), every frame still schema-validated
    tandem: [node, tandemBin, '--port', String(port), ...tandemLoadArgs, ...tandemArgs],
    'tandem-no-metrics': [node, tandemBin, '--port', String(port), ...tandemLoadArgs, '--no-metrics', ...tandemArgs],
    peerserver: [node, here('./peer-server.mjs'), String(port)],
    floor: [node, here('./floor.mjs'), String(port)],
    raw: [node, here('./raw-forward.mjs'), String(port)],
    'raw-batched': [node, here('./raw-forward.mjs'), String(port), '--batched'],
  };
  const [cmd, args] = pinned(0, argv[name]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitPort(port, child, 20_000, onPort === undefined ? 50 : 5); // a restart is timed from here: look often
  // taskset execs node, so the pid is the server's
  return {
    name,
    pid: child.pid!,
    port,
    base: `ws://127.0.0.1:${port}`,
    stop: () =>
      new Promise((r) => {
        if (child.exitCode !== null) return r();
        child.once('exit', () => r());
        child.kill('SIGKILL');
      }),
  };
}

/** The load process on core 1, driven over IPC. */
export interface Load {
  send(c: LoadCommand): void;
  next(ms?: number): Promise<LoadReply>;
  stop(): void;
}

export function startLoad(): Load {
  const [cmd, args] = pinned(1, [
    process.execPath,
    '--conditions=@tandem/source',
    '--import',
    'tsx',
    here('./load.ts'),
  ]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const queue: LoadReply[] = [];
  let waiter: ((r: LoadReply) => void) | null = null;
  child.on('message', (m: LoadReply) => {
    if (waiter) {
      const w = waiter;
      waiter = null;
      w(m);
    } else queue.push(m);
  });
  return {
    send: (c) => child.send(c),
    next: (ms = 300_000) =>
      new Promise((resolve, reject) => {
        const q = queue.shift();
        if (q) return q.event === 'failed' ? reject(new Error(q.message)) : resolve(q);
        const t = setTimeout(() => reject(new Error(`load process silent for ${ms} ms`)), ms);
        waiter = (r) => {
          clearTimeout(t);
          if (r.event === 'failed') reject(new Error(r.message));
          else resolve(r);
        };
      }),
    stop: () => child.kill('SIGKILL'),
  };
}

let addr = 0;
/** A fresh loopback source address per phase, so TIME_WAIT ports of one phase never starve the next. */
export function sourceAddress(): string {
  addr++;
  return `127.0.${1 + Math.floor(addr / 250)}.${1 + (addr % 250)}`;
}
