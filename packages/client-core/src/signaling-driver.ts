// Carries out the machine's `ws.*` effects on an injected transport: encodes outbound
// ClientMessages, decodes inbound frames into per-type `server.*` events, and drops callbacks
// from a socket that has been replaced.
import { CloseCode, decodeServerMessage, encode, type DecodeOptions } from '@tandem/protocol';
import { serverEvent, type ClientActor, type ClientEffect } from './client.machine.js';
import type { SignalingTransport, TransportFactory } from './ports.js';

/** The `ws.*` effects. */
export type SignalingEffect = Extract<ClientEffect, { type: `ws.${string}` }>;

/** Runs one client's signaling socket. */
export interface SignalingDriver {
  perform(effect: SignalingEffect): void;
}

/** A signaling driver feeding `actor`. */
export function createSignalingDriver(actor: ClientActor, openTransport: TransportFactory, decode?: DecodeOptions): SignalingDriver {
  let socket: SignalingTransport | null = null;
  /** Bumped for every socket, so callbacks from a replaced one are dropped. */
  let socketSeq = 0;
  return {
    perform(effect) {
      switch (effect.type) {
        case 'ws.connect': {
          const seq = ++socketSeq;
          const current = () => seq === socketSeq;
          socket = openTransport(effect.url, {
            open: () => current() && actor.send({ type: 'WS_OPEN' }),
            message: (text) => {
              if (!current()) return;
              const decoded = decodeServerMessage(text, decode);
              actor.send(decoded.ok ? serverEvent(decoded.value) : { type: 'BAD_FRAME', message: decoded.error.message });
            },
            close: (code, reason) => {
              if (!current()) return;
              socket = null;
              actor.send({ type: 'WS_CLOSED', code, reason });
            },
          });
          return;
        }
        case 'ws.send':
          socket?.send(encode(effect.message));
          return;
        case 'ws.close': {
          const closing = socket;
          socket = null;
          socketSeq++;
          closing?.close(CloseCode.Normal, 'client closing');
          return;
        }
      }
    },
  };
}
