// Write batching for the ws binding: what the engine sends one client while the loop handles one
// read is written in one go, and the slow-consumer watch does not count that burst against it.
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/**
 * Frames for one client written while the loop handles one read go out in one write: its socket
 * is corked at the first send and uncorked once the work in hand is done (process.nextTick), so a
 * burst of relays costs one writev syscall, not one each. The sockets come from the binding's
 * `connection` events; a socket it never saw is written to at once. While corked, a client's
 * unsent bytes are counted as they stood at the cork: this tick's own burst is not a sign that
 * the client stopped reading (what it leaves unread is still there at the next look).
 */
const linkSockets = new WeakMap<WebSocket, Duplex>();
/** The binding saw `ws` arrive on `socket` (its `connection` event's request socket). */
export function linkSocket(ws: WebSocket, socket: Duplex): void {
  linkSockets.set(ws, socket);
}
/** Corked sockets, with their client's unsent bytes when corked. */
const corked = new Map<Duplex, number>();
let uncorkQueued = false;
const uncorkAll = (): void => {
  uncorkQueued = false;
  for (const socket of corked.keys()) socket.uncork();
  corked.clear();
};
export function batchWrites(ws: WebSocket): void {
  const socket = linkSockets.get(ws);
  if (socket === undefined || corked.has(socket)) return;
  corked.set(socket, ws.bufferedAmount);
  socket.cork();
  if (!uncorkQueued) {
    uncorkQueued = true;
    process.nextTick(uncorkAll);
  }
}
/** A client's unsent bytes, not counting the burst written to it in this tick. */
export function unsentBytes(ws: WebSocket): number {
  const socket = linkSockets.get(ws);
  return (socket === undefined ? undefined : corked.get(socket)) ?? ws.bufferedAmount;
}
