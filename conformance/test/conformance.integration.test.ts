// The suite against tandem's own server over real sockets, and against deliberately broken
// servers (the real engine with one rule broken each), each of which must be caught.
import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { DEFAULT_MAX_BYTES } from '@tandem/protocol';
import { ServerEngine, type EffectSink } from '@tandem/server-core';
import { attachEngine, createWsServer, resumeToken, wsEffectSink } from '@tandem/adapters/ws';
import { clientHandle, iceServersFor, processLogKey } from '@tandem/adapters/ice';
import { cases, runSuite, summary, type CaseResult } from '../src/suite.js';
import { memoryTarget } from '../src/memory.js';

// nameplates expire within a case's patience, so ext.codes.nameplate_expires runs rather than skips
const timing = { pingIntervalMs: 300, pingTimeoutMs: 300, tickMs: 25, nameplateTtlMs: 2_000 };
const iceSettings = {
  stunUrls: ['stun:stun.test:3478'],
  turnUrls: ['turn:turn.test:3478'],
  turnSecret: 'conformance',
  turnTtlS: 600,
};
const handle = clientHandle({ full: false, key: processLogKey() });
/** TURN REST credentials naming the client by a handle, as tandem-server hands them out. */
const iceServers = (id: string, now: number) => iceServersFor(iceSettings, handle(id), now)!;
const suiteTiming = { pingIntervalMs: 300, pingTimeoutMs: 300, toleranceMs: 700 };
const closers: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of closers) await c();
});

/** The real engine on the one ws binding, with one rule broken by `mutate` (frame rewrite/drop) or flags. */
async function mutant(opts: {
  mutate?: (frame: string) => string | string[] | null;
  noPings?: boolean;
  crashOnInvalidJson?: boolean;
  terminateOn?: (frame: string) => boolean;
  broadcastRelays?: boolean;
  maxPayload?: number;
  skipReplay?: boolean;
  generateId?: () => string;
  onlyPongsAreLife?: boolean;
  settings?: Record<string, number>;
}) {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    perMessageDeflate: false,
    maxPayload: opts.maxPayload ?? DEFAULT_MAX_BYTES,
  });
  const honest = wsEffectSink();
  const replaying = new Set<WebSocket>();
  const sink: EffectSink<WebSocket> = {
    ...honest,
    send: (ws, frame) => {
      if (opts.crashOnInvalidJson && frame.includes('Invalid JSON')) return ws.terminate();
      if (opts.terminateOn?.(frame)) return ws.terminate();
      if (opts.broadcastRelays && frame.includes('"from_peer":true')) {
        for (const c of wss.clients) honest.send(c, frame);
        return;
      }
      if (opts.noPings && frame === '{"type":"ping"}') return;
      if (opts.skipReplay && replaying.has(ws)) return;
      if (opts.skipReplay && frame.startsWith('{"type":"resumed"')) {
        // the replay follows in the same turn: drop it
        replaying.add(ws);
        queueMicrotask(() => replaying.delete(ws));
      }
      const out = opts.mutate ? opts.mutate(frame) : frame;
      if (out !== null) for (const f of [out].flat()) honest.send(ws, f);
    },
    ping: (ws) => {
      if (!opts.noPings) honest.ping(ws);
    },
  };
  const engine = new ServerEngine<WebSocket>({
    generateId: opts.generateId ?? randomUUID,
    random: Math.random,
    settings: { ...timing, ...opts.settings },
    sink,
    generateToken: resumeToken,
    iceServers,
  });
  if (opts.onlyPongsAreLife) {
    // a server that takes nothing but pong as a sign of life: it ignores every other frame
    const receive = engine.receive.bind(engine);
    engine.receive = (conn, data, now, binary, bytes) => {
      if (typeof data === 'string' && data.includes('"pong"')) receive(conn, data, now, binary, bytes);
    };
  }
  const binding = attachEngine(wss, engine);
  await new Promise((r) => wss.once('listening', r));
  const port = (wss.address() as { port: number }).port;
  closers.push(() => binding.close());
  return `ws://127.0.0.1:${port}`;
}

const byName = (results: CaseResult[]) => Object.fromEntries(results.map((r) => [r.name, r]));

