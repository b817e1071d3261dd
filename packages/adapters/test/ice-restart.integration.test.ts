// A long network loss under real werift peers (tandem-client processes) in network namespaces:
// A's home link goes down for longer than ICE consent lasts (30 s), so both peers' ICE fails.
// Signaling resumes for A when the link is back (A keeps its key, nobody is told A left while
// within grace). werift cannot keep a data channel through an ICE restart, so the call ends as a
// failure on both sides, said once each, and ended on the server too (v2 `leave`), so the two
// pair anew with the same keys. (Browsers restart ICE and keep the channel; client-core's tests
// cover the negotiation itself.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, logHandle, startClient, startServer } from './procs.js';
import { buildLab, labUnavailable, type Lab } from './netlab.js';

const unavailable = labUnavailable();
let lab: Lab | null = null;

beforeAll(() => {
  if (unavailable === null) lab = buildLab();
});
afterAll(async () => {
  await killAll();
  lab?.teardown();
});

describe.skipIf(unavailable !== null)(
  `a network outage longer than ICE consent${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    it('signaling resumes after a 36 s outage; werift ends the failed call cleanly on both sides and the two pair again', async () => {
      const [home1, home2] = lab!.homes;
      const { server, url } = await startServer([
        '--host',
        home1.gateway,
        '--ping-interval',
        '1',
        '--ping-timeout',
        '1',
        '--resume-grace',
        '90',
      ]);
      const a = await startClient(url, [], { netns: home1.ns });
      const b = await startClient(url, [], { netns: home2.ns });
      b.client.write(a.id);
      await a.client.waitFor(/Data channel opened/);
      await b.client.waitFor(/Data channel opened/);
      a.client.write('before the outage');
      await b.client.waitFor(/^< Peer: before the outage$/);

      await home1.cut(36_000); // werift declares ICE failed when consent expires, after 30 s
      await a.client.waitFor(/^\*\*\* Signaling resumed\. \*\*\*$/, 20_000);
      for (const x of [a, b]) {
        await x.client.waitFor(/^\*\*\* Connection path lost; restarting ICE\.\.\. \*\*\*$/, 10_000);
        await x.client.waitFor(
          /^Error: Peer connection failed: ICE failed and werift cannot keep a data channel through an ICE restart$/,
          10_000,
        );
        await x.client.waitFor(/^Ready for new connection\.$/, 10_000);
      }
      expect(a.client.count(/Your Client ID/)).toBe(1); // the same key throughout
      expect(server.count(new RegExp(`Notified .* that peer ${logHandle(a.id)} disconnected`))).toBe(0); // A's session never ended
      await server.waitFor(new RegExp(`Client ${logHandle(a.id)} resumed its session`));
      // the failed call was ended on the server too (v2 leave): the two pair anew, same keys
      b.client.write(a.id);
      const opened = (x: typeof a) => x.client.count(/Data channel opened/);
      for (let i = 0; i < 200 && (opened(a) < 2 || opened(b) < 2); i++) await new Promise((r) => setTimeout(r, 100));
      expect([opened(a), opened(b)]).toEqual([2, 2]);
      a.client.write('after the outage');
      await b.client.waitFor(/^< Peer: after the outage$/);
    }, 150_000);
  },
);
