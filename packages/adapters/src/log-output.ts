// Where tandem-server's log goes: standard output, written so that logging can never block or kill
// the server. Writes are asynchronous (sonic-boom, pino's own writer), a reader that falls behind
// makes lines past `maxBufferedBytes` be dropped and counted, and a reader that goes away (`| head
// -3`: EPIPE) turns the log off, counted, instead of crashing the process or wedging its event loop.
// The SonicBoom is made here, not with `pino.destination()`, whose exit hook flushes synchronously
// and so loops forever on a pipe nobody reads: a second signal could never end the process.
import type { pino } from 'pino';
import sonicBoom from 'sonic-boom';

// a CommonJS module: its default export is the class (its typings name it a namespace)
const SonicBoom = sonicBoom as unknown as typeof import('sonic-boom').SonicBoom;

/** Standard output for log lines, never blocking, never throwing. */
export interface LogOutput {
  /** Write one line (a trailing newline is added). */
  line(text: string): void;
  /** The destination pino writes JSON lines to. */
  readonly destination: pino.DestinationStream;
  /** Lines dropped because the reader fell behind or went away. */
  readonly dropped: number;
  /** Whether the reader went away (EPIPE and the like): nothing is written any more. */
  readonly closed: boolean;
  /** Resolves once what is buffered is written, or after `ms` (a reader that does not read never holds an exit up). */
  settle(ms?: number): Promise<void>;
}

export function logOutput(options: { fd?: number; maxBufferedBytes?: number } = {}): LogOutput {
  const dest = new SonicBoom({ fd: options.fd ?? 1, sync: false, maxLength: options.maxBufferedBytes ?? 1 << 20 });
  let dropped = 0;
  let closed = false;
  dest.on('drop', () => dropped++);
  dest.on('error', () => {
    // the reader is gone: stop writing (sonic-boom would retry), keep serving
    closed = true;
  });
  const write = (text: string) => {
    if (closed) {
      dropped++;
      return;
    }
    try {
      dest.write(text);
    } catch {
      closed = true;
      dropped++;
    }
  };
  const destination: pino.DestinationStream = { write };
  return {
    line: (text) => write(`${text}\n`),
    destination,
    get dropped() {
      return dropped;
    },
    get closed() {
      return closed;
    },
    settle: (ms = 1_000) =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        const timer = setTimeout(resolve, ms);
        timer.unref();
        try {
          dest.flush(() => {
            clearTimeout(timer);
            resolve();
          });
        } catch {
          clearTimeout(timer);
          resolve();
        }
      }),
  };
}
