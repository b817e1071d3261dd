// Runs the keepalive machine's table for one connection: the wheel's visits (ping due, deadline,
// grace over) and proof of life go in; pings, timer filings, timeouts and detaches come out.
import type { Connection } from '../connection.js';
import type { EngineContext, Turn } from '../engine-context.js';
import type { DisconnectReason } from '../effects.js';
import { refreshIceServersIfDue } from '../ice-servers.js';
import { drop, end } from '../lifecycle.js';
import { countDetached, mayDetach } from '../detached.js';
import { KeepaliveInput, KeepaliveState, PairingState, keepaliveTable } from '../tables.js';

/** When a live connection heard at `heardAt` is next due a ping (ms since epoch). */
export function pingDueAt<H>(ctx: EngineContext<H>, conn: Connection<H>): number {
  return conn.heardAt + ctx.settings.pingIntervalMs - conn.pingJitter;
}

/**
 * File `conn` to be visited at `at`, or when its authorization expires if that comes first (an
 * attached link only: a detached session has no link to close, and resumes only re-authorized).
 */
export function fileVisit<H>(ctx: EngineContext<H>, conn: Connection<H>, at: number): void {
  const expires = conn.auth?.expiresAt ?? Infinity;
  ctx.wheel.file(conn, expires < at && conn.attached ? expires : at);
}

/** The link's authorization expired: a resumable session detaches (its client resumes with a fresh token), any other ends. */
function authorizationExpired<H>(ctx: EngineContext<H>, turn: Turn<H>, conn: Connection<H>): void {
  ctx.counters.authExpired++;
  ctx.sink.log?.({ type: 'auth_expired', id: conn.id });
  if (conn.resume === null || !mayDetach(ctx)) return drop(ctx, turn, conn, 'auth_expired');
  ctx.sink.close(conn.handle, ctx.closes.auth_expired);
  keepaliveEvent(ctx, turn, conn, KeepaliveInput.lost, ctx.closes.auth_expired.text);
}

/** Stamp proof of life; a probed connection goes back to live. */
export function noteHeard<H>(ctx: EngineContext<H>, turn: Turn<H>, conn: Connection<H>): void {
  conn.heardAt = turn.now;
  if (conn.keepaliveState === KeepaliveState.probing) keepaliveEvent(ctx, turn, conn, KeepaliveInput.heard);
}

/** The wheel reached `conn`'s filing: ping it, close or detach it, or (heard since) look again later. */
export function keepaliveDue<H>(ctx: EngineContext<H>, turn: Turn<H>, conn: Connection<H>): void {
  if (conn.pairingState === PairingState.closed) return;
  const t = turn.now;
  if (conn.auth !== null && conn.auth.expiresAt <= t && conn.attached) return authorizationExpired(ctx, turn, conn);
  refreshIceServersIfDue(ctx, turn, conn);
  switch (conn.keepaliveState) {
    case KeepaliveState.live: {
      const due = pingDueAt(ctx, conn);
      if (due > t)
        fileVisit(ctx, conn, due); // heard since it was filed: no ping yet
      else keepaliveEvent(ctx, turn, conn, KeepaliveInput.due);
      return;
    }
    case KeepaliveState.probing:
      if (conn.pingDeadline > t) fileVisit(ctx, conn, conn.pingDeadline);
      else
        keepaliveEvent(
          ctx,
          turn,
          conn,
          conn.resume !== null && mayDetach(ctx) ? KeepaliveInput.deadlineResumable : KeepaliveInput.deadline,
          'ping timeout',
        );
      return;
    case KeepaliveState.detached: {
      const deadline = conn.resume!.graceDeadline;
      if (deadline > t) ctx.wheel.file(conn, deadline);
      else keepaliveEvent(ctx, turn, conn, KeepaliveInput.graceOver);
      return;
    }
  }
}

/**
 * Run one keepalive transition for `conn` and carry out what it emitted; `lostBecause` is why its
 * link was lost, for the log of a detach.
 */
export function keepaliveEvent<H>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  conn: Connection<H>,
  input: number,
  lostBecause: DisconnectReason = 'connection lost',
): void {
  const row = keepaliveTable.table[conn.keepaliveState]![input]!;
  conn.keepaliveState = row.next;
  const s = ctx.settings;
  for (const effect of row.emitted) {
    switch (effect.type) {
      case 'send_ping':
        ctx.counters.pings++;
        if (conn.wsPing) ctx.sink.ping(conn.handle);
        else ctx.sink.send(conn.handle, PING_FRAME);
        if (ctx.logPings) ctx.sink.log!({ type: 'pinged', id: conn.id, mode: conn.wsPing ? 'control' : 'json' });
        break;
      case 'arm_deadline':
        conn.pingDeadline = turn.now + s.pingTimeoutMs;
        fileVisit(ctx, conn, conn.pingDeadline);
        break;
      case 'arm_interval':
        fileVisit(ctx, conn, pingDueAt(ctx, conn));
        break;
      case 'close_timed_out':
        ctx.counters.timeouts++;
        ctx.sink.log?.({ type: 'timed_out', id: conn.id });
        drop(ctx, turn, conn, 'ping_timeout');
        break;
      case 'drop_link_timed_out':
        ctx.counters.timeouts++;
        ctx.sink.log?.({ type: 'timed_out', id: conn.id });
        ctx.sink.close(conn.handle, ctx.closes.ping_timeout);
        break;
      case 'arm_grace': {
        const r = conn.resume!;
        r.attached = false;
        r.graceDeadline = turn.now + s.resumeGraceMs;
        ctx.wheel.file(conn, r.graceDeadline);
        countDetached(ctx, conn);
        ctx.sink.log?.({ type: 'detached', id: conn.id, reason: lostBecause, graceMs: s.resumeGraceMs });
        break;
      }
      case 'end_detached':
        ctx.counters.resumeExpired++;
        end(ctx, turn, conn, 'resume grace expired');
        break;
    }
  }
}

const PING_FRAME = '{"type":"ping"}';
