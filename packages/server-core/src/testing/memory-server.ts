// An in-memory transport for the engine: real engine, fake link (h11's ConnectionPair idea).
// Used by this package's tests, by client-core's tests and by the conformance suite's in-memory
// target. Time is a number the caller moves; nothing here sets a timer.
import { ResumeLedger, encode, uncountedServerTypes, type ClientMessage } from '@tandem/protocol';
import { ServerEngine, type ServerEngineOptions } from '../engine.js';
import type { Connection, Principal } from '../connection.js';
import type { ConnectionClose, ServerLogEvent } from '../effects.js';

/** One in-memory client socket. */
export interface MemoryClient {
  /** Frames the server sent, in order (text frames; `'<ws-ping>'` for control pings). */
  readonly received: string[];
  /** Parsed JSON of each received text frame (control pings left out). */
  messages(): Record<string, unknown>[];
  /** The engine's record, e.g. to read the ID. */
  readonly conn: Connection<MemoryClient>;
  /** Send a text (or binary) frame to the server. */
  send(frame: string | Uint8Array, binary?: boolean): void;
  /** Answer a control ping (what a WebSocket stack does by itself). */
  pong(): void;
  /** Close from the client side (1000 by default; 1006 is a lost link). */
  close(code?: number): void;
  /** Set when the server closed us: code, reason text, and whether it cut the link without a handshake. */
  closedBy: { code: number; reason: string; abrupt: boolean } | null;
  /**
   * Whether the client reads its socket (default true). When false, frames the server sends pile
   * up in `queuedBytes` (the server's view of an unread socket) instead of `received`.
   */
  reading: boolean;
  /** Bytes the server queued that this client has not read. */
  queuedBytes: number;
  /** Called on every frame the server sends (after it is recorded). */
  onFrame: ((frame: string) => void) | null;
  /** Called when the server closes this client. */
  onClose: ((code: number, reason: string) => void) | null;
}

/** A ServerEngine wired to in-memory clients and a manual clock. */
export class MemoryServer {
  readonly engine: ServerEngine<MemoryClient>;
  /** Every structured log event, in order. */
  readonly logs: ServerLogEvent[] = [];
  /** Links the engine said no longer carry a detached session, in order. */
  readonly released: MemoryClient[] = [];
  /** Current time in ms. */
  now = 1_000_000;
  private seq = 0;

  constructor(options: Partial<Omit<ServerEngineOptions<MemoryClient>, 'sink'>> = {}) {
    let seed = 42;
    this.engine = new ServerEngine<MemoryClient>({
      generateId:
        options.generateId ?? (() => `id-${(++this.seq).toString(36)}-${Math.random().toString(36).slice(2, 10)}`),
      random:
        options.random ??
        (() => {
          seed = (seed * 1103515245 + 12345) % 2 ** 31;
          return seed / 2 ** 31;
        }),
      settings: options.settings,
      directory: options.directory,
      ...(options.generateToken ? { generateToken: options.generateToken } : {}),
      ...(options.iceServers ? { iceServers: options.iceServers } : {}),
      ...(options.addressOf ? { addressOf: options.addressOf } : {}),
      sink: {
        send: (c, frame) => {
          if (!c.reading) {
            c.queuedBytes += frame.length;
            return;
          }
          c.received.push(frame);
          c.onFrame?.(frame);
        },
        bufferedBytes: (c) => c.queuedBytes,
        ping: (c) => {
          c.received.push('<ws-ping>');
        },
        close: (c, close: ConnectionClose) => {
          c.closedBy = { code: close.code, reason: close.text, abrupt: close.abrupt };
          c.onClose?.(close.code, close.text);
        },
        log: (e) => this.logs.push(e),
        linkReleased: (c) => this.released.push(c),
      },
    });
  }

  /** Open a new client connection, authorized as `principal` when given. */
  connect(principal?: Principal): MemoryClient {
    const server = this;
    const client: MemoryClient = {
      received: [],
      messages: () =>
        client.received.filter((f) => f !== '<ws-ping>').map((f) => JSON.parse(f) as Record<string, unknown>),
      conn: undefined as unknown as Connection<MemoryClient>,
      send(frame, binary = false) {
        // the engine decides what a link it no longer serves may do (a resumed session's link moved on)
        if (client.closedBy === null) server.engine.receive(client.conn, frame, server.now, binary);
      },
      pong() {
        server.engine.heard(client.conn, server.now);
      },
      close(code) {
        server.engine.closed(client.conn, server.now, code);
      },
      closedBy: null,
      reading: true,
      queuedBytes: 0,
      onFrame: null,
      onClose: null,
    };
    (client as { conn: Connection<MemoryClient> }).conn = this.engine.open(client, this.now, principal);
    return client;
  }

