// No key, token or credential in the log: a real tandem-server at debug level, text and JSON,
// with resume and TURN credentials handed out, clients pairing, relaying, failing to pair,
// resuming. Every line is searched for every client ID, every pair target tried, every resume
// token (and both halves) and every TURN credential a client saw. Clients are named by handles.
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, logHandle, startServer } from './procs.js';
import { connect, type TestClient } from './ws-client.js';

afterEach(killAll);

const TURN_SECRET = 'turn-secret-never-logged';

async function exercise(url: string): Promise<{ secrets: string[]; ids: string[] }> {
  const secrets: string[] = [];
  const hello = async () => {
    const c = await connect(url);
    c.send({ type: 'hello', version: 2, capabilities: ['resume', 'ice-servers', 'leave'] });
    const w = await c.next((m) => m['type'] === 'welcome', 'welcome');
    const token = String(w['resume_token']);
    secrets.push(c.id, token, ...token.split('.'));
    for (const s of w['ice_servers'] as { username?: string; credential?: string }[])
      secrets.push(...[s.username, s.credential].filter((x): x is string => x !== undefined));
    return { c, token };
  };
  const { c: a, token } = await hello();
  const { c: b } = await hello();
  const guess = `${b.id.slice(0, -1)}${b.id.endsWith('0') ? '1' : '0'}`; // a near miss of a real key
  secrets.push(guess);
  a.send({ type: 'pair_request', target_id: guess });
  await a.next((m) => m['type'] === 'error', 'target not found');
  a.send({ type: 'pair_request', target_id: b.id });
  await b.next((m) => m['type'] === 'paired', 'paired');
  a.send({ type: 'offer', sdp: 'v=0' });
  await b.next((m) => m['type'] === 'offer', 'offer');
  b.send({ type: 'answer', sdp: 'v=0' });
  b.send({ type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host' } });
  await a.next((m) => m['type'] === 'candidate', 'candidate');
  // a's link drops; it resumes on a new one with its token
  a.ws.terminate();
  const again: TestClient = await connect(url);
  secrets.push(again.id);
  again.send({ type: 'resume', token, received: 3 });
  const resumed = await again.next((m) => m['type'] === 'resumed', 'resumed');
  const next = String(resumed['resume_token']);
  secrets.push(next, ...next.split('.'));
  again.send({ type: 'resume', token, received: 0 }); // a spent token, refused
  await again.next((m) => m['type'] === 'error', 'refused');
  again.send({ type: 'leave' });
  await b.next((m) => m['type'] === 'peer_disconnected', 'peer_disconnected');
  again.ws.close();
  b.ws.close();
  await b.closed();
  return { secrets: [...new Set(secrets)].filter((s) => s.length >= 8), ids: [a.id, b.id] };
}

const serverArgs = [
  '--log-level',
  'debug',
  '--resume-grace',
  '5',
  '--turn-url',
  'turn:127.0.0.1:3478',
  '--turn-secret',
  TURN_SECRET,
];

describe('the server log names no key, token or credential', () => {
  for (const format of ['text', 'json']) {
    it(`${format} lines at debug level carry handles, never IDs, tokens or TURN credentials`, async () => {
      const { server, url } = await startServer([...serverArgs, '--log-format', format]);
      const { secrets, ids } = await exercise(url);
      await server.waitFor(new RegExp(`${logHandle(ids[1]!)}.*disconnected|disconnected.*${logHandle(ids[1]!)}`));
      expect(secrets.length).toBeGreaterThan(10);
      const leaks = server.lines.flatMap((line) =>
        secrets.filter((s) => line.includes(s)).map((s) => `${s} in: ${line}`),
      );
      expect(leaks).toEqual([]);
      expect(server.lines.some((l) => l.includes(TURN_SECRET))).toBe(false);
      // the handle follows one client through the log
      for (const id of ids) expect(server.lines.filter((l) => l.includes(logHandle(id))).length).toBeGreaterThan(3);
    });
  }

  it('--log-full-ids shows them (and says so at start): the search above can see an ID when there is one', async () => {
    const { server, url } = await startServer([...serverArgs, '--log-full-ids']);
    const { ids } = await exercise(url);
    await server.waitFor(new RegExp(`Client ${ids[1]} disconnected`));
    expect(server.lines.some((l) => /Client IDs are logged in full \(--log-full-ids\)/.test(l))).toBe(true);
    expect(server.lines.some((l) => l.includes(ids[0]!))).toBe(true);
  });
});
