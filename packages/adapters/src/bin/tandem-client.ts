#!/usr/bin/env node
// tandem-client: show your key or connect to another one, then chat over a WebRTC data channel.
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_URL } from '@tandem/protocol';
import { createTandemClient, plainWords, unreachableWords } from '@tandem/client-core';
import { urlOf, versionLine } from './cli-args.js';
import { wsTransport } from '../ws.js';
import { weriftPeerFactory } from '../werift.js';

const program = new Command('tandem-client')
  .description('Pair with another client through a tandem (or any wire-v1) server and chat over WebRTC')
  .version(versionLine('tandem-client'), '-V, --version', 'print tandem-client and its version')
  .addOption(
    new Option('--url <url>', 'signaling server URL (ws:// or wss://)')
      .default(DEFAULT_URL)
      .argParser(urlOf(['ws:', 'wss:']))
      .env('TANDEM_URL'),
  )
  .addOption(
    new Option('--pair <id>', "pair with this client's ID as soon as we have our own").argParser((v) => {
      if (v.trim() === '') throw new InvalidArgumentError('an empty key');
      return v.trim();
    }),
  )
  .addOption(
    new Option(
      '--ice-server <url...>',
      'STUN/TURN server URL(s), used with those the server hands out; none by default (no third-party server is ever contacted)',
    ).argParser((v: string, previous: string[] = []) => {
      if (!/^(stun|stuns|turn|turns):[^\s]+$/.test(v))
        throw new InvalidArgumentError(`not a stun:, stuns:, turn: or turns: URL: ${v}`);
      return [...previous, v];
    }),
  )
  .addOption(
    new Option('--relay-only', "connect through TURN relays only, so the peer never learns this host's addresses"),
  )
  .addOption(new Option('--no-resume', 'do not ask the server to keep the session through a dropped link'))
  .addOption(
    new Option(
      '--token <token>',
      'token for a server that requires one (sent as a WebSocket subprotocol, never in the URL); prefer --token-file or TANDEM_TOKEN: a command line is visible to every local user',
    ).env('TANDEM_TOKEN'),
  )
  .addOption(
    new Option(
      '--token-file <file>',
      'read the token from this file, again before every reconnect (so a token rotated in the file is picked up)',
    ).env('TANDEM_TOKEN_FILE'),
  )
  .addOption(
    new Option(
      '--ignore-pings',
      'do not answer pings and do not resume: behave like a dead client (to test a server timeout)',
    ).hideHelp(),
  )
  .parse();
const opts = program.opts<{
  url: string;
  pair?: string;
  iceServer?: string[];
  relayOnly?: boolean;
  ignorePings?: boolean;
  resume: boolean;
  token?: string;
  tokenFile?: string;
}>();
if (opts.token !== undefined && opts.tokenFile !== undefined)
  program.error('error: give the token once: --token or --token-file');
const tokenFile = opts.tokenFile;
const token =
  tokenFile === undefined
    ? opts.token
    : async () => {
        try {
          return (await readFile(tokenFile, 'utf8')).trim();
        } catch (err) {
          throw new Error(`cannot read --token-file: ${(err as Error).message}`);
        }
      };
const out = (line: string) => process.stdout.write(`${line}\n`);

