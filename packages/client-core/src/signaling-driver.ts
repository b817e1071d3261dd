// Carries out the machine's `ws.*` effects on an injected transport: encodes outbound
// ClientMessages, decodes inbound frames into per-type `server.*` events, and drops callbacks
// from a socket that has been replaced. With `resume` granted, the frames also pass through the
// resume layer (resume-link.ts), which keeps the session across links.
import {
  CloseCode,
  decodeServerMessage,
  encode,
  type ClientMessage,
  type DecodeOptions,
  type ServerMessage,
} from '@tandem/protocol/wire';
import { serverEvent, type ClientActor, type ClientEffect } from './client.machine.js';
import type { IceServer, SignalingTransport, TokenSource, TransportFactory, TransportHandlers } from './ports.js';
import { createResumeLink } from './resume-link.js';

/** The `ws.*` effects. */
export type SignalingEffect = Extract<ClientEffect, { type: `ws.${string}` }>;

/** Runs one client's signaling socket. */
export interface SignalingDriver {
  perform(effect: SignalingEffect): void;
  /** The ICE servers the server handed out (capability `ice-servers`), newest credentials; none otherwise. */
  iceServers(): readonly IceServer[];
  /** Send a message outside the machine's own (the code layer's nameplate requests, claims, results). */
  send(message: ClientMessage): void;
}

/** A signaling driver feeding `actor`. */
export function createSignalingDriver(
  actor: ClientActor,
  openTransport: TransportFactory,
  decode?: DecodeOptions,
  token?: TokenSource,
  onCodes?: (message: ServerMessage) => void,
): SignalingDriver {
  let socket: SignalingTransport | null = null;
  /** Bumped for every socket, so callbacks from a replaced one are dropped. */
  let socketSeq = 0;
  let serverIceServers: readonly IceServer[] = [];
  const resume = createResumeLink({ send: (text) => socket?.send(text), tell: (event) => actor.send(event) });

  const lost = (code: number, reason: string) => {
    if (resume.lost(code)) actor.send({ type: 'LINK_LOST', code, reason });
    else actor.send({ type: 'WS_CLOSED', code, reason });
  };

  const receive = (text: string, message: ServerMessage) => {
    if (resume.receive(text, message)) return;
    // capability codes: nameplates, their ends, refused claims, and pairings go to the code layer too
    if (onCodes !== undefined) {
      const codesError = message.type === 'error' && /^(nameplate|codes)_/.test(message.code ?? '');
      if (codesError || message.type === 'nameplate' || message.type === 'nameplate_closed') onCodes(message);
      if (message.type === 'paired') onCodes(message); // by claim, or again with a peer a code verified
      if (message.type === 'welcome' || message.type === 'your_id') onCodes(message); // whether codes are granted
      if (codesError) return; // not the pairing machine's error
    }
    // capability ice-servers: the servers (and TURN credentials) for the next peer connections
    if (message.type === 'welcome' && message.ice_servers !== undefined) serverIceServers = message.ice_servers;
    if (message.type === 'ice_servers') {
      serverIceServers = message.ice_servers;
      return;
    }
    actor.send(serverEvent(message));
  };

  return {
    iceServers: () => serverIceServers,
    send(message) {
      const text = encode(message);
      if (resume.sending(text, message)) socket?.send(text);
    },
    perform(effect) {
      switch (effect.type) {
        case 'ws.connect': {
          const seq = ++socketSeq;
          const current = () => seq === socketSeq;
          const handlers: TransportHandlers = {
            open: () => current() && actor.send({ type: 'WS_OPEN' }),
            message: (text) => {
              if (!current()) return;
              const decoded = decodeServerMessage(text, decode);
              if (decoded.ok) receive(text, decoded.value);
              else actor.send({ type: 'BAD_FRAME', message: decoded.error.message });
            },
            close: (code, reason) => {
              if (!current()) return;
              socket = null;
              lost(code, reason);
            },
          };
          const dial = (value?: string) => {
            if (current())
              socket = openTransport(effect.url, handlers, value === undefined ? undefined : { token: value });
          };
          if (typeof token !== 'function') return dial(token);
          // asked again at every connect, so a long session refreshes its token; a failure is a failed connect
          void (async () => token())().then(dial, (err: unknown) => {
            if (current()) lost(CloseCode.Abnormal, `token provider failed: ${(err as Error)?.message ?? String(err)}`);
          });
          return;
        }
        case 'ws.send': {
          const text = encode(effect.message);
          if (resume.sending(text, effect.message)) socket?.send(text);
          return;
        }
        case 'ws.drop': {
          const dead = socket;
          socket = null;
          socketSeq++;
          dead?.close(CloseCode.LinkDead, 'link dead'); // not 1000: a server must not read it as goodbye
          lost(CloseCode.Abnormal, effect.reason);
          return;
        }
        case 'ws.close': {
          const closing = socket;
          socket = null;
          socketSeq++;
          resume.end();
          closing?.close(CloseCode.Normal, 'client closing');
          return;
        }
      }
    },
  };
}
