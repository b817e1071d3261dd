// The client's side of pairing by code, between the signaling driver (nameplates, claims) and the
// call (code-pairing.ts): it makes this client's code when the server hands it a nameplate, claims
// another's, and verifies a pairing made by a claim before anything of the app's flows on it.
// It tells the server how the exchange ended (`claim_result`), so a wrong guess burns the code.
import type { ClientMessage, ServerMessage } from '@tandem/protocol';
import type { ChannelHub } from './channel-hub.js';
import {
  DEFAULT_CODE_WORDS,
  makeCode,
  parseCode,
  prepareCodeShare,
  runCodeExchange,
  type CodeCall,
  type CodeShare,
} from './code-pairing.js';
import type { PeerSession } from './ports.js';

/** What the code layer reports, as client events. */
export type CodeEvent =
  /** This client's code, to hand out (read it aloud, show it, send the link). */
  | { type: 'code'; code: string; nameplate: string; expiresInMs: number }
  /** This client's code is gone: `burnt` (someone tried it and did not confirm: make a new one), `expired`, `replaced`, `confirmed`. */
  | { type: 'codeClosed'; code: string; reason: 'confirmed' | 'burnt' | 'expired' | 'replaced'; detail?: string }
  /** A code this client tried to join was refused (wrong shape, unknown, burnt, expired, busy). */
  | { type: 'codeRejected'; code: string; reason: string }
  /** The call paired by code is verified: the peer holds the same code and the call is end to end theirs. */
  | { type: 'verified'; peerId: string }
  /** The call paired by code could not be verified: it is torn down and nothing was delivered. */
  | { type: 'verificationFailed'; peerId: string; reason: string };

interface Current {
  readonly nameplate: string;
  readonly code: string | null;
  readonly peerId: string;
  verified: boolean;
  failed: boolean;
}

export class CodeClient {
  private owned: { nameplate: string; code: string } | null = null;
  private words = DEFAULT_CODE_WORDS;
  private joining: { code: string; nameplate: string } | null = null;
  private current: Current | null = null;
  /** Whether this link's server granted `codes` (in welcome); null: not known yet. */
  private granted: boolean | null = null;
  /** Requests made before the server said whether it grants codes: sent once it does. */
  private waiting: ClientMessage[] = [];
  private readonly verifiedListeners: (() => void)[] = [];

  constructor(
    private readonly send: (message: ClientMessage) => void,
    private readonly emit: (event: CodeEvent) => void,
    private readonly myId: () => string | null,
    private readonly leave: () => void,
    private readonly random?: (bytes: number) => Uint8Array,
  ) {}

  /** Ask the server for a nameplate; the code is made here once it comes. */
  request(words = DEFAULT_CODE_WORDS): void {
    this.words = words;
    this.requesting = true;
    this.toServer({ type: 'nameplate_request' });
  }
  /** A nameplate was asked for and neither it nor a refusal has come yet. */
  private requesting = false;

  /** Send a request once the server has granted codes (hello's answer comes after the ID). */
  private toServer(m: ClientMessage): void {
    if (this.granted === true) return this.send(m);
    if (this.granted === false) return this.unsupported(m);
    this.waiting.push(m);
  }
  private unsupported(m: ClientMessage): void {
    const reason = 'this server does not offer pairing by code';
    if (m.type === 'claim' && this.joining !== null) {
      const code = this.joining.code;
      this.joining = null;
      this.emit({ type: 'codeRejected', code, reason });
    } else this.emit({ type: 'codeRejected', code: '', reason });
  }

  /** Join another client's code. */
  join(typed: string): void {
    const parsed = parseCode(typed);
    if (parsed === null) {
      this.emit({
        type: 'codeRejected',
        code: typed,
        reason: 'that is not a code (a number, then words from the list)',
      });
      return;
    }
    this.joining = parsed;
    this.toServer({ type: 'claim', nameplate: parsed.nameplate });
  }

  /** This client's current code, if it has one. */
  get code(): string | null {
    return this.owned?.code ?? null;
  }

  /** Whether the current pairing is a claim not verified yet: nothing of the app's may flow. */
  get gated(): boolean {
    return this.current !== null && !this.current.verified;
  }

