// File transfer between two tandem clients, I/O-free: the bytes come from a FileSource and go to
// a FileSink the embedder supplies (disk in Node, a Blob or the File System Access API in a
// browser), so the core never holds more than a transfer's window.
//
// On `tandem.files` (ordered, reliable; JSON text):
//   sender → receiver  {t:'offer', id, name, size, type, sha256, from}
//   receiver → sender  {t:'accept', id, offset, prefix} | {t:'decline', id, reason}
//   receiver → sender  {t:'ack', id, bytes}           bytes written so far (the sender's window)
//   receiver → sender  {t:'done', id, sha256}         the whole file hashed and matched, saved
//   either way         {t:'failed', id, reason} | {t:'cancel', id, reason}
// The data of each transfer goes on its own channel `tandem.file.<id>` (no head-of-line blocking
// between transfers, nor with chat): first a text `{"offset":n}`, then the bytes from n on.
// Resume: a receiver holding the first `offset` bytes of the same file (same SHA-256, size and
// sender) accepts with that offset and the SHA-256 of those bytes; the sender checks that prefix
// against its own file and continues from there, or from 0 if it differs. Either way the receiver
// hashes the whole file as written and keeps it only if it matches the offered hash.
import { sha256 } from '@noble/hashes/sha2';
import { ChannelError, concat, INTEROPERABLE_MESSAGE_BYTES, type TandemChannel } from './channels.js';
import type { ChannelHub } from './channel-hub.js';
import { refusedTransfer, TransferState, transferId } from './transfer.js';
export { numberedName, safeFileName } from './file-names.js';

import { FILE_DATA_PREFIX, FILES_LABEL } from './features.js';
export { FILE_DATA_PREFIX, FILES_LABEL } from './features.js';

/** A streaming SHA-256 (WebCrypto cannot hash incrementally). */
export interface Hasher {
  /** Take bytes (the caller does not touch them afterwards). A promise makes the caller wait (backpressure). */
  update(bytes: Uint8Array): void | Promise<void>;
  digest(): Uint8Array | Promise<Uint8Array>;
  /** A copy with the same state (to digest a prefix and go on hashing). */
  clone(): Hasher;
}
/** Makes hashers; default @noble/hashes' SHA-256 (Node passes node:crypto's, which is faster). */
export type HasherFactory = () => Hasher;
export const nobleSha256: HasherFactory = () => wrapNoble(sha256.create());
const wrapNoble = (h: ReturnType<typeof sha256.create>): Hasher => ({
  update: (b) => void h.update(b),
  digest: () => h.digest(),
  clone: () => wrapNoble(h.clone()),
});

