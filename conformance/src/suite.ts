// The conformance suite: raw WebSocket clients check any server URL against wire v1 (and
// tandem's advertised extensions). No WebRTC needed. Each case names what it proves.
import { WebSocket } from 'ws';
import fc from 'fast-check';
import { arbInvalidClientMessage } from '@tandem/protocol/arbitraries';
import { Capability, CloseCode, ErrorText, decodeServerMessage } from '@tandem/protocol';
import { defaultServerSettings } from '@tandem/server-core';

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

/** A dialer for a real server URL over `ws`. */
export function wsDialer(url: string): Dialer {
  return (h) =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
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

/** The suite's defaults: tandem-server's own timings, and the lateness allowed on timing bounds. */
export const suiteDefaults = Object.freeze({
  pingIntervalMs: defaultServerSettings.pingIntervalMs,
  pingTimeoutMs: defaultServerSettings.pingTimeoutMs,
  toleranceMs: 1500,
  earlyToleranceMs: 100,
  answerTimeoutMs: 5000,
});

/** Settings the suite needs to know about the server under test. */
export interface SuiteOptions {
  /** The server's URL. Give either this (or `urls`) or `dial`. */
  url?: string;
  /**
   * Cluster mode: several nodes of one cluster. Each case's clients are spread across them in
   * turn, so the two clients of every pair (opened one after the other) sit on different nodes.
   */
  urls?: string[];
  /** How to reach the server when it is not at a URL (e.g. an in-process engine); several for a cluster. */
  dial?: Dialer | Dialer[];
  /** The server's ping interval and timeout (ms), so timing cases can be checked and run fast. */
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /** Extra lateness allowed on timing bounds (ms). Default `suiteDefaults.toleranceMs`. */
  toleranceMs?: number;
  /** How much earlier than its bound a timed event may come (clock granularity, ms). Default `suiteDefaults.earlyToleranceMs`. */
  earlyToleranceMs?: number;
  /** How long to wait for an answer that has no timing rule of its own (ms). Default `suiteDefaults.answerTimeoutMs`. */
  answerTimeoutMs?: number;
  /** Only run cases whose name contains this. */
  filter?: string;
}

/** The outcome of one case. */
/** How strongly a case's rule binds: wire-v1 (or the capability's spec) requires it, tandem recommends it, or it is only informational. */
export type Level = 'MUST' | 'SHOULD' | 'MAY';
/** A case's outcome: `non-strict` is a SHOULD missed, `informational` a MAY not met; only `fail` fails a run. */
export type Verdict = 'pass' | 'non-strict' | 'fail' | 'informational' | 'skip';

export interface CaseResult {
  name: string;
  level: Level;
  status: Verdict;
  reason?: string;
  /** Recommendations (SHOULD) the server missed in a case that otherwise held. */
  missed?: string[];
  /** Frames seen by the case's clients, for failure reports. */
  frames?: string[];
  ms: number;
}

class Skip extends Error {}

/** Ask for `capability` in hello, or skip the case when `your_id` did not advertise it; returns the welcome. */
async function negotiate(a: Raw, capability: string): Promise<Record<string, unknown>> {
  const yourId = JSON.parse(a.frames[0]!) as { capabilities?: string[] };
  if (!yourId.capabilities?.includes(capability)) throw new Skip('not advertised');
  a.json({ type: 'hello', version: 2, capabilities: [capability] });
  const w = await a.next((m) => m['type'] === 'welcome', 'welcome');
  expectTrue((w['capabilities'] as string[]).includes(capability), `welcome grants ${capability}`);
  return w;
}
class Failure extends Error {}

/** A raw test client: records every frame, waits with bounds. */
class Raw {
  readonly frames: string[] = [];
  /** Frames that are not valid server messages (each one fails its case: MUST). */
  readonly violations: string[] = [];
  closed: { code: number; at: number } | null = null;
  /** Extra listeners: every frame, every control ping. */
  readonly onFrame: (() => void)[] = [];
  readonly onPing: (() => void)[] = [];
  private waiters = new Set<() => void>();
  private sock!: SuiteSocket;
  private constructor(
    readonly log: string[],
    readonly label: string,
    readonly answerMs: number,
  ) {}
  static async open(
    dial: Dialer,
    log: string[],
    label: string,
    answerMs: number = suiteDefaults.answerTimeoutMs,
  ): Promise<Raw> {
    const raw = new Raw(log, label, answerMs);
    const handlers: SocketHandlers = {
      message: (d, binary) => {
        const f = binary ? '<binary>' : d;
        // every frame a server sends must be one of the protocol's messages
        const decoded = binary ? null : decodeServerMessage(d);
        if (decoded === null) raw.violations.push('a binary frame (wire v1 frames are JSON text)');
        else if (!decoded.ok) raw.violations.push(`${decoded.error.message}: ${d.slice(0, 200)}`);
        raw.frames.push(f);
        log.push(`${label} ← ${f.slice(0, 300)}`);
        for (const l of raw.onFrame) l();
        raw.notify();
      },
      close: (code) => {
        if (raw.closed) return;
        raw.closed = { code, at: Date.now() };
        log.push(`${label} closed ${code}`);
        raw.notify();
      },
      ping: () => {
        for (const l of raw.onPing) l();
      },
    };
    try {
      raw.sock = await dial(handlers);
    } catch (e) {
      throw new Failure(`${label}: ${(e as Error).message}`);
    }
    return raw;
  }
  private notify() {
    for (const w of this.waiters) w();
  }
  messages(): Record<string, unknown>[] {
    return this.frames.flatMap((f) => {
      try {
        return [JSON.parse(f) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }
  send(frame: string | Uint8Array, binary = false) {
    this.log.push(`${this.label} → ${String(frame).slice(0, 300)}`);
    this.sock.send(frame, binary);
  }
  json(v: unknown) {
    this.send(JSON.stringify(v));
  }
  /** Wait for the next message (after index `from`) matching `pred`. */
  next(
    pred: (m: Record<string, unknown>) => boolean,
    what: string,
    ms = this.answerMs,
    from = 0,
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.messages().slice(from).find(pred);
        if (m) {
          this.waiters.delete(check);
          clearTimeout(t);
          resolve(m);
        } else if (this.closed) {
          this.waiters.delete(check);
          clearTimeout(t);
          reject(new Failure(`${this.label}: connection closed (${this.closed.code}) while waiting for ${what}`));
        }
      };
      const t = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Failure(`${this.label}: no ${what} within ${ms} ms`));
      }, ms);
      this.waiters.add(check);
      check();
    });
  }
  waitClosed(ms: number, bound = `${ms} ms`): Promise<number> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.closed) {
          this.waiters.delete(check);
          clearTimeout(t);
          resolve(this.closed.at);
        }
      };
      const t = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Failure(`${this.label}: not closed within ${bound}`));
      }, ms);
      this.waiters.add(check);
      check();
    });
  }
  count(type: string) {
    return this.messages().filter((m) => m['type'] === type).length;
  }
  /** Closing handshake. */
  end(code = 1000) {
    this.sock.close(code);
  }
  /** Abrupt loss. */
  close() {
    this.sock.terminate();
  }
}

