// Calls between two real client cores and a real server core over in-memory links, on fake peers
// that model tracks in their descriptions: an incoming call is answered or declined, tracks come
// and go in a live call through the perfect-negotiation path (glare included, and during an ICE
// restart), replaceTrack needs no offer, hanging up stops the tracks on both sides and keeps the
// pairing and chat; a v1 peer is never offered a call; a pairing by code shows nothing before it
// is verified. Then model-based runs of random call commands from both sides, with invariants.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryServer } from '@tandem/server-core/testing';
import { createTandemClient, type TandemClientEvent } from './client.js';
import { CallError } from './media-shape.js';
import { FakeNetwork, FakeTrack, memoryTransport, until } from './testing.js';

function world() {
  const server = new MemoryServer({ settings: { pingIntervalMs: 60_000, pingTimeoutMs: 30_000, tickMs: 100 } });
  const net = new FakeNetwork({ channels: true });
  const link = memoryTransport(server);
  const spawn = (extra: Partial<Parameters<typeof createTandemClient>[0]> = {}) => {
    const client = createTandemClient({
      url: 'mem://server',
      transport: link.factory,
      createPeer: net.createPeer,
      peerWaitMs: 200,
      ...extra,
    });
    const events: TandemClientEvent[] = [];
    for (const t of [
      'incomingCall',
      'callAnswered',
      'callDeclined',
      'callEnded',
      'track',
      'trackEnded',
      'message',
      'peerFeatures',
      'peerLeft',
      'verified',
      'code',
    ] as const)
      client.on(t, (e) => events.push(e));
    return { client, events };
  };
  return { server, net, spawn };
}
type Side = ReturnType<ReturnType<typeof world>['spawn']>;
const of = <T extends TandemClientEvent['type']>(c: Side, type: T) =>
  c.events.filter((e) => e.type === type) as Extract<TandemClientEvent, { type: T }>[];
/** Remote tracks shown and not ended. */
const showing = (c: Side) => {
  const ended = new Set(of(c, 'trackEnded').map((e) => e.id));
  return of(c, 'track').filter((e) => !ended.has(e.track.id));
};

/** Two clients of `w`, registered (each has its key). */
async function registered(w: ReturnType<typeof world>, bExtra = {}): Promise<[Side, Side]> {
  const a = w.spawn();
  const b = w.spawn(bExtra);
  await until(() => a.client.id !== null && b.client.id !== null, 'ids');
  return [a, b];
}

async function paired(w: ReturnType<typeof world>, bExtra = {}) {
  const [a, b] = await registered(w, bExtra);
  a.client.pair(b.client.id!);
  await until(() => a.client.status === 'open' && b.client.status === 'open', 'chat open');
  await until(() => of(a, 'peerFeatures').length > 0 && of(b, 'peerFeatures').length > 0, 'features');
  return { a, b };
}

