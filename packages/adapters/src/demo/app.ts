/// <reference lib="dom" />
// The demo page: show your key, connect to another, chat. State and errors in plain words.
// Bundled with esbuild (src/demo/bundle.ts, run by the package build and the browser tests) from @tandem/client-core and the browser adapter.
import {
  createTandemClient,
  looksLikeCode,
  plainWords,
  type ClientErrorCode,
  type ClientPublicEvent,
  type ClientStatus,
  type FileOffer,
  type OfferDecision,
  type Transfer,
} from '@tandem/client-core';
import { setupCalls } from './call.js';
import {
  browserFileSource,
  browserFileStore,
  browserPeerFactory,
  browserTransport,
  workerSha256,
} from '@tandem/browser';

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
const shareLink = $<HTMLAnchorElement>('share-link');
const leaveBtn = $<HTMLButtonElement>('leave');
const sendFileBtn = $<HTMLButtonElement>('send-file');
const fileInput = $<HTMLInputElement>('file-input');
const filesHint = $<HTMLSpanElement>('files-hint');
const transfersBox = $<HTMLDivElement>('transfers');
const dropZone = $<HTMLDivElement>('drop-zone');
const getCodeBtn = $<HTMLButtonElement>('get-code');
const codeBox = $<HTMLDivElement>('code-box');
const codeText = $<HTMLDivElement>('code');
const codeLink = $<HTMLAnchorElement>('code-link');
const copyCode = $<HTMLButtonElement>('copy-code');
const codeQr = $<HTMLDivElement>('code-qr');
const verifiedBadge = $<HTMLSpanElement>('verified');

/** The call controls' own render (set once the client exists). */
let renderCall: (() => void) | null = null;
/** What the status line shows: the client's own status, plus "your peer left" until the next pairing. */
type UiState =
  'connecting' | 'waiting' | 'requesting' | 'negotiating' | 'open' | 'peer-left' | 'reconnecting' | 'offline';
const labels: Record<UiState, string> = {
  connecting: 'connecting to the server…',
  waiting: 'waiting — share your key or connect to one',
  requesting: 'asking to pair…',
  negotiating: 'paired — setting up the direct connection…',
  open: 'connected — chat away',
  'peer-left': 'your peer left — ready for a new connection',
  reconnecting: 'can’t reach the server — trying again',
  offline: 'offline — reload the page to try again',
};
const uiStateOf: Record<ClientStatus, UiState> = {
  connecting: 'connecting',
  reconnecting: 'reconnecting',
  registered: 'waiting',
  requesting: 'requesting',
  negotiating: 'negotiating',
  open: 'open',
  offline: 'offline',
  closed: 'offline',
};
/** The server lost the session but the call is up: signaling is being restored around it. */
let restoringSignaling = false;
/** Set when a peer leaves, cleared by the next pairing: the one thing the status cannot say. */
let peerJustLeft = false;
let reconnectDetail = '';
/** Whether the server ever gave this page a key: after that, connecting again is reconnecting. */
let hadKey = false;
const render = () => {
  const s = client.status;
  // an outage is one state, said once: its retries (connecting, reconnecting, …) do not flap it
  const ui: UiState =
    s === 'registered' && peerJustLeft ? 'peer-left' : s === 'connecting' && hadKey ? 'reconnecting' : uiStateOf[s];
  status.dataset['state'] = ui;
  // while signaling resumes the chat itself goes on: one sentence says both
  status.textContent = restoringSignaling
    ? `${labels[ui]} (the server restarted; reconnecting this call to it)`
    : client.resuming && ui !== 'reconnecting'
      ? `${labels[ui]} (the server connection dropped; reconnecting in the background)`
      : labels[ui] + (ui === 'reconnecting' ? reconnectDetail : '');
  // a key nobody can reach while the server is away: shown dimmed, not offered for copying
  const away = ui === 'connecting' || ui === 'reconnecting' || ui === 'offline';
  myKey.dataset['stale'] = String(away);
  copy.disabled = away || myKey.value === '';
  shareLink.hidden = away || myKey.value === '';
  status.dataset['restoring'] = String(restoringSignaling);
  status.dataset['resuming'] = String(client.resuming);
  connectBtn.disabled = s !== 'registered';
  getCodeBtn.disabled = s !== 'registered';
  status.dataset['verified'] = String(client.verified);
  verifiedBadge.hidden = !(client.verified && s === 'open');
  message.disabled = send.disabled = s !== 'open';
  leaveBtn.disabled = s !== 'open' && s !== 'negotiating';
  const takesFiles = s === 'open' && client.peer?.features.includes('files') === true;
  sendFileBtn.disabled = !takesFiles;
  filesHint.textContent =
    s === 'open' && client.peer !== null && !takesFiles
      ? 'your peer cannot take files (it only chats)'
      : 'or drop files on the page';
  if (s === 'open') message.focus();
  renderCall?.();
};
let scrollPlanned = false;
const note = (text: string, cls: 'me' | 'peer' | 'note') => {
  const p = document.createElement('p');
  p.className = cls;
  p.textContent = text;
  log.append(p);
  // scrolled at the next frame, not here: reading scrollHeight in an event handler forces a
  // layout, and 'paired' / 'status' come while the peer connection is being set up
  if (!scrollPlanned) {
    scrollPlanned = true;
    requestAnimationFrame(() => {
      scrollPlanned = false;
      log.scrollTop = log.scrollHeight;
    });
  }
};

