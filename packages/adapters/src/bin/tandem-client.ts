#!/usr/bin/env node
// tandem-client: show your key or connect to another one, then chat over a WebRTC data channel.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { clearLine, createInterface, cursorTo, type Interface } from 'node:readline';
import { Command, InvalidArgumentError, Option } from 'commander';
import { renderUnicodeCompact } from 'uqr';
import { DEFAULT_URL } from '@tandem/protocol';
import { parseCode } from '@tandem/client-core/codes';
import {
  createTandemClient,
  plainWords,
  unreachableWords,
  type FileOffer,
  type OfferDecision,
} from '@tandem/client-core';
import { byteSize, urlOf, versionLine } from './cli-args.js';
import { nodeFileSource, nodeFileStore, nodeSha256 } from '../files.js';
import { progressLine } from './progress-line.js';
import { wsTransport } from '../ws.js';
import { setupClientCalls } from './client-calls.js';
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
      '--download-dir <dir>',
      'take files the peer sends into this folder without asking (up to --max-file-size); without it, a terminal is asked and anything else declines',
    ).env('TANDEM_DOWNLOAD_DIR'),
  )
  .addOption(
    new Option('--max-file-size <size>', 'largest file taken (e.g. 500M, 2G)')
      .default(2 * 1024 ** 3, '2G')
      .argParser(byteSize),
  )
  .addOption(new Option('--send <path>', 'send this file as soon as the call is open (like /send)'))
  .addOption(
    new Option(
      '--record <file.webm>',
      'answer incoming calls (receiving only) and record what the peer sends to this WebM file',
    ),
  )
  .addOption(
    new Option(
      '--send-video <file.webm>',
      'once the call is open, call the peer with this WebM file (VP8/Opus, looped)',
    ),
  )
  .addOption(
    new Option(
      '--code',
      'pair by code: print a short code (a number and two words) to read out or send; whoever joins it is verified before anything flows',
    ).conflicts(['pair', 'join']),
  )
  .addOption(
    new Option('--join <code>', 'join the code another tandem-client (or page) printed; verified before anything flows')
      .conflicts(['pair'])
      .argParser((v) => {
        if (parseCode(v) === null) throw new InvalidArgumentError(`not a code (a number, then words): ${v}`);
        return v;
      }),
  )
  .addOption(new Option('--qr', "with --code, also print a QR code of a link to the server's page that joins the code"))
  .addOption(
    new Option('--code-words <n>', 'words in a code made with --code (11 bits each)').default(2).argParser((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 2 || n > 16) throw new InvalidArgumentError('a whole number from 2 to 16');
      return n;
    }),
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
  downloadDir?: string;
  maxFileSize: number;
  send?: string;
  record?: string;
  sendVideo?: string;
  code?: boolean;
  join?: string;
  codeWords: number;
  qr?: boolean;
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
// On a terminal, input is read by readline (its own line editing) and every printed line is put
// above the line being typed, which is drawn again after it: a message arriving mid-word leaves
// the half-typed input intact, on its own line. Pipes and files get plain lines.
const terminal = process.stdin.isTTY === true && process.stdout.isTTY === true;
let rl: Interface | undefined;
const out = (line: string) => {
  progress.clear();
  if (terminal && rl !== undefined) {
    clearLine(process.stdout, 0);
    cursorTo(process.stdout, 0);
    process.stdout.write(`${line}\n`);
    rl.prompt(true);
  } else process.stdout.write(`${line}\n`);
  progress.draw();
};

const progress = progressLine(process.stderr);

/** This user's identity for file resumes, kept across runs so a file sent again after a restart resumes too. */
async function fileIdentity(): Promise<string> {
  const dir = join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'tandem');
  const file = join(dir, 'file-identity');
  try {
    const kept = (await readFile(file, 'utf8')).trim();
    if (/^[0-9a-f]{32}$/.test(kept)) return kept;
  } catch {
    // none yet
  }
  const fresh = randomBytes(16).toString('hex');
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(file, fresh, { mode: 0o600 });
  } catch {
    // a read-only home: resumes then work within this run only
  }
  return fresh;
}

