// An active man in the middle on the signaling path (test/mitm-relay.ts: werift peers of its own
// in front of a real tandem-server) against two real tandem-clients paired by key. It answers
// each side itself and bridges the calls, so it reads every chat line, in both directions, while
// both clients show an open data channel and a direct path — as with PeerJS and nearly every
// WebRTC app. What gives it away is the safety code: the two clients print different ones.
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, startClient, startServer } from './procs.js';
import { startMitmRelay, type MitmRelay } from './mitm-relay.js';

let relay: MitmRelay | null = null;
afterAll(async () => {
  await relay?.close();
  await killAll();
});

const SAFETY = /^\*\*\* Safety code: (\d{4} \d{4}) \*\*\*$/;

describe('a relay in the signaling path that answers each side itself', () => {
  it('key pairing: it reads every chat line, and the two safety codes differ', async () => {
    const { server, url } = await startServer();
    relay = await startMitmRelay(url, { v1: true });
    const a = await startClient(relay.url);
    const b = await startClient(relay.url);
    b.client.write(a.id);
    await a.client.waitFor(/Data channel opened/, 30_000);
    await b.client.waitFor(/Data channel opened/, 30_000);
    b.client.write('the secret is 42');
    await a.client.waitFor(/^< Peer: the secret is 42$/);
    a.client.write('and mine is 7');
    await b.client.waitFor(/^< Peer: and mine is 7$/);
    // the relay read both lines off the calls it bridged
    expect(relay.read).toContain('chat: the secret is 42');
    expect(relay.read).toContain('chat: and mine is 7');
    // the server relayed no handshake: it was all the relay's
    expect(server.count(/Relaying offer/)).toBe(0);
    // both clients believe they talk to each other; only the safety codes tell
    const codeA = (await a.client.waitFor(SAFETY, 15_000))[1];
    const codeB = (await b.client.waitFor(SAFETY, 15_000))[1];
    expect(codeA).not.toBe(codeB);
    // the relay's certificates, not the clients', are what each side saw (two of its own peers)
    expect(new Set(relay.fingerprints()).size).toBeGreaterThanOrEqual(1);
    await a.client.kill();
    await b.client.kill();
  }, 90_000);
});

describe('the same relay against pairing by code', () => {
  it('with the right code it reads nothing: both sides fail verification, no chat line is sent, and the code burns', async () => {
    const { server, url } = await startServer();
    const codeRelay = await startMitmRelay(url);
    try {
      const owner = await startClient(codeRelay.url, ['--code']);
      const code = (await owner.client.waitFor(/^\*\*\* Your code: (\S+) \*\*\*$/))[1]!;
      const joiner = await startClient(codeRelay.url, ['--join', code]);
      await owner.client.waitFor(/^\*\*\* Verification failed: .*key confirmation failed/, 30_000);
      await joiner.client.waitFor(/^\*\*\* Verification failed: /, 30_000);
      // nothing of the app's ever went over the bridged calls: no chat, and no data channel opened for it
      owner.client.write('the secret is 42');
      await new Promise((r) => setTimeout(r, 500));
      expect(codeRelay.read.filter((l) => l.startsWith('chat: '))).toEqual([]);
      for (const c of [owner, joiner]) expect(c.client.count(/Data channel opened|< Peer:/)).toBe(0);
      // the code is burnt: the owner is told and given a new one, the joiner exits non-zero
      await owner.client.waitFor(/^\*\*\* Code burnt: /, 15_000);
      await owner.client.waitFor(/^\*\*\* Your code: /);
      expect(owner.client.count(/^\*\*\* Your code: /)).toBe(2);
      expect(await joiner.client.kill()).toBe(4);
      await server.waitFor(/Nameplate of \S+ burnt/);
      await owner.client.kill();
    } finally {
      await codeRelay.close();
    }
  }, 90_000);
});
