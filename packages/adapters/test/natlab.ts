// A NAT lab from network namespaces (needs root, Debian's iptables): two homes, each behind its
// own symmetric NAT (MASQUERADE --random-fully, unsolicited inbound dropped as home routers do),
// and a "public" namespace between them that holds the service address (where tandem-server and
// coturn listen) and forwards nothing, so the two NATs cannot reach each other directly.
//
//   home1 192.168.77.2 ─ nat1 [192.168.77.1 | 198.51.100.2] ─┐
//                                                              pub 198.51.100.1 / 203.0.113.1, service 192.0.2.10
//   home2 192.168.78.2 ─ nat2 [192.168.78.1 | 203.0.113.2] ─┘
//
// Every address lives only inside namespaces this lab creates; teardown removes them all.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';

const sh = (...args: string[]) =>
  execFileSync(args[0]!, args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const IPTABLES = ['/usr/sbin/iptables', '/sbin/iptables'].find((p) => existsSync(p)) ?? 'iptables';
export const TURNSERVER = ['/usr/bin/turnserver', '/usr/local/bin/turnserver'].find((p) => existsSync(p)) ?? null;

/** Why the lab cannot be built here, or null when it can. */
export function natLabUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces and iptables need root';
  if (!existsSync(IPTABLES) && IPTABLES === 'iptables') return 'iptables is missing (run scripts/ensure-nat-lab.sh)';
  if (TURNSERVER === null) return 'coturn (turnserver) is missing (run scripts/ensure-nat-lab.sh)';
  const probe = `tdnprobe${process.pid}`;
  try {
    sh('ip', 'netns', 'add', probe);
    try {
      sh('ip', 'netns', 'exec', probe, IPTABLES, '-t', 'nat', '-L', '-n');
    } finally {
      sh('ip', 'netns', 'del', probe);
    }
    return null;
  } catch (e) {
    return `cannot build the lab: ${(e as Error).message.split('\n')[0]}`;
  }
}

export interface NatLab {
  /** The public namespace (tandem-server and coturn run here). */
  readonly pub: string;
  /** The address both homes reach the public side at. */
  readonly service: string;
  /** Home namespaces, each behind its own symmetric NAT. */
  readonly homes: readonly [string, string];
  /** The NAT routers' public (WAN) addresses. */
  readonly wan: readonly [string, string];
  /** Run a command inside a namespace and return its output. */
  exec(ns: string, ...cmd: string[]): string;
  teardown(): void;
}

