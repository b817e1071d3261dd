// Detached sessions under the connection caps, over real sockets on 127.0.0.1: a session whose
// link was cut keeps its slot, so one address cannot pile up link-less sessions past its cap; its
// own client is still let back in to resume it; a link let in that way that does not resume is
// closed; detached sessions are reported apart from live connections.
import { afterEach, describe, expect, it } from 'vitest';
import { createWsServer, type WsTandemServer } from '../src/ws.js';
import { connect, type TestClient } from './ws-client.js';

let server: WsTandemServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function start(perIp: number, extra: { maxDetachedSessions?: number } = {}) {
  server = createWsServer({
    port: 0,
    host: '127.0.0.1',
    settings: { resumeGraceMs: 30_000, ...extra },
    limits: { maxConnectionsPerIp: perIp, maxConnections: 1_000 },
    resumeWindowMs: 300,
  });
  const { port } = await server.ready;
  return `ws://127.0.0.1:${port}`;
}
const resumable = async (url: string): Promise<{ c: TestClient; token: string }> => {
  const c = await connect(url);
  c.send({ type: 'hello', version: 2, capabilities: ['resume'] });
  const welcome = await c.next((m) => m['type'] === 'welcome', 'welcome');
  return { c, token: String(welcome['resume_token']) };
};
const cut = async (c: TestClient) => {
  c.ws.terminate();
  await new Promise((r) => setTimeout(r, 100));
};
const refused = (p: Promise<unknown>) =>
  p.then(
    () => 'connected',
    (e: { status?: number }) => e.status,
  );

describe('detached sessions and the connection caps', () => {
  it('hold their slot: with the cap full of detached sessions a fresh link gets 429, their clients still resume', async () => {
    const url = await start(3);
    const sessions = [await resumable(url), await resumable(url), await resumable(url)];
    for (const s of sessions) await cut(s.c);
    expect(server!.stats()).toMatchObject({ detached: 3, connections: 0 });
    expect(server!.gate.held).toBe(3);
    // as many links over the cap as there are detached sessions are let in for them; each must resume, or it is closed
    const squatters = [await connect(url), await connect(url), await connect(url)];
    expect(await refused(connect(url))).toBe(429);
    for (const squatter of squatters)
      expect(await squatter.closed(2_000)).toEqual({ code: 1008, reason: 'too many connections from this address' });
    await new Promise((r) => setTimeout(r, 100));
    // each client comes back in turn and resumes its own session
    for (const s of sessions) {
      const back = await connect(url);
      back.send({ type: 'resume', token: s.token, received: 0 });
      await back.next((m) => m['type'] === 'resumed', 'resumed');
    }
    expect(server!.stats()).toMatchObject({ detached: 0, connections: 3 });
    expect(server!.gate.held).toBe(0);
    expect(await refused(connect(url))).toBe(429);
  });

  it('one address cannot hold more detached sessions than its cap; the sessions past it end', async () => {
    const url = await start(2);
    const first = [await resumable(url), await resumable(url)];
    for (const s of first) await cut(s.c);
    // the squatters that get in on the detached sessions' strength are closed before they detach
    const more = await resumable(url);
    await cut(more.c);
    expect(server!.stats().detached).toBe(2);
    expect(server!.stats().detachRefused).toBeGreaterThanOrEqual(1);
  });

  it('a cap on detached sessions across the server ends the ones past it', async () => {
    const url = await start(100, { maxDetachedSessions: 2 });
    const three = [await resumable(url), await resumable(url), await resumable(url)];
    for (const s of three) await cut(s.c);
    expect(server!.stats()).toMatchObject({ detached: 2, detachRefused: 1 });
  });
});