/** Where a sent file's bytes come from. */
export interface FileSource {
  /** The name offered (a base name; the receiver cleans it anyway). */
  readonly name: string;
  readonly size: number;
  /** A media type, e.g. `application/pdf`; '' if unknown. */
  readonly type: string;
  /** `length` bytes at `offset` (fewer only at the end of the file). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * SHA-256 of the first `length` bytes in one go, where the source can do it faster than the
   * streaming hasher (a page: WebCrypto over the file's bytes). Without it the sender hashes chunk by chunk.
   */
  digest?(length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}

/** Where a received file's bytes go. */
export interface FileSink {
  /** Bytes already held of this very file from an earlier, cut transfer (0: none). */
  readonly held: number;
  /** Read held bytes back (to hash the prefix). */
  readHeld(offset: number, length: number): Promise<Uint8Array>;
  /** Drop what is held and start from 0. */
  truncate(): Promise<void>;
  /** Append. */
  write(bytes: Uint8Array): Promise<void>;
  /**
   * SHA-256 of the first `length` bytes the part holds, read back from where they were written, in
   * one go (a page: the part read from the origin-private file system and hashed by WebCrypto).
   * With it the receiver checks the file with what was written instead of hashing the bytes as
   * they arrive; without it they stream through `createHash`.
   */
  digest?(length: number): Promise<Uint8Array>;
  /** The hash matched: make it the file. Resolves to the name it was saved under. */
  commit(): Promise<string>;
  /** The transfer ended without a file: keep the part for a resume (`keep`), or drop it. */
  abort(keep: boolean): Promise<void>;
}

/** An offer as the receiver sees it. */
export interface FileOffer {
  readonly id: string;
  /** The name as the sender offered it (clean it before use: `safeFileName`). */
  readonly name: string;
  readonly size: number;
  readonly type: string;
  /** Hex SHA-256 of the whole file, as the sender states it. */
  readonly sha256: string;
  /** The sender's identity for resumes (stable across its calls, if it keeps one). */
  readonly from: string;
}

/** Progress and outcome of one transfer, either side. */
export type TransferEvent =
  | { type: 'progress'; bytes: number; size: number }
  | { type: 'done'; name: string; size: number; sha256: string; resumedFrom: number }
  | { type: 'failed'; reason: string };

/** One transfer, as either side sees it. */
export interface Transfer {
  readonly id: string;
  readonly direction: 'send' | 'receive';
  readonly name: string;
  readonly size: number;
  /** Bytes the receiver has written (the sender learns them from acks). */
  readonly bytes: number;
  readonly state: 'hashing' | 'offered' | 'transferring' | 'verifying' | 'done' | 'failed';
  /** Receiving: the most bytes this transfer held received but not yet written (never above the window). */
  readonly peakHeld: number;
  on<T extends TransferEvent['type']>(type: T, listener: (e: Extract<TransferEvent, { type: T }>) => void): () => void;
  /** Resolves when done (the receiver has the file, hash checked), rejects with the reason otherwise. */
  readonly finished: Promise<{ name: string; size: number; sha256: string; resumedFrom: number }>;
  /** Cancel from this side; the other side is told. */
  cancel(reason?: string): void;
}

/** Settings of file transfer, all with safe defaults. */
export interface FilesOptions {
  /** Bytes a sender may have sent beyond what the receiver has written. Default 4 MiB. */
  readonly windowBytes?: number;
  /** Size of each read from the source and of each message on the data channel. Default 256 KiB. */
  readonly chunkBytes?: number;
  readonly createHash?: HasherFactory;
  /** This side's identity for resumes; default a random one per client. */
  readonly identity?: string;
  /** Transfers in flight at once, each way. Default 8. */
  readonly maxTransfers?: number;
  /** The data channel's backpressure threshold: how much of the file may wait in the stack. Default 64 KiB. */
  readonly dataThreshold?: number;
  /**
   * The data channel's largest message (capped by the peer's `a=max-message-size`). Default 16 KiB;
   * between browsers 64 KiB (with a `dataThreshold` of 256 KiB) runs at the bare channel's speed.
   */
  readonly fragmentBytes?: number;
}

/** The most bytes written to a sink at once. */
const COALESCE_BYTES = 1024 * 1024;
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const HEX64 = /^[0-9a-f]{64}$/;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** What the receiving app answers to an offer. */
export type OfferDecision = { accept: FileSink } | { decline: string };

/** Decides on each offer (ask the user, check sizes, pick a folder). */
export type OfferHandler = (offer: FileOffer) => OfferDecision | Promise<OfferDecision>;

/** File transfer over one call's channels. */
export class FileTransfers {
  private control: TandemChannel | null = null;
  private readonly outgoing = new Map<string, Outgoing>();
  private readonly incoming = new Map<string, Incoming>();
  private readonly opts: Required<Omit<FilesOptions, 'identity'>> & { identity: string };
  private ready: Promise<TandemChannel>;
  private closed = false;
  /** The most bytes any incoming transfer held received but not yet written (the window bound, checked by tests). */
  maxHeld = 0;

  constructor(
    private readonly hub: ChannelHub,
    private readonly decide: OfferHandler,
    private readonly onTransfer: (t: Transfer) => void,
    options: FilesOptions = {},
  ) {
    this.opts = {
      windowBytes: options.windowBytes ?? 4 * 1024 * 1024,
      chunkBytes: options.chunkBytes ?? 256 * 1024,
      createHash: options.createHash ?? nobleSha256,
      maxTransfers: options.maxTransfers ?? 8,
      dataThreshold: options.dataThreshold ?? 64 * 1024,
      fragmentBytes: options.fragmentBytes ?? INTEROPERABLE_MESSAGE_BYTES,
      identity: options.identity ?? hex(crypto.getRandomValues(new Uint8Array(16))),
    };
    let resolveReady!: (c: TandemChannel) => void;
    let rejectReady!: (e: Error) => void;
    this.ready = new Promise((resolve, reject) => ((resolveReady = resolve), (rejectReady = reject)));
    this.ready.catch(() => undefined);
    // the initiator opens the control channel; the responder takes it
    hub.route(FILES_LABEL, (channel) => {
      if (this.control !== null) return channel.close();
      this.useControl(channel);
      resolveReady(channel);
    });
    hub.route(FILE_DATA_PREFIX, (channel) => this.dataChannel(channel));
    this.openControl = async () => {
      try {
        const channel = await hub.open(FILES_LABEL, { ordered: true }, undefined, 'files');
        await channel.opened();
        if (this.control === null) {
          this.useControl(channel);
          resolveReady(channel);
        } else channel.close();
      } catch (err) {
        rejectReady(err as Error);
      }
    };
    this.failReady = rejectReady;
  }
  private readonly openControl: () => Promise<void>;
  private readonly failReady: (e: Error) => void;

