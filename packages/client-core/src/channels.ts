// Named data channels between two tandem clients, over a stack's DataChannelPort: typed events,
// backpressure (`write()` resolves once the stack's buffer is below the threshold; WHATWG
// streams on top), and messages of any size up to a stated limit, cut into fragments no larger
// than the interoperable 16 KiB (or the peer's smaller max-message-size) and put back together on
// the other side. I/O-free: the port is the stack's, the clock is injected.
//
// Framing (tandem channels only; the chat channel stays raw, as wire v1 peers expect): every SCTP
// message is one byte of flags and a payload. Flag 1: the message is text (UTF-8); flag 2: more
// fragments of this message follow. A message is its fragments' payloads in order, so fragmented
// messages need an ordered channel; on an unordered one a message must fit in one fragment.
import type { DataChannelHandlers, DataChannelInit, DataChannelPort } from './ports.js';

/** Flags of a fragment's first byte. */
const TEXT = 1;
const MORE = 2;

/** What interoperates between browsers and other stacks (RFC 8831 §6.6 advises 16 KiB). */
export const INTEROPERABLE_MESSAGE_BYTES = 16 * 1024;

/** What a remote description's `a=max-message-size` says (RFC 8841: absent means 64 KiB, 0 means any). */
export function maxMessageSizeOf(sdp: string): number {
  const m = /^a=max-message-size:(\d+)\s*$/m.exec(sdp);
  if (m === null) return 65_536;
  const n = Number(m[1]);
  return n === 0 ? Number.MAX_SAFE_INTEGER : n;
}

/** Settings of a tandem channel, all with safe defaults. */
export interface ChannelLimits {
  /** `write()` waits while the stack holds more than this. Default 256 KiB. */
  readonly bufferedAmountLowThreshold?: number;
  /** `send()` refuses a message that would put more than this in the stack's buffer. Default 4 MiB. */
  readonly maxBufferedBytes?: number;
  /** The largest message sent or accepted (the reassembly buffer's bound). Default 16 MiB. */
  readonly maxMessageBytes?: number;
  /**
   * The largest fragment this end sends, always capped by the peer's `a=max-message-size`.
   * Default 16 KiB, the size every stack takes; between browsers (which state 256 KiB) 64 KiB
   * moves bulk data with a quarter of the messages.
   */
  readonly fragmentBytes?: number;
}

export const channelLimitDefaults: Required<ChannelLimits> = {
  bufferedAmountLowThreshold: 256 * 1024,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxMessageBytes: 16 * 1024 * 1024,
  fragmentBytes: INTEROPERABLE_MESSAGE_BYTES,
};

/** Why a channel refused or failed. */
export type ChannelErrorCode =
  'closed' | 'buffer_full' | 'message_too_large' | 'bad_fragment' | 'reader_too_slow' | 'peer_unsupported';