/** Errors in plain words, by code (the wire text stays visible on hover, for searching). */
const plain = plainWords;
const showError = (e: Extract<ClientPublicEvent, { type: 'error' }>) => {
  errorBox.textContent = plain[e.code] ?? e.message;
  errorBox.title = `${e.source} (${e.code}): ${e.message}`;
};

const ownOrigin = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
const ownServer = `${ownOrigin}/`;
/**
 * `?server=` may name this page's own server, or one the operator allowed (--demo-allow-server,
 * told in a meta tag): a link to the real page must not make it talk to someone else's server.
 */
const wsUrl = ((): string => {
  const asked = new URLSearchParams(location.search).get('server');
  if (asked === null) return ownServer;
  const allowed = new Set(
    (document.querySelector('meta[name="tandem-allow-server"]')?.getAttribute('content') ?? '')
      .split(' ')
      .filter(Boolean),
  );
  let origin: string | null = null;
  try {
    const u = new URL(asked);
    if (u.protocol === 'ws:' || u.protocol === 'wss:') origin = `${u.protocol}//${u.host}`;
  } catch {
    origin = null;
  }
  if (origin !== null && (origin === ownOrigin || allowed.has(origin))) return asked;
  queueMicrotask(() => {
    errorBox.textContent = `This page may not use the server ${asked}: it talks to its own server unless the operator allows others (--demo-allow-server).`;
  });
  return ownServer;
})();
/**
 * `#token=` and `#pair=<key>` (the fragment never reaches a server or a proxy log), then taken out
 * of the address bar: a share link pairs with that key as soon as this page has its own.
 */
const fragment = new URLSearchParams(location.hash.slice(1));
const token = fragment.get('token') ?? undefined;
let pairOnOpen = fragment.get('pair')?.trim() || null;
/** `#code=<code>`: a link to someone's code joins it as soon as this page has its key. */
let joinOnOpen = fragment.get('code')?.trim() || null;
if (token !== undefined || pairOnOpen !== null || joinOnOpen !== null)
  history.replaceState(null, '', location.pathname + location.search);
