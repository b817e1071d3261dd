/// <reference lib="dom" />
// The demo page: show your key, connect to another, chat. State and errors in plain words.
// Bundled with esbuild (scripts/bundle-demo.mjs) from @tandem/client-core and the browser adapter.
import { createTandemClient, type ClientPublicEvent } from '@tandem/client-core';
import { browserPeerFactory, browserTransport } from '../browser.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $<HTMLSpanElement>('status');
const myKey = $<HTMLInputElement>('my-key');
const copy = $<HTMLButtonElement>('copy');
const peerKey = $<HTMLInputElement>('peer-key');
const connectBtn = $<HTMLButtonElement>('connect');
const errorBox = $<HTMLDivElement>('error');
const log = $<HTMLDivElement>('log');
const form = $<HTMLFormElement>('chat');
const message = $<HTMLInputElement>('message');
const send = $<HTMLButtonElement>('send');

type UiState = 'connecting' | 'waiting' | 'requesting' | 'negotiating' | 'open' | 'peer-left' | 'reconnecting' | 'offline';
const labels: Record<UiState, string> = {
  connecting: 'connecting to the server…',
  waiting: 'waiting — share your key or connect to one',
  requesting: 'asking to pair…',
  negotiating: 'paired — setting up the direct connection…',
  open: 'connected — chat away',
  'peer-left': 'your peer left — ready for a new connection',
  reconnecting: 'lost the server — reconnecting…',
  offline: 'offline — reload the page to try again',
};
let state: UiState = 'connecting';
const setState = (s: UiState, detail = '') => {
  state = s;
  status.dataset['state'] = s;
  status.textContent = labels[s] + detail;
  const registered = client.id !== null && s !== 'reconnecting' && s !== 'offline';
  connectBtn.disabled = !registered || s === 'requesting' || s === 'negotiating' || s === 'open';
  message.disabled = send.disabled = s !== 'open';
  if (s === 'open') message.focus();
};
const note = (text: string, cls: 'me' | 'peer' | 'note') => {
  const p = document.createElement('p');
  p.className = cls;
  p.textContent = text;
  log.append(p);
  log.scrollTop = log.scrollHeight;
};

/** Server and client errors in plain words (the wire text stays visible for searching). */
const plain: [RegExp, string][] = [
  [/Target client not found/, 'No one is online with that key. Check that you copied all of it.'],
  [/Cannot pair with yourself/, "That's your own key — paste the other person's key."],
  [/Target client is already paired/, 'That person is already talking to someone else.'],
  [/You are already paired/, 'You are already connected to someone.'],
  [/Not connected to the signaling server/, 'Still connecting to the server — try again in a moment.'],
];
const showError = (e: Extract<ClientPublicEvent, { type: 'error' }>) => {
  const words = plain.find(([re]) => re.test(e.message))?.[1] ?? e.message;
  errorBox.textContent = words;
  errorBox.title = `${e.source}: ${e.message}`;
  if (state === 'requesting') setState('waiting');
};

const wsUrl = new URLSearchParams(location.search).get('server') ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
const client = createTandemClient({ url: wsUrl, transport: browserTransport, createPeer: browserPeerFactory });
// for people poking at it in devtools
(globalThis as { tandem?: unknown }).tandem = client;

client.on('id', ({ id }) => {
  myKey.value = id;
  copy.disabled = false;
  if (state === 'connecting' || state === 'reconnecting') setState('waiting');
});
client.on('paired', ({ peerId }) => {
  errorBox.textContent = '';
  note(`paired with ${peerId}`, 'note');
  setState('negotiating');
});
client.on('open', () => {
  note('direct connection open', 'note');
  setState('open');
});
client.on('message', ({ data }) => note(`peer: ${typeof data === 'string' ? data : `<${data.byteLength} bytes>`}`, 'peer'));
client.on('peerLeft', ({ peerId, reason }) => {
  note(`${peerId} left (${reason.replace('_', ' ')})`, 'note');
  setState('peer-left');
});
client.on('error', showError);
client.on('reconnecting', ({ delayMs }) => setState('reconnecting', ` (in ${(delayMs / 1000).toFixed(1)} s)`));
client.on('dropped', ({ count }) => note(`${count} message(s) dropped: the send queue was full`, 'note'));
client.on('closed', () => setState('offline'));

copy.onclick = async () => {
  try {
    await navigator.clipboard.writeText(myKey.value);
    copy.textContent = 'Copied';
  } catch {
    myKey.select(); // clipboard blocked (plain http): leave it selected for Ctrl+C
    copy.textContent = 'Press Ctrl+C';
  }
  setTimeout(() => (copy.textContent = 'Copy'), 1500);
};
const connect = () => {
  const key = peerKey.value.trim();
  if (key === '') return void (errorBox.textContent = "Paste the other person's key first.");
  errorBox.textContent = '';
  setState('requesting');
  client.pair(key);
};
connectBtn.onclick = connect;
peerKey.onkeydown = (e) => e.key === 'Enter' && connect();
form.onsubmit = (e) => {
  e.preventDefault();
  const text = message.value;
  if (text === '' || state !== 'open') return;
  client.send(text);
  note(`you: ${text}`, 'me');
  message.value = '';
};
setState('connecting');