/** An error of a channel operation, with a code to match on. */
export class ChannelError extends Error {
  override readonly name = 'ChannelError';
  constructor(
    readonly code: ChannelErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Events of one channel. */
export interface ChannelEvents {
  open: Record<string, never>;
  message: { data: string | Uint8Array };
  bufferedamountlow: Record<string, never>;
  close: Record<string, never>;
  /** The channel failed (a bad fragment, a message over the limit, a stalled reader); `close` follows. */
  error: { error: ChannelError };
}

type Listener<K extends keyof ChannelEvents> = (event: ChannelEvents[K]) => void;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A message's fragments: flags byte + payload, each at most `fragmentBytes` long. */
export function fragmentsOf(data: string | Uint8Array, fragmentBytes: number): Uint8Array[] {
  const body = typeof data === 'string' ? encoder.encode(data) : data;
  const kind = typeof data === 'string' ? TEXT : 0;
  const room = Math.max(1, fragmentBytes - 1);
  const out: Uint8Array[] = [];
  let at = 0;
  do {
    const end = Math.min(body.byteLength, at + room);
    const frag = new Uint8Array(1 + end - at);
    frag[0] = kind | (end < body.byteLength ? MORE : 0);
    frag.set(body.subarray(at, end), 1);
    out.push(frag);
    at = end;
  } while (at < body.byteLength);
  return out;
}

/** Puts fragments back together; bounded by `maxMessageBytes`. */
export class Reassembler {
  private parts: Uint8Array[] = [];
  private bytes = 0;
  private kind: number | null = null;
  constructor(private readonly maxMessageBytes: number) {}
  /** Bytes held for a message not yet complete. */
  get held(): number {
    return this.bytes;
  }
  /** Take one fragment: a whole message when it completes one, else null; throws ChannelError on a bad one. */
  push(frag: string | Uint8Array): string | Uint8Array | null {
    if (typeof frag === 'string' || frag.byteLength === 0 || frag[0]! > (TEXT | MORE))
      throw new ChannelError('bad_fragment', 'not a tandem channel fragment');
    const flags = frag[0]!;
    const kind = flags & TEXT;
    if (this.kind !== null && this.kind !== kind)
      throw new ChannelError('bad_fragment', 'a fragment changed the kind of the message it continues');
    this.kind = kind;
    this.bytes += frag.byteLength - 1;
    if (this.bytes > this.maxMessageBytes)
      throw new ChannelError('message_too_large', `a message over ${this.maxMessageBytes} bytes`);
    this.parts.push(frag.subarray(1));
    if (flags & MORE) return null;
    const body = this.parts.length === 1 ? this.parts[0]! : concat(this.parts, this.bytes);
    this.parts = [];
    this.bytes = 0;
    this.kind = null;
    if (kind !== TEXT) return body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body : body.slice();
    try {
      return decoder.decode(body);
    } catch {
      throw new ChannelError('bad_fragment', 'a text message that is not UTF-8');
    }
  }
}

/** `parts` joined into one array of `total` bytes. */
export function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** One named data channel to a tandem peer. */
export class TandemChannel {
  readonly label: string;
  readonly protocol: string;
  readonly ordered: boolean;
  private readonly limits: Required<ChannelLimits>;
  private readonly reassembler: Reassembler;
  private readonly listeners = new Map<keyof ChannelEvents, Set<(e: never) => void>>();
  /** The tail of the writes in flight: fragments of one message never interleave with another's. */
  private tail: Promise<void> = Promise.resolve();
  /** Bytes accepted by write()/send() and not yet handed to the stack. */
  private pending = 0;
  private drainWaiters: (() => void)[] = [];
  private openWaiters: { resolve(): void; reject(e: ChannelError): void }[] = [];
  private ended = false;
  private stream: ReadableStreamDefaultController<string | Uint8Array> | null = null;
  private readableStream: ReadableStream<string | Uint8Array> | null = null;
  private writableStream: WritableStream<string | Uint8Array> | null = null;

  constructor(
    private readonly port: DataChannelPort,
    init: DataChannelInit,
    /** The largest fragment the peer takes, asked at each send (the remote description may change). */
    private readonly fragmentBytes: () => number,
    limits: ChannelLimits = {},
  ) {
    this.label = port.label;
    this.protocol = port.protocol;
    this.ordered = init.ordered ?? true;
    this.limits = { ...channelLimitDefaults, ...limits };
    this.reassembler = new Reassembler(this.limits.maxMessageBytes);
    port.bufferedAmountLowThreshold = this.limits.bufferedAmountLowThreshold;
    const handlers: DataChannelHandlers = {
      open: () => {
        for (const w of this.openWaiters.splice(0)) w.resolve();
        this.emit('open', {});
      },
      message: (data) => this.receive(data),
      bufferedAmountLow: () => {
        this.wake();
        this.emit('bufferedamountlow', {});
      },
      close: () => this.end(),
    };
    port.setHandlers(handlers);
  }

  /** 'connecting' | 'open' | 'closing' | 'closed'. */
  get readyState(): DataChannelPort['readyState'] {
    return this.ended ? 'closed' : this.port.readyState;
  }
  /** Bytes waiting: in the stack's buffer, and accepted by `write()` but not yet handed to it. */
  get bufferedAmount(): number {
    return this.port.bufferedAmount + this.pending;
  }
  get bufferedAmountLowThreshold(): number {
    return this.limits.bufferedAmountLowThreshold;
  }

  /** Subscribe; returns an unsubscribe function. */
  on<K extends keyof ChannelEvents>(type: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(type);
    if (set === undefined) this.listeners.set(type, (set = new Set()));
    set.add(listener as (e: never) => void);
    return () => set.delete(listener as (e: never) => void);
  }

  /** Resolves once the channel is open; rejects if it closes first. */
  opened(): Promise<void> {
    if (this.readyState === 'open') return Promise.resolve();
    if (this.ended) return Promise.reject(new ChannelError('closed', `channel ${this.label} is closed`));
    return new Promise((resolve, reject) => this.openWaiters.push({ resolve, reject }));
  }

  /**
   * Send one message now, without waiting. Throws a ChannelError when the channel is not open, the
   * message is over `maxMessageBytes`, or the buffer would pass `maxBufferedBytes` (use `write()`).
   */
  send(data: string | Uint8Array): void {
    const frags = this.fragment(data);
    const size = frags.reduce((n, f) => n + f.byteLength, 0);
    if (this.bufferedAmount + size > this.limits.maxBufferedBytes)
      throw new ChannelError(
        'buffer_full',
        `channel ${this.label}: ${this.bufferedAmount} bytes buffered already; use write() to wait for room`,
      );
    if (this.pending === 0) {
      for (const f of frags) this.handOver(f);
      return;
    }
    // a write() is handing out fragments: this message goes after it, whole
    this.pending += size;
    this.tail = this.tail.then(() => {
      this.pending -= size;
      if (this.ended) return;
      try {
        for (const f of frags) this.port.send(f);
      } catch (err) {
        this.fail(new ChannelError('closed', `channel ${this.label}: ${(err as Error).message}`));
      }
    });
  }

  /**
   * Send one message, fragment by fragment, waiting whenever the stack holds more than the
   * threshold; resolves once the last fragment is handed over and the buffer is at or below the
   * threshold. Rejects (ChannelError) if the channel closes first.
   */
  write(data: string | Uint8Array): Promise<void> {
    let frags: Uint8Array[];
    try {
      frags = this.fragment(data);
    } catch (err) {
      return Promise.reject(err);
    }
    const size = frags.reduce((n, f) => n + f.byteLength, 0);
    this.pending += size;
    const run = async () => {
      let left = size;
      try {
        for (const f of frags) {
          await this.room();
          left -= f.byteLength;
          this.pending -= f.byteLength;
          this.handOver(f);
        }
        await this.room();
      } finally {
        this.pending -= left; // what a close left unsent
      }
    };
    const done = this.tail.then(run);
    this.tail = done.catch(() => undefined);
    return done;
  }

  /** A stream of the messages received, for `pipeTo`; a reader that falls `maxMessageBytes` behind fails the channel. */
  get readable(): ReadableStream<string | Uint8Array> {
    this.readableStream ??= new ReadableStream<string | Uint8Array>(
      {
        start: (controller) => {
          this.stream = controller;
          if (this.ended) controller.close();
        },
      },
      { highWaterMark: this.limits.maxMessageBytes, size: (m) => (typeof m === 'string' ? m.length : m.byteLength) },
    );
    return this.readableStream;
  }

  /** A stream whose writes are `write()`s: backpressure comes from the channel's buffer. */
  get writable(): WritableStream<string | Uint8Array> {
    this.writableStream ??= new WritableStream<string | Uint8Array>({
      write: (chunk) => this.write(chunk),
      // close only once the stack has sent everything (a stack's close may drop what it still holds)
      close: async () => {
        await this.drained();
        this.close();
      },
      abort: () => this.close(),
    });
    return this.writableStream;
  }

  /** Close the channel (both ends see `close`); idempotent. */
  close(): void {
    if (this.ended) return;
    this.port.close();
    this.end();
  }

  /** Fail the channel: `error`, then it closes. */
  fail(error: ChannelError): void {
    if (this.ended) return;
    this.emit('error', { error });
    this.stream?.error(error);
    this.stream = null;
    this.close();
  }

  private fragment(data: string | Uint8Array): Uint8Array[] {
    if (this.readyState !== 'open') throw new ChannelError('closed', `channel ${this.label} is not open`);
    const bytes = typeof data === 'string' ? data.length * 3 : data.byteLength; // an upper bound for text
    if (bytes > this.limits.maxMessageBytes) {
      const exact = typeof data === 'string' ? encoder.encode(data).byteLength : bytes;
      if (exact > this.limits.maxMessageBytes)
        throw new ChannelError(
          'message_too_large',
          `a ${exact}-byte message is over this channel's ${this.limits.maxMessageBytes}-byte limit`,
        );
    }
    const fragmentBytes = Math.min(this.limits.fragmentBytes, this.fragmentBytes());
    const frags = fragmentsOf(data, fragmentBytes);
    if (frags.length > 1 && !this.ordered)
      throw new ChannelError(
        'message_too_large',
        `an unordered channel carries messages of at most ${fragmentBytes - 1} bytes (fragments could arrive out of order)`,
      );
    return frags;
  }

  /** Give one fragment to the stack; a stack that refuses it (closed under us) ends the channel. */
  private handOver(f: Uint8Array): void {
    if (this.ended) throw new ChannelError('closed', `channel ${this.label} closed`);
    try {
      this.port.send(f);
    } catch (err) {
      const error = new ChannelError('closed', `channel ${this.label}: ${(err as Error).message}`);
      this.close();
      throw error;
    }
  }

  /** Resolves once the stack has handed every buffered byte to the network (rejects if the channel closes first). */
  async drained(): Promise<void> {
    await this.tail;
    const threshold = this.limits.bufferedAmountLowThreshold;
    this.port.bufferedAmountLowThreshold = 0;
    try {
      while (this.port.bufferedAmount > 0) {
        if (this.ended) throw new ChannelError('closed', `channel ${this.label} closed`);
        await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
      }
    } finally {
      if (!this.ended) this.port.bufferedAmountLowThreshold = threshold;
    }
  }

  /** Wait until the stack's buffer is at or below the threshold. */
  private room(): Promise<void> {
    if (this.ended) return Promise.reject(new ChannelError('closed', `channel ${this.label} closed`));
    if (this.port.bufferedAmount <= this.limits.bufferedAmountLowThreshold) return Promise.resolve();
    return new Promise<void>((resolve) => this.drainWaiters.push(resolve)).then(() => this.room());
  }

  private wake(): void {
    for (const w of this.drainWaiters.splice(0)) w();
  }

  private receive(frag: string | Uint8Array): void {
    if (this.ended) return;
    let message: string | Uint8Array | null;
    try {
      message = this.reassembler.push(frag);
    } catch (err) {
      return this.fail(err as ChannelError);
    }
    if (message === null) return;
    this.emit('message', { data: message });
    if (this.stream !== null) {
      this.stream.enqueue(message);
      if ((this.stream.desiredSize ?? 0) < 0)
        this.fail(new ChannelError('reader_too_slow', `the reader of ${this.label} fell too far behind`));
    }
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.port.setHandlers(null);
    const closed = new ChannelError('closed', `channel ${this.label} closed`);
    for (const w of this.openWaiters.splice(0)) w.reject(closed);
    this.wake(); // writers waiting for room see the close and reject
    this.stream?.close();
    this.stream = null;
    this.emit('close', {});
  }

  private emit<K extends keyof ChannelEvents>(type: K, event: ChannelEvents[K]): void {
    for (const l of this.listeners.get(type) ?? []) (l as Listener<K>)(event);
  }
}
