// The client's side of pairing by code, between the signaling driver (nameplates, claims) and the
// call (code-pairing.ts): it makes this client's code when the server hands it a nameplate, claims
// another's, and verifies a pairing made by a claim before anything of the app's flows on it.
// It tells the server how the exchange ended (`claim_result`), so a wrong guess burns the code.
// It loads with the code crypto (code-lazy.ts) once a code is asked for or joined; until then
// code-client.ts stands for it.
import type { ClientMessage, ServerMessage } from '@tandem/protocol';
import type { ChannelHub } from './channel-hub.js';
import type { CodeCall, CodeShare, VerifiedSession } from './code-pairing.js';
import type { CodeEvent, CodePorts } from './code-client.js';
import { DEFAULT_CODE_WORDS, looksLikeCode } from './code-shape.js';
import type { PeerSession } from './ports.js';

/** The code crypto (code-lazy.ts), loaded on first use. */
type CodeCrypto = typeof import('./code-lazy.js');

interface Current {
  readonly nameplate: string;
  readonly code: string | null;
  /** The peer's ID now (a restore re-pairs the same call under new IDs). */
  peerId: string;
  verified: boolean;
  failed: boolean;
  /** The key and roles the exchange left, once verified. */
  session: VerifiedSession | null;
  /** A later call being confirmed with that key ('pending': its call is not up yet): gated until it is. */
  reconfirming: ChannelHub | 'pending' | null;
}

export class CodeEngine {
  private owned: { nameplate: string; code: string } | null = null;
  private words = DEFAULT_CODE_WORDS;
  private joining: { code: string; nameplate: string } | null = null;
  private current: Current | null = null;
  /** The last verified pairing that ended: pairing with that peer again is confirmed with its key. */
  private remembered: { peerId: string; nameplate: string; session: VerifiedSession } | null = null;
  /** Whether this link's server granted `codes` (in welcome); null: not known yet. */
  private granted: boolean | null = null;
  /** Requests made before the server said whether it grants codes: sent once it does. */
  private waiting: ClientMessage[] = [];
  private readonly verifiedListeners: (() => void)[] = [];
  /** The crypto once loaded; `loading` while it is on its way. */
  private lib: CodeCrypto | null = null;
  private loading: Promise<CodeCrypto> | null = null;

  private readonly send: CodePorts['send'];
  private readonly emit: CodePorts['emit'];
  private readonly myId: CodePorts['myId'];
  private readonly leave: CodePorts['leave'];
  private readonly random: CodePorts['random'];

  constructor(ports: CodePorts) {
    ({ send: this.send, emit: this.emit, myId: this.myId, leave: this.leave, random: this.random } = ports);
  }

  /**
   * Run `fn` with the code crypto: at once when it is loaded, else once it is (in order: each
   * waits on the same import). Asking for or joining a code starts the load, so it is there
   * long before a pairing by code needs it.
   */
  private withCrypto(fn: (lib: CodeCrypto) => void): void {
    if (this.lib !== null) return fn(this.lib);
    this.loading ??= import('./code-lazy.js').then((lib) => (this.lib = lib));
    this.loading.then(fn, (e: unknown) =>
      this.emit({ type: 'codeRejected', code: '', reason: `the code crypto could not be loaded: ${String(e)}` }),
    );
  }

  /** Ask the server for a nameplate; the code is made here once it comes. */
  request(words = DEFAULT_CODE_WORDS): void {
    this.words = words;
    this.requesting = true;
    this.withCrypto(() => {}); // warm: the nameplate's answer needs the word list
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
    const notACode = () =>
      this.emit({
        type: 'codeRejected',
        code: typed,
        reason: 'that is not a code (a number, then words from the list)',
      });
    // the shape is told at once; only the words wait for the list
    if (!looksLikeCode(typed)) return notACode();
    this.withCrypto((lib) => {
      const parsed = lib.parseCode(typed);
      if (parsed === null) return notACode();
      this.joining = parsed;
      this.toServer({ type: 'claim', nameplate: parsed.nameplate });
    });
  }

  /** This client's current code, if it has one. */
  get code(): string | null {
    return this.owned?.code ?? null;
  }