// the page's file worker hashes and writes the parts (a sync access handle, straight to the file)
const fileWorker = new URL('./hash-worker.js', import.meta.url);
const store = browserFileStore({ worker: fileWorker });
/** Offers waiting for Accept/Decline, by transfer id. */
const asking = new Map<string, (yes: boolean) => void>();
const onFileOffer = async (offer: FileOffer): Promise<OfferDecision> => {
  const yes = await new Promise<boolean>((resolve) => {
    asking.set(offer.id, resolve);
    rowOf(offer.id)?.showChoice(offer);
  });
  asking.delete(offer.id);
  return yes ? store.decide(offer) : { decline: 'declined by the user' };
};
const client = createTandemClient({
  url: wsUrl,
  transport: browserTransport(),
  createPeer: browserPeerFactory(),
  onFileOffer,
  files: {
    // files are hashed in a worker, off the thread the data channels' messages arrive on
    createHash: workerSha256(fileWorker),
    // between browsers (256 KiB messages allowed) 64 KiB messages with 256 KiB queued keep the
    // stack busy with a quarter of the sends; a peer that states less gets what it states
    fragmentBytes: 64 * 1024,
    dataThreshold: 256 * 1024,
    chunkBytes: 1024 * 1024,
  },
  ...(token !== undefined ? { token } : {}),
});
// for people poking at it in devtools
(globalThis as { tandem?: unknown }).tandem = client;
(globalThis as { tandemFiles?: unknown }).tandemFiles = store;
renderCall = setupCalls(client, note);

client.on('status', render);
client.on('restoring', () => {
  restoringSignaling = true;
  render();
});
client.on('signalingRestored', ({ id }) => {
  restoringSignaling = false;
  note(`signaling restored (new key ${id})`, 'note');
  render();
});
client.on('id', ({ id }) => {
  hadKey = true;
  myKey.value = id;
  // a link that pairs on open, with the key in the fragment: no server ever logs it
  shareLink.href = `${location.origin}${location.pathname}${location.search}#pair=${encodeURIComponent(id)}`;
  render();
  if (pairOnOpen !== null) {
    peerKey.value = pairOnOpen;
    client.pair(pairOnOpen);
    pairOnOpen = null;
  }
  if (joinOnOpen !== null) {
    peerKey.value = joinOnOpen;
    client.joinCode(joinOnOpen);
    joinOnOpen = null;
  }
});
client.on('paired', ({ peerId }) => {
  errorBox.textContent = '';
  peerJustLeft = false;
  note(`paired with ${peerId}`, 'note');
  render();
});
client.on('open', () => note('direct connection open', 'note'));
client.on('message', ({ data }) =>
  note(`peer: ${typeof data === 'string' ? data : `<${data.byteLength} bytes>`}`, 'peer'),
);
client.on('peerLeft', ({ peerId, reason }) => {
  note(reason === 'left' ? `you left ${peerId}` : `${peerId} left (${reason.replace('_', ' ')})`, 'note');
  peerJustLeft = true;
  restoringSignaling = false;
  render();
});
client.on('error', showError);
client.on('reconnecting', ({ delayMs, resuming, attempt }) => {
  reconnectDetail = delayMs < 1000 ? '…' : ` in ${Math.round(delayMs / 1000)} s`;
  // a session that cannot be resumed gets a new key: the old one is gone
  if (!resuming) myKey.value = '';
  if (resuming && attempt === 1) note('signaling link lost; resuming…', 'note');
  render();
});
client.on('pathLost', () => note('direct connection lost; restarting ICE…', 'note'));
client.on('pathRestored', () => note('direct connection restored', 'note'));
client.on('resumed', () => note('signaling resumed', 'note'));
client.on('dropped', ({ count }) => note(`${count} message(s) dropped: the send queue was full`, 'note'));

client.on('peerFeatures', render);

// the call's safety code, for the two people to compare; it goes with the call
const safety = $<HTMLDivElement>('safety');
const safetyCode = $<HTMLElement>('safety-code');
const safetyHint = $<HTMLElement>('safety-hint');
client.on('safetyCode', ({ code }) => {
  safetyCode.textContent = code;
  safetyHint.textContent = 'the same on your peer’s screen: nobody is in between';
  safety.hidden = false;
});
client.on('safetyCodeFailed', ({ reason }) => {
  safetyCode.textContent = '—';
  safetyHint.textContent = `no safety code for this call: ${reason}`;
  safety.hidden = false;
});
const hideSafety = () => {
  safety.hidden = true;
  safetyCode.textContent = '';
};
client.on('peerLeft', hideSafety);