  /** The initiator's side opens the control channel once the peer does files. */
  start(initiator: boolean): void {
    this.hub.onPeer((peer) => {
      if (!peer.tandem || !peer.features.includes('files'))
        return this.failReady(new ChannelError('peer_unsupported', 'the peer does not take files'));
      if (initiator) void this.openControl();
    });
  }

  /** A transfer that fails at once (no call, no files). */
  static refused(source: FileSource, reason: string): Transfer {
    return refusedTransfer(source, reason);
  }

  /** Send a file; the transfer reports its progress and outcome. */
  send(source: FileSource, options: { id?: string; announce?: boolean } = {}): Transfer {
    const id = options.id ?? transferId();
    const t = new Outgoing(id, source, this.opts, () => this.ready, this.hub);
    if (this.outgoing.size >= this.opts.maxTransfers) {
      queueMicrotask(() => t.fail(`too many transfers at once (at most ${this.opts.maxTransfers})`));
      return t;
    }
    this.outgoing.set(id, t);
    void t.finished.then(
      () => this.outgoing.delete(id),
      () => this.outgoing.delete(id),
    );
    if (options.announce !== false) this.onTransfer(t);
    void t.run();
    return t;
  }

  /** Transfers in flight. */
  get active(): Transfer[] {
    return [...this.outgoing.values(), ...this.incoming.values()].filter((t) => !t.over);
  }

  /** The call ended: every transfer in flight fails (a receiver keeps its part for a resume). */
  close(reason = 'the call ended'): void {
    if (this.closed) return;
    this.closed = true;
    this.failReady(new ChannelError('closed', reason));
    for (const t of this.outgoing.values()) t.fail(reason);
    for (const t of this.incoming.values()) t.cut(reason);
  }

  private useControl(channel: TandemChannel): void {
    this.control = channel;
    channel.on('message', ({ data }) => {
      if (typeof data !== 'string') return;
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(data) as Record<string, unknown>;
      } catch {
        return;
      }
      if (typeof m.id !== 'string' || !ID.test(m.id)) return;
      this.controlMessage(m.id, m);
    });
    channel.on('close', () => this.close('the files channel closed'));
  }

  private controlMessage(id: string, m: Record<string, unknown>): void {
    const out = this.outgoing.get(id);
    const inc = this.incoming.get(id);
    switch (m.t) {
      case 'offer':
        return void this.offer(id, m);
      case 'accept':
        return out?.accepted(Number(m.offset), typeof m.prefix === 'string' ? m.prefix : '');
      case 'decline':
        return out?.fail(`declined: ${String(m.reason ?? '').slice(0, 200)}`);
      case 'ack':
        return out?.acked(Number(m.bytes));
      case 'done':
        return out?.confirmed();
      case 'failed':
      case 'cancel': {
        const reason = `${m.t === 'cancel' ? 'cancelled by the peer' : 'failed at the peer'}: ${String(m.reason ?? '').slice(0, 200)}`;
        out?.fail(reason);
        return inc?.cut(reason, m.t === 'cancel');
      }
    }
  }

