#!/usr/bin/env node
// tandem-client: show your key or connect to another one, then chat over a WebRTC data channel.
import { createInterface } from 'node:readline';
import { Command, Option } from 'commander';
import { createTandemClient } from '@tandem/client-core';
import { wsTransport } from '../ws.js';
import { weriftPeerFactory } from '../werift.js';

const program = new Command('tandem-client')
  .description('Pair with another client through a tandem (or any wire-v1) server and chat over WebRTC')
  .addOption(new Option('--url <url>', 'signaling server URL').default('ws://127.0.0.1:8787').env('TANDEM_URL'))
  .addOption(new Option('--pair <id>', "pair with this client's ID as soon as we have our own"))
  .addOption(new Option('--ice-server <url...>', 'STUN/TURN server URL(s); none by default, so it works offline'))
  .addOption(new Option('--ignore-pings', 'do not answer pings (to test a server timeout)').hideHelp())
  .parse();
const opts = program.opts<{ url: string; pair?: string; iceServer?: string[]; ignorePings?: boolean }>();
const out = (line: string) => process.stdout.write(`${line}\n`);

out(`Connecting to ${opts.url}...`);
const client = createTandemClient({
  url: opts.url,
  transport: wsTransport(),
  createPeer: weriftPeerFactory(),
  iceServers: (opts.iceServer ?? []).map((urls) => ({ urls })),
  answerPings: !opts.ignorePings,
  answersControlPings: !opts.ignorePings,
});
let paired: string | null = null;
let open = false;
let pendingPair = opts.pair ?? null;
client.on('id', ({ id }) => {
  out('Connected.');
  out(`*** Your Client ID: ${id} ***`);
  if (pendingPair) {
    client.pair(pendingPair);
    pendingPair = null;
  } else if (paired === null) out('Share your ID, or type another client ID to connect.');
});
client.on('paired', ({ peerId, initiator }) => {
  paired = peerId;
  out(`*** Paired with ${peerId}! (initiator=${initiator}) ***`);
});
client.on('open', () => {
  open = true;
  out('*** Data channel opened! Type a message and press Enter. ***');
});
client.on('message', ({ data }) => out(`< Peer: ${typeof data === 'string' ? data : `<${data.byteLength} bytes>`}`));
client.on('peerLeft', ({ peerId }) => {
  paired = null;
  open = false;
  out(`*** Peer ${peerId} disconnected. ***`);
  out('Ready for new connection.');
});
client.on('error', ({ message, source }) => out(source === 'server' ? `Server error: ${message}` : `Error: ${message}`));
client.on('reconnecting', ({ attempt, delayMs }) => out(`Signaling connection lost; reconnecting in ${delayMs} ms (attempt ${attempt})...`));

const rl = createInterface({ input: process.stdin, terminal: false });
rl.on('line', (raw) => {
  const line = raw.trim();
  if (line === '') return;
  if (open) client.send(line);
  else if (paired !== null) out('Waiting for data channel...');
  else if (client.id === null) out('Not registered yet; waiting for the server...');
  else client.pair(line);
});
// EOF on stdin does not end the client: it keeps chatting and answering pings until signalled.
rl.on('close', () => undefined);

const stop = () => {
  out('Shutting down...');
  client.close();
  setTimeout(() => process.exit(0), 200).unref();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
