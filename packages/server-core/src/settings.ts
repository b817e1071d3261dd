// The server's tunable limits and timings: one interface, its defaults, and the check that
// refuses nonsense at start-up rather than misbehaving later.
import { DEFAULT_MAX_BYTES } from '@tandem/protocol';

/** Tunable limits and timings; every field has a safe default. */
export interface ServerSettings {
  /** Quiet time (ms) after which a client is pinged. Default 25 000. */
  readonly pingIntervalMs: number;
  /** Time (ms) a pinged client has to send anything before it is closed. Default 20 000. */
  readonly pingTimeoutMs: number;
  /** Granularity (ms) of the keepalive timer wheel; timings are late by at most this. Default: a tenth of the shorter of interval and timeout, within [10, 1000]. */
  readonly tickMs: number;
  /** Pings are spread by up to this fraction of the interval so bursts of clients don't ping together. Default 0.1. */
  readonly pingSpread: number;
  /** Largest accepted frame in bytes. Default 65 536. */
  readonly maxFrameBytes: number;
  /** Sustained messages per second per connection before it is closed as a flood. Default 50. */
  readonly rateLimitPerSecond: number;
  /** Burst allowance on top of the sustained rate. Default 200. */
  readonly rateLimitBurst: number;
  /** Sustained bytes per second of frames per connection before it is closed as a flood. Default 32 768. */
  readonly rateLimitBytesPerSecond: number;
  /** Burst allowance in bytes on top of the sustained byte rate; at least `maxFrameBytes`. Default 262 144. */
  readonly rateLimitBytesBurst: number;
  /**
   * Outbound bytes a connection may have queued and unsent (the socket's buffered amount) before
   * it is closed as a slow consumer. Needs a sink that reports `bufferedBytes`. Default 1 048 576.
   */
  readonly maxBufferedBytes: number;
  /**
   * How long (ms) a resume-capable session whose link dropped is kept detached for its client to
   * come back with `resume`; 0 turns resume off. Default 30 000.
   */
  readonly resumeGraceMs: number;
  /** Counted frames kept per session for replay (unacknowledged, or held while detached) before the session is ended. Default 256. */
  readonly resumeBufferFrames: number;
  /** Bytes of such frames kept per session before it is ended. Default 1 048 576. */
  readonly resumeBufferBytes: number;
  /** Sessions kept detached at once across the engine; past it, a lost link ends its session. Default 10 000. */
  readonly maxDetachedSessions: number;
  /** Bytes kept for replay across all detached sessions; a frame past it ends the session it was for. Default 67 108 864. */
  readonly maxDetachedBytes: number;
  /** Advertise v2 extensions in `your_id` (optional fields a v1 client ignores). Default true. */
  readonly advertiseExtensions: boolean;
  /** Offer WebSocket control-frame pings to clients that ask for them (needs transport support). Default true. */
  readonly wsPing: boolean;
  /** How long (ms) a transport waits for a client to finish a closing handshake the server started before cutting it off. Default 1 000. */
  readonly closeHandshakeTimeoutMs: number;
  /** Offer pairing by code (`codes`: nameplates) where the directory can hold them (one node). Default true. */
  readonly codes: boolean;
  /** How long (ms) a nameplate can be claimed after it is handed out. Default 600 000 (10 minutes). */
  readonly nameplateTtlMs: number;
  /** How long (ms) a claim has for both sides to confirm the code before the nameplate burns. Default 120 000. */
  readonly claimTimeoutMs: number;
  /** Nameplates asked for plus claims made, per client address per minute (the conformance suite makes about 15). Default 30. */
  readonly nameplatesPerAddressPerMinute: number;
  /** Nameplates held at once. Default 100 000. */
  readonly maxNameplates: number;
}

/** The defaults, exported so embedders and docs can show them. */
export const defaultServerSettings: ServerSettings = Object.freeze({
  pingIntervalMs: 25_000,
  pingTimeoutMs: 20_000,
  tickMs: 1_000,
  pingSpread: 0.1,
  maxFrameBytes: DEFAULT_MAX_BYTES,
  rateLimitPerSecond: 50,
  rateLimitBurst: 200,
  rateLimitBytesPerSecond: 32_768,
  rateLimitBytesBurst: 262_144,
  maxBufferedBytes: 1_048_576,
  resumeGraceMs: 30_000,
  resumeBufferFrames: 256,
  maxDetachedSessions: 10_000,
  maxDetachedBytes: 67_108_864,
  resumeBufferBytes: 1_048_576,
  advertiseExtensions: true,
  wsPing: true,
  closeHandshakeTimeoutMs: 1_000,
  codes: true,
  nameplateTtlMs: 600_000,
  claimTimeoutMs: 120_000,
  nameplatesPerAddressPerMinute: 30,
  maxNameplates: 100_000,
});

/** Merge `overrides` over the defaults, derive the tick when not given, and validate. Throws RangeError on a bad value. */
export function resolveSettings(overrides: Partial<ServerSettings> = {}): ServerSettings {
  const merged = { ...defaultServerSettings, ...overrides };
  if (overrides.tickMs === undefined) merged.tickMs = defaultTickMs(merged.pingIntervalMs, merged.pingTimeoutMs);
  validateSettings(merged);
  return Object.freeze(merged);
}

/** A wheel fine enough for short test timings, coarse (1 s) for production ones. */
function defaultTickMs(intervalMs: number, timeoutMs: number): number {
  return Math.min(1000, Math.max(10, Math.floor(Math.min(intervalMs, timeoutMs) / 10)));
}

const positiveSettings = [
  'pingIntervalMs',
  'pingTimeoutMs',
  'tickMs',
  'maxFrameBytes',
  'rateLimitPerSecond',
  'rateLimitBurst',
  'rateLimitBytesPerSecond',
  'rateLimitBytesBurst',
  'maxBufferedBytes',
  'resumeBufferFrames',
  'resumeBufferBytes',
  'maxDetachedSessions',
  'maxDetachedBytes',
  'closeHandshakeTimeoutMs',
  'nameplateTtlMs',
  'claimTimeoutMs',
  'nameplatesPerAddressPerMinute',
  'maxNameplates',
] as const;

function validateSettings(settings: ServerSettings): void {
  for (const name of positiveSettings) {
    const value = settings[name];
    if (!(Number.isFinite(value) && value > 0))
      throw new RangeError(`ServerSettings.${name} must be a positive number, got ${value}`);
  }
  if (settings.rateLimitBytesBurst < settings.maxFrameBytes) {
    throw new RangeError(
      `ServerSettings.rateLimitBytesBurst (${settings.rateLimitBytesBurst}) must be at least maxFrameBytes (${settings.maxFrameBytes}), or a largest frame could never pass`,
    );
  }
  if (!(Number.isFinite(settings.resumeGraceMs) && settings.resumeGraceMs >= 0))
    throw new RangeError(`ServerSettings.resumeGraceMs must be 0 (off) or more, got ${settings.resumeGraceMs}`);
  if (!(settings.pingSpread >= 0 && settings.pingSpread < 1))
    throw new RangeError(`ServerSettings.pingSpread must be in [0, 1), got ${settings.pingSpread}`);
}