  private async offer(id: string, m: Record<string, unknown>): Promise<void> {
    const reply = (r: object) => this.sendControl({ ...r, id });
    if (this.incoming.has(id)) return;
    const size = m.size;
    if (
      typeof m.name !== 'string' ||
      typeof size !== 'number' ||
      !Number.isSafeInteger(size) ||
      size < 0 ||
      typeof m.sha256 !== 'string' ||
      !HEX64.test(m.sha256)
    )
      return reply({ t: 'decline', reason: 'a malformed offer' });
    if (this.incoming.size >= this.opts.maxTransfers)
      return reply({ t: 'decline', reason: 'too many transfers at once' });
    const offer: FileOffer = {
      id,
      name: m.name.slice(0, 1024),
      size,
      type: typeof m.type === 'string' ? m.type.slice(0, 255) : '',
      sha256: m.sha256,
      from: typeof m.from === 'string' ? m.from.slice(0, 64) : '',
    };
    const t = new Incoming(offer, this.opts, reply, (held) => (this.maxHeld = Math.max(this.maxHeld, held)));
    this.incoming.set(id, t);
    this.onTransfer(t);
    let decision: OfferDecision;
    try {
      decision = await this.decide(offer);
    } catch (err) {
      decision = { decline: (err as Error).message };
    }
    if (this.closed || t.over) {
      if ('accept' in decision) await decision.accept.abort(true).catch(() => undefined);
      return;
    }
    if ('decline' in decision) {
      reply({ t: 'decline', reason: decision.decline });
      return t.fail(`declined: ${decision.decline}`);
    }
    await t.accept(decision.accept);
  }

  private dataChannel(channel: TandemChannel): void {
    const id = channel.label.slice(FILE_DATA_PREFIX.length);
    const t = this.incoming.get(id);
    if (t === undefined || !t.expectsData) return channel.close();
    t.attach(channel);
  }

  private sendControl(m: object): void {
    try {
      this.control?.send(JSON.stringify(m));
    } catch {
      // closed: the transfers fail with the call
    }
  }
}

/** The sender's side of one transfer. */
class Outgoing extends TransferState {
  private sha = '';
  private acks = 0;
  private wake: (() => void) | null = null;
  private accept: { offset: number; prefix: string } | null = null;
  private acceptWaiter: (() => void) | null = null;
  private data: TandemChannel | null = null;
  private resumedFrom = 0;
  constructor(
    id: string,
    private readonly source: FileSource,
    private readonly opts: Required<Omit<FilesOptions, 'identity'>> & { identity: string },
    private readonly control: () => Promise<TandemChannel>,
    private readonly hub: ChannelHub,
  ) {
    super(id, 'send', source.name, source.size, 'hashing');
    // the data channel stays up until the receiver, told on the control channel, closes it: a close
    // seen first would read as a cut (and keep the part for a resume)
    this.onCancel = (reason) => {
      void this.control()
        .then((c) => c.send(JSON.stringify({ t: 'cancel', id, reason })))
        .catch(() => undefined);
    };
  }