describe('conformance suite', () => {
  it('passes against tandem-server on real sockets', async () => {
    const server = createWsServer({ host: '127.0.0.1', port: 0, settings: timing, iceServers });
    closers.push(() => server.close());
    const { port } = await server.ready;
    const results = await runSuite({ url: `ws://127.0.0.1:${port}`, ...suiteTiming });
    const failed = results.filter((r) => r.status !== 'pass');
    expect(failed, JSON.stringify(failed, null, 2)).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(18);
  }, 60_000);

  it('a server whose TURN usernames carry the client ID (its key) is non-strict on ext.ice_servers', async () => {
    const target = memoryTarget({ settings: timing, iceServers: (id, now) => iceServersFor(iceSettings, id, now)! });
    closers.push(() => target.close());
    const [r] = await runSuite({ dial: target.dial, ...suiteTiming, filter: 'ext.ice_servers' });
    expect(r).toMatchObject({
      status: 'non-strict',
      missed: [expect.stringMatching(/does not carry the client's ID/)],
    });
  });

  it('passes against the server-core engine in memory (no sockets)', async () => {
    const target = memoryTarget({ settings: timing, iceServers });
    closers.push(() => target.close());
    const results = await runSuite({ dial: target.dial, ...suiteTiming });
    const failed = results.filter((r) => r.status !== 'pass');
    expect(failed, JSON.stringify(failed, null, 2)).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(18);
    await new Promise((r) => setImmediate(r)); // the last case's closes cross the link
    expect(target.engine.stats().connections).toBe(0); // every case's clients are gone again
  }, 60_000);

  it('in memory too, extensions are skipped when the engine does not advertise them', async () => {
    const target = memoryTarget({ settings: { ...timing, advertiseExtensions: false } });
    closers.push(() => target.close());
    const results = await runSuite({ dial: target.dial, ...suiteTiming, filter: 'ext.' });
    expect(results.length).toBeGreaterThanOrEqual(2);
    for (const r of results) expect(r).toMatchObject({ status: 'skip', reason: 'not advertised' });
  });

  it('reports extensions as skipped (not failed, not passed) against a server that does not advertise them', async () => {
    const server = createWsServer({ host: '127.0.0.1', port: 0, settings: { ...timing, advertiseExtensions: false } });
    closers.push(() => server.close());
    const { port } = await server.ready;
    const results = await runSuite({ url: `ws://127.0.0.1:${port}`, ...suiteTiming, filter: 'ext.' });
    expect(results.length).toBeGreaterThanOrEqual(2);
    for (const r of results) expect(r).toMatchObject({ status: 'skip', reason: 'not advertised' });
  });

  it('a lenient but compliant server (generic error texts where wire v1 allows them) passes every MUST; the missed recommendations show as non-strict', async () => {
    const url = await mutant({
      mutate: (f) =>
        f.startsWith('{"type":"error"') && f.includes('"code":"') ? '{"type":"error","message":"Invalid message"}' : f,
    });
    const results = await runSuite({ url, ...suiteTiming });
    expect(
      results.filter((r) => r.status === 'fail'),
      JSON.stringify(
        results.filter((r) => r.status === 'fail'),
        null,
        2,
      ),
    ).toEqual([]);
    const nonStrict = results
      .filter((r) => r.status === 'non-strict')
      .map((r) => r.name)
      .sort();
    expect(nonStrict).toEqual([
      'bad_input.generated',
      'bad_input.hand_written',
      // codes' refusals name their reason (a v2 code and words): generic texts miss only that
      'ext.codes.abandoned_claim_burns_the_nameplate',
      'ext.codes.claim_pairs_and_confirming_releases',
      'ext.codes.failed_confirmation_burns_the_nameplate',
    ]);
    expect(results.find((r) => r.name === 'bad_input.generated')?.missed?.[0]).toMatch(
      /names ".+" \(got "Invalid message"\)/,
    );
    expect(summary(results).split('\n')[1]).toBe('5 non-strict, 0 informational');
  }, 60_000);

  it('a frame that is not a protocol message fails its case (MUST)', async () => {
    // `version` must be an integer: no case looks at it, the schema check does
    const url = await mutant({
      mutate: (f) => (f.startsWith('{"type":"your_id"') ? f.replace('"version":2', '"version":"2"') : f),
    });
    const results = byName(await runSuite({ url, ...suiteTiming, filter: 'stage2.pair_success' }));
    expect(results['stage2.pair_success']).toMatchObject({ status: 'fail', level: 'MUST' });
    expect(results['stage2.pair_success']?.reason).toMatch(/not protocol messages.*version/);
  }, 30_000);

  const mutants: [string, Parameters<typeof mutant>[0], string][] = [
    [
      'no from_peer',
      { mutate: (f) => f.replace(',"from_peer":true', '') },
      'stage3.relay_offer_answer_candidates_exactly',
    ],
    [
      'wrong error text',
      { mutate: (f) => f.replace('Target client not found', 'No such client') },
      'stage2.error_target_not_found',
    ],
    [
      'no peer_disconnected',
      { mutate: (f) => (f.includes('peer_disconnected') ? null : f) },
      'stage5.peer_disconnected_on_close_then_repair',
    ],
    [
      'no peer_disconnected on timeout',
      { mutate: (f) => (f.includes('peer_disconnected') ? null : f) },
      'stage5.silent_client_times_out_and_partner_is_told',
    ],
    ['relays to non-partners', { broadcastRelays: true }, 'stage3.relay_offer_answer_candidates_exactly'],
    ['never pings', { noPings: true }, 'stage5.ping_and_pong_keep_alive'],
    ['crashes the connection on invalid JSON', { crashOnInvalidJson: true }, 'bad_input.hand_written'],
    [
      'swallows oversized frames without a word',
      { maxPayload: 8 << 20, mutate: (f) => (f.includes('Frame too large') ? null : f) },
      'bad_input.oversized_frame_does_not_take_the_server_down',
    ],
    [
      'misstates what it received in resumed',
      { mutate: (f) => (f.startsWith('{"type":"resumed"') ? f.replace(/"received":\d+/, '"received":0') : f) },
      'ext.resume.lost_link_detaches_and_resume_replays',
    ],
    [
      'resumes without replaying what was missed',
      { skipReplay: true },
      'ext.resume.lost_link_detaches_and_resume_replays',
    ],
    [
      'initiator flag swapped',
      {
        mutate: (f) =>
          f.replace(/"initiator":(true|false)/, (_, v) => `"initiator":${v === 'true' ? 'false' : 'true'}`),
      },
      'stage2.pair_success',
    ],
    // one per MUST rule at least: every MUST case has a mutant meant for it
    [
      'sends a frame before your_id',
      { mutate: (f) => (f.startsWith('{"type":"your_id"') ? ['{"type":"ping"}', f] : f) },
      'stage1.your_id_first',
    ],
    [
      'hands out guessable sequential IDs',
      {
        generateId: (() => {
          let n = 0;
          return () => `client-${++n}`;
        })(),
      },
      'stage1.unique_unguessable_ids',
    ],
    [
      'words the self-pairing error its own way',
      { mutate: (f) => f.replace('Cannot pair with yourself', 'Nice try') },
      'stage2.error_self',
    ],
    [
      'words "already paired" its own way',
      { mutate: (f) => f.replace('You are already paired', 'Busy') },
      'stage2.error_already_paired_and_target_paired',
    ],
    [
      'answers target-already-paired as not found',
      { mutate: (f) => f.replace('Target client is already paired', 'Target client not found') },
      'stage2.error_already_paired_and_target_paired',
    ],
    [
      'says nothing to a signal sent while unpaired',
      { mutate: (f) => (f.includes('"message":"Not paired"') ? null : f) },
      'stage3.not_paired',
    ],
    ['relays across pairs', { broadcastRelays: true }, 'stage4.no_cross_talk_many_pairs'],
    ['takes only pong as a sign of life', { onlyPongsAreLife: true }, 'stage5.any_frame_is_proof_of_life'],
    [
      'keeps a silent client forever',
      { settings: { pingTimeoutMs: 3_600_000 } },
      'stage5.silent_client_times_out_and_partner_is_told',
    ],
    [
      'does not tell a partner of an abrupt loss',
      { mutate: (f) => (f.includes('peer_disconnected') ? null : f) },
      'stage5.peer_disconnected_on_abrupt_loss',
    ],
    [
      'drops a connection that sends a malformed message',
      { terminateOn: (f) => f.includes('"code":"invalid_field"') },
      'bad_input.generated',
    ],
    ['never sends control pings once ws-ping is granted', { noPings: true }, 'ext.keepalive_ws_ping'],
    [
      'grants ice-servers but hands out none',
      {
        mutate: (f) =>
          f.startsWith('{"type":"welcome"')
            ? JSON.stringify({ ...JSON.parse(f), ice_servers: undefined, ice_servers_ttl_ms: undefined })
            : f,
      },
      'ext.ice_servers.welcome_hands_out_servers',
    ],
    [
      'does not tell the partner when a client leaves',
      { mutate: (f) => (f.includes('peer_disconnected') ? null : f) },
      'ext.leave.ends_the_pair_and_the_partner_is_told',
    ],
    [
      'leaves the nameplate out of paired after a claim',
      { mutate: (f) => (f.startsWith('{"type":"paired"') ? f.replace(/,"nameplate":"[0-9]+"/, '') : f) },
      'ext.codes.claim_pairs_and_confirming_releases',
    ],
    [
      'never tells anyone a nameplate burnt after a failed confirmation',
      { mutate: (f) => (f.includes('"reason":"burnt"') ? null : f) },
      'ext.codes.failed_confirmation_burns_the_nameplate',
    ],
    [
      'never tells the owner a claim was abandoned',
      { mutate: (f) => (f.includes('"reason":"burnt"') ? null : f) },
      'ext.codes.abandoned_claim_burns_the_nameplate',
    ],
    ['relays a claim’s signals to everyone', { broadcastRelays: true }, 'ext.codes.relayed_only_within_the_claim'],
  ];
  it('every MUST case has a mutant meant for it', () => {
    const covered = new Set(mutants.map(([, , c]) => c));
    const must = cases.filter((c) => (c.level ?? 'MUST') === 'MUST').map((c) => c.name);
    expect(must.filter((n) => !covered.has(n))).toEqual([]);
  });
  for (const [name, opts, caseName] of mutants) {
    it(`catches a server that ${name} (case ${caseName})`, async () => {
      const url = await mutant(opts);
      const results = byName(await runSuite({ url, ...suiteTiming, filter: caseName }));
      expect(results[caseName]?.status).toBe('fail');
      expect(results[caseName]?.reason).toBeTruthy();
    }, 30_000);
  }
});
