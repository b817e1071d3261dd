// Pairing by code as the client sees it, before any of its code is loaded: what it must know at
// once (whether the current pairing is gated, whether a server grants codes) is here, small; the
// rest — nameplates, claims, the exchange, the word list and the PAKE — is the engine
// (code-engine.ts), loaded with the code crypto (code-lazy.ts) the first time a code is asked for
// or joined. A page that never pairs by code never loads it.
import type { ClientMessage, ServerMessage } from '@tandem/protocol';
import type { ChannelHub } from './channel-hub.js';
import type { CodeEngine } from './code-engine.js';
import { looksLikeCode } from './code-shape.js';
import type { PeerSession } from './ports.js';

/** What the code layer reports, as client events. */
export type CodeEvent =
  /** This client's code, to hand out (read it aloud, show it, send the link). */
  | { type: 'code'; code: string; nameplate: string; expiresInMs: number }
  /** This client's code is gone: `burnt` (someone tried it and did not confirm: make a new one), `expired`, `replaced`, `confirmed`. */
  | { type: 'codeClosed'; code: string; reason: 'confirmed' | 'burnt' | 'expired' | 'replaced'; detail?: string }
  /** A code this client tried to join was refused (wrong shape, unknown, burnt, expired, busy). */
  | { type: 'codeRejected'; code: string; reason: string }
  /**
   * The call paired by code is verified: the peer holds the same code and the call is end to end
   * theirs. `again`: a later call of that pairing (a new peer connection, new certificates) was
   * confirmed with the pairing's key, no new code needed.
   */
  | { type: 'verified'; peerId: string; again?: boolean }
  /** The call paired by code could not be verified: it is torn down and nothing was delivered. */
  | { type: 'verificationFailed'; peerId: string; reason: string };

/** What the code layer talks to: the server, the client's events, its ID, and leaving a pairing. */
export interface CodePorts {
  readonly send: (message: ClientMessage) => void;
  readonly emit: (event: CodeEvent) => void;
  readonly myId: () => string | null;
  readonly leave: () => void;
  /** Randomness for codes and shares (tests); default WebCrypto. */
  readonly random?: ((bytes: number) => Uint8Array) | undefined;
}

/**
 * The client's side of pairing by code. Asking for or joining a code loads the engine; until then
 * no pairing can be one by code, so nothing is gated — except a pairing the server says was made
 * by a code this client never held, which is refused as the engine would.
 */
export class CodeClient {
  private engine: CodeEngine | null = null;
  private loading: Promise<CodeEngine> | null = null;
  /** The link's `your_id` and `welcome` (whether its server grants codes), replayed to the engine once loaded. */
  private link: ServerMessage[] = [];
  /** Paired "by code" while no code was asked for or joined (peer ID): refused once the call comes up. */
  private bogus: string | null = null;

  private readonly ports: CodePorts;

  constructor(
    send: CodePorts['send'],
    emit: CodePorts['emit'],
    myId: CodePorts['myId'],
    leave: CodePorts['leave'],
    random?: (bytes: number) => Uint8Array,
  ) {
    this.ports = { send, emit, myId, leave, random };
  }

  /** Run `fn` with the engine: at once when loaded, else once it is (in order: each waits on the same import). */
  private withEngine(fn: (engine: CodeEngine) => void, code = ''): void {
    if (this.engine !== null) return fn(this.engine);
    this.loading ??= import('./code-lazy.js').then(
      ({ CodeEngine }) => {
        const engine = new CodeEngine(this.ports);
        for (const m of this.link.splice(0)) engine.server(m);
        return (this.engine = engine);
      },
      (err: unknown) => {
        this.loading = null; // the next request tries again
        throw err;
      },
    );
    this.loading.then(fn, (err: unknown) =>
      this.ports.emit({ type: 'codeRejected', code, reason: `the code crypto could not be loaded: ${String(err)}` }),
    );
  }

  /** Ask the server for a nameplate; the code is made here once it comes. */
  request(words?: number): void {
    this.withEngine((e) => e.request(words));
  }

  /** Join another client's code. */
  join(typed: string): void {
    // the shape is told at once; only the words wait for the list
    if (!looksLikeCode(typed))
      return this.ports.emit({
        type: 'codeRejected',
        code: typed,
        reason: 'that is not a code (a number, then words from the list)',
      });
    this.withEngine((e) => e.join(typed), typed);
  }

  /** This client's current code, if it has one. */
  get code(): string | null {
    return this.engine?.code ?? null;
  }

  /** Whether the current pairing is a claim not verified yet: nothing of the app's may flow. */
  get gated(): boolean {
    return this.engine?.gated ?? this.bogus !== null;
  }

  /** Whether the current pairing was made by code and verified. */
  get verified(): boolean {
    return this.engine?.verified ?? false;
  }

  /** Run `fn` once the current pairing is verified (at once when it is not a code pairing, or already is). */
  whenVerified(fn: () => void): void {
    if (this.engine !== null) return this.engine.whenVerified(fn);
    if (this.bogus === null) fn(); // (a bogus pairing is never verified)
  }

  /** A message from the server that concerns codes. */
  server(m: ServerMessage): void {
    if (this.engine !== null) return this.engine.server(m);
    if (m.type === 'your_id') this.link = [m];
    else if (m.type === 'welcome') this.link.push(m);
    else if (m.type === 'paired') this.bogus = m.nameplate !== undefined ? m.peer_id : null;
  }

  /** A call of the current pairing came up: verify it if the pairing was made by code. Returns whether it is one. */
  call(hub: ChannelHub, session: PeerSession): boolean {
    if (this.engine !== null) return this.engine.call(hub, session);
    const peerId = this.bogus;
    if (peerId === null) return false;
    const reason = 'the server paired this client by a code it does not hold';
    this.ports.send({ type: 'claim_result', ok: false, reason });
    this.ports.emit({ type: 'verificationFailed', peerId, reason });
    this.ports.leave();
    return true;
  }

  /** The pairing ended. */
  ended(): void {
    this.bogus = null;
    this.engine?.ended();
  }
}