interface Ctx {
  opts: Required<SuiteOptions>;
  log: string[];
  /** Open a client and wait for its your_id. */
  client(label?: string): Promise<Raw & { id: string }>;
  /** Two clients, paired (first is the initiator). */
  pair(): Promise<[Raw & { id: string }, Raw & { id: string }]>;
  /** Answer every JSON ping with pong. */
  keepAlive(c: Raw): void;
  /** A recommendation (SHOULD): when `holds` is false the case ends non-strict, not failed. */
  should(holds: boolean, what: string): void;
}

const expectEq = (actual: unknown, expected: unknown, what: string) => {
  if (JSON.stringify(actual) !== JSON.stringify(expected))
    throw new Failure(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
};
const expectTrue = (cond: boolean, what: string) => {
  if (!cond) throw new Failure(what);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isError = (text: string) => (m: Record<string, unknown>) =>
  m['type'] === 'error' && String(m['message']).includes(text);

interface Case {
  name: string;
  /** Default MUST. */
  level?: Level;
  run(ctx: Ctx): Promise<void>;
}

/** Every case, in order. */
export const cases: Case[] = [
  {
    name: 'stage1.your_id_first',
    async run(ctx) {
      const c = await ctx.client();
      const first = JSON.parse(c.frames[0]!);
      expectEq(first.type, 'your_id', 'first frame type');
      expectTrue(typeof first.id === 'string' && first.id.length > 0, 'your_id.id is a non-empty string');
    },
  },
  {
    name: 'stage1.unique_unguessable_ids',
    async run(ctx) {
      const cs = await Promise.all(Array.from({ length: 30 }, (_, i) => ctx.client(`c${i}`)));
      const ids = cs.map((c) => c.id);
      expectEq(new Set(ids).size, ids.length, 'distinct IDs');
      for (const id of ids) expectTrue(id.length >= 20, `ID ${id} is too short to carry 122 random bits`);
      const distinctChars = new Set(ids.join('')).size;
      expectTrue(distinctChars >= 10, `IDs use only ${distinctChars} distinct characters`);
      const numeric = ids.map((id) => Number.parseInt(id.replace(/\D/g, '').slice(-12) || '0', 10));
      const sequential = numeric.slice(1).filter((n, i) => n - numeric[i]! === 1).length;
      expectTrue(sequential < 3, 'IDs look sequential');
    },
  },
  {
    name: 'stage2.pair_success',
    async run(ctx) {
      const a = await ctx.client('A');
      const b = await ctx.client('B');
      a.json({ type: 'pair_request', target_id: b.id });
      expectEq(
        await a.next((m) => m['type'] === 'paired', 'paired'),
        { type: 'paired', peer_id: b.id, initiator: true },
        'requester paired',
      );
      expectEq(
        await b.next((m) => m['type'] === 'paired', 'paired'),
        { type: 'paired', peer_id: a.id, initiator: false },
        'target paired',
      );
    },
  },
  {
    name: 'stage2.error_target_not_found',
    async run(ctx) {
      const a = await ctx.client();
      a.json({ type: 'pair_request', target_id: 'no-such-client-00000000' });
      await a.next(isError(ErrorText.TargetNotFound), `"${ErrorText.TargetNotFound}" error`);
    },
  },
  {
    name: 'stage2.error_self',
    async run(ctx) {
      const a = await ctx.client();
      a.json({ type: 'pair_request', target_id: a.id });
      await a.next(isError(ErrorText.CannotPairWithSelf), `"${ErrorText.CannotPairWithSelf}" error`);
    },
  },
  {
    name: 'stage2.error_already_paired_and_target_paired',
    async run(ctx) {
      const [a, b] = await ctx.pair();
      const c = await ctx.client('C');
      const before = a.frames.length;
      a.json({ type: 'pair_request', target_id: c.id });
      await a.next(isError(ErrorText.AlreadyPaired), `"${ErrorText.AlreadyPaired}" error`, undefined, before - 1);
      c.json({ type: 'pair_request', target_id: b.id });
      await c.next(isError(ErrorText.TargetAlreadyPaired), `"${ErrorText.TargetAlreadyPaired}" error`);
      // nothing changed: A and B still relay to each other, C is still free
      a.json({ type: 'offer', sdp: 'still-paired' });
      await b.next((m) => m['sdp'] === 'still-paired', 'relayed offer after failed requests');
      expectEq(c.count('paired'), 0, 'C got no paired');
    },
  },
  {
    name: 'stage3.relay_offer_answer_candidates_exactly',
    async run(ctx) {
      const [a, b] = await ctx.pair();
      const by = await ctx.client('bystander');
      const sdp = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ü "quoted" \\ back\r\n';
      a.json({ type: 'offer', sdp });
      expectEq(
        await b.next((m) => m['type'] === 'offer', 'offer'),
        { type: 'offer', sdp, from_peer: true },
        'relayed offer',
      );
      b.json({ type: 'answer', sdp });
      expectEq(
        await a.next((m) => m['type'] === 'answer', 'answer'),
        { type: 'answer', sdp, from_peer: true },
        'relayed answer',
      );
      const cand = {
        candidate: 'candidate:1 1 UDP 2122252543 192.168.1.2 54400 typ host',
        sdpMid: '0',
        sdpMLineIndex: 0,
      };
      a.json({ type: 'candidate', candidate: cand });
      expectEq(
        await b.next((m) => m['type'] === 'candidate', 'candidate'),
        { type: 'candidate', candidate: cand, from_peer: true },
        'relayed candidate',
      );
      const eoc = { candidate: '', sdpMid: null, sdpMLineIndex: null };
      b.json({ type: 'candidate', candidate: eoc });
      expectEq(
        await a.next((m) => m['type'] === 'candidate', 'end-of-candidates'),
        { type: 'candidate', candidate: eoc, from_peer: true },
        'end-of-candidates',
      );
      await sleep(200);
      // keepalive pings may land on anyone at any time: they are not traffic to a bystander
      const stray = by.messages().filter((m) => m['type'] !== 'your_id' && m['type'] !== 'ping');
      expectEq(stray, [], 'frames the bystander got besides your_id and pings');
    },
  },
  {
    name: 'stage3.not_paired',
    async run(ctx) {
      const a = await ctx.client();
      a.json({ type: 'offer', sdp: 'v=0' });
      await a.next(isError(ErrorText.NotPaired), `"${ErrorText.NotPaired}" error`);
      a.json({ type: 'candidate', candidate: { candidate: '', sdpMid: null, sdpMLineIndex: null } });
      await a.next(
        isError(ErrorText.NotPaired),
        `"${ErrorText.NotPaired}" error for a candidate`,
        undefined,
        a.frames.length - 1,
      );
    },
  },
  {
    name: 'stage4.no_cross_talk_many_pairs',
    async run(ctx) {
      const pairs = await Promise.all(Array.from({ length: 10 }, () => ctx.pair()));
      pairs.forEach(([a], i) => a.json({ type: 'offer', sdp: `pair-${i}` }));
      await Promise.all(pairs.map(([, b], i) => b.next((m) => m['type'] === 'offer', `offer for pair ${i}`)));
      await sleep(200);
      pairs.forEach(([, b], i) =>
        expectEq(
          b
            .messages()
            .filter((m) => m['type'] === 'offer')
            .map((m) => m['sdp']),
          [`pair-${i}`],
          `offers seen by pair ${i}`,
        ),
      );
    },
  },
  {
    name: 'stage5.ping_and_pong_keep_alive',
    async run(ctx) {
      const a = await ctx.client();
      ctx.keepAlive(a);
      const span = 2 * ctx.opts.pingIntervalMs + ctx.opts.pingTimeoutMs + ctx.opts.toleranceMs;
      await a.next(
        (m) => m['type'] === 'ping',
        `a ping within the ${ctx.opts.pingIntervalMs} ms interval (+${ctx.opts.toleranceMs} ms tolerance)`,
        ctx.opts.pingIntervalMs + ctx.opts.toleranceMs,
      );
      await sleep(span);
      expectTrue(
        a.closed === null,
        `closed (${a.closed?.code}) within ${span} ms (2 × ${ctx.opts.pingIntervalMs} ms interval + ${ctx.opts.pingTimeoutMs} ms timeout + ${ctx.opts.toleranceMs} ms tolerance) although it answered every ping`,
      );
    },
  },
  {
    name: 'stage5.any_frame_is_proof_of_life',
    async run(ctx) {
      const a = await ctx.client();
      const end = Date.now() + 2 * ctx.opts.pingIntervalMs + ctx.opts.pingTimeoutMs + ctx.opts.toleranceMs;
      while (Date.now() < end) {
        a.json({ type: 'offer', sdp: 'x' }); // answered "Not paired", but it is a frame
        await sleep(Math.max(50, ctx.opts.pingIntervalMs / 4));
      }
      expectTrue(
        a.closed === null,
        `closed although it kept sending frames (watched 2 × ${ctx.opts.pingIntervalMs} ms interval + ${ctx.opts.pingTimeoutMs} ms timeout + ${ctx.opts.toleranceMs} ms tolerance)`,
      );
    },
  },
  {
    name: 'stage5.silent_client_times_out_and_partner_is_told',
    async run(ctx) {
      const [a, b] = await ctx.pair();
      ctx.keepAlive(b);
      const t0 = Date.now(); // A's last frame was its pair_request
      const bound = ctx.opts.pingIntervalMs + ctx.opts.pingTimeoutMs;
      const at = await a.waitClosed(
        bound + ctx.opts.toleranceMs,
        `the ${ctx.opts.pingIntervalMs} ms interval + ${ctx.opts.pingTimeoutMs} ms timeout (+${ctx.opts.toleranceMs} ms tolerance)`,
      );
      expectTrue(
        at - t0 >= ctx.opts.pingTimeoutMs - ctx.opts.earlyToleranceMs,
        `closed after ${at - t0} ms, before the ${ctx.opts.pingTimeoutMs} ms timeout (${ctx.opts.earlyToleranceMs} ms early allowed)`,
      );
      expectEq(
        await b.next((m) => m['type'] === 'peer_disconnected', 'peer_disconnected'),
        { type: 'peer_disconnected', peer_id: a.id },
        'notice',
      );
    },
  },
  {
    name: 'stage5.peer_disconnected_on_close_then_repair',
    async run(ctx) {
      const [a, b] = await ctx.pair();
      b.end(1000);
      expectEq(
        await a.next((m) => m['type'] === 'peer_disconnected', 'peer_disconnected'),
        { type: 'peer_disconnected', peer_id: b.id },
        'notice',
      );
      const c = await ctx.client('C');
      a.json({ type: 'pair_request', target_id: c.id });
      await c.next((m) => m['type'] === 'paired', 'paired after re-pair');
      await sleep(100);
      expectEq(a.count('peer_disconnected'), 1, 'exactly one notice');
    },
  },
  {
    name: 'stage5.peer_disconnected_on_abrupt_loss',
    async run(ctx) {
      const [a, b] = await ctx.pair();
      b.close(); // no closing handshake
      expectEq(
        await a.next((m) => m['type'] === 'peer_disconnected', 'peer_disconnected', 10_000),
        { type: 'peer_disconnected', peer_id: b.id },
        'notice',
      );
    },
  },
  {
    name: 'bad_input.hand_written',
    async run(ctx) {
      const a = await ctx.client();
      const probes: [string | Buffer, boolean, string][] = [
        ['{nope', false, ErrorText.InvalidJson],
        ['', false, ''],
        ['{"type":"teleport"}', false, `${ErrorText.UnknownType}: teleport`],
        ['{"type":"pair_request"}', false, 'target_id'],
        ['{"type":"pair_request","target_id":42}', false, 'target_id'],
        ['{"type":"offer"}', false, 'sdp'],
        ['{"type":"candidate","candidate":"x"}', false, 'candidate'],
        [Buffer.from([1, 2, 3]), true, ''],
      ];
      for (const [frame, binary, text] of probes) {
        const from = a.frames.length;
        a.send(frame, binary);
        // MUST: some error answers it (wire v1 allows generic texts); SHOULD: it names the problem
        const e = await a.next(
          (m) => m['type'] === 'error',
          `an error for ${JSON.stringify(String(frame))}`,
          undefined,
          from,
        );
        ctx.should(
          String(e['message']).includes(text),
          `the error for ${JSON.stringify(String(frame))} names "${text}" (got "${String(e['message'])}")`,
        );
      }
      a.json({ type: 'pair_request', target_id: 'nobody-0000' });
      await a.next(isError(ErrorText.TargetNotFound), 'a normal answer after bad input', undefined, a.frames.length);
    },
  },
  {
    name: 'bad_input.generated',
    async run(ctx) {
      const a = await ctx.client();
      const samples = fc.sample(arbInvalidClientMessage(), { numRuns: 25, seed: 7 });
      for (const { frame, field } of samples) {
        const from = a.frames.length;
        a.json(frame);
        const e = await a.next((m) => m['type'] === 'error', `an error for ${JSON.stringify(frame)}`, undefined, from);
        ctx.should(
          String(e['message']).includes(field),
          `the error for ${JSON.stringify(frame)} names "${field}" (got "${String(e['message'])}")`,
        );
      }
      a.json({ type: 'pair_request', target_id: 'nobody-0000' });
      await a.next(isError(ErrorText.TargetNotFound), 'a normal answer after bad input', undefined, a.frames.length);
    },
  },
  {
    name: 'bad_input.oversized_frame_does_not_take_the_server_down',
    async run(ctx) {
      const a = await ctx.client('big');
      const bystander = await ctx.client('bystander');
      a.json({ type: 'offer', sdp: 'x'.repeat(2 * 1024 * 1024) });
      // the sender learns why: an error naming the size, or a 1009 (message too big) close
      const outcome = await Promise.race([
        a.waitClosed(ctx.opts.answerTimeoutMs).then(() => 'closed' as const),
        a.next((m) => m['type'] === 'error', 'error').then((m) => m),
      ]).catch(() => null);
      if (outcome === null) throw new Failure('a 2 MiB frame got neither an error nor a close within 5 s');
      if (outcome === 'closed') expectEq(a.closed?.code, CloseCode.MessageTooBig, 'close code for an oversized frame');
      else {
        expectTrue(
          /too large|too big|limit/i.test(String(outcome['message'])),
          `error names the size limit: ${String(outcome['message'])}`,
        );
        a.json({ type: 'pair_request', target_id: 'nobody-0000' }); // and the connection carries on
        await a.next(
          isError(ErrorText.TargetNotFound),
          'a normal answer after the oversized frame',
          undefined,
          a.frames.length,
        );
      }
      // nobody else is harmed, and new clients still get IDs
      bystander.json({ type: 'pair_request', target_id: 'nobody-0000' });
      await bystander.next(
        isError(ErrorText.TargetNotFound),
        'the bystander still gets answers',
        undefined,
        bystander.frames.length,
      );
      const b = await ctx.client('after');
      expectTrue(b.id.length > 0, 'server still assigns IDs');
    },
  },
  {
    name: 'ext.keepalive_ws_ping',
    async run(ctx) {
      const a = await ctx.client();
      const yourId = JSON.parse(a.frames[0]!) as { capabilities?: string[] };
      if (!yourId.capabilities?.includes('keepalive.ws-ping')) throw new Skip('not advertised');
      a.json({ type: 'hello', version: 2, capabilities: ['keepalive.ws-ping'] });
      const w = await a.next((m) => m['type'] === 'welcome', 'welcome');
      expectTrue((w['capabilities'] as string[]).includes('keepalive.ws-ping'), 'welcome grants keepalive.ws-ping');
      let controlPings = 0;
      a.onPing.push(() => controlPings++); // the socket answers with a pong by itself
      await sleep(ctx.opts.pingIntervalMs + ctx.opts.toleranceMs);
      expectTrue(controlPings > 0, 'no control ping within the interval');
      expectEq(a.count('ping'), 0, 'JSON pings after negotiating control pings');
      await sleep(ctx.opts.pingTimeoutMs + ctx.opts.toleranceMs);
      expectTrue(a.closed === null, 'closed although its stack answered control pings');
    },
  },
  {
    name: 'ext.ice_servers.welcome_hands_out_servers',
    async run(ctx) {
      const [a, b] = [await ctx.client('A'), await ctx.client('B')];
      const wa = await negotiate(a, Capability.IceServers);
      const wb = await negotiate(b, Capability.IceServers);
      // MUST: a granted ice-servers brings the servers and their lifetime in welcome
      const servers = wa['ice_servers'] as
        { urls: string | string[]; username?: string; credential?: string }[] | undefined;
      expectTrue(
        Array.isArray(servers) && servers.length > 0,
        'welcome granting ice-servers carries a non-empty ice_servers list',
      );
      expectTrue(
        Number.isInteger(wa['ice_servers_ttl_ms']) && Number(wa['ice_servers_ttl_ms']) > 0,
        'welcome carries ice_servers_ttl_ms > 0',
      );
      const turn = (w: Record<string, unknown>) =>
        (w['ice_servers'] as { urls: string | string[]; username?: string; credential?: string }[]).filter((s) =>
          [s.urls].flat().some((u) => /^turns?:/i.test(u)),
        );
      for (const s of turn(wa))
        expectTrue(
          typeof s.username === 'string' && typeof s.credential === 'string',
          'a TURN server comes with a username and credential',
        );
      // SHOULD: credentials of one's own, naming the client, so TURN logs trace to a session
      const [ta, tb] = [turn(wa), turn(wb)];
      if (ta.length > 0 && tb.length > 0) {
        ctx.should(ta[0]!.username!.includes(a.id), `the TURN username names the client (got "${ta[0]!.username}")`);
        ctx.should(ta[0]!.credential !== tb[0]!.credential, 'each client gets TURN credentials of its own');
      }
    },
  },
  {
    name: 'ext.leave.ends_the_pair_and_the_partner_is_told',
    async run(ctx) {
      const a = await ctx.client('A');
      await negotiate(a, 'leave');
      const b = await ctx.client('B');
      a.json({ type: 'pair_request', target_id: b.id });
      await a.next((m) => m['type'] === 'paired', 'paired');
      await b.next((m) => m['type'] === 'paired', 'paired');
      a.json({ type: 'leave' });
      const told = await b.next((m) => m['type'] === 'peer_disconnected', 'peer_disconnected after leave');
      expectEq(told['peer_id'], a.id, 'peer_disconnected names the leaver');
      expectTrue(a.closed === null, 'the leaver stays connected');
      b.json({ type: 'pair_request', target_id: a.id }); // both are free again
      await b.next((m) => m['type'] === 'paired', 'paired again', undefined, b.frames.length);
    },
  },
  {
    name: 'ext.resume.lost_link_detaches_and_resume_replays',
    async run(ctx) {
      const a = await ctx.client('A');
      const w = await negotiate(a, 'resume');
      const token = w['resume_token'];
      expectTrue(
        typeof token === 'string' && token.length >= 16,
        `welcome carries a resume token: ${JSON.stringify(token)}`,
      );
      expectTrue(!String(token).includes(a.id), 'the token is not the public ID');
      const grace = Number(w['resume_grace_ms']);
      if (!(grace >= 2 * ctx.opts.toleranceMs))
        throw new Skip(`grace ${grace} ms is too short to test with a tolerance of ${ctx.opts.toleranceMs} ms`);
      const b = await ctx.client('B');
      ctx.keepAlive(a);
      ctx.keepAlive(b);
      a.json({ type: 'pair_request', target_id: b.id }); // A's counted frame 1
      await a.next((m) => m['type'] === 'paired', 'paired'); // the server's counted frame 1
      await b.next((m) => m['type'] === 'paired', 'paired');
      a.close(); // the link is lost, not closed
      await sleep(100);
      b.json({ type: 'offer', sdp: 'sent while A was away' });
      await sleep(ctx.opts.toleranceMs);
      expectEq(b.count('peer_disconnected'), 0, 'peer_disconnected while the session is detached');
      const again = await ctx.client('A2');
      again.json({ type: 'resume', token, received: 1 });
      const resumed = await again.next((m) => m['type'] === 'resumed' || m['type'] === 'error', 'resumed');
      expectEq(resumed['type'], 'resumed', `answer to resume (${JSON.stringify(resumed)})`);
      expectEq(
        [resumed['id'], resumed['peer_id'], resumed['received']],
        [a.id, b.id, 1],
        'resumed: same ID, same partner, what the server had',
      );
      expectTrue(resumed['resume_token'] !== token, 'a resume hands out a new token');
      const replayed = await again.next((m) => m['type'] === 'offer', 'the offer sent while A was away');
      expectEq([replayed['sdp'], replayed['from_peer']], ['sent while A was away', true], 'replayed offer');
      again.json({ type: 'offer', sdp: 'back' });
      await b.next((m) => m['type'] === 'offer' && m['sdp'] === 'back', 'a relay after the resume');
      // the old token is spent; its user gets an error and a working fresh connection
      const thief = await ctx.client('thief');
      thief.json({ type: 'resume', token, received: 0 });
      await thief.next((m) => m['type'] === 'error', 'an error for a spent token');
      thief.json({ type: 'pair_request', target_id: 'nobody-0000' });
      await thief.next(
        isError(ErrorText.TargetNotFound),
        'a normal answer after the refused resume',
        undefined,
        thief.frames.length,
      );
      expectEq(b.count('peer_disconnected'), 0, 'peer_disconnected at any point');
    },
  },
];

/** Run the suite (or the filtered part) and report every case. */
export async function runSuite(options: SuiteOptions, onResult?: (r: CaseResult) => void): Promise<CaseResult[]> {
  const urls = options.urls ?? (options.url !== undefined ? [options.url] : []);
  if (!options.dial && urls.length === 0) throw new TypeError('runSuite needs a url or a dial function');
  const dials =
    options.dial === undefined ? urls.map(wsDialer) : Array.isArray(options.dial) ? options.dial : [options.dial];
  if (dials.length === 0) throw new TypeError('runSuite needs at least one dial function');
  const opts: Required<SuiteOptions> = {
    toleranceMs: suiteDefaults.toleranceMs,
    earlyToleranceMs: suiteDefaults.earlyToleranceMs,
    answerTimeoutMs: suiteDefaults.answerTimeoutMs,
    filter: '',
    url: urls.join(' ') || '(in process)',
    urls,
    ...options,
    dial: dials,
  };
  const results: CaseResult[] = [];
  for (const c of cases) {
    if (opts.filter && !c.name.includes(opts.filter)) continue;
    const log: string[] = [];
    const clients: Raw[] = [];
    const missed: string[] = [];
    const level = c.level ?? 'MUST';
    const ctx: Ctx = {
      opts,
      log,
      async client(label = `c${clients.length}`) {
        // cluster mode: the k-th client of a case goes to node k mod n
        const node = clients.length % dials.length;
        const raw = await Raw.open(
          dials[node]!,
          log,
          dials.length > 1 ? `${label}@${node + 1}` : label,
          opts.answerTimeoutMs,
        );
        clients.push(raw);
        const first = await raw.next((m) => m['type'] === 'your_id', 'your_id');
        return Object.assign(raw, { id: String(first['id']) });
      },
      async pair() {
        const a = await ctx.client(`A${clients.length}`);
        const b = await ctx.client(`B${clients.length}`);
        a.json({ type: 'pair_request', target_id: b.id });
        await a.next((m) => m['type'] === 'paired', 'paired');
        await b.next((m) => m['type'] === 'paired', 'paired');
        return [a, b];
      },
      should(holds, what) {
        if (!holds) missed.push(what);
      },
      keepAlive(c) {
        c.onFrame.push(() => {
          if (c.messages().at(-1)?.['type'] === 'ping') c.json({ type: 'pong' });
        });
      },
    };
    const t0 = Date.now();
    let result: CaseResult;
    const base = { name: c.name, level };
    try {
      await c.run(ctx);
      const violations = clients.flatMap((cl) => cl.violations.map((v) => `${cl.label}: ${v}`));
      if (violations.length > 0)
        throw new Failure(`frames that are not protocol messages: ${violations.slice(0, 3).join('; ')}`);
      result =
        missed.length > 0
          ? { ...base, status: 'non-strict', reason: missed[0], missed, frames: log.slice(-30), ms: Date.now() - t0 }
          : { ...base, status: 'pass', ms: Date.now() - t0 };
    } catch (e) {
      const reason = (e as Error).message;
      if (e instanceof Skip) result = { ...base, status: 'skip', reason, ms: Date.now() - t0 };
      else {
        // a missed rule is as strong as the case's level
        const status: Verdict = level === 'MUST' ? 'fail' : level === 'SHOULD' ? 'non-strict' : 'informational';
        result = { ...base, status, reason, frames: log.slice(-30), ms: Date.now() - t0 };
      }
    } finally {
      // a deliberate close: a resumable session must end now, not wait out its grace
      for (const cl of clients) cl.end(1000);
    }
    results.push(result);
    onResult?.(result);
  }
  return results;
}

/** One line per case plus the closing line. */
export function formatResult(r: CaseResult): string {
  const head = `${r.status.toUpperCase().padEnd(13)} ${r.level.padEnd(6)} ${r.name} (${r.ms} ms)`;
  if (r.status === 'pass') return head;
  if (r.status === 'skip') return `${head} — skipped: ${r.reason}`;
  if (r.status === 'non-strict') return `${head} — ${(r.missed ?? [r.reason]).join('; ')}`;
  return `${head} — ${r.reason}\n${(r.frames ?? []).map((f) => `       ${f}`).join('\n')}`;
}

/** `N passed, M failed, K skipped`, then a line counting non-strict and informational verdicts. */
export function summary(results: CaseResult[]): string {
  const n = (s: Verdict) => results.filter((r) => r.status === s).length;
  return `${n('pass')} passed, ${n('fail')} failed, ${n('skip')} skipped\n${n('non-strict')} non-strict, ${n('informational')} informational`;
}
