// Decoding at the boundary: size check before parsing, JSON.parse, then one TypeBox checker per
// message type. We check per type rather than per union (style.md departs here) because the union
// checker can only say "expected union value"; looking the schema up by `type` first is as fast
// and lets the error name the offending field, as wire-v1 requires. The checkers are compiled to
// code at build time (validators.generated.ts): nothing here evaluates strings, so the client
// runs under a Content-Security-Policy without 'unsafe-eval'. A failing frame's first error comes
// from explain.ts over a schema table generated beside its checker (TypeBox's `Errors` words,
// without TypeBox),
// off the hot path. This module loads no TypeBox at run time: a browser bundle stays small.
import type { ClientMessage, ServerMessage } from './messages.js';
import { clientChecks, clientExplain, serverChecks, serverExplain } from './validators.generated.js';
import { explain, type ExplainNode } from './explain.js';

/** The error texts of wire-v1; clients match on these substrings, so they never change. */
export const ErrorText = {
  TargetNotFound: 'Target client not found',
  AlreadyPaired: 'You are already paired',
  TargetAlreadyPaired: 'Target client is already paired',
  CannotPairWithSelf: 'Cannot pair with yourself',
  NotPaired: 'Not paired',
  InvalidJson: 'Invalid JSON',
  UnknownType: 'Unknown message type',
  /** v2 (resume): the token is unknown, used, or its session ended; a fresh session goes on. */
  ResumeFailed: 'Resume failed',
  /** v2 (clusters): the shared directory is unreachable, so no pairing can be decided now; try again. */
  Unavailable: 'Pairing unavailable',
  /** v2 (codes): no such nameplate (never handed out, expired, or its owner left). */
  UnknownNameplate: 'Unknown nameplate',
  /** v2 (codes): a claim of this nameplate did not end in confirmation; its owner must make a new code. */
  NameplateBurnt: 'Nameplate burnt',
  /** v2 (codes): someone else is claiming this nameplate right now. */
  NameplateClaimed: 'Nameplate already claimed',
  /** v2 (codes): too many nameplates asked for, or claimed, from this address: wait. */
  NameplateRateLimited: 'Too many nameplates',
} as const;

/** Why a frame could not be decoded. */
export type DecodeErrorCode =
  'too_large' | 'empty' | 'invalid_json' | 'not_an_object' | 'unknown_type' | 'invalid_field' | 'binary';

/** A decode failure with the wire-v1 text to send back in an `error` message. */
export interface DecodeError {
  readonly code: DecodeErrorCode;
  readonly message: string;
  /** The message type, when the frame got far enough to name one. */
  readonly type?: string;
  /** JSON pointer of the offending field, for `invalid_field`. */
  readonly path?: string;
}

/** The outcome of decoding one frame: never an exception. */
export type DecodeResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: DecodeError };

/** Options for the decoders. */
export interface DecodeOptions {
  /** Largest accepted frame in bytes (UTF-8), checked before parsing. Default: DEFAULT_MAX_BYTES for client frames, DEFAULT_CLIENT_MAX_BYTES for server frames. */
  readonly maxBytes?: number;
}

/** The largest frame a server accepts by default: 64 KiB. */
export const DEFAULT_MAX_BYTES = 65536;

/**
 * The largest frame a client accepts from a server by default: 1 MiB. Larger than the server's
 * limit on purpose: a relayed frame gains `"from_peer":true`, and other v1 servers may allow
 * bigger SDPs than tandem does.
 */
export const DEFAULT_CLIENT_MAX_BYTES = 1 << 20;

/** A message type's generated check and, for a frame that fails it, its first error. */
interface Checker {
  readonly check: (value: unknown) => boolean;
  readonly explain: (value: unknown) => readonly [path: string, message: string] | undefined;
}
type Checkers = Map<string, Checker>;

type Generated<F> = Record<string, F>;
// Each direction's tables are named only where that direction is decoded, so a bundle that
// decodes server frames alone (a browser client) leaves the client tables out.
function checkersOf(generatedChecks: object, generatedSchemas: object): Checkers {
  const checks = generatedChecks as Generated<Checker['check']>;
  const schemas = generatedSchemas as Generated<ExplainNode>;
  const map: Checkers = new Map();
  for (const [type, check] of Object.entries(checks)) {
    const node = schemas[type]!;
    map.set(type, { check, explain: (v) => explain(node, v) });
  }
  return map;
}

let clientCheckers: Checkers | undefined;
let serverCheckers: Checkers | undefined;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

