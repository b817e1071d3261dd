// A small network lab from Linux network namespaces (needs root): two "home" namespaces, each
// joined to the test's own namespace by a veth pair, routed through it. Only addresses on the
// links it creates (10.77.0.0/16) are used; everything is removed again by `teardown`.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const sh = (...args: string[]) =>
  execFileSync(args[0]!, args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** Why the lab cannot be built here, or null when it can. */
export function labUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  const probe = `tdprobe${process.pid}`;
  try {
    sh('ip', 'netns', 'add', probe);
    sh('ip', 'netns', 'del', probe);
    return null;
  } catch (e) {
    return `cannot create a network namespace: ${(e as Error).message.split('\n')[0]}`;
  }
}

export interface Home {
  readonly ns: string;
  /** The home's address now. */
  address: string;
  /** The router's (this namespace's) address on the home's link: the server listens here. */
  readonly gateway: string;
  /** A network change: the home's address is replaced (Wi-Fi → mobile). */
  renumber(): void;
  /** The home's link goes down for `ms` (every path through it dies), then comes back; `renumber` gives it a new address meanwhile (a different network). */
  cut(ms: number, options?: { renumber?: boolean }): Promise<void>;
}

export interface Lab {
  readonly homes: [Home, Home];
  teardown(): void;
}

export function buildLab(): Lab {
  const tag = (process.pid % 10_000).toString();
  const forwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  const made: string[] = [];
  const home = (i: 1 | 2): Home => {
    const ns = `td${tag}h${i}`;
    const outer = `td${tag}o${i}`;
    const inner = `td${tag}i${i}`;
    const gateway = `10.77.${i}.1`;
    sh('ip', 'netns', 'add', ns);
    made.push(ns);
    sh('ip', 'link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
    sh('ip', 'link', 'set', inner, 'netns', ns);
    sh('ip', 'addr', 'add', `${gateway}/24`, 'dev', outer);
    sh('ip', 'link', 'set', outer, 'up');
    sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    sh('ip', '-n', ns, 'addr', 'add', `10.77.${i}.2/24`, 'dev', inner);
    sh('ip', '-n', ns, 'link', 'set', inner, 'up');
    sh('ip', '-n', ns, 'route', 'add', 'default', 'via', gateway);
    let host = 2;
    const h: Home = {
      ns,
      address: `10.77.${i}.${host}`,
      gateway,
      renumber() {
        const old = h.address;
        host++;
        h.address = `10.77.${i}.${host}`;
        // old first: deleting a primary address also deletes the secondaries of its subnet
        sh('ip', '-n', ns, 'addr', 'del', `${old}/24`, 'dev', inner);
        sh('ip', '-n', ns, 'addr', 'add', `${h.address}/24`, 'dev', inner);
        try {
          sh('ip', '-n', ns, 'route', 'replace', 'default', 'via', gateway); // the old one went with the address
        } catch {
          /* the link is down: `cut` puts the route back when it comes up */
        }
      },
      async cut(ms, options = {}) {
        sh('ip', '-n', ns, 'link', 'set', inner, 'down');
        if (options.renumber) h.renumber();
        await new Promise((r) => setTimeout(r, ms));
        sh('ip', '-n', ns, 'link', 'set', inner, 'up');
        sh('ip', '-n', ns, 'route', 'replace', 'default', 'via', gateway); // a link going down takes its routes
      },
    };
    return h;
  };
  try {
    writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
    const homes: [Home, Home] = [home(1), home(2)];
    return {
      homes,
      teardown() {
        for (const [i, ns] of made.entries()) {
          for (const cmd of [
            ['ip', 'link', 'del', `td${tag}o${i + 1}`],
            ['ip', 'netns', 'del', ns],
          ]) {
            try {
              sh(...cmd); // deleting one end of a veth pair deletes both
            } catch {
              /* already gone */
            }
          }
        }
        writeFileSync('/proc/sys/net/ipv4/ip_forward', forwardBefore);
      },
    };
  } catch (e) {
    for (const ns of made) {
      try {
        sh('ip', 'netns', 'del', ns);
      } catch {
        /* ignore */
      }
    }
    writeFileSync('/proc/sys/net/ipv4/ip_forward', forwardBefore);
    throw e;
  }
}