  async run(): Promise<void> {
    try {
      this.sha = await this.hash(this.source.size);
      if (this.over) return;
      const control = await this.control();
      if (this.over) return;
      this.state = 'offered';
      control.send(
        JSON.stringify({
          t: 'offer',
          id: this.id,
          name: this.source.name,
          size: this.source.size,
          type: this.source.type,
          sha256: this.sha,
          from: this.opts.identity,
        }),
      );
      await new Promise<void>((resolve) => (this.accept !== null ? resolve() : (this.acceptWaiter = resolve)));
      if (this.over) return;
      let offset = Math.min(Math.max(0, this.accept!.offset), this.source.size);
      if (offset > 0 && (await this.hash(offset)) !== this.accept!.prefix) offset = 0; // not our bytes: start over
      this.resumedFrom = offset;
      this.acks = offset;
      this.state = 'transferring';
      this.progress(offset);
      // a low threshold keeps little of the file queued in the stack ahead of chat (werift sends
      // every channel's messages from one queue, in order)
      const data = await this.hub.open(
        `${FILE_DATA_PREFIX}${this.id}`,
        { ordered: true },
        { bufferedAmountLowThreshold: this.opts.dataThreshold, fragmentBytes: this.opts.fragmentBytes },
        'files',
      );
      this.data = data;
      data.on('close', () => {
        if (!this.over && this.state === 'transferring' && this.acks < this.size) this.fail('the data channel closed');
      });
      await data.opened();
      await data.write(JSON.stringify({ offset }));
      // each chunk is read while the one before goes out (a read is an IPC or a system call: the
      // channel must not run dry waiting for it); nothing goes out past the receiver's window
      const chunk = Math.min(this.opts.chunkBytes, this.opts.windowBytes);
      const read = (from: number) => {
        const p = this.source.read(from, Math.min(chunk, this.source.size - from));
        p.catch(() => undefined); // a read left behind by a cancel must not go unhandled
        return p;
      };
      let at = offset;
      let next = at < this.source.size ? read(at) : null;
      while (next !== null && !this.over) {
        const bytes = await next;
        if (bytes.byteLength === 0) throw new Error('the file got shorter while it was sent');
        const after = at + bytes.byteLength;
        next = after < this.source.size ? read(after) : null;
        while (after - this.acks > this.opts.windowBytes && !this.over)
          await new Promise<void>((resolve) => (this.wake = resolve));
        if (this.over) break;
        await data.write(bytes);
        at = after;
      }
      if (!this.over) this.state = 'verifying';
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err));
    } finally {
      if (this.over) await this.source.close?.().catch(() => undefined);
    }
  }

  accepted(offset: number, prefix: string): void {
    if (this.accept !== null || !Number.isSafeInteger(offset)) return;
    this.accept = { offset, prefix };
    this.acceptWaiter?.();
  }
  acked(bytes: number): void {
    if (!Number.isSafeInteger(bytes) || bytes <= this.acks || bytes > this.size) return;
    this.acks = bytes;
    this.progress(bytes);
    const w = this.wake;
    this.wake = null;
    w?.();
  }
  confirmed(): void {
    this.data?.close();
    this.succeed(this.source.name, this.sha, this.resumedFrom);
    void this.source.close?.().catch(() => undefined);
  }
  override fail(reason: string): void {
    super.fail(reason);
    this.acceptWaiter?.();
    this.wake?.();
    if (!this.cancelling) this.data?.close();
  }

  /** SHA-256 of the source's first `length` bytes, reading one chunk at a time. */
  private async hash(length: number): Promise<string> {
    if (this.source.digest !== undefined) return hex(await this.source.digest(length));
    const h = this.opts.createHash();
    const step = Math.max(this.opts.chunkBytes, 1024 * 1024);
    for (let at = 0; at < length && !this.over;) {
      const bytes = await this.source.read(at, Math.min(step, length - at));
      if (bytes.byteLength === 0) throw new Error('the file is shorter than its size');
      await h.update(bytes);
      at += bytes.byteLength;
    }
    return hex(await h.digest());
  }
}

/** The receiver's side of one transfer. */
class Incoming extends TransferState {
  private sink: FileSink | null = null;
  private hasher: Hasher;
  private received = 0;
  private written = 0;
  private offset = -1;
  private held = 0;
  private chain: Promise<void> = Promise.resolve();
  /** Received, not yet written (the first of them may be being written). */
  private readonly queued: Uint8Array[] = [];
  private data: TandemChannel | null = null;
  expectsData = false;
  constructor(
    private readonly offer: FileOffer,
    private readonly opts: Required<Omit<FilesOptions, 'identity'>> & { identity: string },
    private readonly reply: (m: object) => void,
    private readonly noteHeld: (held: number) => void,
  ) {
    super(offer.id, 'receive', offer.name, offer.size, 'offered');
    this.hasher = opts.createHash();
    // as on the sender's side, the other end closes the data channel once told
    this.onCancel = (reason) => {
      this.reply({ t: 'cancel', reason });
      const sink = this.sink;
      if (sink !== null) this.chain = this.chain.then(() => sink.abort(false)).catch(() => undefined);
    };
  }

  async accept(sink: FileSink): Promise<void> {
    this.sink = sink;
    try {
      let held = Math.min(sink.held, this.offer.size);
      // hash what is held: it is the start of the file's hash, and the sender checks it
      if (sink.digest !== undefined) {
        const prefix = held > 0 ? hex(await sink.digest(held)) : '';
        if (this.over) return;
        this.written = this.received = held;
        this.expectsData = true;
        this.reply({ t: 'accept', offset: held, prefix });
        this.held = held;
        return;
      }
      for (let at = 0; at < held;) {
        const bytes = await sink.readHeld(at, Math.min(1024 * 1024, held - at));
        if (bytes.byteLength === 0) {
          held = at;
          break;
        }
        await this.hasher.update(bytes);
        at += bytes.byteLength;
      }
      if (this.over) return;
      const prefix = held > 0 ? hex(await this.hasher.clone().digest()) : '';
      this.written = this.received = held;
      this.expectsData = true;
      this.reply({ t: 'accept', offset: held, prefix });
      this.held = held;
    } catch (err) {
      this.failHere(`cannot read the part already held: ${(err as Error).message}`);
    }
  }

