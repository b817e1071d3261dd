// Resume with real tandem-client processes (werift peers, real sockets): A's signaling link goes
// through a TCP proxy that resets or stalls it for 5 s while A and B chat. The chat goes on, no
// line is lost, B never hears that A left, A keeps its key, and signaling works afterwards.
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, logHandle, startClient, startServer } from './procs.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

const proxies: TcpProxy[] = [];
afterEach(async () => {
  await killAll();
  for (const p of proxies.splice(0)) await p.close();
});

const cases = [
  ['reset', 'responder'],
  ['stall', 'responder'],
  ['reset', 'initiator'],
  ['stall', 'initiator'],
] as const;
describe.each(cases)("a 5 s %s of the %s's signaling link", (cut, whose) => {
  it('never ends the call: same key, no peer_disconnected, every line delivered, signaling works after', async () => {
    const { server, url } = await startServer(['--ping-interval', '1', '--ping-timeout', '1']);
    const proxy = await startTcpProxy(Number(new URL(url).port));
    proxies.push(proxy);
    // A's link goes through the proxy; A is the responder (B asks for A) or the initiator
    const a = await startClient(proxy.url);
    const b = await startClient(url);
    if (whose === 'responder') b.client.write(a.id);
    else a.client.write(b.id);
    await a.client.waitFor(/Data channel opened/);
    await b.client.waitFor(/Data channel opened/);
    a.client.write('before');
    await b.client.waitFor(/^< Peer: before$/);

    const broken = cut === 'reset' ? proxy.reset(5_000) : proxy.stall(5_000);
    // the data channel does not need the server: chat goes on while signaling is down
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 900));
      a.client.write(`a during ${i}`);
      b.client.write(`b during ${i}`);
    }
    await broken;
    await a.client.waitFor(/^\*\*\* Signaling link lost; resuming\.\.\. \*\*\*$/, 10_000);
    await a.client.waitFor(/^\*\*\* Signaling resumed\. \*\*\*$/, 15_000);
    await server.waitFor(new RegExp(`Client ${logHandle(a.id)} resumed its session`));
    for (let i = 0; i < 5; i++) {
      await b.client.waitFor(new RegExp(`^< Peer: a during ${i}$`));
      await a.client.waitFor(new RegExp(`^< Peer: b during ${i}$`));
    }
    a.client.write('after');
    await b.client.waitFor(/^< Peer: after$/);
    expect(b.client.count(/disconnected/)).toBe(0);
    expect(a.client.count(/disconnected/)).toBe(0);
    expect(a.client.count(/Your Client ID/)).toBe(1); // the same key throughout
    expect(server.count(new RegExp(`Notified .* that peer ${logHandle(a.id)} disconnected`))).toBe(0);

    // signaling still works: B leaves and A is told; A's key can be paired with again
    await b.client.kill('SIGINT');
    await a.client.waitFor(new RegExp(`\\*\\*\\* Peer ${b.id} disconnected\\. \\*\\*\\*`));
    const c = await startClient(url);
    c.client.write(a.id);
    await c.client.waitFor(new RegExp(`Paired with ${a.id}`));
    await a.client.waitFor(/Data channel opened/);
  }, 90_000);
});

describe('a client that never comes back', () => {
  it('is announced to its partner once the resume grace has passed', async () => {
    const { server, url } = await startServer(['--resume-grace', '2']);
    const a = await startClient(url);
    const b = await startClient(url);
    b.client.write(a.id);
    await b.client.waitFor(/Data channel opened/);
    const t0 = Date.now();
    await a.client.kill('SIGKILL');
    await server.waitFor(
      new RegExp(`Client ${logHandle(a.id)} lost its link \\(connection lost\\); holding its session for 2 s\\.`),
    );
    await b.client.waitFor(new RegExp(`\\*\\*\\* Peer ${a.id} disconnected\\. \\*\\*\\*`));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_900);
  });
});