export function buildNatLab(): NatLab {
  const tag = (process.pid % 10_000).toString();
  const made: string[] = [];
  const ns = (name: string) => {
    const n = `td${tag}${name}`;
    sh('ip', 'netns', 'add', n);
    made.push(n);
    sh('ip', '-n', n, 'link', 'set', 'lo', 'up');
    return n;
  };
  const link = (a: string, aIf: string, aAddr: string, b: string, bIf: string, bAddr: string) => {
    sh('ip', 'link', 'add', `td${tag}${aIf}`, 'netns', a, 'type', 'veth', 'peer', 'name', `td${tag}${bIf}`, 'netns', b);
    sh('ip', '-n', a, 'addr', 'add', aAddr, 'dev', `td${tag}${aIf}`);
    sh('ip', '-n', b, 'addr', 'add', bAddr, 'dev', `td${tag}${bIf}`);
    sh('ip', '-n', a, 'link', 'set', `td${tag}${aIf}`, 'up');
    sh('ip', '-n', b, 'link', 'set', `td${tag}${bIf}`, 'up');
  };
  const ipt = (n: string, ...args: string[]) => sh('ip', 'netns', 'exec', n, IPTABLES, ...args);
  try {
    const pub = ns('pub');
    const nats = [ns('nat1'), ns('nat2')] as const;
    const homes = [ns('home1'), ns('home2')] as const;
    const wanNet = ['198.51.100', '203.0.113'] as const;
    const lanNet = ['192.168.77', '192.168.78'] as const;
    // the public side: the service address, links to both NATs, no forwarding between them, and
    // a blackhole default route (sending to an unknown address is silently dropped, not an error)
    sh('ip', '-n', pub, 'addr', 'add', '192.0.2.10/32', 'dev', 'lo');
    sh('ip', '-n', pub, 'route', 'add', 'blackhole', 'default');
    sh('ip', 'netns', 'exec', pub, 'sysctl', '-qw', 'net.ipv4.ip_forward=0');
    ipt(pub, '-P', 'FORWARD', 'DROP');
    for (const i of [0, 1] as const) {
      const nat = nats[i];
      const home = homes[i];
      link(pub, `p${i}`, `${wanNet[i]}.1/24`, nat, `w${i}`, `${wanNet[i]}.2/24`);
      link(nat, `l${i}`, `${lanNet[i]}.1/24`, home, `h${i}`, `${lanNet[i]}.2/24`);
      sh('ip', '-n', nat, 'route', 'add', 'default', 'via', `${wanNet[i]}.1`);
      sh('ip', '-n', home, 'route', 'add', 'default', 'via', `${lanNet[i]}.1`);
      sh('ip', 'netns', 'exec', nat, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
      // a symmetric NAT: every new destination gets a new, random external port
      ipt(nat, '-t', 'nat', '-A', 'POSTROUTING', '-o', `td${tag}w${i}`, '-j', 'MASQUERADE', '--random-fully');
      // inbound only as replies to what the home sent, as home routers do
      ipt(
        nat,
        '-A',
        'FORWARD',
        '-i',
        `td${tag}w${i}`,
        '-m',
        'conntrack',
        '--ctstate',
        'ESTABLISHED,RELATED',
        '-j',
        'ACCEPT',
      );
      ipt(nat, '-A', 'FORWARD', '-i', `td${tag}w${i}`, '-j', 'DROP');
      ipt(
        nat,
        '-A',
        'INPUT',
        '-i',
        `td${tag}w${i}`,
        '-m',
        'conntrack',
        '--ctstate',
        'ESTABLISHED,RELATED',
        '-j',
        'ACCEPT',
      );
      ipt(nat, '-A', 'INPUT', '-i', `td${tag}w${i}`, '-j', 'DROP');
    }
    return {
      pub,
      service: '192.0.2.10',
      homes,
      wan: [`${wanNet[0]}.2`, `${wanNet[1]}.2`],
      exec: (n, ...cmd) => sh('ip', 'netns', 'exec', n, ...cmd),
      teardown() {
        for (const n of made) {
          try {
            sh('ip', 'netns', 'del', n); // takes its veth ends (and so the pairs) with it
          } catch {
            /* already gone */
          }
        }
      },
    };
  } catch (e) {
    for (const n of made) {
      try {
        sh('ip', 'netns', 'del', n);
      } catch {
        /* ignore */
      }
    }
    throw e;
  }
}

/** Debian's coturn in the lab's public namespace, configured as production ones are: shared-secret auth, private ranges denied as peers. */
export async function startCoturn(
  lab: NatLab,
  secret: string,
): Promise<{ child: ChildProcessWithoutNullStreams; log: string[]; stop(): void }> {
  const log: string[] = [];
  const child = spawn('ip', [
    'netns',
    'exec',
    lab.pub,
    TURNSERVER!,
    '-n',
    '--listening-ip',
    lab.service,
    '--relay-ip',
    lab.service,
    '--listening-port',
    '3478',
    '--use-auth-secret',
    '--static-auth-secret',
    secret,
    '--realm',
    'tandem.test',
    '--fingerprint',
    '--verbose',
    '--no-tls',
    '--no-dtls',
    '--no-cli',
    '--min-port',
    '49152',
    '--max-port',
    '49999',
    '--log-file',
    'stdout',
    '--simple-log',
    '--pidfile',
    `/tmp/tandem-turn-${process.pid}.pid`,
    '--denied-peer-ip',
    '10.0.0.0-10.255.255.255',
    '--denied-peer-ip',
    '172.16.0.0-172.31.255.255',
    '--denied-peer-ip',
    '192.168.0.0-192.168.255.255',
  ]);
  const onData = (d: Buffer) => log.push(...d.toString().split('\n').filter(Boolean));
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const until = Date.now() + 10_000;
  while (!log.some((l) => /listener opened on|Total General servers|IPv4. UDP listener/i.test(l))) {
    if (child.exitCode !== null) throw new Error(`turnserver exited: ${log.join('\n')}`);
    if (Date.now() > until) throw new Error(`turnserver not up in 10 s: ${log.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, log, stop: () => child.kill('SIGKILL') };
}
