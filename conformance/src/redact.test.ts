// The reports quote failing cases' frames: with a server broken so that cases about pairing,
// resume and ICE servers fail, neither report holds any client ID, resume token or TURN
// credential that crossed the wire, while the frames are still there, with placeholders.
import { describe, expect, it } from 'vitest';
import { iceServersFor } from '@tandem/adapters/ice';
import { runSuite, type Dialer } from './suite.js';
import { memoryTarget } from './memory.js';
import { htmlReport, jsonReport } from './report.js';
import { reportRedactor } from './redact.js';

const timing = { pingIntervalMs: 300, pingTimeoutMs: 300, tickMs: 25 };
const ice = { stunUrls: [], turnUrls: ['turn:turn.test:3478'], turnSecret: 'report-secret', turnTtlS: 600 };

describe('report redaction', () => {
  it('no ID, token or TURN credential of a failing run reaches the JSON or HTML report', async () => {
    const target = memoryTarget({ settings: timing, iceServers: (id, now) => iceServersFor(ice, id, now)! });
    const wire: string[] = [];
    // a server that words one error wrongly, never answers resume, and forgets the ICE lifetime
    const dial: Dialer = async (handlers) => {
      const socket = await target.dial({
        ...handlers,
        message: (d, binary) => {
          wire.push(d);
          if (d.includes('"type":"resumed"')) return;
          handlers.message(
            d.replace('Target client not found', 'No such client').replace(/,"ice_servers_ttl_ms":\d+/, ''),
            binary,
          );
        },
      });
      return { ...socket, send: (frame, binary) => (wire.push(String(frame)), socket.send(frame, binary)) };
    };
    const run = (filter: string) =>
      runSuite({ dial, pingIntervalMs: 300, pingTimeoutMs: 300, toleranceMs: 700, answerTimeoutMs: 1500, filter });
    const results = [...(await run('stage2.')), ...(await run('ext.resume')), ...(await run('ext.ice_servers'))];
    target.close();
    const failed = results.filter((r) => r.status === 'fail');
    expect(failed.map((r) => r.name).sort()).toEqual(
      expect.arrayContaining([
        'ext.ice_servers.welcome_hands_out_servers',
        'ext.resume.lost_link_detaches_and_resume_replays',
        'stage2.error_target_not_found',
      ]),
    );
    // what crossed the wire, by the same rule the redactor learns by
    const secrets = new Set<string>();
    for (const frame of wire)
      for (const [, , value] of frame.matchAll(
        /"(id|peer_id|target_id|resume_token|token|username|credential)":"([^"]+)"/g,
      ))
        if (value!.length >= 8) secrets.add(value!);
    expect(secrets.size).toBeGreaterThan(5);
    // the unredacted frames do quote them: otherwise this test would prove nothing
    expect(failed.some((r) => (r.frames ?? []).some((f) => [...secrets].some((s) => f.includes(s))))).toBe(true);
    const info = { url: '(in process)', startedAt: new Date().toISOString(), durationMs: 1 };
    for (const report of [jsonReport(results, info), htmlReport(results, info)]) {
      expect([...secrets].filter((s) => report.includes(s))).toEqual([]);
      expect(report).toMatch(/&lt;id-1&gt;|<id-1>/);
      expect(report).toMatch(/&lt;token-1&gt;|<token-1>/);
      expect(report).toMatch(/&lt;turn-credential-1&gt;|<turn-credential-1>/);
    }
  }, 30_000);

  it('the same value gets the same placeholder; short values and other members are left alone', () => {
    const r = reportRedactor();
    r.learn('A ← {"type":"your_id","id":"abcdefgh-1234"}');
    r.learn('B → {"type":"pair_request","target_id":"abcdefgh-1234","x":"abcdefgh-9999"}');
    r.learn('C ← {"type":"paired","peer_id":"short"}');
    expect(r.apply('paired with abcdefgh-1234, not abcdefgh-9999 or short')).toBe(
      'paired with <id-1>, not abcdefgh-9999 or short',
    );
  });
});
