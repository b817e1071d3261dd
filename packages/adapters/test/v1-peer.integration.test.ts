// A wire-v1 peer sees only chat: a client written as the seed's stage 4 describes (aiortc, Debian's
// python3-aiortc; it takes whatever channel it is handed as its chat) paired through a real
// tandem-server with a tandem client on werift that has channels and files in use.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createTandemClient, type TandemClient, type TandemClientEvent } from '@tandem/client-core';
import { createWsServer, wsTransport, type WsTandemServer } from '../src/ws.js';
import { MediaStreamTrack } from 'werift';
import { WeriftLocalTrack, weriftPeerFactory } from '../src/werift.js';

const script = fileURLToPath(new URL('./v1-peer.py', import.meta.url));

const until = async (cond: () => boolean, what: string, output: () => string, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; v1 peer said:\n${output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

let server: WsTandemServer | null = null;
const cleanup: (() => void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) c();
  await server?.close();
  server = null;
});

function v1Peer(url: string, target?: string) {
  const child = spawn('/usr/bin/python3', [script, url, ...(target ? [target] : [])], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buf = '';
  const take = (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  cleanup.push(() => child.kill('SIGKILL'));
  return { lines, write: (l: string) => child.stdin.write(`${l}\n`), output: () => lines.join('\n') };
}

function tandem(url: string) {
  const client: TandemClient = createTandemClient({ url, transport: wsTransport(), createPeer: weriftPeerFactory() });
  cleanup.push(() => client.close());
  const events: TandemClientEvent[] = [];
  for (const t of ['message', 'peerFeatures', 'channel', 'error'] as const) client.on(t, (e) => events.push(e));
  return { client, events };
}

describe('a wire-v1 peer (aiortc, written to the seed) paired with a tandem client using channels and files', () => {
  for (const v1Role of ['initiator', 'responder'] as const)
    it(`with the v1 peer as ${v1Role}: it is handed chat only, and chat works both ways`, async () => {
      server = createWsServer({ host: '127.0.0.1', port: 0 });
      const { port } = await server.ready;
      const url = `ws://127.0.0.1:${port}`;
      const t = tandem(url);
      await until(
        () => t.client.id !== null,
        'tandem id',
        () => '',
      );
      const peer = v1Role === 'initiator' ? v1Peer(url, t.client.id!) : v1Peer(url);
      await until(() => peer.lines.some((l) => l.startsWith('*** Your Client ID')), 'v1 id', peer.output);
      if (v1Role === 'responder') t.client.pair(/Your Client ID: (\S+)/.exec(peer.lines.join('\n'))![1]!);
      await until(() => t.client.status === 'open', 'tandem open', peer.output);
      await until(() => peer.lines.includes('*** Data channel opened! ***'), 'v1 open', peer.output);
      await until(() => t.events.some((e) => e.type === 'peerFeatures'), 'features', peer.output);
      expect(t.events.find((e) => e.type === 'peerFeatures')).toMatchObject({ tandem: false });
      // the tandem side tries everything beyond chat: each says the peer cannot
      await expect(t.client.channel('game')).rejects.toMatchObject({ code: 'peer_unsupported' });
      const transfer = t.client.sendFile({
        name: 'x.bin',
        size: 3,
        type: '',
        read: async () => new Uint8Array([1, 2, 3]),
      });
      await expect(transfer.finished).rejects.toThrow(/peer/);
      // and a call: refused here, so no media offer ever reaches the v1 peer
      const camera = new WeriftLocalTrack(new MediaStreamTrack({ kind: 'video' }));
      expect(() => t.client.call([camera])).toThrow(/does not take calls/);
      t.client.send('hello v1');
      await until(() => peer.lines.includes('< Peer: hello v1'), 'chat to v1', peer.output);
      peer.write('hello tandem');
      await until(
        () => t.events.some((e) => e.type === 'message' && e.data === 'hello tandem'),
        'chat from v1',
        peer.output,
      );
      await new Promise((r) => setTimeout(r, 500)); // time for any stray channel to show up
      const handed = peer.lines.filter((l) => l.startsWith('*** datachannel'));
      // a responder is handed the initiator's chat (marked tandem.2, which it ignores); an initiator is handed nothing
      expect(handed).toEqual(v1Role === 'responder' ? ["*** datachannel chat protocol='tandem.2' ***"] : []);
      expect(peer.lines.filter((l) => l.includes('closed'))).toEqual([]);
      expect(peer.lines.filter((l) => l.includes('media offer'))).toEqual([]);
    }, 90_000);
});
