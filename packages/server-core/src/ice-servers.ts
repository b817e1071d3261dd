// The `ice-servers` capability: STUN/TURN servers from the host's policy in `welcome`, and fresh
// ones (`ice_servers`, counted, so resume replays them) once 80% of their lifetime has passed.
import { encode, type IceServer } from '@tandem/protocol';
import type { Connection } from './connection.js';
import type { EngineContext, Turn } from './engine-context.js';
import { deliver } from './to-clients.js';

/** Fresh ICE servers for `conn` (granting the capability on first use), and when to send the next ones. */
export function grantIceServers<H>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  conn: Connection<H>,
): { servers: IceServer[]; ttlMs: number } {
  const given = ctx.iceServers!(conn.id, ctx.hostTime(turn.now));
  const refreshAt = turn.now + Math.max(1, Math.floor(given.ttlMs * 0.8));
  if (conn.ice === null) conn.ice = { refreshAt };
  else conn.ice.refreshAt = refreshAt;
  return { servers: given.servers, ttlMs: given.ttlMs };
}

/** Send `conn` fresh ICE servers. */
export function sendIceServers<H>(ctx: EngineContext<H>, turn: Turn<H>, conn: Connection<H>): void {
  const given = grantIceServers(ctx, turn, conn);
  deliver(ctx, turn, conn, encode({ type: 'ice_servers', ice_servers: given.servers, ttl_ms: given.ttlMs }));
}

/** Long sessions get new TURN credentials before theirs expire (checked whenever keepalive looks at `conn`). */
export function refreshIceServersIfDue<H>(ctx: EngineContext<H>, turn: Turn<H>, conn: Connection<H>): void {
  if (conn.ice !== null && turn.now >= conn.ice.refreshAt && conn.attached) sendIceServers(ctx, turn, conn);
}