  /** Whether the current pairing was made by code and verified. */
  get verified(): boolean {
    return this.current?.verified === true;
  }

  /** Run `fn` once the current pairing is verified (at once when it is not a code pairing, or already is). */
  whenVerified(fn: () => void): void {
    if (!this.gated) return fn();
    this.verifiedListeners.push(fn);
  }

  /** A message from the server that concerns codes. */
  server(m: ServerMessage): void {
    if (m.type === 'your_id') {
      // a new link: granted again by its welcome (a v1 server, with no capabilities, never will)
      this.granted = m.capabilities === undefined || !m.capabilities.includes('codes') ? false : null;
      if (this.granted === false) for (const w of this.waiting.splice(0)) this.unsupported(w);
      return;
    }
    if (m.type === 'welcome') {
      this.granted = m.capabilities.includes('codes');
      for (const w of this.waiting.splice(0)) this.toServer(w);
      return;
    }
    if (m.type === 'nameplate') {
      this.requesting = false;
      const code = makeCode(m.nameplate, this.words, this.random);
      this.owned = { nameplate: m.nameplate, code };
      this.emit({ type: 'code', code, nameplate: m.nameplate, expiresInMs: m.expires_in_ms });
      return;
    }
    if (m.type === 'nameplate_closed') {
      if (this.owned?.nameplate === m.nameplate) {
        const code = this.owned.code;
        this.owned = null;
        this.emit({
          type: 'codeClosed',
          code,
          reason: m.reason,
          ...(m.detail !== undefined ? { detail: m.detail } : {}),
        });
      }
      return;
    }
    if (m.type === 'error') {
      // a refused request (too many codes from this address, the server full) has no code yet
      if (
        this.requesting &&
        (m.code === 'nameplate_rate_limited' || m.code === 'nameplate_full' || m.code === 'nameplate_claimed')
      ) {
        this.requesting = false;
        if (this.joining === null) return this.emit({ type: 'codeRejected', code: '', reason: m.message });
      }
      const joining = this.joining;
      if (joining === null) return;
      this.joining = null;
      this.emit({ type: 'codeRejected', code: joining.code, reason: m.message });
      return;
    }
    if (m.type === 'paired' && m.nameplate !== undefined) {
      const code =
        this.owned?.nameplate === m.nameplate
          ? this.owned.code
          : this.joining?.nameplate === m.nameplate
            ? this.joining.code
            : null;
      this.joining = null;
      this.current = { nameplate: m.nameplate, code, peerId: m.peer_id, verified: false, failed: false };
    }
  }

  /** A call of the current pairing came up: verify it if the pairing was made by code. Returns whether it is one. */
  call(hub: ChannelHub, session: PeerSession): boolean {
    const current = this.current;
    if (current === null || current.verified) return false;
    const fail = (reason: string) => {
      if (current.failed) return;
      current.failed = true;
      this.send({ type: 'claim_result', ok: false, reason: reason.slice(0, 200) });
      this.emit({ type: 'verificationFailed', peerId: current.peerId, reason });
      this.leave();
    };
    if (current.code === null) {
      fail('the server paired this client by a code it does not hold');
      return true;
    }
    const call: CodeCall = {
      code: current.code,
      nameplate: current.nameplate,
      myId: this.myId() ?? '',
      peerId: current.peerId,
    };
    // this side's share is made while the call connects (after the offer or answer has gone out)
    let share: CodeShare | undefined;
    setTimeout(() => (share ??= prepareCodeShare(call, hub.initiator, this.random)), 0);
    hub.onPeer((peer) => {
      if (!peer.tandem) return fail('the peer cannot verify a code (it is not a tandem client)');
      runCodeExchange(
        hub,
        session,
        call,
        (outcome) => {
          if (this.current !== current) return;
          if (!outcome.ok) return fail(outcome.reason);
          current.verified = true;
          this.send({ type: 'claim_result', ok: true });
          this.emit({ type: 'verified', peerId: current.peerId });
          for (const fn of this.verifiedListeners.splice(0)) fn();
        },
        this.random,
        share,
      );
    });
    return true;
  }

  /** The pairing ended. */
  ended(): void {
    this.current = null;
    this.verifiedListeners.length = 0;
  }
}
