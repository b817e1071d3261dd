// A transfer's bookkeeping (events, outcome), apart from the transfer protocol in files.ts: the
// client hands out transfers at once, also while a session's files code is still loading as a
// chunk of its own (DeferredTransfer stands for the transfer until it starts), and refuses them
// without loading it at all.
import type { FileSource, Transfer, TransferEvent } from './files.js';

let seq = 0;
/** A new transfer id: time, a sequence number and random bits, within the id pattern (`[A-Za-z0-9_-]{1,64}`). */
export function transferId(): string {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(4)), (x) => x.toString(16).padStart(2, '0')).join('');
  return `${Date.now().toString(36)}${(++seq).toString(36)}${random}`;
}

type Listener = (e: TransferEvent) => void;

/** Shared bookkeeping of a transfer's events and outcome. */
export class TransferState implements Transfer {
  state: Transfer['state'];
  bytes = 0;
  peakHeld = 0;
  readonly finished: Transfer['finished'];
  private readonly listeners = new Map<string, Set<Listener>>();
  private settle!: { resolve: (v: Awaited<Transfer['finished']>) => void; reject: (e: Error) => void };
  onCancel: (reason: string) => void = () => undefined;
  constructor(
    readonly id: string,
    readonly direction: 'send' | 'receive',
    readonly name: string,
    readonly size: number,
    state: Transfer['state'],
  ) {
    this.state = state;
    this.finished = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.finished.catch(() => undefined); // a failure is an event too; an unawaited promise must not crash the host
  }
  on<T extends TransferEvent['type']>(type: T, listener: (e: Extract<TransferEvent, { type: T }>) => void) {
    let set = this.listeners.get(type);
    if (set === undefined) this.listeners.set(type, (set = new Set()));
    set.add(listener as Listener);
    return () => set.delete(listener as Listener);
  }
  get over(): boolean {
    return this.state === 'done' || this.state === 'failed';
  }
  progress(bytes: number): void {
    this.bytes = bytes;
    this.emit({ type: 'progress', bytes, size: this.size });
  }
  succeed(name: string, sha256: string, resumedFrom: number): void {
    if (this.over) return;
    this.state = 'done';
    this.emit({ type: 'done', name, size: this.size, sha256, resumedFrom });
    this.settle.resolve({ name, size: this.size, sha256, resumedFrom });
  }
  fail(reason: string): void {
    if (this.over) return;
    this.state = 'failed';
    this.emit({ type: 'failed', reason });
    this.settle.reject(new Error(reason));
  }
  /** Set while this side cancels: the data channel is left for the other side to close. */
  protected cancelling = false;
  cancel(reason = 'cancelled'): void {
    if (this.over) return;
    this.cancelling = true;
    this.fail(reason);
    this.onCancel(reason);
  }
  private emit(e: TransferEvent): void {
    for (const l of this.listeners.get(e.type) ?? []) l(e);
  }
}

/** A transfer that fails at once (no call, no files). */
export function refusedTransfer(source: FileSource, reason: string): Transfer {
  const t = new TransferState('none', 'send', source.name, source.size, 'failed');
  t.state = 'offered';
  queueMicrotask(() => t.fail(reason));
  return t;
}

/**
 * A sent transfer whose files code is still loading: it reports what the real transfer reports
 * once that starts (the same id), and fails with the reason if it cannot start.
 */
export class DeferredTransfer implements Transfer {
  readonly direction = 'send';
  readonly finished: Transfer['finished'];
  private inner: Transfer | null = null;
  private failed: string | null = null;
  private readonly own: TransferState;

  constructor(
    readonly id: string,
    private readonly source: FileSource,
    start: Promise<Transfer>,
  ) {
    this.own = new TransferState(id, 'send', source.name, source.size, 'hashing');
    this.finished = this.own.finished;
    start.then(
      (t) => {
        if (this.failed !== null) return t.cancel(this.failed);
        this.inner = t;
        t.on('progress', (e) => this.own.progress(e.bytes));
        t.finished.then(
          (r) => this.own.succeed(r.name, r.sha256, r.resumedFrom),
          (e: Error) => this.own.fail(e.message),
        );
      },
      (e: Error) => this.fail(e.message),
    );
  }
  get name(): string {
    return this.source.name;
  }
  get size(): number {
    return this.source.size;
  }
  get state(): Transfer['state'] {
    return this.inner?.state ?? this.own.state;
  }
  get bytes(): number {
    return this.inner?.bytes ?? 0;
  }
  get peakHeld(): number {
    return this.inner?.peakHeld ?? 0;
  }
  on<T extends TransferEvent['type']>(type: T, listener: (e: Extract<TransferEvent, { type: T }>) => void) {
    return this.own.on(type, listener);
  }
  cancel(reason = 'cancelled'): void {
    if (this.inner !== null) return this.inner.cancel(reason);
    this.fail(reason);
  }
  private fail(reason: string): void {
    this.failed ??= reason;
    this.own.fail(reason);
  }
}
