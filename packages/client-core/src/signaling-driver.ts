// Carries out the machine's `ws.*` effects on an injected transport: encodes outbound
// ClientMessages, decodes inbound frames into per-type `server.*` events, and drops callbacks
// from a socket that has been replaced. With `resume` granted it is also the reliable layer
// under the machine: it counts and keeps frames (a ResumeLedger), acknowledges, and on a new
// link answers `your_id` with `resume`, replays what the server missed, and reports RESUMED (or
// RESUME_FAILED, then the fresh `your_id`).
import {
  CloseCode,
  ResumeLedger,
  decodeServerMessage,
  encode,
  uncountedClientTypes,
  uncountedServerTypes,
  type DecodeOptions,
  type ServerMessage,
} from '@tandem/protocol';
import { serverEvent, type ClientActor, type ClientEffect } from './client.machine.js';
import type { IceServer, SignalingTransport, TransportFactory } from './ports.js';

/** The `ws.*` effects. */
export type SignalingEffect = Extract<ClientEffect, { type: `ws.${string}` }>;

/** Runs one client's signaling socket. */
export interface SignalingDriver {
  perform(effect: SignalingEffect): void;
  /** The ICE servers the server handed out (capability `ice-servers`), newest credentials; none otherwise. */
  iceServers(): readonly IceServer[];
}

/** The resumable session this driver keeps, once `welcome` granted one. */
interface ResumeState {
  token: string;
  readonly ledger: ResumeLedger;
}

/** A signaling driver feeding `actor`. */
export function createSignalingDriver(
  actor: ClientActor,
  openTransport: TransportFactory,
  decode?: DecodeOptions,
): SignalingDriver {
  let socket: SignalingTransport | null = null;
  /** Bumped for every socket, so callbacks from a replaced one are dropped. */
  let socketSeq = 0;
  let resume: ResumeState | null = null;
  let serverIceServers: readonly IceServer[] = [];
  /** On the current link, `resume` was sent and `resumed` (or a refusal) is awaited. */
  let resuming = false;
  /** The fresh ID the server gave the new link, used if the resume is refused. */
  let freshYourId: Extract<ServerMessage, { type: 'your_id' }> | null = null;

  const lost = (code: number, reason: string) => {
    // a deliberate close by the server (1000) ends the session; anything else may be resumed
    if (resume !== null && code !== CloseCode.Normal) actor.send({ type: 'LINK_LOST', code, reason });
    else {
      resume = null;
      actor.send({ type: 'WS_CLOSED', code, reason });
    }
  };

  const receive = (text: string, message: ServerMessage) => {
    if (resume !== null) {
      if (resuming) return resumeReply(resume, message);
      if (message.type === 'your_id') {
        // a new link under a live session: take the session back instead of the fresh ID
        resuming = true;
        freshYourId = message;
        socket?.send(encode({ type: 'resume', token: resume.token, received: resume.ledger.received }));
        return;
      }
      if (message.type === 'ack') {
        resume.ledger.acknowledged(message.received);
        return;
      }
      if (!uncountedServerTypes.has(message.type) && resume.ledger.receiving(text.length)) {
        socket?.send(encode({ type: 'ack', received: resume.ledger.received }));
      }
    } else if (message.type === 'welcome' && message.resume_token !== undefined) {
      resume = { token: message.resume_token, ledger: new ResumeLedger() };
    }
    // capability ice-servers: the servers (and TURN credentials) for the next peer connections
    if (message.type === 'welcome' && message.ice_servers !== undefined) serverIceServers = message.ice_servers;
    if (message.type === 'ice_servers') {
      serverIceServers = message.ice_servers;
      return;
    }
    actor.send(serverEvent(message));
  };

  const resumeReply = (state: ResumeState, message: ServerMessage) => {
    if (message.type === 'resumed') {
      resuming = false;
      state.token = message.resume_token;
      state.ledger.ackSent();
      const replay = state.ledger.replayAfter(message.received);
      if (replay !== null) {
        for (const frame of replay) socket?.send(frame);
        actor.send({ type: 'RESUMED', id: message.id, peerId: message.peer_id });
        return;
      }
      // the server claims frames we never sent: the session cannot be trusted
      return refused(`server reported ${message.received} frames received of ${state.ledger.sent}`);
    }
    if (message.type === 'error') return refused(message.message);
    // anything else before the answer (a ping) is a sign of life only
    if (message.type === 'ping') socket?.send(encode({ type: 'pong' }));
  };

  const refused = (why: string) => {
    resuming = false;
    resume = null;
    actor.send({ type: 'RESUME_FAILED', message: why });
    if (freshYourId !== null) actor.send(serverEvent(freshYourId));
    freshYourId = null;
  };

  return {
    iceServers: () => serverIceServers,
    perform(effect) {
      switch (effect.type) {
        case 'ws.connect': {
          const seq = ++socketSeq;
          const current = () => seq === socketSeq;
          resuming = false;
          socket = openTransport(effect.url, {
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
          });
          return;
        }
        case 'ws.send': {
          const text = encode(effect.message);
          const counted = resume !== null && !uncountedClientTypes.has(effect.message.type);
          if (counted) resume!.ledger.sending(text); // kept until acknowledged: replayed after a resume if the link ate it
          if (!resuming) socket?.send(text);
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
          resume = null;
          closing?.close(CloseCode.Normal, 'client closing');
          return;
        }
      }
    },
  };
}
