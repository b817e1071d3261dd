// The client's half of `resume`, in one place: the reliable layer under the machine once
// `welcome` granted a session. It counts and keeps frames (a ResumeLedger) and acknowledges; on a
// new link it answers `your_id` with `resume`, holds outbound frames until the answer, replays
// what the server missed, and reports RESUMED — or RESUME_FAILED, then the fresh `your_id`.
import {
  Capability,
  CloseCode,
  ResumeLedger,
  encode,
  uncountedClientTypes,
  uncountedServerTypes,
  type ClientMessage,
  type ServerMessage,
} from '@tandem/protocol/wire';
import { serverEvent, type ClientEvent } from './client.machine.js';

type YourId = Extract<ServerMessage, { type: 'your_id' }>;

/** Where the session stands, one phase at a time. */
type Phase =
  /** No session: the server did not grant one, or it ended. */
  | { readonly name: 'none' }
  /**
   * `hello` asked for resume and `welcome` has not answered yet: the server counts from the hello,
   * so what goes out now (a pair request sent the moment the ID arrived) is counted here too.
   */
  | { readonly name: 'asked'; readonly ledger: ResumeLedger }
  /** A session on the current link: both directions counted. */
  | { readonly name: 'live'; readonly token: string; readonly ledger: ResumeLedger }
  /** A new link: `resume` sent, the answer awaited; `fresh` is that link's own ID, for a refusal. */
  | { readonly name: 'resuming'; readonly token: string; readonly ledger: ResumeLedger; readonly fresh: YourId };

/** What the resume layer needs: the current link, and the machine. */
export interface ResumeLinkIo {
  send(text: string): void;
  tell(event: ClientEvent): void;
}

/** One client's resume layer. */
export interface ResumeLink {
  /** A frame from the server: true when it was the session's business (the machine does not hear it). */
  receive(text: string, message: ServerMessage): boolean;
  /** An outbound frame: counted and kept when it must be; true when it may go out on the link now. */
  sending(text: string, message: ClientMessage): boolean;
  /** The link closed with `code`: true when the session lives on (resume on the next link). */
  lost(code: number): boolean;
  /** The client closes on purpose: the session ends. */
  end(): void;
}

/** The resume layer over `io`. */
export function createResumeLink(io: ResumeLinkIo): ResumeLink {
  let phase: Phase = { name: 'none' };

  const refused = (fresh: YourId, why: string) => {
    phase = { name: 'none' };
    io.tell({ type: 'RESUME_FAILED', message: why });
    io.tell(serverEvent(fresh));
  };

  const answer = (p: Extract<Phase, { name: 'resuming' }>, message: ServerMessage) => {
    if (message.type === 'resumed') {
      phase = { name: 'live', token: message.resume_token, ledger: p.ledger };
      p.ledger.ackSent();
      const replay = p.ledger.replayAfter(message.received);
      // the server claims frames we never sent: the session cannot be trusted
      if (replay === null)
        return refused(p.fresh, `server reported ${message.received} frames received of ${p.ledger.sent}`);
      for (const frame of replay) io.send(frame);
      return io.tell({ type: 'RESUMED', id: message.id, peerId: message.peer_id });
    }
    if (message.type === 'error') return refused(p.fresh, message.message);
    // anything else before the answer (a ping) is a sign of life only
    if (message.type === 'ping') io.send(encode({ type: 'pong' }));
  };

  return {
    receive(text, message) {
      if (phase.name === 'resuming') {
        answer(phase, message);
        return true;
      }
      if (phase.name === 'none' || phase.name === 'asked') {
        if (message.type === 'welcome') {
          phase =
            message.resume_token !== undefined
              ? {
                  name: 'live',
                  token: message.resume_token,
                  ledger: phase.name === 'asked' ? phase.ledger : new ResumeLedger(),
                }
              : { name: 'none' };
        }
        return false;
      }
      const { token, ledger } = phase;
      if (message.type === 'your_id') {
        // a new link under a live session: take the session back instead of the fresh ID
        phase = { name: 'resuming', token, ledger, fresh: message };
        io.send(encode({ type: 'resume', token, received: ledger.received }));
        return true;
      }
      if (message.type === 'ack') {
        ledger.acknowledged(message.received);
        return true;
      }
      if (!uncountedServerTypes.has(message.type) && ledger.receiving(text.length)) {
        io.send(encode({ type: 'ack', received: ledger.received }));
      }
      return false;
    },
    sending(text, message) {
      const type = message.type;
      if (phase.name === 'none') {
        if (type === 'hello' && message.capabilities.includes(Capability.Resume))
          phase = { name: 'asked', ledger: new ResumeLedger() };
        return true;
      }
      if (phase.name === 'asked') {
        if (!uncountedClientTypes.has(type)) phase.ledger.sending(text);
        return true;
      }
      // kept until acknowledged: replayed after a resume if the link ate it
      if (!uncountedClientTypes.has(type)) phase.ledger.sending(text);
      return phase.name === 'live';
    },
    lost(code) {
      // a deliberate close by the server (1000) ends the session; anything else may be resumed
      if (phase.name === 'none' || phase.name === 'asked' || code === CloseCode.Normal) {
        phase = { name: 'none' };
        return false;
      }
      // a link lost while its resume was awaited: the next link resumes again
      if (phase.name === 'resuming') phase = { name: 'live', token: phase.token, ledger: phase.ledger };
      return true;
    },
    end() {
      phase = { name: 'none' };
    },
  };
}