const downloadDir = opts.downloadDir === undefined ? undefined : resolve(opts.downloadDir);
if (downloadDir !== undefined) {
  const isDir = await stat(downloadDir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir)
    program.error(`error: option '--download-dir <dir>' argument '${opts.downloadDir}' is invalid. not a folder`);
}
const store = nodeFileStore({ dir: downloadDir ?? process.cwd(), maxFileSize: opts.maxFileSize });
/** Offers waiting for a y/n on the terminal, oldest first. */
const asking: { offer: FileOffer; answer: (yes: boolean) => void }[] = [];
const onFileOffer = async (offer: FileOffer): Promise<OfferDecision> => {
  if (downloadDir !== undefined) return store.decide(offer);
  if (!process.stdin.isTTY) return { decline: 'this client takes files only with --download-dir' };
  if (offer.size > opts.maxFileSize) return store.decide(offer); // declined with the reason
  out(`*** ${offer.name} (${offer.size} bytes) offered: take it into ${process.cwd()}? [y/N] ***`);
  const yes = await new Promise<boolean>((answer) => asking.push({ offer, answer }));
  return yes ? store.decide(offer) : { decline: 'declined by the user' };
};

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
  restoreCalls: !opts.ignorePings, // a client playing dead does not restore its calls either
  ...(token !== undefined ? { token } : {}),
  files: { createHash: nodeSha256, identity: await fileIdentity() },
  onFileOffer,
});
const calls = setupClientCalls(client, out, {
  ...(opts.record !== undefined ? { record: resolve(opts.record) } : {}),
  ...(opts.sendVideo !== undefined ? { sendVideo: resolve(opts.sendVideo) } : {}),
});
client.on('transfer', ({ transfer }) => {
  progress.track(transfer);
  if (transfer.direction === 'receive')
    transfer.on('done', ({ name, size, sha256, resumedFrom }) => {
      if (resumedFrom > 0) out(`*** Resumed ${name} at ${resumedFrom} bytes (a part kept from an earlier try) ***`);
      out(`*** Received ${name} (${size} bytes, sha256 ${sha256}) ***`);
    });
  else transfer.on('done', ({ size }) => out(`*** Sent ${transfer.name} (${size} bytes) ***`));
  transfer.on('failed', ({ reason }) => out(`*** Transfer failed: ${transfer.name}: ${reason} ***`));
});
/** Send a file from disk (the path is relative to the current folder). */
async function sendFile(path: string): Promise<void> {
  let source;
  try {
    source = await nodeFileSource(resolve(path));
  } catch (err) {
    return out(
      `*** Transfer failed: ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message} ***`,
    );
  }
  out(`*** Sending ${source.name} (${source.size} bytes)... ***`);
  client.sendFile(source);
}
let sendOnOpen = opts.send ?? null;
/** `--pair` is asked once, as soon as the server assigned our ID. */
let pairOnRegister = opts.pair ?? null;
/** `--code` and `--join` too. */
let codeOnRegister = opts.code === true;
let joinOnRegister = opts.join ?? null;
// pairing by code: the code to hand out, and how the call's verification went (before any chat line)
client.on('code', ({ code }) => {
  out(`*** Your code: ${code} ***`);
  if (opts.qr !== true) return;
  // the server's own page joins it (the code rides in the fragment, which no server sees)
  const page = new URL(opts.url);
  page.protocol = page.protocol === 'wss:' ? 'https:' : 'http:';
  const link = `${page.origin}/#code=${code}`;
  out(`*** Or open ${link} ***`);
  out(renderUnicodeCompact(link, { border: 1 }));
});
client.on('codeClosed', ({ reason, detail }) => {
  if (reason !== 'burnt') return;
  // someone tried the code and did not confirm: it is gone for good; make a new one
  out(`*** Code burnt: someone tried it${detail ? ` (${detail})` : ''}; here is a new one ***`);
  client.requestCode({ words: opts.codeWords });
});
client.on('codeRejected', ({ reason }) => {
  out(`*** Code rejected: ${reason} ***`);
  if (opts.join !== undefined) {
    client.close();
    setTimeout(() => process.exit(3), 200).unref();
  }
});
client.on('verified', () => out('*** Verified peer ***'));
client.on('verificationFailed', ({ reason }) => {
  out(`*** Verification failed: ${reason} ***`);
  if (opts.join !== undefined) {
    client.close();
    setTimeout(() => process.exit(4), 200).unref();
  }
});
/** Signaling is being restored around a live call: its fresh key is told in one line when done. */
let restoring = false;
client.on('restoring', () => (restoring = true));
client.on('signalingRestored', ({ id }) => {
  restoring = false;
  out(`*** Signaling restored (new key ${id}) ***`);
});
client.on('id', ({ id }) => {
  if (restoring) return; // the call goes on: no "Connected." or new-ID banner in the middle of it
  out('Connected.');
  out(`*** Your Client ID: ${id} ***`);
  if (pairOnRegister) {
    client.pair(pairOnRegister);
    pairOnRegister = null;
  } else if (codeOnRegister) {
    codeOnRegister = false;
    client.requestCode({ words: opts.codeWords });
  } else if (joinOnRegister !== null) {
    client.joinCode(joinOnRegister);
    joinOnRegister = null;
  } else if (client.status === 'registered') out('Share your ID, or type another client ID to connect.');
});
client.on('paired', ({ peerId, initiator }) => out(`*** Paired with ${peerId}! (initiator=${initiator}) ***`));
client.on('open', () => {
  out('*** Data channel opened! Type a message and press Enter. ***');
  calls.onOpen();
  if (sendOnOpen !== null) {
    const path = sendOnOpen;
    sendOnOpen = null;
    void sendFile(path);
  }
  // which path the call took: host (direct), srflx (through a NAT, via STUN), relay (through TURN)
  void client.selectedPath().then((path) => {
    if (path !== null)
      out(
        `*** Path: ${path.local} ↔ ${path.remote}${path.local === 'relay' || path.remote === 'relay' ? ' (through a TURN relay)' : ''} ***`,
      );
  });
});
// compare it with the peer's, out loud or on screen: a relay answering each side itself makes them differ
client.on('safetyCode', ({ code }) => out(`*** Safety code: ${code} ***`));
client.on('safetyCodeFailed', ({ reason }) => out(`*** Safety code unavailable: ${reason} ***`));
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