describe('calls between two tandem client cores', () => {
  it('a call rings, is answered with the callee camera, both see the other; hang up stops every track on both sides; chat carries on', async () => {
    const w = world();
    const { a, b } = await paired(w);
    const cam = new FakeTrack('video');
    const mic = new FakeTrack('audio');
    a.client.call([cam, mic]);
    expect(a.client.callState).toBe('calling');
    await until(() => of(b, 'incomingCall').length === 1, 'ringing');
    expect(of(b, 'incomingCall')[0]!.kinds.sort()).toEqual(['audio', 'video']);
    expect(b.client.callState).toBe('ringing');
    await new Promise((r) => setTimeout(r, 20));
    expect(of(b, 'track')).toEqual([]); // nothing shown before answering
    const bcam = new FakeTrack('video');
    b.client.answerCall([bcam]);
    await until(() => of(a, 'callAnswered').length === 1, 'answered');
    await until(() => showing(b).length === 2 && showing(a).length === 1, 'tracks both ways');
    expect(
      showing(b)
        .map((e) => e.track.kind)
        .sort(),
    ).toEqual(['audio', 'video']);
    expect(showing(a)[0]!.track.kind).toBe('video');
    // one offer carried both ways: the caller's, after the answer; the callee's camera rode its answer
    const historyOf = (first: string) => w.net.live().find((p) => p.history[0]?.startsWith(first))!.history;
    expect(historyOf('answer').filter((h) => h.startsWith('renegotiate'))).toEqual([]);
    expect(historyOf('offer').filter((h) => h.startsWith('renegotiate'))).toHaveLength(1);
    b.client.send('chat during the call');
    await until(() => of(a, 'message').some((m) => m.data === 'chat during the call'), 'chat');
    a.client.hangUp();
    expect(cam.stopped && mic.stopped).toBe(true); // camera and microphone released at once
    await until(() => of(b, 'callEnded').length === 1, 'peer told');
    expect(of(b, 'callEnded')[0]!.by).toBe('peer');
    expect(of(a, 'callEnded')[0]!.by).toBe('local');
    expect(bcam.stopped).toBe(true);
    await until(() => showing(a).length === 0 && showing(b).length === 0, 'no track shown');
    expect(a.client.callState).toBe('idle');
    expect(a.client.status).toBe('open'); // the pairing stays
    a.client.send('after hang-up');
    await until(() => of(b, 'message').some((m) => m.data === 'after hang-up'), 'chat after');
    a.client.close();
    b.client.close();
  });

  it('a pairing that starts with a call carries the caller tracks in its very first offer: one negotiation for chat and media', async () => {
    const w = world();
    const [a, b] = await registered(w);
    const cam = new FakeTrack('video');
    a.client.pair(b.client.id!, { call: [cam] });
    await until(() => of(b, 'incomingCall').length === 1, 'ringing');
    expect(of(b, 'incomingCall')[0]!.kinds).toEqual(['video']);
    expect(a.client.callState).toBe('calling');
    const historyOf = (first: string) => w.net.live().find((p) => p.history[0]?.startsWith(first))!.history;
    // the first offer already carried the camera: no other offer from either side
    expect(historyOf('offer')).toEqual(['offer gen0']);
    expect(historyOf('answer')).toEqual(['answer gen0']);
    await new Promise((r) => setTimeout(r, 20));
    expect(of(b, 'track')).toEqual([]); // nothing shown before answering
    b.client.answerCall([]);
    await until(() => showing(b).length === 1 && of(a, 'callAnswered').length === 1, 'shown once answered');
    expect(showing(b)[0]!.track.kind).toBe('video');
    expect(historyOf('offer')).toEqual(['offer gen0']); // answering took no offer either
    // the callee's camera joins later: one offer of its own
    b.client.addTrack(new FakeTrack('video'));
    await until(() => showing(a).length === 1, "the callee's camera shown");
    expect(historyOf('answer').filter((h) => h.startsWith('renegotiate'))).toHaveLength(1);
    a.client.hangUp();
    expect(cam.stopped).toBe(true);
    await until(() => showing(b).length === 0 && of(b, 'callEnded').length === 1, 'hung up');
    a.client.close();
    b.client.close();
  });

  it('a call in the first offer rings from the offer itself, before the channel is up: answered there, the caller media shows at once; declined there, it rings no more', async () => {
    const w = world();
    const [a, b] = await registered(w);
    const atRing: { status: string; features: number; shown: number }[] = [];
    b.client.on('incomingCall', () => {
      b.client.answerCall([]);
      atRing.push({ status: b.client.status, features: of(b, 'peerFeatures').length, shown: showing(b).length });
    });
    a.client.pair(b.client.id!, { call: [new FakeTrack('video')] });
    await until(() => atRing.length === 1, 'ringing');
    // rang (and answered) before the chat channel opened or the peer's hello came: its media shows already
    expect(atRing[0]).toEqual({ status: 'negotiating', features: 0, shown: 1 });
    await until(() => of(a, 'callAnswered').length === 1, 'the answer reaches the caller once the channel is up');
    expect(a.client.callState).toBe('active');
    await new Promise((r) => setTimeout(r, 20));
    expect(of(b, 'incomingCall')).toHaveLength(1); // the caller's media.call later rings nothing again
    a.client.close();
    b.client.close();

    // declined from the offer: the caller is told once the channel is up and stops sending
    const c = w.spawn();
    const d = w.spawn();
    await until(() => c.client.id !== null && d.client.id !== null, 'ids');
    d.client.on('incomingCall', () => d.client.declineCall('busy'));
    const cam = new FakeTrack('video');
    c.client.pair(d.client.id!, { call: [cam] });
    await until(() => of(c, 'callDeclined').length === 1, 'declined');
    expect(of(c, 'callDeclined')[0]!.reason).toBe('busy');
    expect(cam.stopped).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(of(d, 'incomingCall')).toHaveLength(1);
    expect(d.client.callState).toBe('idle');
    expect(of(d, 'track')).toEqual([]);
    c.client.close();
    d.client.close();
  });

  it('answered with the callee camera and microphone, a call that came in the first offer needs no second offer: they go back on its own m-lines', async () => {
    const w = world();
    const [a, b] = await registered(w);
    // answered the moment it rings, as an app that auto-answers does
    const camera = new FakeTrack('video');
    const mic = new FakeTrack('audio');
    b.client.on('incomingCall', () => b.client.answerCall([camera, mic]));
    a.client.pair(b.client.id!, { call: [new FakeTrack('video'), new FakeTrack('audio')] });
    await until(() => of(b, 'incomingCall').length === 1, 'ringing');
    await until(() => showing(a).length === 2 && showing(b).length === 2, 'both ways');
    for (const p of w.net.live()) expect(p.history.filter((h) => h.startsWith('renegotiate'))).toEqual([]);
    // the callee's tracks are on the senders its first answer carried
    const callee = w.net.live().find((p) => p.history[0]?.startsWith('answer'))!;
    expect([...callee.senders.values()].map((x) => [x.kind, x.track, x.negotiated])).toEqual([
      ['video', camera, true],
      ['audio', mic, true],
    ]);
    expect(
      showing(a)
        .map((e) => e.track.kind)
        .sort(),
    ).toEqual(['audio', 'video']);
    a.client.close();
    b.client.close();
  });

  it('a call in the first offer rings before that offer is answered: a camera given at once goes in the very answer', async () => {
    const w = world();
    const [a, b] = await registered(w);
    const camera = new FakeTrack('video');
    let calleeHistoryAtRing: string[] | null = null;
    b.client.on('incomingCall', () => {
      const callee = w.net.live().find((p) => !p.history.includes('offer gen0'))!;
      calleeHistoryAtRing = [...callee.history];
      b.client.answerCall([camera]);
    });
    a.client.pair(b.client.id!, { call: [new FakeTrack('video')] });
    await until(() => showing(a).length === 1 && showing(b).length === 1, 'both ways');
    expect(calleeHistoryAtRing).toEqual([]); // not answered yet
    const callee = w.net.live().find((p) => p.history[0]?.startsWith('answer'))!;
    expect(callee.history.filter((h) => h.startsWith('renegotiate'))).toEqual([]);
    const video = [...callee.senders.values()].find((x) => x.kind === 'video')!;
    // the camera was on its sender before the answer went out: replaced once, from no track
    expect([video.track, video.replaced, video.negotiated]).toEqual([camera, 1, true]);
    a.client.close();
    b.client.close();
  });

  it('a caller of a call in the first offer shows the callee camera as its media flows, before the answer comes over the channel', async () => {
    const w = world();
    const [a, b] = await registered(w);
    b.client.on('incomingCall', () => b.client.answerCall([new FakeTrack('video')]));
    a.client.pair(b.client.id!, { call: [new FakeTrack('video')] });
    await until(() => of(a, 'callAnswered').length === 1 && showing(a).length === 1, 'answered and shown');
    const order = a.events.filter((e) => e.type === 'track' || e.type === 'callAnswered').map((e) => e.type);
    expect(order).toEqual(['track', 'callAnswered']);
    a.client.close();
    b.client.close();
  });

  it('answered with the camera only, the caller shows the callee video and no empty audio track; the unused sender goes with the next offer', async () => {
    const w = world();
    const [a, b] = await registered(w);
    b.client.on('incomingCall', () => b.client.answerCall([new FakeTrack('video')]));
    a.client.pair(b.client.id!, { call: [new FakeTrack('video'), new FakeTrack('audio')] });
    await until(() => showing(a).length === 1 && showing(b).length === 2, 'both ways');
    await new Promise((r) => setTimeout(r, 50));
    expect(showing(a).map((e) => e.track.kind)).toEqual(['video']);
    for (const p of w.net.live()) expect(p.history.filter((h) => h.startsWith('renegotiate'))).toEqual([]);
    const callee = w.net.live().find((p) => p.history[0]?.startsWith('answer'))!;
    const audio = [...callee.senders.values()].find((x) => x.kind === 'audio')!;
    expect([audio.track, audio.removed]).toEqual([null, true]);
    // a track added later takes an offer, as ever; the empty one is gone from it
    b.client.addTrack(new FakeTrack('audio'));
    await until(() => showing(a).length === 2, 'the added track');
    expect(
      showing(a)
        .map((e) => e.track.kind)
        .sort(),
    ).toEqual(['audio', 'video']);
    expect(of(a, 'trackEnded')).toEqual([]);
    a.client.close();
    b.client.close();
  });

  it('with a partner that takes no media in the first offer, the call follows the pairing; one that takes no calls declines it', async () => {
    const w = world();
    // the server did not say the partner takes media in the first offer: the call comes once the call is up
    const a = w.spawn();
    const quiet = w.spawn({ announce: [] });
    await until(() => a.client.id !== null && quiet.client.id !== null, 'ids');
    a.client.pair(quiet.client.id!, { call: [new FakeTrack('video')] });
    await until(() => of(quiet, 'incomingCall').length === 1, 'ringing after the pairing');
    const historyOf = (first: string) => w.net.live().find((p) => p.history[0]?.startsWith(first))!.history;
    expect(historyOf('offer')).toEqual(['offer gen0']); // no media in it: the first offer was the channel's
    quiet.client.answerCall([]);
    await until(() => showing(quiet).length === 1, 'shown');
    expect(historyOf('offer').filter((h) => h.startsWith('renegotiate'))).toHaveLength(1);
    a.client.close();
    quiet.client.close();

    // a partner without media (chat only, as a v1 client): never sent media, the call is declined
    const w2 = world();
    const c = w2.spawn();
    const chatOnly = w2.spawn({ features: ['channels'] });
    await until(() => c.client.id !== null && chatOnly.client.id !== null, 'ids');
    const cam = new FakeTrack('video');
    c.client.pair(chatOnly.client.id!, { call: [cam] });
    await until(() => of(c, 'callDeclined').length === 1, 'declined');
    expect(of(c, 'callDeclined')[0]!.reason).toBe('the peer takes no calls');
    expect(cam.stopped).toBe(true);
    expect(of(chatOnly, 'track')).toEqual([]);
    for (const p of w2.net.live()) expect(p.history.filter((h) => h.startsWith('renegotiate'))).toEqual([]);
    expect(c.client.status).toBe('open');
    c.client.close();
    chatOnly.client.close();
  });

  it('a receive-only caller (no tracks) sees the callee camera: the callee offers the kind the caller has no m-line for', async () => {
    const w = world();
    const { a, b } = await paired(w);
    a.client.call([]);
    await until(() => of(b, 'incomingCall').length === 1, 'ringing');
    expect(of(b, 'incomingCall')[0]!.kinds).toEqual([]);
    const bcam = new FakeTrack('video');
    b.client.answerCall([bcam]);
    await until(() => showing(a).length === 1, "the callee's camera shown to the caller");
    expect(showing(a)[0]!.track.kind).toBe('video');
    expect(showing(b)).toEqual([]); // the caller sends nothing
    // that took an offer of the callee's: the caller's offer had no video m-line to answer on
    const historyOf = (first: string) => w.net.live().find((p) => p.history[0]?.startsWith(first))!.history;
    expect(historyOf('answer').filter((h) => h.startsWith('renegotiate'))).toHaveLength(1);
    a.client.close();
    b.client.close();
  });

  it('a declined call stops the caller tracks and shows nothing; the callee may call back', async () => {
    const w = world();
    const { a, b } = await paired(w);
    const cam = new FakeTrack('video');
    a.client.call([cam]);
    await until(() => of(b, 'incomingCall').length === 1, 'ringing');
    b.client.declineCall('busy now');
    await until(() => of(a, 'callDeclined').length === 1, 'declined');
    expect(of(a, 'callDeclined')[0]!.reason).toBe('busy now');
    expect(cam.stopped).toBe(true);
    expect(of(b, 'track')).toEqual([]);
    b.client.call([new FakeTrack('audio')]);
    await until(() => of(a, 'incomingCall').length === 1, 'calling back');
    a.client.answerCall();
    await until(() => showing(a).length === 1, 'audio shown');
    a.client.close();
    b.client.close();
  });

  it('tracks come and go in a live call: addTrack takes one offer, replaceTrack none, removeTrack ends it at the far end', async () => {
    const w = world();
    const { a, b } = await paired(w);
    const cam = new FakeTrack('video');
    a.client.call([cam]);
    await until(() => of(b, 'incomingCall').length === 1, 'ringing');
    b.client.answerCall();
    await until(() => showing(b).length === 1, 'camera shown');
    const offersOf = (c: 'a' | 'b') =>
      w.net
        .live()
        .flatMap((p) => p.history)
        .filter((h) => h.startsWith(c === 'a' ? 'renegotiate' : 'x')).length;
    const before = offersOf('a');
    const screen = new FakeTrack('video', 'screen');
    await a.client.replaceTrack(cam, screen);
    await new Promise((r) => setTimeout(r, 20));
    expect(offersOf('a')).toBe(before); // no new offer
    const sender = [...w.net.live().flatMap((p) => [...p.senders.values()])].find((s) => s.track === screen)!;
    expect(sender.replaced).toBe(1);
    const mic = new FakeTrack('audio');
    a.client.addTrack(mic);
    await until(() => showing(b).length === 2, 'the added track shown');
    expect(offersOf('a')).toBe(before + 1);
    a.client.removeTrack(mic);
    await until(() => showing(b).length === 1, 'the removed track ended');
    expect(of(b, 'trackEnded')[0]!.kind).toBe('audio');
    a.client.setSending('video', false);
    expect(screen.enabled).toBe(false);
    a.client.close();
    b.client.close();
  });

  it('both add tracks at once (glare): the polite side rolls back and offers again, both end up with both tracks', async () => {
    const w = world();
    const { a, b } = await paired(w);
    a.client.call([]);
    await until(() => of(b, 'incomingCall').length === 1, 'ringing');
    b.client.answerCall();
    await until(() => of(a, 'callAnswered').length === 1, 'answered');
    a.client.addTrack(new FakeTrack('video'));
    b.client.addTrack(new FakeTrack('video')); // both offers cross
    await until(() => showing(a).length === 1 && showing(b).length === 1, 'each sees the other');
    expect(w.net.live().some((p) => p.history.includes('rollback'))).toBe(true);
    a.client.close();
    b.client.close();
  });

  it('a track added while ICE restarts goes out once the restart is answered', async () => {
    const w = world();
    const { a, b } = await paired(w);
    a.client.call([]);
    await until(() => of(b, 'incomingCall').length === 1, 'ringing');
    b.client.answerCall();
    await until(() => of(a, 'callAnswered').length === 1, 'answered');
    // the initiator's peer flaps: its restart offer is out when both add a track
    w.net
      .live()
      .find((p) => p.history[0] === 'offer gen0')!
      .iceFlap();
    a.client.addTrack(new FakeTrack('video')); // rides in the restart's offer, or in one of its own after it
    await until(() => showing(b).length === 1, 'the track after the restart');
    expect(w.net.live().some((p) => p.history.some((h) => h.startsWith('restart')))).toBe(true);
    a.client.close();
    b.client.close();
  });

  it('a peer without media (chat-only features, as a v1 client) is never offered a call', async () => {
    const w = world();
    const { a, b } = await paired(w, { features: [] });
    expect(() => a.client.call([new FakeTrack('video')])).toThrow(CallError);
    expect(() => a.client.call([new FakeTrack('video')])).toThrow(/does not take calls/);
    await new Promise((r) => setTimeout(r, 20));
    expect(w.net.live().every((p) => p.senders.size === 0)).toBe(true);
    expect(
      w.net
        .live()
        .flatMap((p) => p.history)
        .some((h) => h.startsWith('renegotiate')),
    ).toBe(false);
    expect(of(b, 'incomingCall')).toEqual([]);
    a.client.close();
    b.client.close();
  });

  it('hanging up, or the call under it failing, ends it; a command with no call is a CallError', async () => {
    const w = world();
    const a = w.spawn();
    expect(() => a.client.call([])).toThrow(/Not paired/);
    expect(() => a.client.hangUp()).toThrow(CallError);
    a.client.close();
  });
});