function fail<T>(code: DecodeErrorCode, message: string, extra?: { type?: string; path?: string }): DecodeResult<T> {
  return { ok: false, error: { code, message, ...extra } };
}

/** UTF-8 length of a string without allocating when the answer is obvious. */
function utf8Length(s: string, limit: number): number {
  if (s.length > limit) return s.length; // UTF-8 is never shorter than the UTF-16 length
  if (s.length * 3 <= limit) return s.length;
  return utf8Encoder.encode(s).byteLength;
}

function describeField(path: string): string {
  return path === '' ? 'message' : `field "${path.slice(1).replace(/\//g, '.')}"`;
}

function decodeWith<T>(
  checkers: Checkers,
  raw: unknown,
  options: DecodeOptions | undefined,
  defaultMaxBytes: number,
): DecodeResult<T> {
  const maxBytes = options?.maxBytes ?? defaultMaxBytes;
  let text: string;
  try {
    if (typeof raw === 'string') {
      if (utf8Length(raw, maxBytes) > maxBytes) return fail('too_large', `Frame too large (limit ${maxBytes} bytes)`);
      text = raw;
    } else if (raw instanceof Uint8Array) {
      if (raw.byteLength > maxBytes) return fail('too_large', `Frame too large (limit ${maxBytes} bytes)`);
      text = utf8.decode(raw);
    } else if (raw instanceof ArrayBuffer) {
      return decodeWith(checkers, new Uint8Array(raw), options, defaultMaxBytes);
    } else {
      return fail('invalid_json', `${ErrorText.InvalidJson}: frame is neither text nor bytes`);
    }
  } catch {
    return fail('invalid_json', `${ErrorText.InvalidJson}: frame is not valid UTF-8`);
  }
  if (text.length === 0) return fail('empty', `${ErrorText.InvalidJson}: empty frame`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return fail('invalid_json', `${ErrorText.InvalidJson}: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('not_an_object', 'Invalid message: expected a JSON object with a string "type" field');
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') {
    return fail('not_an_object', 'Invalid message: expected a JSON object with a string "type" field');
  }
  const checker = checkers.get(type);
  if (checker === undefined)
    return fail('unknown_type', `${ErrorText.UnknownType}: ${type.slice(0, 64)}`, { type: type.slice(0, 64) });
  if (checker.check(value)) return { ok: true, value: value as T };
  const [path, why] = checker.explain(value) ?? ['', 'is invalid'];
  return fail(
    'invalid_field',
    `Invalid ${type}: ${describeField(path)} ${why.charAt(0).toLowerCase()}${why.slice(1)}`,
    { type, path },
  );
}

/** Decode one frame a client sent (limit default DEFAULT_MAX_BYTES). Never throws; invalid input yields a wire-v1 error text. */
export function decodeClientMessage(
  raw: string | Uint8Array | ArrayBuffer,
  options?: DecodeOptions,
): DecodeResult<ClientMessage> {
  clientCheckers ??= checkersOf(clientChecks, clientExplain);
  return decodeWith<ClientMessage>(clientCheckers, raw, options, DEFAULT_MAX_BYTES);
}

/** Decode one frame a server sent (limit default DEFAULT_CLIENT_MAX_BYTES). Never throws; invalid input yields an error. */
export function decodeServerMessage(
  raw: string | Uint8Array | ArrayBuffer,
  options?: DecodeOptions,
): DecodeResult<ServerMessage> {
  serverCheckers ??= checkersOf(serverChecks, serverExplain);
  return decodeWith<ServerMessage>(serverCheckers, raw, options, DEFAULT_CLIENT_MAX_BYTES);
}

/** Encode a message for the wire: one JSON object per text frame. */
export function encode(message: ClientMessage | ServerMessage): string {
  return JSON.stringify(message);
}

/** Check a value against a client message schema without parsing (for in-process embedders). */
export function isClientMessage(value: unknown): value is ClientMessage {
  clientCheckers ??= checkersOf(clientChecks, clientExplain);
  const type = (value as { type?: unknown } | null)?.type;
  return typeof type === 'string' && (clientCheckers.get(type)?.check(value) ?? false);
}

/** Check a value against a server message schema without parsing. */
export function isServerMessage(value: unknown): value is ServerMessage {
  serverCheckers ??= checkersOf(serverChecks, serverExplain);
  const type = (value as { type?: unknown } | null)?.type;
  return typeof type === 'string' && (serverCheckers.get(type)?.check(value) ?? false);
}
