// How tandem-server words its log: each event's level, and its text line with every
// client-supplied string made safe. pino's JSON format is the structured option; this is the
// human one, so a newline in a client's target_id must never start a forged line.
import { createHmac, randomBytes } from 'node:crypto';
import type { ServerLogEvent } from '@tandem/server-core';
import type { Refusal } from './gate.js';

/**
 * How a log names a client. A client's ID is its pairing key, so logs never carry it: each ID is
 * shown as a short handle, the first 8 hex digits of its HMAC-SHA-256 under a key that is the
 * process's own (random at start) or the operator's (`--log-key-file`, the same on every node so
 * one client can be followed across a cluster). The handle is stable for the key and cannot be
 * turned back into the ID without it. `full` shows IDs as they are (`--log-full-ids`).
 */
export type ClientNaming = { readonly full: true } | { readonly full: false; readonly key: Uint8Array };

/** A fresh per-process naming key (32 random bytes). */
export function processLogKey(): Uint8Array {
  return randomBytes(32);
}

/** The function that names a client (or a string a client gave as an ID) in the log. */
export function clientHandle(naming: ClientNaming): (id: string) => string {
  if (naming.full) return (id) => id;
  const key = naming.key;
  return (id) => createHmac('sha256', key).update(id).digest('hex').slice(0, 8);
}

/**
 * Names that follow a client's principal: a client authorized as subject `alice` is
 * `alice#3fa2b1c9` in every line while it is connected (its subject, then its handle, since one
 * subject may hold several connections); others keep their handle. `observe` each event before
 * naming it: `connected` learns the subject, and the subject is forgotten once `disconnected` is named.
 */
export function subjectNames(handle: (id: string) => string): {
  observe(e: ServerLogEvent): void;
  name(id: string): string;
  forget(e: ServerLogEvent): void;
} {
  const subjects = new Map<string, string>();
  return {
    observe(e) {
      if (e.type === 'connected' && e.subject !== undefined) subjects.set(e.id, e.subject);
    },
    name(id) {
      const subject = subjects.get(id);
      return subject === undefined ? handle(id) : `${escapeLogText(subject)}#${handle(id)}`;
    },
    forget(e) {
      if (e.type === 'disconnected') subjects.delete(e.id);
    },
  };
}

/** The event with every client ID in it (its own, a peer's, a target's) replaced by its handle. */
export function nameClients(e: ServerLogEvent, name: (id: string) => string): ServerLogEvent {
  switch (e.type) {
    case 'paired':
    case 'peer_notified':
      return { ...e, id: name(e.id), peerId: name(e.peerId) };
    case 'pair_failed':
      return { ...e, id: name(e.id), targetId: name(e.targetId) };
    case 'relayed':
      return { ...e, from: name(e.from), to: name(e.to) };
    default:
      return { ...e, id: name(e.id) };
  }
}

export type LogLevel = 'debug' | 'info' | 'warn';

/** Each event's level, known before any line is formatted. */
export const serverLogLevel: Readonly<Record<ServerLogEvent['type'], LogLevel>> = Object.freeze({
  connected: 'info',
  disconnected: 'info',
  paired: 'info',
  nameplate: 'info',
  pair_failed: 'info',
  relayed: 'info',
  peer_notified: 'info',
  not_paired: 'warn',
  rejected: 'warn',
  timed_out: 'warn',
  rate_limited: 'warn',
  slow_consumer: 'warn',
  pinged: 'debug',
  detached: 'info',
  resumed: 'info',
  resume_failed: 'info',
  handed_over: 'info',
  auth_expired: 'info',
});

/** Longest client-supplied string shown in a text line; the rest is summarised. */
const MAX_SHOWN = 200;

/**
 * A client-supplied string made safe for one text log line: C0/C1 controls, DEL and the Unicode
 * line and paragraph separators are written as escapes (`\n`, `\u2028`), backslashes doubled, and
 * anything past 200 characters cut with a count.
 */