  /** Move the clock forward by `ms`, ticking the engine at each wheel step like a real adapter would. */
  advance(ms: number): void {
    const end = this.now + ms;
    const step = this.engine.settings.tickMs;
    while (this.now < end) {
      this.now = Math.min(end, this.now + step);
      this.engine.advance(this.now);
    }
  }
}

/**
 * A resumable client written from the protocol text (capability `resume`): counts, acks, keeps and
 * replays, reading its link only when pumped, so tests can lose frames in flight on purpose.
 */
export class ResumingMemoryClient {
  link: MemoryClient;
  readonly ledger = new ResumeLedger();
  token = '';
  readonly id: string;
  /** Relayed offers' sdp, in the order the client took them in. */
  readonly got: string[] = [];
  readonly peerDisconnects: string[] = [];
  private read = 0;
  cut = false;
  constructor(
    private s: MemoryServer,
    principal?: Principal,
  ) {
    this.link = s.connect(principal);
    this.id = this.link.conn.id;
    this.link.send(encode({ type: 'hello', version: 2, capabilities: ['resume'] }));
    this.pump();
  }
  send(message: ClientMessage): void {
    const frame = encode(message);
    this.ledger.sending(frame);
    if (!this.cut) this.link.send(frame);
  }
  /** Take in what arrived on the link. */
  pump(): void {
    if (this.link.closedBy !== null) this.cut = true;
    if (this.cut) return;
    for (; this.read < this.link.received.length; this.read++) this.take(this.link.received[this.read]!);
  }
  private take(frame: string): void {
    const m = JSON.parse(frame) as Record<string, unknown>;
    const type = String(m['type']);
    if ((type === 'welcome' || type === 'resumed') && typeof m['resume_token'] === 'string')
      this.token = m['resume_token'];
    if (type === 'ack' && !this.ledger.acknowledged(Number(m['received'])))
      throw new Error(`server acked ${String(m['received'])} of ${this.ledger.sent}`);
    if (type === 'ping') this.link.send('{"type":"pong"}');
    if (uncountedServerTypes.has(type)) return;
    if (this.ledger.receiving(frame.length)) this.link.send(encode({ type: 'ack', received: this.ledger.received }));
    if (type === 'offer') this.got.push(String(m['sdp']));
    if (type === 'peer_disconnected') this.peerDisconnects.push(String(m['peer_id']));
  }
  /** The link breaks; `lose` frames that were on their way to us are lost with it. */
  breakLink(kind: 'close' | 'half-open', lose: number): void {
    // take in all but the last `lose` frames; those were still on their way and die with the link
    const keep = Math.max(this.read, this.link.received.length - lose);
    for (; this.read < keep; this.read++) this.take(this.link.received[this.read]!);
    if (kind === 'close') this.link.close(1006);
    this.cut = true;
  }
  /** Come back on a new link, through `via` (another node of the cluster) or the same server. */
  resume(via: MemoryServer = this.s, principal?: Principal): Record<string, unknown> {
    this.cut = false;
    this.s = via;
    this.link = this.s.connect(principal);
    this.read = 1; // your_id of the fresh link
    this.link.send(encode({ type: 'resume', token: this.token, received: this.ledger.received }));
    const reply = JSON.parse(this.link.received[1]!) as Record<string, unknown>;
    if (reply['type'] !== 'resumed') return reply;
    this.read = 2;
    this.token = String(reply['resume_token']);
    this.ledger.ackSent();
    for (const frame of this.ledger.replayAfter(Number(reply['received']))!) this.link.send(frame);
    this.pump();
    return reply;
  }
}

/** Two resumable clients of `s`, the first paired with the second, both having read the answer. */
export function pairResumable(s: MemoryServer): { a: ResumingMemoryClient; b: ResumingMemoryClient } {
  const a = new ResumingMemoryClient(s);
  const b = new ResumingMemoryClient(s);
  a.send({ type: 'pair_request', target_id: b.id });
  a.pump();
  b.pump();
  return { a, b };
}

/** One macrotask turn of Node's loop, for `MemoryHub.flush` (the core owns no scheduler). */
export const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
