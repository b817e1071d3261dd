// The suite's client: a raw WebSocket client that records every frame the server sends, checks
// each against the protocol as it arrives, and waits for what a case expects, with bounds.
import { decodeServerMessage } from '@tandem/protocol';
import type { Dialer, SocketHandlers, SuiteSocket } from './dialer.js';
import { Failure } from './verdicts.js';
import { suiteDefaults } from './runner.js';

/** A raw test client: records every frame (each parsed once, as it arrives), waits with bounds. */
export class RecordingClient {
  readonly frames: string[] = [];
  /** The frames that are JSON objects, parsed (and checked) once, as they arrived. */
  private readonly parsed: Record<string, unknown>[] = [];
  /** Frames that are not valid server messages (each one fails its case: MUST). */
  readonly violations: string[] = [];
  closed: { code: number; at: number } | null = null;
  /** Extra listeners: every frame, every control ping. */
  readonly onFrame: (() => void)[] = [];
  readonly onPing: (() => void)[] = [];
  private waiters = new Set<() => void>();
  private sock!: SuiteSocket;
  private constructor(
    readonly log: string[],
    readonly label: string,
    readonly answerMs: number,
  ) {}
  static async open(
    dial: Dialer,
    log: string[],
    label: string,
    answerMs: number = suiteDefaults.answerTimeoutMs,
  ): Promise<RecordingClient> {
    const raw = new RecordingClient(log, label, answerMs);
    const handlers: SocketHandlers = {
      message: (d, binary) => {
        const f = binary ? '<binary>' : d;
        // every frame a server sends must be one of the protocol's messages
        const decoded = binary ? null : decodeServerMessage(d);
        if (decoded === null) raw.violations.push('a binary frame (wire v1 frames are JSON text)');
        else if (decoded.ok) raw.parsed.push(decoded.value as unknown as Record<string, unknown>);
        else {
          raw.violations.push(`${decoded.error.message}: ${d.slice(0, 200)}`);
          const json = parseLeniently(d); // JSON that is not a protocol message: its case fails, and may still look at it
          if (json !== null) raw.parsed.push(json);
        }
        raw.frames.push(f);
        log.push(`${label} ← ${f.slice(0, 300)}`);
        for (const l of raw.onFrame) l();
        raw.notify();
      },
      close: (code) => {
        if (raw.closed) return;
        raw.closed = { code, at: Date.now() };
        log.push(`${label} closed ${code}`);
        raw.notify();
      },
      ping: () => {
        for (const l of raw.onPing) l();
      },
    };
    try {
      raw.sock = await dial(handlers);
    } catch (e) {
      throw new Failure(`${label}: ${(e as Error).message}`);
    }
    return raw;
  }
  private notify() {
    for (const w of this.waiters) w();
  }
  /** The JSON object frames so far, in order, each parsed once as it arrived. */
  messages(): readonly Record<string, unknown>[] {
    return this.parsed;
  }
  send(frame: string | Uint8Array, binary = false) {
    this.log.push(`${this.label} → ${String(frame).slice(0, 300)}`);
    this.sock.send(frame, binary);
  }
  json(v: unknown) {
    this.send(JSON.stringify(v));
  }
  /** Wait for the next message (after index `from`) matching `pred`. */
  next(
    pred: (m: Record<string, unknown>) => boolean,
    what: string,
    ms = this.answerMs,
    from = 0,
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const check = () => {
        let m: Record<string, unknown> | undefined;
        for (let i = from; i < this.parsed.length && m === undefined; i++)
          if (pred(this.parsed[i]!)) m = this.parsed[i];
        if (m) {
          this.waiters.delete(check);
          clearTimeout(t);
          resolve(m);
        } else if (this.closed) {
          this.waiters.delete(check);
          clearTimeout(t);
          reject(new Failure(`${this.label}: connection closed (${this.closed.code}) while waiting for ${what}`));
        }
      };
      const t = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Failure(`${this.label}: waited ${ms} ms for ${what}`));
      }, ms);
      this.waiters.add(check);
      check();
    });
  }
  waitClosed(ms: number, bound = `${ms} ms`): Promise<number> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.closed) {
          this.waiters.delete(check);
          clearTimeout(t);
          resolve(this.closed.at);
        }
      };
      const t = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Failure(`${this.label}: not closed within ${bound}`));
      }, ms);
      this.waiters.add(check);
      check();
    });
  }
  count(type: string) {
    return this.messages().filter((m) => m['type'] === type).length;
  }
  /** Closing handshake. */
  end(code = 1000) {
    this.sock.close(code);
  }
  /** Abrupt loss. */
  close() {
    this.sock.terminate();
  }
}

/** A frame that is a JSON object, or null. */
function parseLeniently(frame: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(frame);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
