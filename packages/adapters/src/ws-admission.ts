// The admission gate's bookkeeping around the ws binding's sockets, apart from the binding itself:
// sockets counted from accept with a deadline for their first request head, and the slots that
// detached sessions keep under the caps (with the headroom a resuming client borrows).
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import { CloseCode } from '@tandem/protocol';
import type { EffectSink } from '@tandem/server-core';
import type { ConnectionGate } from './gate.js';
import type { BindingHooks } from './ws.js';

type Peer = { remoteAddress?: string; remotePort?: number };
/** A TLS socket and its TCP socket share remote address and port. */
const peerKey = (s: Peer) => `${s.remoteAddress}|${s.remotePort}`;

/**
 * Count every socket `http` accepts as pending (per address and in all) until it is a WebSocket
 * request or gone, and close one that sends no whole request head within `headerTimeoutMs`
 * (Node's own headersTimeout does not close a socket that sends nothing). Returns `upgrading`,
 * for the upgrade handler to call first: the socket is no longer pending (it is admitted or
 * refused next).
 */
export function trackPendingSockets(
  http: HttpServer | HttpsServer,
  gate: ConnectionGate,
  headerTimeoutMs: number,
): { upgrading(socket: Peer): void } {
  const pending = new Map<string, { address: string; deadline: ReturnType<typeof setTimeout> | null }>();
  http.on('connection', (socket: Duplex & Peer) => {
    const { address, keep } = gate.accept(socket.remoteAddress ?? '');
    if (!keep) return void socket.destroy();
    const key = peerKey(socket);
    const entry = { address, deadline: setTimeout(() => socket.destroy(), headerTimeoutMs).unref() };
    pending.set(key, entry);
    socket.once('close', () => {
      if (entry.deadline !== null) clearTimeout(entry.deadline);
      if (pending.get(key) === entry && pending.delete(key)) gate.settled(address);
    });
  });
  // a request head arrived in time: the socket is an HTTP client now (Node's keep-alive timeout ends it when idle)
  http.on('request', (req: IncomingMessage) => {
    const entry = pending.get(peerKey(req.socket));
    if (entry?.deadline != null) {
      clearTimeout(entry.deadline);
      entry.deadline = null;
    }
  });
  return {
    upgrading(socket) {
      const key = peerKey(socket);
      const accepted = pending.get(key);
      if (accepted === undefined || !pending.delete(key)) return;
      if (accepted.deadline !== null) clearTimeout(accepted.deadline);
      gate.settled(accepted.address);
    },
  };
}

/**
 * The slots links hold under the caps once they are WebSockets: a link's slot is released when it
 * closes, or kept while its session waits detached (released when the engine says the link
 * carries nothing any more). A link admitted over a cap on a detached session's strength must
 * resume within `resumeWindowMs`, or it is closed (1008).
 */
export function linkSlots(
  gate: ConnectionGate,
  sink: EffectSink<WebSocket>,
  resumeWindowMs: number,
  timers: { setTimeout(fn: () => void, ms: number): unknown },
): {
  /** A link became a WebSocket, admitted for `address` (`borrowed`: over a cap). */
  admitted(ws: WebSocket, address: string, borrowed: boolean): void;
  /** The binding hooks that keep the slots. */
  readonly hooks: Required<Omit<BindingHooks, 'frameArrived'>>;
} {
  const links = new WeakMap<WebSocket, { address: string; borrowed: boolean; held: boolean }>();
  const unborrow = (link: { address: string; borrowed: boolean }) => {
    if (!link.borrowed) return;
    link.borrowed = false;
    gate.unborrow(link.address);
  };
  sink.linkReleased = (ws) => {
    const link = links.get(ws);
    if (link?.held !== true) return;
    link.held = false;
    gate.releaseHeld(link.address);
  };
  return {
    admitted: (ws, address, borrowed) => links.set(ws, { address, borrowed, held: false }),
    hooks: {
      mayDetach: (ws) => {
        const link = links.get(ws);
        return link === undefined || gate.heldFrom(link.address) < gate.limits.maxConnectionsPerIp;
      },
      linkOpened: (ws, conn) => {
        const link = links.get(ws);
        if (link?.borrowed !== true) return;
        // let in over a cap for a detached session of its address: it must resume one, soon
        timers.setTimeout(() => {
          if (!link.borrowed) return;
          unborrow(link);
          if (conn.resumedInto === null && ws.readyState === WebSocket.OPEN)
            ws.close(CloseCode.PolicyViolation, `too many connections from this address`);
        }, resumeWindowMs);
      },
      // it resumed: it holds the session's slot now
      linkResumed: (ws) => {
        const link = links.get(ws);
        if (link !== undefined) unborrow(link);
      },
      linkClosed: (ws, _conn, detached) => {
        const link = links.get(ws);
        if (link === undefined) return;
        unborrow(link);
        if (detached) {
          link.held = true;
          gate.hold(link.address);
        } else gate.release(link.address);
      },
    },
  };
}
