// Frames from clients: proof of life, rate admission, decoding, and dispatch by message type.
import { ErrorText, decodeClientMessage, encode, uncountedClientTypes, type ClientMessage } from '@tandem/protocol';
import type { Connection, WaitingFrame } from './connection.js';
import type { EngineContext, Turn } from './engine-context.js';
import { MAX_HELD_FRAMES } from './directory-turns.js';
import { hello } from './hello.js';
import { claimNameplate, claimResult, requestNameplate } from './codes/codes.js';
import { noteHeard } from './keepalive/keepalive-effects.js';
import { drop } from './lifecycle.js';
import { END, pairingEvent } from './pairing/pairing-effects.js';
import { pairRequest } from './pairing/pair-request.js';
import { takeBytes, takeToken } from './rate-limit.js';
import { resumeSession } from './resume/resume.js';
import { PairingInput } from './tables.js';
import { countIncoming, rejectFrame } from './to-clients.js';

/** A frame arrived from `conn`: proof of life, the two rate limits, then its handling in order. */
export function receive<H>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  conn: Connection<H>,
  data: string | Uint8Array,
  binary: boolean,
  byteLength: number | undefined,
): void {
  noteHeard(ctx, turn, conn); // any frame is proof of life
  const s = ctx.settings;
  const t = turn.now;
  if (!takeToken(conn, t, s.rateLimitPerSecond, s.rateLimitBurst)) {
    ctx.counters.rateLimited++;
    ctx.sink.log?.({ type: 'rate_limited', id: conn.id, unit: 'messages' });
    return drop(ctx, turn, conn, 'rate_limited');
  }
  // a frame over the size limit is refused by the decoder below (in words); it is charged as
  // a largest frame, which the byte burst always allows, so the refusal is what the client sees
  const bytes = Math.min(byteLength ?? (typeof data === 'string' ? data.length : data.byteLength), s.maxFrameBytes);
  if (!takeBytes(conn, t, bytes, s.rateLimitBytesPerSecond, s.rateLimitBytesBurst)) {
    ctx.counters.byteRateLimited++;
    ctx.sink.log?.({ type: 'rate_limited', id: conn.id, unit: 'bytes' });
    return drop(ctx, turn, conn, 'byte_rate_limited');
  }
  if (conn.held !== null) {
    // an earlier frame waits for the directory: this one is handled after it, in order
    if (conn.held.frames.length >= MAX_HELD_FRAMES) return drop(ctx, turn, conn, 'rate_limited');
    conn.held.frames.push({ data, binary, bytes });
    return;
  }
  handleFrame(ctx, turn, conn, data, binary, bytes);
}

/** A frame that waited for the directory, in its turn. */
export function handleHeldFrame<H>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  conn: Connection<H>,
  frame: WaitingFrame,
): void {
  handleFrame(ctx, turn, conn, frame.data, frame.binary, frame.bytes);
}

/** One frame that passed the rate limits: decode it (counting it for resume) and dispatch it. */
function handleFrame<H>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  conn: Connection<H>,
  data: string | Uint8Array,
  binary: boolean,
  bytes: number,
): void {
  if (binary) {
    if (conn.resume !== null) countIncoming(ctx, conn, bytes);
    return rejectFrame(
      ctx,
      turn,
      conn,
      `${ErrorText.InvalidJson}: binary frames are not supported, send JSON text frames`,
      'binary',
    );
  }
  const result = decodeClientMessage(data, { maxBytes: ctx.settings.maxFrameBytes });
  // a resumable client counted this frame when it sent it, unless it is a control frame
  if (conn.resume !== null && !(result.ok && uncountedClientTypes.has(result.value.type)))
    countIncoming(ctx, conn, bytes);
  if (!result.ok) return rejectFrame(ctx, turn, conn, result.error.message, result.error.code);
  dispatch(ctx, turn, conn, result.value, typeof data === 'string' ? data : null);
}

function dispatch<H>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  conn: Connection<H>,
  message: ClientMessage,
  raw: string | null,
): void {
  switch (message.type) {
    case 'offer':
    case 'answer':
    case 'candidate':
      return pairingEvent(ctx, turn, conn, PairingInput.signal, {
        cause: 'signal',
        messageType: message.type,
        frame: raw ?? encode(message),
      });
    case 'pair_request':
      return pairRequest(ctx, turn, conn, ctx.keyOf(message.target_id));
    case 'pong':
      return; // proof of life already recorded
    case 'hello':
      return hello(ctx, turn, conn, message.capabilities);
    case 'resume':
      return resumeSession(ctx, turn, conn, message.token, message.received);
    case 'leave':
      return pairingEvent(ctx, turn, conn, PairingInput.leave, END);
    case 'nameplate_request':
      return requestNameplate(ctx, turn, conn);
    case 'claim':
      return claimNameplate(ctx, turn, conn, message.nameplate);
    case 'claim_result':
      return claimResult(ctx, turn, conn, message.ok, message.reason);
    case 'ack': {
      const r = conn.resume;
      if (r === null || r.ledger.acknowledged(message.received)) return;
      return rejectFrame(
        ctx,
        turn,
        conn,
        `Invalid ack: received ${message.received} is outside ${r.ledger.acked}…${r.ledger.sent}`,
        'invalid_ack',
      );
    }
  }
}