out(`Connecting to ${opts.url}...`);
const client = createTandemClient({
  url: opts.url,
  transport: wsTransport(),
  createPeer: weriftPeerFactory(),
  iceServers: (opts.iceServer ?? []).map((urls) => ({ urls })),
  relayOnly: opts.relayOnly === true,
  answerPings: !opts.ignorePings,
  answersControlPings: !opts.ignorePings,
  resume: opts.resume && !opts.ignorePings,
  ...(token !== undefined ? { token } : {}),
});
/** `--pair` is asked once, as soon as the server assigned our ID. */
let pairOnRegister = opts.pair ?? null;
client.on('id', ({ id }) => {
  out('Connected.');
  out(`*** Your Client ID: ${id} ***`);
  if (pairOnRegister) {
    client.pair(pairOnRegister);
    pairOnRegister = null;
  } else if (client.status === 'registered') out('Share your ID, or type another client ID to connect.');
});
client.on('paired', ({ peerId, initiator }) => out(`*** Paired with ${peerId}! (initiator=${initiator}) ***`));
client.on('open', () => {
  out('*** Data channel opened! Type a message and press Enter. ***');
  // which path the call took: host (direct), srflx (through a NAT, via STUN), relay (through TURN)
  void client.selectedPath().then((path) => {
    if (path !== null)
      out(
        `*** Path: ${path.local} ↔ ${path.remote}${path.local === 'relay' || path.remote === 'relay' ? ' (through a TURN relay)' : ''} ***`,
      );
  });
});
client.on('message', ({ data }) => out(`< Peer: ${typeof data === 'string' ? data : `<${data.byteLength} bytes>`}`));
client.on('peerLeft', ({ peerId, reason }) => {
  out(reason === 'left' ? `*** Left ${peerId}. ***` : `*** Peer ${peerId} disconnected. ***`);
  out('Ready for new connection.');
});
client.on('error', ({ code, message, source }) => {
  out(source === 'server' ? `Server error: ${message}` : `Error: ${message}`);
  // the wire text stays (scripts match it); the same plain words as the page follow it
  const words = plainWords[code];
  if (words !== undefined) out(`  ${words}`);
});
/** Whether the server ever gave us an ID: until then a failed connect is "cannot reach", said once. */
let everConnected = false;
let unreachableSaid = '';
client.on('id', () => {
  everConnected = true;
  unreachableSaid = '';
});
client.on('reconnecting', ({ attempt, delayMs, resuming, reason }) => {
  if (!everConnected) {
    // never connected: say why once (and again only if the reason changes), keep retrying quietly
    const words = unreachableWords(opts.url, reason);
    if (words !== unreachableSaid) out(`*** ${words} ***`);
    unreachableSaid = words;
    return;
  }
  // while resuming, the peer connection (and the chat) carry on: say so once per loss
  if (resuming && attempt === 1) out('*** Signaling link lost; resuming... ***');
  else if (!resuming) out(`Signaling connection lost; reconnecting in ${delayMs} ms (attempt ${attempt})...`);
});
client.on('resumed', () => out('*** Signaling resumed. ***'));
client.on('pathLost', () => out('*** Connection path lost; restarting ICE... ***'));
client.on('pathRestored', () => out('*** Connection path restored. ***'));

const commands: Record<string, { help: string; run: () => void }> = {
  '/help': { help: 'list these commands', run: () => help() },
  '/leave': { help: 'end this connection; you keep your key and can connect again', run: () => client.leave() },
  '/quit': { help: 'close the chat and exit (as Ctrl+C does)', run: () => stop() },
};
const help = () => {
  out('Type a key to connect, or a message once connected. Commands:');
  for (const [name, c] of Object.entries(commands)) out(`  ${name.padEnd(6)} ${c.help}`);
};
const rl = createInterface({ input: process.stdin, terminal: false });
rl.on('line', (raw) => {
  const line = raw.trim();
  if (line === '') return;
  // a line starting with / is a command, never chat or a key
  if (line.startsWith('/')) {
    const command = commands[line.split(/\s/)[0]!];
    if (command === undefined) return out(`Unknown command ${line.split(/\s/)[0]}; /help lists them.`);
    return command.run();
  }
  switch (client.status) {
    case 'open':
      return client.send(line);
    case 'negotiating':
      return out('Waiting for data channel...');
    case 'registered':
      return client.pair(line);
    case 'requesting':
      return out('Waiting for the pairing answer...');
    default:
      return out('Not registered yet; waiting for the server...');
  }
});
// End of input from a terminal (Ctrl+D) ends the client; from a pipe or /dev/null it does not:
// scripts and background runs keep chatting and answering pings until signalled.
rl.on('close', () => {
  if (process.stdin.isTTY) stop();
});

function stop(): void {
  out('Shutting down...');
  client.close();
  setTimeout(() => process.exit(0), 200).unref();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