  /** Whether the current pairing is a claim not verified yet: nothing of the app's may flow. */
  get gated(): boolean {
    return this.current !== null && (!this.current.verified || this.current.reconfirming !== null);
  }

  /** Whether the current pairing was made by code and verified. */
  get verified(): boolean {
    return this.current?.verified === true && this.current.reconfirming === null;
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
      this.withCrypto((lib) => {
        const code = lib.makeCode(m.nameplate, this.words, this.random);
        this.owned = { nameplate: m.nameplate, code };
        this.emit({ type: 'code', code, nameplate: m.nameplate, expiresInMs: m.expires_in_ms });
      });
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
        (m.code === 'nameplate_rate_limited' ||
          m.code === 'nameplate_full' ||
          m.code === 'nameplate_unavailable' ||
          m.code === 'nameplate_claimed')
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
      this.remembered = null;
      this.current = {
        nameplate: m.nameplate,
        code,
        peerId: m.peer_id,
        verified: false,
        failed: false,
        session: null,
        reconfirming: null,
      };
      return;
    }
    if (m.type === 'paired') {
      // still in a verified pairing: the server re-paired it under new IDs (a restore): the same call
      if (this.current !== null) return void (this.current.peerId = m.peer_id);
      const r = this.remembered;
      if (r === null || r.peerId !== m.peer_id) return;
      // paired again with the peer a code verified (after a failed call): its new call is confirmed with the key
      this.current = {
        nameplate: r.nameplate,
        code: null,
        peerId: m.peer_id,
        verified: true,
        failed: false,
        session: r.session,
        reconfirming: 'pending',
      };
    }
  }

  /** A call of the current pairing came up: verify it if the pairing was made by code. Returns whether it is one. */
  call(hub: ChannelHub, session: PeerSession): boolean {
    const current = this.current;
    if (current === null) return false;
    if (current.verified) return this.reconfirm(current, hub, session);
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
    setTimeout(() => this.withCrypto((lib) => (share ??= lib.prepareCodeShare(call, hub.initiator, this.random))), 0);
    hub.onPeer((peer) => {
      if (!peer.tandem) return fail('the peer cannot verify a code (it is not a tandem client)');
      this.withCrypto((lib) =>
        lib.runCodeExchange(
          hub,
          session,
          call,
          (outcome) => {
            if (this.current !== current) return;
            if (!outcome.ok) return fail(outcome.reason);
            current.verified = true;
            current.session = outcome.session;
            this.send({ type: 'claim_result', ok: true });
            this.emit({ type: 'verified', peerId: current.peerId });
            for (const fn of this.verifiedListeners.splice(0)) fn();
          },
          this.random,
          share,
        ),
      );
    });
    return true;
  }

  /** A later call of a verified pairing: gated until its certificates are confirmed with the pairing's key. */
  private reconfirm(current: Current, hub: ChannelHub, session: PeerSession): boolean {
    const s = current.session;
    if (s === null) return false;
    current.reconfirming = hub;
    // a call that goes again before it is confirmed is no failure: the next one is confirmed instead
    let closed = false;
    hub.onClose(() => (closed = true));
    const fail = (reason: string) => {
      if (current.failed) return;
      current.failed = true;
      this.emit({ type: 'verificationFailed', peerId: current.peerId, reason });
      this.leave();
    };
    hub.onPeer((peer) => {
      if (!peer.tandem) return fail('the peer cannot verify the call (it is not a tandem client)');
      this.withCrypto((lib) =>
        lib.runReconfirm(
          hub,
          session,
          s,
          (outcome) => {
            if (this.current !== current || current.reconfirming !== hub) return;
            if (!outcome.ok) return closed ? undefined : fail(outcome.reason);
            current.reconfirming = null;
            this.emit({ type: 'verified', peerId: current.peerId, again: true });
            for (const fn of this.verifiedListeners.splice(0)) fn();
          },
          this.random,
        ),
      );
    });
    return true;
  }

  /** The pairing ended. */
  ended(): void {
    const c = this.current;
    if (c?.verified === true && c.session !== null && !c.failed)
      this.remembered = { peerId: c.peerId, nameplate: c.nameplate, session: c.session };
    this.current = null;
    this.verifiedListeners.length = 0;
  }
}
