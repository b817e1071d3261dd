// tandem-server's STUN/TURN settings over real sockets: bad settings stop it at start with a clear
// error; a v2 client asking for ice-servers gets its own TURN credentials in welcome; v1 clients
// see no change; GET /ice-servers serves the same in RTCConfiguration form.
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, logHandle, start, startServer } from './procs.js';
import { connect } from './ws-client.js';

afterAll(killAll);

const exitOf = async (args: string[]) => {
  const p = start('tandem-server', ['--port', '0', ...args]);
  const code = await new Promise<number | null>((r) => p.child.on('exit', (c) => r(c)));
  return { code, out: p.lines.join('\n') };
};

/** A live session's current resume token: the proof GET /ice-servers asks for. */
async function liveToken(url: string): Promise<string> {
  const c = await connect(url);
  c.send({ type: 'hello', version: 2, capabilities: ['resume'] });
  return String((await c.next((m) => m['type'] === 'welcome', 'welcome'))['resume_token']);
}

describe('tandem-server ICE settings', () => {
  it.each([
    [['--turn-url', 'turn:turn.test:3478'], /needs --turn-secret/],
    [['--turn-url', 'http://turn.test', '--turn-secret', 's'], /malformed TURN URL/],
    [['--stun-url', 'stun:'], /malformed STUN URL/],
    [['--turn-secret', 's'], /needs at least one --turn-url/],
    [['--turn-url', 'turn:t.test', '--turn-secret', 's', '--turn-ttl', '172800'], /--turn-ttl must be/],
    [
      ['--turn-url', 'turn:t.test', '--turn-secret', 's', '--turn-secret-file', '/dev/null'],
      /give the TURN secret once/,
    ],
    [['--turn-url', 'turn:t.test', '--turn-secret-file', '/nonexistent/secret'], /cannot read --turn-secret-file/],
  ])('%j stops it at start with a clear error', async (args, message) => {
    const { code, out } = await exitOf(args);
    expect(code).not.toBe(0);
    expect(out).toMatch(message);
  });

  it('reads the TURN secret from --turn-secret-file (kept out of the process list); the credentials are made with it', async () => {
    const secret = 'a-secret-from-a-file';
    const file = join(mkdtempSync(join(tmpdir(), 'tandem-turn-')), 'secret');
    writeFileSync(file, `${secret}\n`, { mode: 0o600 });
    const { server, url } = await startServer(['--turn-url', 'turn:turn.test:3478', '--turn-secret-file', file]);
    expect(server.child.spawnargs.join(' ')).not.toContain(secret);
    const c = await connect(url);
    c.send({ type: 'hello', version: 2, capabilities: ['ice-servers'] });
    const w = await c.next((m) => m['type'] === 'welcome', 'welcome');
    const [turn] = w['ice_servers'] as { username: string; credential: string }[];
    expect(turn!.credential).toBe(createHmac('sha1', secret).update(turn!.username).digest('base64'));
  });

  it('hands each v2 client its own TURN credentials; v1 clients see nothing new; GET /ice-servers serves RTCConfiguration form', async () => {
    const secret = 'a-shared-secret';
    const { url } = await startServer([
      '--stun-url',
      'stun:stun.test:3478',
      '--turn-url',
      'turn:turn.test:3478?transport=udp',
      '--turn-secret',
      secret,
      '--turn-ttl',
      '600',
      '--ice-servers-route',
    ]);
    const v1 = await connect(url);
    expect(v1.frames[0]!['capabilities']).toContain('ice-servers');
    const c = await connect(url);
    c.send({ type: 'hello', version: 2, capabilities: ['ice-servers', 'resume'] });
    const w = await c.next((m) => m['type'] === 'welcome', 'welcome');
    expect(w['ice_servers_ttl_ms']).toBe(600_000);
    const [stun, turn] = w['ice_servers'] as { urls: string[]; username?: string; credential?: string }[];
    expect(stun).toEqual({ urls: ['stun:stun.test:3478'] });
    expect(turn!.urls).toEqual(['turn:turn.test:3478?transport=udp']);
    const [expiry, user] = turn!.username!.split(':');
    expect(user).toBe(logHandle(c.id)); // coturn's log ties to ours by the handle
    expect(turn!.username).not.toContain(c.id); // never the key itself
    expect(Number(expiry) - Date.now() / 1000).toBeGreaterThan(590);
    expect(Number(expiry) - Date.now() / 1000).toBeLessThanOrEqual(600);
    expect(turn!.credential).toBe(createHmac('sha1', secret).update(turn!.username!).digest('base64'));
    expect(JSON.stringify(c.frames)).not.toContain(secret);
    expect(v1.frames.filter((m) => m['type'] !== 'your_id' && m['type'] !== 'ping')).toEqual([]);

    const http = url.replace('ws://', 'http://');
    // only with proof of a live session: its current resume token (an ID is no proof: it is the key)
    for (const authorization of [undefined, `Bearer ${c.id}`, `Bearer ${String(w['resume_token'])}x`]) {
      const refused = await fetch(`${http}/ice-servers`, authorization ? { headers: { authorization } } : {});
      expect(refused.status).toBe(401);
      expect(await refused.text()).not.toMatch(/credential/);
    }
    const res = await fetch(`${http}/ice-servers`, {
      headers: { authorization: `Bearer ${String(w['resume_token'])}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { iceServers: { urls: string[]; username?: string; credential?: string }[] };
    expect(body.iceServers[0]).toEqual({ urls: ['stun:stun.test:3478'] });
    expect(body.iceServers[1]!.username).toMatch(new RegExp(`^\\d+:${logHandle(c.id)}$`)); // that session's handle
    expect(body.iceServers[1]!.credential).toBe(
      createHmac('sha1', secret).update(body.iceServers[1]!.username!).digest('base64'),
    );
    expect((await fetch(`${http}/ice-servers`, { method: 'POST' })).status).toBe(405);
    v1.ws.close();
    c.ws.close();
  });

  it('without STUN or TURN settings, ice-servers is not offered and GET /ice-servers is an empty list', async () => {
    const { url } = await startServer(['--ice-servers-route']);
    const c = await connect(url);
    expect(c.frames[0]!['capabilities']).not.toContain('ice-servers');
    const headers = { authorization: `Bearer ${await liveToken(url)}` };
    const body = (await (await fetch(`${url.replace('ws://', 'http://')}/ice-servers`, { headers })).json()) as {
      iceServers: unknown[];
    };
    expect(body.iceServers).toEqual([]);
    c.ws.close();
  });

  describe('GET /ice-servers', () => {
    const turn = ['--turn-url', 'turn:turn.test:3478', '--turn-secret', 'route-secret'];
    it('is not served unless --ice-servers-route: no credentials for anyone who asks', async () => {
      const { url } = await startServer(turn);
      const res = await fetch(`${url.replace('ws://', 'http://')}/ice-servers`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toMatch(/credential|iceServers/);
    });

    it('refuses a browser origin outside --allow-origin; a page of an allowed one gets its servers', async () => {
      const { url } = await startServer([...turn, '--ice-servers-route', '--allow-origin', 'https://app.example']);
      const at = `${url.replace('ws://', 'http://')}/ice-servers`;
      const authorization = `Bearer ${await liveToken(url)}`;
      const evil = await fetch(at, { headers: { origin: 'https://evil.example', authorization } });
      expect(evil.status).toBe(403);
      expect(await evil.text()).not.toMatch(/credential/);
      const good = await fetch(at, { headers: { origin: 'https://app.example', authorization } });
      expect(good.status).toBe(200);
      expect(((await good.json()) as { iceServers: unknown[] }).iceServers).toHaveLength(1);
    });

    it('an address flooding the route gets its burst of credentials and then 429s, not thousands', async () => {
      const { url } = await startServer([...turn, '--ice-servers-route']);
      const at = `${url.replace('ws://', 'http://')}/ice-servers`;
      const statuses: number[] = [];
      const credentials = new Set<string>();
      const headers = { authorization: `Bearer ${await liveToken(url)}` };
      for (let i = 0; i < 200; i++) {
        const res = await fetch(at, { headers });
        statuses.push(res.status);
        if (res.status === 200) {
          const body = (await res.json()) as { iceServers: { credential?: string }[] };
          credentials.add(body.iceServers[0]!.credential!);
        } else {
          expect(res.headers.get('retry-after')).toBe('10');
          await res.text();
        }
      }
      const granted = statuses.filter((x) => x === 200).length;
      expect(granted).toBeGreaterThanOrEqual(10);
      expect(granted).toBeLessThanOrEqual(12); // the burst, plus what refilled during the loop
      expect(credentials.size).toBeLessThanOrEqual(granted);
      expect(statuses.filter((x) => x === 429).length).toBeGreaterThanOrEqual(188);
    });
  });
});
