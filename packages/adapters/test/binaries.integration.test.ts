// Seed 003's test lists for stages 1–5, automated: real tandem-server and tandem-client
// processes, real sockets on 127.0.0.1, real werift peers.
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, logHandle as h, startClient, startServer } from './procs.js';
import { startForeignServer } from './foreign-server.js';

afterEach(killAll);

describe('tandem-server with tandem-client processes', () => {
  it('stages 1–5: IDs, pairing, relay, data channel both ways, keepalive, disconnect and re-pair', async () => {
    // a killed client's session is held for the resume grace (1 s here) before its partner is told
    const { server, url } = await startServer(['--ping-interval', '1', '--ping-timeout', '1', '--resume-grace', '1']);
    expect(server.lines[0]).toMatch(/^Server starting\.\.\./);
    const a = await startClient(url);
    const b = await startClient(url);
    expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.id).not.toBe(b.id);
    await server.waitFor(new RegExp(`Client ${h(a.id)} connected`));
    expect(a.client.lines).toContain('Connected.');

    b.client.write(a.id); // typing an ID while unpaired pairs
    await b.client.waitFor(new RegExp(`\\*\\*\\* Paired with ${a.id}! \\(initiator=true\\) \\*\\*\\*`));
    await a.client.waitFor(new RegExp(`\\*\\*\\* Paired with ${b.id}! \\(initiator=false\\) \\*\\*\\*`));
    await server.waitFor(/Paired /);
    await server.waitFor(new RegExp(`Relaying offer from ${h(b.id)} to ${h(a.id)}`));
    await server.waitFor(new RegExp(`Relaying answer from ${h(a.id)} to ${h(b.id)}`));
    await server.waitFor(/Relaying candidate from/);
    await a.client.waitFor(/\*\*\* Data channel opened!/);
    await b.client.waitFor(/\*\*\* Data channel opened!/);
    // both print the call's safety code, the same on both sides (nobody answered either side itself)
    const codeA = (await a.client.waitFor(/^\*\*\* Safety code: (\d{4} \d{4}) \*\*\*$/))[1];
    const codeB = (await b.client.waitFor(/^\*\*\* Safety code: (\d{4} \d{4}) \*\*\*$/))[1];
    expect(codeA).toBe(codeB);
    expect(server.lines.some((l) => l.includes(codeA!))).toBe(false);

    b.client.write('Hello A!');
    await a.client.waitFor(/^< Peer: Hello A!$/);
    a.client.write('Hi B!');
    await b.client.waitFor(/^< Peer: Hi B!$/);

    // idle for several ping intervals: pongs keep both alive
    await new Promise((r) => setTimeout(r, 3500));
    expect(server.count(/timed out/)).toBe(0);
    expect(a.client.count(/disconnected/)).toBe(0);

    await b.client.kill('SIGKILL'); // abrupt loss
    await a.client.waitFor(new RegExp(`\\*\\*\\* Peer ${b.id} disconnected\\. \\*\\*\\*`));
    await a.client.waitFor(/^Ready for new connection\.$/);
    await server.waitFor(new RegExp(`Client ${h(b.id)} disconnected`));

    const c = await startClient(url);
    a.client.write(c.id);
    await c.client.waitFor(new RegExp(`Paired with ${a.id}`));
    await c.client.waitFor(/Data channel opened/);
    await a.client.waitFor(/Data channel opened/);
    c.client.write('hello from C');
    await a.client.waitFor(/^< Peer: hello from C$/);

    // graceful shutdown: clients get a close frame, the server exits 0
    expect(await server.kill('SIGTERM')).toBe(0);
  });

  it('stage 2: every pairing error reaches the requester; nothing changes', async () => {
    const { url } = await startServer();
    const a = await startClient(url);
    const b = await startClient(url, []);
    const c = await startClient(url);
    b.client.write(a.id);
    await a.client.waitFor(/Paired with/);
    await b.client.waitFor(/Data channel opened/);
    // once paired, a typed line is chat — even one that looks like an ID — never a pair request
    b.client.write(c.id);
    await a.client.waitFor(new RegExp(`^< Peer: ${c.id}$`));
    c.client.write('00000000-0000-4000-8000-000000000000');
    await c.client.waitFor(/^Server error: Target client not found$/);
    c.client.write(c.id);
    await c.client.waitFor(/^Server error: Cannot pair with yourself$/);
    c.client.write(a.id);
    await c.client.waitFor(/^Server error: Target client is already paired$/);
    expect(c.client.count(/Paired with/)).toBe(0);
  });

  it('stage 5: a client that ignores pings is dropped after interval + timeout, and its partner is told', async () => {
    const { server, url } = await startServer(['--ping-interval', '1', '--ping-timeout', '1']);
    // the partner first, so the mute one (which times out 2 s after it connects) is asked at once
    const other = await startClient(url);
    const mute = await startClient(url, ['--ignore-pings']);
    other.client.write(mute.id);
    await mute.client.waitFor(/Paired with/);
    const t0 = Date.now();
    // it keeps negotiating traffic for a moment, then goes quiet; the server must cut it off
    await server.waitFor(new RegExp(`Client ${h(mute.id)} timed out`), 15_000);
    expect(Date.now() - t0).toBeLessThan(12_000);
    await other.client.waitFor(new RegExp(`Peer ${mute.id} disconnected`));
    expect(server.count(new RegExp(`Client ${h(other.id)} timed out`))).toBe(0);
  });
});

describe('tandem-client with a foreign wire-v1 server', () => {
  it('pairs, chats both ways, answers JSON pings, learns of a lost peer, and sends nothing beyond v1', async () => {
    const server = await startForeignServer(500, 1000);
    try {
      const a = await startClient(server.url);
      const b = await startClient(server.url);
      b.client.write('00000000-0000-4000-8000-000000000000');
      await b.client.waitFor(/^Server error: Target client not found$/);
      b.client.write(a.id);
      await b.client.waitFor(new RegExp(`Paired with ${a.id}! \\(initiator=true\\)`));
      await a.client.waitFor(new RegExp(`Paired with ${b.id}! \\(initiator=false\\)`));
      await a.client.waitFor(/Data channel opened/);
      await b.client.waitFor(/Data channel opened/);
      b.client.write('over a foreign server');
      await a.client.waitFor(/^< Peer: over a foreign server$/);
      a.client.write('and back');
      await b.client.waitFor(/^< Peer: and back$/);
      // idle past several ping periods: both answer the server's JSON pings and stay
      await new Promise((r) => setTimeout(r, 2500));
      expect(a.client.count(/disconnected|reconnecting/)).toBe(0);
      expect(server.received.filter((t) => t === 'pong').length).toBeGreaterThanOrEqual(4);
      // a v1 server never sees tandem's extensions (no hello: the server advertised nothing)
      expect(new Set(server.received)).toEqual(new Set(['pair_request', 'offer', 'answer', 'candidate', 'pong']));
      await b.client.kill('SIGKILL');
      await a.client.waitFor(new RegExp(`\\*\\*\\* Peer ${b.id} disconnected\\. \\*\\*\\*`));
      await a.client.waitFor(/^Ready for new connection\.$/);
      const c = await startClient(server.url);
      c.client.write(a.id);
      await a.client.waitFor(/Data channel opened/);
      await c.client.waitFor(/Data channel opened/);
    } finally {
      await killAll();
      await server.close();
    }
  });
});
