// A call outlives its signaling server, with the real binaries: a tandem-server killed with -9 and
// started again on its port while two tandem-clients (werift) chat. Every line before, during and
// after arrives; nobody is told the peer left; each prints one line with its new key; no chat line
// reaches the server; leaving afterwards is announced to the other side; a line that is not a key
// is not sent to the server as a pair request.
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, start, startClient, startServer } from './procs.js';

afterEach(killAll);

describe('a call outlives its signaling server', () => {
  it('kill -9 and restart of the server: the chat goes on, signaling is restored around it with new keys', async () => {
    const first = await startServer();
    const port = new URL(first.url).port;
    const a = await startClient(first.url);
    const b = await startClient(first.url, ['--pair', a.id]);
    await a.client.waitFor(/Data channel opened/, 30_000);
    await b.client.waitFor(/Data channel opened/, 30_000);
    await new Promise((r) => setTimeout(r, 500)); // the call's control channel is up: both are tandem clients
    a.client.write('before the crash');
    await b.client.waitFor(/^< Peer: before the crash$/);

    await first.server.kill('SIGKILL');
    a.client.write('while the server is down');
    await b.client.waitFor(/^< Peer: while the server is down$/);
    b.client.write('and back while it is down');
    await a.client.waitFor(/^< Peer: and back while it is down$/);

    const second = start('tandem-server', ['--port', port]);
    await second.waitFor(/Listening on /);
    const newA = (await a.client.waitFor(/^\*\*\* Signaling restored \(new key (\S+)\) \*\*\*$/, 30_000))[1]!;
    const newB = (await b.client.waitFor(/^\*\*\* Signaling restored \(new key (\S+)\) \*\*\*$/, 30_000))[1]!;
    expect(newA).not.toBe(a.id);
    expect(newB).not.toBe(b.id);
    a.client.write('after the restart');
    await b.client.waitFor(/^< Peer: after the restart$/);
    // the restarted server paired the call's two ends under their new keys
    await second.waitFor(/^Paired /);

    for (const c of [a, b]) {
      expect(c.client.count(/disconnected|left|Ready for new connection/)).toBe(0);
      expect(c.client.count(/Signaling restored/)).toBe(1);
      expect(c.client.count(/Your Client ID/)).toBe(1); // no new-ID banner in the middle of the call
    }
    for (const line of ['before the crash', 'while the server is down', 'after the restart'])
      expect(second.lines.some((l) => l.includes(line))).toBe(false);

    // B leaving afterwards is announced to A, through the restored pairing
    b.client.write('/leave');
    await a.client.waitFor(new RegExp(`^\\*\\*\\* Peer ${newB} disconnected\\. \\*\\*\\*$`), 20_000);
    // with no call, a line that is not shaped like a key is not sent to the server
    await a.client.waitFor(/Ready for new connection/);
    a.client.write('after restart?');
    await a.client.waitFor(/^not a key; type a key to connect, or wait for your peer$/);
    expect(second.lines.some((l) => l.includes('after restart?'))).toBe(false);
  }, 120_000);
});