  attach(channel: TandemChannel): void {
    this.expectsData = false;
    this.data = channel;
    this.state = 'transferring';
    channel.on('message', ({ data }) => this.chunk(data));
    channel.on('close', () => {
      if (!this.over && this.written < this.offer.size) this.cut('the data channel closed');
    });
  }

  /** The call or channel went away mid-transfer: keep the part for a resume (unless cancelled). */
  cut(reason: string, cancelled = false): void {
    if (this.over) return;
    this.fail(reason);
    this.data?.close();
    const sink = this.sink;
    if (sink !== null) this.chain = this.chain.then(() => sink.abort(!cancelled)).catch(() => undefined);
  }

  private chunk(data: string | Uint8Array): void {
    if (this.over || this.sink === null) return;
    if (this.offset < 0) {
      // the first message says where the bytes start
      let start: unknown;
      try {
        start = typeof data === 'string' ? (JSON.parse(data) as { offset?: unknown }).offset : undefined;
      } catch {
        start = undefined;
      }
      if (start !== 0 && start !== this.held) return this.failHere('the sender started at an offset it was not given');
      this.offset = start;
      const sink = this.sink;
      if (start === 0 && this.held > 0) {
        // the sender's bytes differ from the part: start over
        this.hasher = this.opts.createHash();
        this.written = this.received = 0;
        this.chain = this.chain.then(() => sink.truncate());
      }
      if (this.written === this.offer.size)
        // nothing (more) to come: an empty file, or a part that was whole already
        this.chain = this.chain
          .then(() => this.finish(sink))
          .catch((err: unknown) => this.failHere(`cannot save: ${(err as Error).message}`));
      return;
    }
    if (typeof data === 'string') return this.failHere('text on a data channel');
    this.received += data.byteLength;
    if (this.received > this.offer.size) return this.failHere('the sender sent more than it offered');
    if (this.received - this.written > this.opts.windowBytes) return this.failHere('the sender went past its window');
    this.peakHeld = Math.max(this.peakHeld, this.received - this.written);
    this.noteHeld(this.peakHeld);
    // chunks that arrive while a write is under way are written together (fewer, larger writes:
    // each one is a system call, or an IPC to the browser's storage)
    this.queued.push(data);
    if (this.queued.length > 1) return;
    const sink = this.sink;
    this.chain = this.chain
      .then(async () => {
        while (this.queued.length > 0 && !this.over) {
          let take = 0;
          let bytes = 0;
          while (take < this.queued.length && (take === 0 || bytes + this.queued[take]!.byteLength <= COALESCE_BYTES))
            bytes += this.queued[take++]!.byteLength;
          const parts = this.queued.slice(0, take);
          const block = take === 1 ? parts[0]! : concat(parts, bytes);
          await sink.write(block);
          this.queued.splice(0, take);
          if (sink.digest === undefined) await this.hasher.update(block);
          this.written += bytes;
          this.progress(this.written);
          this.reply({ t: 'ack', bytes: this.written });
          if (this.written === this.offer.size) await this.finish(sink);
        }
      })
      .catch((err: unknown) => this.failHere(`cannot write: ${(err as Error).message}`));
  }

  private async finish(sink: FileSink): Promise<void> {
    this.state = 'verifying';
    // what was written, read back, where the sink can hash it; else what arrived, hashed on the way
    const got = hex(await (sink.digest !== undefined ? sink.digest(this.offer.size) : this.hasher.digest()));
    if (got !== this.offer.sha256) {
      await sink.abort(false).catch(() => undefined);
      this.reply({ t: 'failed', reason: 'sha256 mismatch' });
      this.fail(`sha256 mismatch: the file's bytes hash to ${got}, not the ${this.offer.sha256} offered`);
      return;
    }
    const name = await sink.commit();
    this.reply({ t: 'done', sha256: got });
    this.data?.close();
    this.succeed(name, got, this.held);
  }

  private failHere(reason: string): void {
    if (this.over) return;
    this.reply({ t: 'failed', reason });
    this.fail(reason);
    this.data?.close();
    const sink = this.sink;
    if (sink !== null) this.chain = this.chain.then(() => sink.abort(false)).catch(() => undefined);
  }
}