describe('calls, model-based (fast-check): random commands from both sides', () => {
  it('every shown track belongs to a live call, states agree once settled, and a hung-up side sends nothing', async () => {
    const cmd = fc.constantFrom('call', 'answer', 'decline', 'hangUp', 'addVideo', 'addAudio', 'removeOne', 'replace');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.boolean(), cmd), { minLength: 1, maxLength: 12 }), async (steps) => {
        const w = world();
        const { a, b } = await paired(w);
        const tracks = new Map<Side, FakeTrack[]>([
          [a, []],
          [b, []],
        ]);
        for (const [onA, c] of steps) {
          const me = onA ? a : b;
          const mine = tracks.get(me)!;
          try {
            if (c === 'call') me.client.call([]);
            else if (c === 'answer') me.client.answerCall();
            else if (c === 'decline') me.client.declineCall();
            else if (c === 'hangUp') me.client.hangUp();
            else if (c === 'addVideo' || c === 'addAudio') {
              const t = new FakeTrack(c === 'addVideo' ? 'video' : 'audio');
              me.client.addTrack(t);
              mine.push(t);
            } else if (c === 'removeOne' && mine.length > 0) me.client.removeTrack(mine.pop()!);
            else if (c === 'replace' && mine.length > 0) {
              const t = mine.pop()!;
              const next = new FakeTrack(t.kind, 'other');
              await me.client.replaceTrack(t, next);
              mine.push(next);
            }
          } catch (e) {
            if (!(e instanceof CallError)) throw e; // refused as the state says: fine
          }
          await new Promise((r) => setTimeout(r, 3));
        }
        await new Promise((r) => setTimeout(r, 40));
        const sa = a.client.callState;
        const sb = b.client.callState;
        // settled: both up, both down, or one ringing the other
        const agree =
          (sa === 'active' && sb === 'active') ||
          (sa === 'idle' && sb === 'idle') ||
          (sa === 'calling' && sb === 'ringing') ||
          (sa === 'ringing' && sb === 'calling');
        expect(agree, `${sa} / ${sb}`).toBe(true);
        for (const side of [a, b]) {
          const other = side === a ? b : a;
          // a side shows tracks only in an active call, and only ones the other sends
          if (side.client.callState !== 'active') expect(showing(side)).toEqual([]);
          const sent = w.net
            .live()
            .flatMap((p) => [...p.senders.values()])
            .filter((s) => !s.removed);
          if (other.client.callState === 'idle') {
            const mineSent = tracks.get(other)!.filter((t) => sent.some((s) => s.track === t));
            expect(mineSent).toEqual([]);
          }
        }
        a.client.close();
        b.client.close();
      }),
      { numRuns: 25 },
    );
  }, 60_000);
});