/** One transfer's row: name, progress bar, speed, then the SHA-256 and a download link (or the reason it failed). */
interface Row {
  showChoice(offer: FileOffer): void;
}
const rows = new Map<string, Row>();
const rowOf = (id: string) => rows.get(id);
const mib = (n: number) => (n / 1048576).toFixed(1);
const el = <K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, text = '') => {
  const e = document.createElement(tag);
  e.className = cls;
  e.textContent = text;
  return e;
};
client.on('transfer', ({ transfer }) => {
  const box = el('div', 'transfer');
  box.dataset['id'] = transfer.id;
  box.dataset['direction'] = transfer.direction;
  box.dataset['state'] = transfer.state;
  const top = el('div', 'line');
  const name = el('span', 'name', `${transfer.direction === 'send' ? '↑' : '↓'} ${transfer.name}`);
  const bar = el('progress', 'bar');
  bar.max = Math.max(1, transfer.size);
  bar.value = 0;
  const speed = el('span', 'speed', transfer.direction === 'send' ? 'waiting for your peer…' : '');
  const cancel = el('button', 'cancel', 'Cancel');
  cancel.type = 'button';
  cancel.onclick = () => transfer.cancel('cancelled');
  top.append(name, bar, speed, cancel);
  const detail = el('div', 'detail');
  box.append(top, detail);
  transfersBox.append(box);
  let started = 0;
  let from = 0;
  const set = (state: Transfer['state']) => (box.dataset['state'] = state);
  // progress is drawn at most every 250 ms: each repaint costs both pages CPU the transfer needs
  let latest = 0;
  let drawn = 0;
  let drawTimer: ReturnType<typeof setTimeout> | undefined;
  const draw = () => {
    drawTimer = undefined;
    if (transfer.state === 'done' || transfer.state === 'failed') return;
    drawn = performance.now();
    set(transfer.state);
    bar.value = latest;
    const rate = (latest - from) / Math.max(0.001, (drawn - started) / 1000);
    const eta = rate > 0 ? Math.ceil((transfer.size - latest) / rate) : null;
    speed.textContent = `${mib(latest)}/${mib(transfer.size)} MiB · ${mib(rate)} MiB/s${eta === null ? '' : ` · ${eta} s left`}`;
  };
  transfer.on('progress', ({ bytes }) => {
    if (started === 0) {
      started = performance.now();
      from = bytes;
    }
    latest = bytes;
    if (drawTimer === undefined) drawTimer = setTimeout(draw, Math.max(0, 250 - (performance.now() - drawn)));
  });
  transfer.on('done', ({ name: saved, size, sha256, resumedFrom }) => {
    set('done');
    bar.value = bar.max;
    cancel.remove();
    speed.textContent = `${size} bytes${resumedFrom > 0 ? ` (resumed at ${resumedFrom})` : ''}`;
    detail.replaceChildren(el('div', 'sha256', `sha256 ${sha256}`));
    if (transfer.direction === 'receive') {
      const blob = store.saved(saved);
      if (blob !== undefined) {
        const a = el('a', 'download', `Save ${saved}`);
        a.href = URL.createObjectURL(blob);
        a.download = saved;
        detail.append(a);
      }
      note(`received ${saved}`, 'note');
    } else note(`sent ${transfer.name}`, 'note');
  });
  transfer.on('failed', ({ reason }) => {
    set('failed');
    cancel.remove();
    speed.textContent = '';
    detail.textContent = reason;
    asking.get(transfer.id)?.(false);
  });
  rows.set(transfer.id, {
    showChoice(offer) {
      speed.textContent = `${offer.size} bytes offered`;
      const accept = el('button', 'accept', 'Accept');
      const decline = el('button', 'decline', 'Decline');
      accept.type = decline.type = 'button';
      const answer = (yes: boolean) => {
        accept.remove();
        decline.remove();
        speed.textContent = yes ? 'accepted' : 'declined';
        asking.get(offer.id)?.(yes);
      };
      accept.onclick = () => answer(true);
      decline.onclick = () => answer(false);
      top.insertBefore(accept, cancel);
      top.insertBefore(decline, cancel);
    },
  });
});
const sendFiles = (files: FileList | File[]) => {
  if (sendFileBtn.disabled) return void (errorBox.textContent = 'Connect to a peer that takes files first.');
  for (const f of Array.from(files)) client.sendFile(browserFileSource(f));
};
sendFileBtn.onclick = () => fileInput.click();
fileInput.onchange = () => {
  if (fileInput.files) sendFiles(fileInput.files);
  fileInput.value = '';
};
// drop files anywhere on the page
let dragDepth = 0;
document.addEventListener('dragenter', (e) => {
  if (!e.dataTransfer?.types.includes('Files')) return;
  dragDepth++;
  dropZone.hidden = sendFileBtn.disabled;
});
document.addEventListener('dragleave', () => {
  if (--dragDepth <= 0) dropZone.hidden = true;
});
document.addEventListener('dragover', (e) => e.preventDefault());
document.addEventListener('drop', (e) => {
  e.preventDefault();
  dragDepth = 0;
  dropZone.hidden = true;
  if (e.dataTransfer?.files.length) sendFiles(e.dataTransfer.files);
});

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
  if (key === '') return void (errorBox.textContent = "Paste the other person's key, or type their code, first.");
  errorBox.textContent = '';
  // a code (a number, then words) joins by code; anything else is a key
  if (looksLikeCode(key)) client.joinCode(key);
  else client.pair(key);
};

