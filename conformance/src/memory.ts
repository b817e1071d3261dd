// An in-process target for the suite: the real server-core engine behind in-memory links, so
// people who embed the engine in their own app (their own directory, settings, ID scheme) can run
// the whole suite without a socket. Frames cross the link on the next macrotask in order, like a
// network would deliver them; the engine's clock is the wall clock because the suite's timing
// cases are stated in real milliseconds, and its wakes are scheduled from `nextWake()` like the
// ws binding's.
import { randomBytes, randomUUID } from 'node:crypto';
import { CloseCode } from '@tandem/protocol';
import { ServerEngine, scheduleEngine, type Connection, type ServerEngineOptions } from '@tandem/server-core';
import type { Dialer, SocketHandlers } from './suite.js';

/** One in-memory link, as the engine sees it. */
export interface MemoryLink {
  readonly handlers: SocketHandlers;
  open: boolean;
}

/** The engine under test and a dialer for the suite. */
export interface MemoryTarget {
  readonly engine: ServerEngine<MemoryLink>;
  readonly dial: Dialer;
  /** Stop the engine's clock and drop every link. */
  close(): void;
}

/** Options: anything the engine takes except its sink (the links are the sink). */
export type MemoryTargetOptions = Partial<Omit<ServerEngineOptions<MemoryLink>, 'sink'>>;

/** Stand up the real engine behind in-memory links. */
export function memoryTarget(options: MemoryTargetOptions = {}): MemoryTarget {
  const later = (fn: () => void) => setImmediate(fn);
  const conns = new Map<MemoryLink, Connection<MemoryLink>>();
  const drop = (link: MemoryLink, code: number) => {
    if (!link.open) return;
    link.open = false;
    later(() => link.handlers.close(code));
  };
  const engine = new ServerEngine<MemoryLink>({
    generateId: options.generateId ?? randomUUID,
    random: options.random ?? Math.random,
    generateToken: options.generateToken ?? (() => randomBytes(18).toString('base64url')),
    ...(options.settings ? { settings: options.settings } : {}),
    ...(options.directory ? { directory: options.directory } : {}),
    ...(options.iceServers ? { iceServers: options.iceServers } : {}),
    sink: {
      send: (link, frame) => {
        if (link.open) later(() => link.handlers.message(frame, false));
      },
      ping: (link) => {
        if (!link.open) return;
        later(() => {
          if (!link.open) return;
          link.handlers.ping();
          const conn = conns.get(link); // what a WebSocket stack does: pong by itself
          if (conn) later(() => link.open && engine.heard(conn, Date.now()));
        });
      },
      close: (link, close) => {
        conns.delete(link);
        drop(link, close.code);
      },
    },
  });
  const schedule = scheduleEngine(engine, {
    now: Date.now,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
  });
  const dial: Dialer = (handlers) => {
    const link: MemoryLink = { handlers, open: true };
    const conn = engine.open(link, Date.now());
    schedule.poke();
    conns.set(link, conn);
    const gone = (code: number) => {
      if (!link.open) return;
      conns.delete(link);
      link.open = false;
      later(() => {
        engine.closed(conn, Date.now(), code);
        schedule.poke(); // a detached session's grace may be the next thing due
        handlers.close(code);
      });
    };
    return Promise.resolve({
      // oversized frames are the engine's to refuse (its decoder checks maxFrameBytes)
      send: (frame, binary) => {
        if (link.open) later(() => link.open && engine.receive(conn, frame, Date.now(), binary));
      },
      close: (code) => gone(code),
      terminate: () => gone(CloseCode.Abnormal),
    });
  };
  return {
    engine,
    dial,
    close() {
      schedule.stop();
      for (const [link, conn] of conns) {
        link.open = false;
        engine.closed(conn, Date.now(), CloseCode.GoingAway);
      }
      conns.clear();
    },
  };
}
