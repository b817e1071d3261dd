// CodeClient stands for the code engine until a code is asked for or joined: what it must know
// before then (is this pairing gated? does the server grant codes?) it knows without the engine.
import { describe, expect, it } from 'vitest';
import type { ClientMessage, ServerMessage } from '@tandem/protocol';
import type { ChannelHub } from './channel-hub.js';
import { CodeClient, type CodeEvent } from './code-client.js';
import type { PeerSession } from './ports.js';
import { until } from './testing.js';

function world() {
  const sent: ClientMessage[] = [];
  const events: CodeEvent[] = [];
  let left = 0;
  const codes = new CodeClient(
    (m) => sent.push(m),
    (e) => events.push(e),
    () => 'me',
    () => left++,
  );
  return { codes, sent, events, left: () => left };
}
const hub = {} as ChannelHub;
const session = {} as PeerSession;
const yourId = { type: 'your_id', id: 'me', capabilities: ['codes'] } as unknown as ServerMessage;
const welcome = (capabilities: string[]) => ({ type: 'welcome', capabilities }) as unknown as ServerMessage;

describe('pairing by code before its engine is loaded', () => {
  it('a pairing by key is not gated: what waits for verification runs at once', () => {
    const w = world();
    w.codes.server({ type: 'paired', peer_id: 'p1', initiator: true } as ServerMessage);
    expect(w.codes.gated).toBe(false);
    let ran = false;
    w.codes.whenVerified(() => (ran = true));
    expect(ran).toBe(true);
    expect(w.codes.call(hub, session)).toBe(false);
    expect(w.sent).toEqual([]);
  });

  it('a pairing "by code" this client never asked for is gated at once, then refused as its call comes up', () => {
    const w = world();
    w.codes.server({ type: 'paired', peer_id: 'p1', initiator: false, nameplate: '42' } as ServerMessage);
    expect(w.codes.gated).toBe(true);
    let ran = false;
    w.codes.whenVerified(() => (ran = true));
    expect(w.codes.call(hub, session)).toBe(true);
    expect(ran).toBe(false);
    expect(w.sent).toEqual([
      { type: 'claim_result', ok: false, reason: 'the server paired this client by a code it does not hold' },
    ]);
    expect(w.events).toEqual([
      { type: 'verificationFailed', peerId: 'p1', reason: 'the server paired this client by a code it does not hold' },
    ]);
    expect(w.left()).toBe(1);
    w.codes.ended();
    expect(w.codes.gated).toBe(false);
  });

  it('a request loads the engine, which knows what the link already said (codes granted)', async () => {
    const w = world();
    w.codes.server(yourId);
    w.codes.server(welcome(['codes']));
    w.codes.request();
    await until(() => w.sent.length > 0, 'the nameplate request');
    expect(w.sent).toEqual([{ type: 'nameplate_request' }]);
    // the engine answers from now: a nameplate becomes this client's code
    w.codes.server({ type: 'nameplate', nameplate: '7', expires_in_ms: 60_000 } as ServerMessage);
    await until(() => w.events.length > 0, 'the code');
    expect(w.events[0]).toMatchObject({ type: 'code', nameplate: '7' });
    expect(w.codes.code).toMatch(/^7-[a-z]+-[a-z]+$/);
  });

  it('… or not granted: the request is refused in words', async () => {
    const w = world();
    w.codes.server(yourId);
    w.codes.server(welcome([]));
    w.codes.request();
    await until(() => w.events.length > 0, 'the refusal');
    expect(w.events).toEqual([
      { type: 'codeRejected', code: '', reason: 'this server does not offer pairing by code' },
    ]);
    expect(w.sent).toEqual([]);
  });

  it('a typed code of the wrong shape is refused at once, with no load', () => {
    const w = world();
    w.codes.join('not a code');
    expect(w.events).toEqual([
      { type: 'codeRejected', code: 'not a code', reason: 'that is not a code (a number, then words from the list)' },
    ]);
  });
});
