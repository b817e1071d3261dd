// Capability negotiation (v2 `hello` → `welcome`): what this server offers in `your_id`, and what
// it grants a client that asks.
import { Capability, PROTOCOL_VERSION, ResumeLedger, encode } from '@tandem/protocol';
import { CodeGrant, ResumeSession, type Connection } from './connection.js';
import type { EngineContext, Turn } from './engine-context.js';
import type { ServerSettings } from './settings.js';
import { grantIceServers } from './ice-servers.js';
import { newToken, wireToken } from './resume/session.js';

/** What this engine offers. */
export interface Offer {
  readonly resume: boolean;
  readonly iceServers: boolean;
  readonly codes?: boolean;
}

/** The capabilities an engine with these settings offers, in `your_id`'s order. */
export function offeredCapabilities(settings: ServerSettings, offer: Offer): string[] {
  const capabilities: string[] = settings.wsPing ? [Capability.WsPing] : [];
  if (offer.resume) capabilities.push(Capability.Resume);
  capabilities.push(Capability.Leave);
  if (offer.iceServers) capabilities.push(Capability.IceServers);
  if (offer.codes === true) capabilities.push(Capability.Codes);
  return capabilities;
}

/** The members `your_id` carries after the ID (none when extensions are not advertised), as JSON text. */
export function yourIdExtras(settings: ServerSettings, offer: Offer): string {
  if (!settings.advertiseExtensions) return '';
  return `,"version":${PROTOCOL_VERSION},"capabilities":${JSON.stringify(offeredCapabilities(settings, offer))}`;
}

/** `hello`: grant what was asked for and is offered, and answer `welcome`. */
export function hello<H>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  conn: Connection<H>,
  requested: readonly string[],
): void {
  const s = ctx.settings;
  conn.saidHello = true;
  conn.announced = requested;
  const granted: string[] = [];
  if (s.wsPing && requested.includes(Capability.WsPing)) {
    conn.wsPing = true;
    granted.push(Capability.WsPing);
  }
  if (requested.includes(Capability.Leave)) granted.push(Capability.Leave);
  let resume = {};
  if (conn.resume !== null) granted.push(Capability.Resume);
  else if (ctx.generateToken !== null && requested.includes(Capability.Resume)) {
    granted.push(Capability.Resume);
    conn.resume = new ResumeSession(newToken(ctx, conn), new ResumeLedger());
    resume = { resume_token: wireToken(conn.resume.token), resume_grace_ms: s.resumeGraceMs };
  }
  if (ctx.codes !== null && requested.includes(Capability.Codes)) {
    if (conn.codes === null) conn.codes = new CodeGrant();
    granted.push(Capability.Codes);
  }
  let ice = {};
  if (ctx.iceServers !== null && requested.includes(Capability.IceServers)) {
    granted.push(Capability.IceServers);
    const given = grantIceServers(ctx, turn, conn);
    ice = { ice_servers: given.servers, ice_servers_ttl_ms: given.ttlMs };
  }
  ctx.sink.send(
    conn.handle,
    encode({
      type: 'welcome',
      version: PROTOCOL_VERSION,
      capabilities: granted,
      ...resume,
      ping_interval_ms: s.pingIntervalMs,
      ping_timeout_ms: s.pingTimeoutMs,
      ...ice,
    }),
  );
}