// pairing by code: the code in large type, a link with it in the fragment, the link as a QR code
getCodeBtn.onclick = () => {
  errorBox.textContent = '';
  client.requestCode();
};
client.on('code', ({ code }) => {
  codeText.textContent = code;
  codeLink.href = `${location.origin}${location.pathname}${location.search}#code=${encodeURIComponent(code)}`;
  codeBox.hidden = false;
  codeQr.replaceChildren();
  void import('./qr.js').then(({ renderSVG }) => {
    if (codeText.textContent !== code) return; // a newer code came meanwhile
    const svg = new DOMParser().parseFromString(renderSVG(codeLink.href), 'image/svg+xml').documentElement;
    codeQr.replaceChildren(document.importNode(svg, true));
  });
});
copyCode.onclick = async () => {
  try {
    await navigator.clipboard.writeText(codeLink.href);
    copyCode.textContent = 'Copied';
  } catch {
    copyCode.textContent = 'Copy the link above';
  }
  setTimeout(() => (copyCode.textContent = 'Copy'), 1500);
};
client.on('codeClosed', ({ reason }) => {
  codeBox.hidden = true;
  if (reason === 'burnt')
    note('someone tried your code and did not confirm it: it is gone for good — get a new one', 'note');
  if (reason === 'expired') note('your code expired unused — get a new one', 'note');
});
client.on('codeRejected', ({ reason }) => (errorBox.textContent = `That code did not work: ${reason}`));
client.on('verified', () => {
  note('verified ✓ — your peer holds the same code, and nobody is in between', 'note');
  render();
});
client.on('verificationFailed', ({ reason }) => {
  errorBox.textContent = `Verification failed — this was not your peer's call, or the code was wrong. Nothing was sent. (${reason})`;
  note('verification failed: the call was closed before anything was sent', 'note');
  render();
});
connectBtn.onclick = connect;
leaveBtn.onclick = () => client.leave();
peerKey.onkeydown = (e) => e.key === 'Enter' && connect();
form.onsubmit = (e) => {
  e.preventDefault();
  const text = message.value;
  if (text === '' || client.status !== 'open') return;
  client.send(text);
  note(`you: ${text}`, 'me');
  message.value = '';
};
render();