export function escapeLogText(value: string): string {
  const shown = value.length > MAX_SHOWN ? value.slice(0, MAX_SHOWN) : value;
  // eslint-disable-next-line no-control-regex
  const escaped = shown.replace(/[\\\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    switch (c) {
      case '\\':
        return '\\\\';
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default:
        return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  });
  return value.length > MAX_SHOWN ? `${escaped}…(${value.length - MAX_SHOWN} more)` : escaped;
}

/** The text line of an event. Strings a client chose (target IDs, error details) are escaped. */
export function serverLogLine(e: ServerLogEvent): string {
  const q = escapeLogText;
  switch (e.type) {
    case 'connected':
      return `Client ${e.id} connected.`;
    case 'disconnected':
      return `Client ${e.id} disconnected. (${e.reason})`;
    case 'paired':
      return `Paired ${e.id} with ${e.peerId}.`;
    case 'pair_failed':
      return `Pair request from ${e.id} for ${q(e.targetId)} failed: ${e.message}`;
    case 'relayed':
      return `Relaying ${e.messageType} from ${e.from} to ${e.to}`;
    case 'not_paired':
      return `Client ${e.id} sent ${e.messageType} while not paired`;
    case 'rejected':
      return `Rejected frame from ${e.id}: ${q(e.message)}`;
    case 'pinged':
      return `Pinged ${e.id} (${e.mode})`;
    case 'timed_out':
      return `Client ${e.id} timed out (no pong); closing.`;
    case 'rate_limited':
      return `Client ${e.id} exceeded the ${e.unit === 'bytes' ? 'byte ' : ''}rate limit; closing.`;
    case 'slow_consumer':
      return `Client ${e.id} is not reading (${e.bufferedBytes} bytes queued, limit ${e.limit}); closing.`;
    case 'peer_notified':
      return `Notified ${e.id} that peer ${e.peerId} disconnected.`;
    case 'detached':
      return `Client ${e.id} lost its link (${e.reason}); holding its session for ${e.graceMs / 1000} s.`;
    case 'resumed':
      return `Client ${e.id} resumed its session${e.tookOver ? ' (took over a half-open link)' : ''}; replayed ${e.replayed} frame${e.replayed === 1 ? '' : 's'}.`;
    case 'resume_failed':
      return `Resume refused on ${e.id}: ${e.why}`;
    case 'handed_over':
      return `Client ${e.id} resumed through node ${e.node}; its session moved there.`;
    case 'auth_expired':
      return `Authorization of ${e.id} expired; closing its link (4003).`;
    case 'nameplate':
      return nameplateLine(e.id, e.event);
  }
}

/** A nameplate's event (never its number's words: the server has none, nor the number's owner's secret). */
function nameplateLine(id: string, event: Extract<ServerLogEvent, { type: 'nameplate' }>['event']): string {
  switch (event) {
    case 'allocated':
      return `Client ${id} was given a nameplate.`;
    case 'claimed':
      return `Client ${id} claimed a nameplate; pairing it with the owner.`;
    case 'claim_refused':
      return `Client ${id} claimed a nameplate that cannot be claimed.`;
    case 'confirmed':
      return `Code pairing of ${id}'s nameplate confirmed by both sides; nameplate released.`;
    case 'burnt':
      return `Nameplate of ${id} burnt: a claim did not end in confirmation (a wrong code, an abort or a timeout).`;
    case 'expired':
      return `Nameplate of ${id} expired unclaimed.`;
    case 'replaced':
      return `Client ${id} replaced its nameplate with a new one.`;
  }
}

/** The text line of a refused upgrade (address and origin are client-supplied). */
export function refusalLine(r: Refusal): string {
  const origin = r.origin === undefined ? '' : ` (origin ${escapeLogText(r.origin)})`;
  return `Refused connection from ${escapeLogText(r.address)}${origin}: ${r.status} ${escapeLogText(r.message)}`;
}
