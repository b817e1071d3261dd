// How the suite reaches a server: a dialer opens one client connection over whatever link it
// speaks (a real URL over `ws`, or an in-process engine); the suite never touches sockets itself.
import { tokenSubprotocols } from '@tandem/protocol';
import { WebSocket } from 'ws';
import { Failure } from './verdicts.js';

/** Callbacks a suite socket reports to. */
export interface SocketHandlers {
  /** A frame from the server (binary frames are reported with `binary: true`). */
  message(frame: string, binary: boolean): void;
  /** The connection closed (by either side, or lost). */
  close(code: number): void;
  /** A WebSocket control ping arrived (the socket answers it by itself, as WebSocket stacks do). */
  ping(): void;
}

/** One client connection to the server under test, over whatever link the dialer speaks. */
export interface SuiteSocket {
  send(frame: string | Uint8Array, binary: boolean): void;
  /** Closing handshake. */
  close(code: number): void;
  /** Abrupt loss: no closing handshake. */
  terminate(): void;
}

/** Opens a client connection; resolves once it is open. The suite's only contact with the server. */
export type Dialer = (handlers: SocketHandlers) => Promise<SuiteSocket>;

/**
 * A dialer for a real server URL over `ws`; `token` (for a server that requires one) goes in the
 * `tandem.token.` subprotocol, as tandem's clients send it.
 */
export function wsDialer(url: string, options: { token?: string } = {}): Dialer {
  const protocols = options.token === undefined ? [] : tokenSubprotocols(options.token);
  return (h) =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, { perMessageDeflate: false });
      ws.on('message', (d, binary) => h.message(binary ? '' : d.toString(), binary));
      ws.on('close', (code) => h.close(code));
      ws.on('ping', () => h.ping()); // ws answers with a pong by itself
      ws.on('error', () => undefined);
      const t = setTimeout(() => {
        ws.terminate();
        reject(new Failure(`could not connect to ${url} within 5 s`));
      }, 5000);
      ws.once('open', () => {
        clearTimeout(t);
        resolve({
          send: (frame, binary) => ws.send(frame, { binary }),
          close: (code) => ws.close(code),
          terminate: () => ws.terminate(),
        });
      });
      ws.once('error', (e) => {
        clearTimeout(t);
        reject(new Failure(`${url}: ${e.message}`));
      });
    });
}