const commands: Record<string, { help: string; run: (rest: string) => void }> = {
  '/help': { help: 'list these commands', run: () => help() },
  '/send': {
    help: 'send a file: /send PATH (relative to this folder, no quoting)',
    run: (rest) => {
      if (rest === '') return out('Usage: /send PATH');
      if (client.status !== 'open') return out('Not connected to a peer: connect first, then /send.');
      void sendFile(rest);
    },
  },
  '/leave': { help: 'end this connection; you keep your key and can connect again', run: () => client.leave() },
  '/quit': { help: 'close the chat and exit (as Ctrl+C does)', run: () => stop() },
};
const help = () => {
  out('Type a key to connect, or a message once connected. Commands:');
  for (const [name, c] of Object.entries(commands)) out(`  ${name.padEnd(6)} ${c.help}`);
  out('  //...  send a line that starts with /');
};
rl = terminal
  ? createInterface({ input: process.stdin, output: process.stdout, terminal: true, prompt: '' })
  : createInterface({ input: process.stdin, terminal: false });
// readline in terminal mode takes Ctrl+C itself: it ends the client as the signal would
rl.on('SIGINT', stop);
rl.on('line', (raw) => {
  let line = raw.trim();
  if (line === '') return;
  // an offer waiting on the terminal takes the next y/n
  const ask = asking[0];
  if (ask !== undefined && /^(y|yes|n|no)$/i.test(line)) {
    asking.shift();
    return ask.answer(/^y/i.test(line));
  }
  // a line starting with / is a command, never chat or a key; // sends a literal /
  if (line.startsWith('//')) line = line.slice(1);
  else if (line.startsWith('/')) {
    const name = line.split(/\s/)[0]!;
    const command = commands[name];
    if (command === undefined) return out(`Unknown command ${name}; /help lists them.`);
    return command.run(line.slice(name.length).trim());
  }
  switch (client.status) {
    case 'open':
      return client.send(line);
    case 'negotiating':
      return out('Waiting for data channel...');
    case 'registered':
      // a key only if it has the shape of the keys this server hands out (judged by our own)
      if (client.id !== null && !keyShaped(line, client.id))
        return out('not a key; type a key to connect, or wait for your peer');
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

/** Whether `line` looks like a key of this server's: our own key's length, separators and kind of characters. */
function keyShaped(line: string, own: string): boolean {
  if (line.length !== own.length) return false;
  const hex = /^[0-9a-f\W_]*$/i.test(own);
  for (let i = 0; i < own.length; i++) {
    const o = own[i]!;
    const c = line[i]!;
    if (/[A-Za-z0-9]/.test(o)) {
      if (!(hex ? /[0-9a-f]/i : /[A-Za-z0-9]/).test(c)) return false;
    } else if (c !== o) return false;
  }
  return true;
}

let stopping = false;
function stop(): void {
  if (stopping) return process.exit(0); // a second signal always exits
  stopping = true;
  out('Shutting down...');
  // a recording is finalized first (its WebM cues and duration), then the call goes
  void calls.finish().finally(() => {
    client.close();
    setTimeout(() => process.exit(0), 200).unref();
  });
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
