import { describe, expect, it } from 'vitest';
import { MemoryServer } from './testing/memory-server.js';
import { ServerEngine } from './engine.js';
import { addFromPeer } from './relay-frame.js';

const setup = (settings = {}) => {
  const s = new MemoryServer({ settings: { pingIntervalMs: 10_000, pingTimeoutMs: 5_000, tickMs: 100, ...settings } });
  return s;
};
const last = (c: { messages(): Record<string, unknown>[] }) => c.messages().at(-1);
const pair = (s: MemoryServer) => {
  const a = s.connect();
  const b = s.connect();
  a.send(JSON.stringify({ type: 'pair_request', target_id: b.conn.id }));
  return { a, b };
};

describe('stage 1: IDs', () => {
  it('sends your_id first, with unique IDs, and advertises extensions as optional fields', () => {
    const s = setup();
    const clients = Array.from({ length: 50 }, () => s.connect());
    const ids = clients.map((c) => c.messages()[0]);
    for (const m of ids)
      expect(m).toMatchObject({
        type: 'your_id',
        id: expect.any(String),
        version: 2,
        capabilities: ['keepalive.ws-ping', 'leave', 'codes'],
      });
    expect(new Set(ids.map((m) => m!['id'])).size).toBe(50);
    expect(s.logs.filter((l) => l.type === 'connected')).toHaveLength(50);
  });
  it('can run without advertising extensions (plain v1 your_id)', () => {
    const s = setup({ advertiseExtensions: false });
    expect(s.connect().received[0]).toMatch(/^\{"type":"your_id","id":"[^"]+"\}$/);
  });
  it('a disconnect removes the client from the directory', () => {
    const s = setup();
    const a = s.connect();
    a.close();
    expect(s.engine.connection(a.conn.id)).toBeUndefined();
    expect(s.logs.at(-1)).toMatchObject({ type: 'disconnected', id: a.conn.id });
    const c = s.connect();
    c.send(JSON.stringify({ type: 'pair_request', target_id: a.conn.id }));
    expect(last(c)).toEqual({ type: 'error', message: 'Target client not found' });
  });
});

describe('stage 2: pairing', () => {
  it('pairs both sides with the initiator flag', () => {
    const s = setup();
    const { a, b } = pair(s);
    expect(last(a)).toEqual({ type: 'paired', peer_id: b.conn.id, initiator: true });
    expect(last(b)).toEqual({ type: 'paired', peer_id: a.conn.id, initiator: false });
    expect(s.engine.stats().pairs).toBe(1);
  });
  it('tells a v2 client what its partner asked for in hello (nothing for a v1 partner); a v1 client never sees the field', () => {
    const s = setup();
    const hello = (c: ReturnType<typeof s.connect>, capabilities: string[]) =>
      c.send(JSON.stringify({ type: 'hello', version: 2, capabilities }));
    const a = s.connect();
    const b = s.connect();
    hello(a, ['leave', 'peer.media']);
    hello(b, ['resume', 'some.unknown.thing']);
    a.send(JSON.stringify({ type: 'pair_request', target_id: b.conn.id }));
    expect(last(a)).toEqual({
      type: 'paired',
      peer_id: b.conn.id,
      initiator: true,
      peer_capabilities: ['resume', 'some.unknown.thing'],
    });
    expect(last(b)).toEqual({
      type: 'paired',
      peer_id: a.conn.id,
      initiator: false,
      peer_capabilities: ['leave', 'peer.media'],
    });
    // a v2 client paired with a v1 client learns it asked for nothing; the v1 client sees v1's paired
    const v2 = s.connect();
    const v1 = s.connect();
    hello(v2, ['peer.media']);
    v2.send(JSON.stringify({ type: 'pair_request', target_id: v1.conn.id }));
    expect(last(v2)).toEqual({ type: 'paired', peer_id: v1.conn.id, initiator: true, peer_capabilities: [] });
    expect(last(v1)).toEqual({ type: 'paired', peer_id: v2.conn.id, initiator: false });
  });
  it('gives a v2 client (one that said hello) each pairing error with its code; a v1 client keeps the bare words', () => {
    const s = setup();
    const { a, b } = pair(s);
    const v2 = s.connect();
    v2.send(JSON.stringify({ type: 'hello', version: 2, capabilities: [] }));
    const v1 = s.connect();
    const req = (from: typeof a, to: string) => from.send(JSON.stringify({ type: 'pair_request', target_id: to }));
    for (const c of [v2, v1]) {
      req(c, 'nobody');
      req(c, a.conn.id);
      req(c, c.conn.id);
      c.send(JSON.stringify({ type: 'offer', sdp: 'x' }));
    }
    const errors = (c: typeof a) => c.messages().filter((m) => m['type'] === 'error');
    expect(errors(v2)).toEqual([
      { type: 'error', message: 'Target client not found', code: 'target_not_found' },
      { type: 'error', message: 'Target client is already paired', code: 'target_already_paired' },
      { type: 'error', message: 'Cannot pair with yourself', code: 'cannot_pair_with_self' },
      { type: 'error', message: 'Not paired', code: 'not_paired' },
    ]);
    expect(errors(v1)).toEqual(errors(v2).map(({ code: _code, ...v1Error }) => v1Error));
    req(v2, b.conn.id);
    req(a, v2.conn.id);
    expect(last(a)).toEqual({ type: 'error', message: 'You are already paired' });
  });
  it('reports each wire-v1 error and changes nothing', () => {
    const s = setup();
    const { a, b } = pair(s);
    const c = s.connect();
    const req = (from: typeof a, to: string) => from.send(JSON.stringify({ type: 'pair_request', target_id: to }));
    req(a, b.conn.id);
    expect(last(a)).toEqual({ type: 'error', message: 'You are already paired' });
    req(a, c.conn.id);
    expect(last(a)).toEqual({ type: 'error', message: 'You are already paired' });
    req(c, a.conn.id);
    expect(last(c)).toEqual({ type: 'error', message: 'Target client is already paired' });
    req(c, 'nobody');
    expect(last(c)).toEqual({ type: 'error', message: 'Target client not found' });
    req(c, c.conn.id);
    expect(last(c)).toEqual({ type: 'error', message: 'Cannot pair with yourself' });
    expect(a.conn.peerId).toBe(b.conn.id);
    expect(b.conn.peerId).toBe(a.conn.id);
    expect(c.conn.isPaired).toBe(false);
    expect(b.messages().filter((m) => m['type'] === 'error')).toHaveLength(0);
  });
});

describe('stages 3-4: relay', () => {
  it('relays offer, answer and candidates to the partner only, byte-for-byte plus from_peer', () => {
    const s = setup();
    const { a, b } = pair(s);
    const bystander = s.connect();
    const offer = '{"type": "offer", "sdp": "v=0\\r\\na=x\\r\\n"}';
    a.send(offer);
    expect(b.received.at(-1)).toBe('{"type": "offer", "sdp": "v=0\\r\\na=x\\r\\n","from_peer":true}');
    b.send(JSON.stringify({ type: 'answer', sdp: 'v=0' }));
    expect(last(a)).toEqual({ type: 'answer', sdp: 'v=0', from_peer: true });
    const eoc = { type: 'candidate', candidate: { candidate: '', sdpMid: null, sdpMLineIndex: null } };
    a.send(JSON.stringify(eoc));
    expect(last(b)).toEqual({ ...eoc, from_peer: true });
    expect(bystander.received).toHaveLength(1);
    expect(s.engine.stats().relayed).toBe(3);
  });
  it('answers Not paired to an unpaired sender', () => {
    const s = setup();
    const a = s.connect();
    for (const t of ['offer', 'answer']) {
      a.send(JSON.stringify({ type: t, sdp: 'x' }));
      expect(last(a)).toEqual({ type: 'error', message: 'Not paired' });
    }
    a.send(JSON.stringify({ type: 'candidate', candidate: { candidate: '' } }));
    expect(last(a)).toEqual({ type: 'error', message: 'Not paired' });
  });
  it('addFromPeer handles whitespace, empty objects and a sender-supplied from_peer', () => {
    expect(JSON.parse(addFromPeer('{ "type":"offer","sdp":"}" }  '))).toEqual({
      type: 'offer',
      sdp: '}',
      from_peer: true,
    });
    expect(addFromPeer('{}')).toBe('{"from_peer":true}');
    expect(JSON.parse(addFromPeer('{"type":"answer","sdp":"","from_peer":false}'))['from_peer']).toBe(true);
  });
});

describe('stage 5: keepalive and disconnects', () => {
  it('a client that answers pings stays connected across many intervals', () => {
    const s = setup();
    const a = s.connect();
    a.onFrame = (f) => {
      if (f === '{"type":"ping"}') a.send('{"type":"pong"}');
    };
    s.advance(100_000);
    expect(a.closedBy).toBeNull();
    expect(a.received.filter((f) => f === '{"type":"ping"}').length).toBeGreaterThanOrEqual(8);
  });
  it('an active client is never pinged (any frame is proof of life)', () => {
    const s = setup();
    const { a, b } = pair(s);
    for (let i = 0; i < 100; i++) {
      s.advance(1_000);
      a.send('{"type":"candidate","candidate":{"candidate":""}}');
      b.send('{"type":"candidate","candidate":{"candidate":""}}');
    }
    expect(a.received.filter((f) => f.includes('"ping"'))).toEqual([]);
  });
  it('a silent client is closed no earlier than the timeout and no later than interval + timeout; its partner is told', () => {
    const s = setup();
    const { a, b } = pair(s);
    b.onFrame = (f) => {
      if (f === '{"type":"ping"}') b.send('{"type":"pong"}');
    };
    const start = s.now;
    let closedAt = -1;
    a.onClose = () => (closedAt = s.now);
    s.advance(20_000);
    expect(a.closedBy).toEqual({ code: 1001, reason: 'ping timeout', abrupt: true });
    expect(closedAt - start).toBeGreaterThanOrEqual(5_000);
    expect(closedAt - start).toBeLessThanOrEqual(15_000 + 100);
    expect(b.messages().filter((m) => m['type'] === 'peer_disconnected')).toEqual([
      { type: 'peer_disconnected', peer_id: a.conn.id },
    ]);
    // the transport's own close report afterwards changes nothing
    a.close();
    expect(b.messages().filter((m) => m['type'] === 'peer_disconnected')).toHaveLength(1);
    expect(b.closedBy).toBeNull();
  });
  it('uses control pings for clients that negotiated keepalive.ws-ping', () => {
    const s = setup();
    const a = s.connect();
    a.send(JSON.stringify({ type: 'hello', version: 2, capabilities: ['keepalive.ws-ping', 'future.thing'] }));
    expect(last(a)).toEqual({
      type: 'welcome',
      version: 2,
      capabilities: ['keepalive.ws-ping'],
      ping_interval_ms: 10_000,
      ping_timeout_ms: 5_000,
    });
    s.advance(10_000);
    expect(a.received.at(-1)).toBe('<ws-ping>');
    expect(a.received.filter((f) => f === '{"type":"ping"}')).toEqual([]);
    a.pong(); // the WebSocket stack answered the control ping
    s.advance(9_000);
    expect(a.closedBy).toBeNull();
    s.advance(30_000); // no more pongs: closed after the next ping's timeout
    expect(a.closedBy).toEqual({ code: 1001, reason: 'ping timeout', abrupt: true });
  });
  it('peer_disconnected on close, then both can pair again', () => {
    const s = setup();
    const { a, b } = pair(s);
    b.close();
    expect(last(a)).toEqual({ type: 'peer_disconnected', peer_id: b.conn.id });
    expect(a.conn.isPaired).toBe(false);
    const c = s.connect();
    a.send(JSON.stringify({ type: 'pair_request', target_id: c.conn.id }));
    expect(last(c)).toEqual({ type: 'paired', peer_id: a.conn.id, initiator: false });
    expect(s.engine.stats().pairs).toBe(1);
  });
  it('shutdown closes everyone without peer notices', () => {
    const s = setup();
    const { a, b } = pair(s);
    s.engine.shutdown();
    expect(a.closedBy?.code).toBe(1001);
    expect(b.closedBy?.code).toBe(1001);
    // whichever is closed first, its partner (still open then) must not be told
    for (const c of [a, b])
      expect(
        c.messages().filter((m) => m['type'] === 'peer_disconnected'),
        'no peer notice on shutdown',
      ).toEqual([]);
    expect(s.logs.filter((e) => e.type === 'peer_notified')).toEqual([]);
    expect(s.engine.stats().connections).toBe(0);
  });
});

describe('bad input', () => {
  it('gets a wire-v1 error, keeps the connection, changes no state', () => {
    const s = setup();
    const { a, b } = pair(s);
    const cases: [string | Uint8Array, boolean, RegExp][] = [
      ['{not json', false, /^Invalid JSON/],
      ['', false, /^Invalid JSON/],
      ['{"type":"teleport"}', false, /^Unknown message type: teleport$/],
      ['{"type":"pair_request"}', false, /field "target_id"/],
      ['{"type":"offer","sdp":5}', false, /field "sdp"/],
      [new Uint8Array([1, 2, 3]), true, /binary/],
      ['{"type":"offer","sdp":"' + 'x'.repeat(70_000) + '"}', false, /too large/],
    ];
    for (const [frame, binary, re] of cases) {
      a.send(frame, binary);
      const m = last(a)!;
      expect(m['type']).toBe('error');
      expect(String(m['message'])).toMatch(re);
    }
    expect(a.closedBy).toBeNull();
    expect(a.conn.peerId).toBe(b.conn.id);
    expect(b.received.filter((f) => f.includes('error'))).toEqual([]);
    a.send('{"type":"offer","sdp":"ok"}');
    expect(last(b)).toEqual({ type: 'offer', sdp: 'ok', from_peer: true });
  });
  it('closes a flooding client with a reason; others carry on', () => {
    const s = setup({ rateLimitPerSecond: 10, rateLimitBurst: 20 });
    const { a, b } = pair(s);
    for (let i = 0; i < 25; i++) a.send('{"type":"pong"}');
    expect(a.closedBy).toEqual({ code: 1008, reason: 'rate limit exceeded', abrupt: false });
    expect(last(b)).toEqual({ type: 'peer_disconnected', peer_id: a.conn.id });
    expect(s.engine.stats().rateLimited).toBe(1);
  });
  it('closes a client over the byte rate with a reason, even under the message rate', () => {
    const s = setup({ rateLimitBytesPerSecond: 1_000, rateLimitBytesBurst: 65_536 });
    const { a, b } = pair(s);
    const sdp = 'x'.repeat(20_000);
    for (let i = 0; i < 3; i++) a.send(JSON.stringify({ type: 'offer', sdp })); // 60 kB: inside the burst
    expect(a.closedBy).toBeNull();
    expect(b.messages().filter((m) => m['type'] === 'offer')).toHaveLength(3);
    s.advance(2_000); // refills 2 kB, not 20
    a.send(JSON.stringify({ type: 'offer', sdp }));
    expect(a.closedBy).toEqual({ code: 1008, reason: 'byte rate limit exceeded', abrupt: false });
    expect(b.messages().filter((m) => m['type'] === 'offer')).toHaveLength(3);
    expect(last(b)).toEqual({ type: 'peer_disconnected', peer_id: a.conn.id });
    expect(s.engine.stats()).toMatchObject({ byteRateLimited: 1, rateLimited: 0 });
    expect(s.logs).toContainEqual({ type: 'rate_limited', id: a.conn.id, unit: 'bytes' });
    s.advance(60_000); // a sender within the sustained byte rate is never closed
    const c = s.connect();
    for (let i = 0; i < 20; i++) {
      c.send(JSON.stringify({ type: 'pair_request', target_id: 'y'.repeat(900) }));
      s.advance(1_000);
    }
    expect(c.closedBy).toBeNull();
  });
  it('closes a partner that stops reading once its queue passes the cap; the sender is told as usual', () => {
    const s = setup({ maxBufferedBytes: 100_000, rateLimitBytesPerSecond: 1e9, rateLimitBytesBurst: 1e9 });
    const { a, b } = pair(s);
    b.reading = false;
    const sdp = 'x'.repeat(30_000);
    for (let i = 0; i < 3; i++) a.send(JSON.stringify({ type: 'offer', sdp }));
    expect(b.closedBy).toBeNull(); // ~90 kB queued: under the cap
    a.send(JSON.stringify({ type: 'offer', sdp }));
    expect(b.closedBy).toEqual({ code: 1008, reason: 'slow consumer: too many bytes queued unread', abrupt: false });
    expect(last(a)).toEqual({ type: 'peer_disconnected', peer_id: b.conn.id });
    expect(s.logs).toContainEqual({
      type: 'slow_consumer',
      id: b.conn.id,
      bufferedBytes: b.queuedBytes,
      limit: 100_000,
    });
    expect(s.engine.stats()).toMatchObject({ slowConsumers: 1, pairs: 0 });
    a.send(JSON.stringify({ type: 'offer', sdp }));
    expect(b.queuedBytes).toBeLessThan(130_000); // nothing more is queued for it
    expect(a.closedBy).toBeNull();
  });
  it('a non-reading client that still answers pings is closed as a slow consumer, not kept forever', () => {
    const s = setup({ maxBufferedBytes: 20_000 });
    const { a, b } = pair(s);
    b.reading = false;
    const sdp = 'x'.repeat(10_000);
    for (let i = 0; i < 30 && b.closedBy === null; i++) {
      a.send(
        JSON.stringify({
          type: 'candidate',
          candidate: { candidate: sdp.slice(0, 4_000), sdpMid: '0', sdpMLineIndex: 0 },
        }),
      );
      b.pong();
      s.advance(1_000);
    }
    expect(b.closedBy?.reason).toMatch(/slow consumer/);
  });
  it('a frame the transport refused for size closes with 1009 and the limit in words', () => {
    const s = setup({ maxFrameBytes: 4_096 });
    const { a, b } = pair(s);
    s.engine.frameTooLarge(a.conn, s.now);
    expect(a.closedBy).toEqual({ code: 1009, reason: 'frame too large (limit 4096 bytes)', abrupt: false });
    expect(last(b)).toEqual({ type: 'peer_disconnected', peer_id: a.conn.id });
    expect(s.engine.stats().errorsByCode).toEqual({ too_large: 1 });
  });
  it('drain closes every client with 1012 so it reconnects elsewhere; shutdown with 1001', () => {
    for (const [reason, code, text] of [
      ['drain', 1012, 'server draining: reconnect'],
      ['shutdown', 1001, 'server shutting down'],
    ] as const) {
      const s = setup();
      const { a, b } = pair(s);
      s.engine.shutdown(reason);
      for (const c of [a, b]) expect(c.closedBy).toEqual({ code, reason: text, abrupt: false });
      expect(a.messages().some((m) => m['type'] === 'peer_disconnected')).toBe(false);
    }
  });
  it('counts relays by type and errors by code', () => {
    const s = setup();
    const { a, b } = pair(s);
    a.send('{"type":"offer","sdp":"o"}');
    b.send('{"type":"answer","sdp":"a"}');
    const candidate = JSON.stringify({
      type: 'candidate',
      candidate: { candidate: 'c', sdpMid: '0', sdpMLineIndex: 0 },
    });
    a.send(candidate);
    a.send(candidate);
    a.send('nonsense');
    a.send(JSON.stringify({ type: 'pair_request', target_id: 'nobody' }));
    expect(s.engine.stats()).toMatchObject({
      relayed: 4,
      relayedByType: { offer: 1, answer: 1, candidate: 2 },
      errors: 2,
    });
    expect(s.engine.stats().errorsByCode).toEqual({ invalid_json: 1, already_paired: 1 });
  });
  it('rejects nonsensical settings', () => {
    expect(() => setup({ rateLimitBytesBurst: 1000 })).toThrow(/rateLimitBytesBurst.*maxFrameBytes/);
    expect(() => setup({ pingIntervalMs: 0 })).toThrow(/pingIntervalMs/);
    expect(() => setup({ pingSpread: 1 })).toThrow(/pingSpread/);
  });
});

describe('timer wheel', () => {
  it('spreads the first pings of a burst of clients over several ticks', () => {
    const s = setup({ pingIntervalMs: 10_000, pingSpread: 0.2, tickMs: 100 });
    const cs = Array.from({ length: 200 }, () => s.connect());
    const pingTimes = new Map<number, number>();
    for (const c of cs) c.onFrame = (f) => f.includes('ping') && pingTimes.set(s.now, (pingTimes.get(s.now) ?? 0) + 1);
    s.advance(10_000);
    expect(pingTimes.size).toBeGreaterThan(10);
    expect(Math.max(...pingTimes.values())).toBeLessThan(60);
  });
  it('nextWake reports the next due slot, and big clock jumps visit only filed slots', () => {
    const s = setup();
    s.connect();
    const wake = s.engine.nextWake()!;
    expect(wake).toBeGreaterThan(s.now);
    expect(wake - s.now).toBeLessThanOrEqual(10_000);
    const scannedBefore = s.engine.wheelTicksScanned;
    s.now += 1e9; // a jump of 11 days: 10^7 ticks of 100 ms, one of them filed
    s.engine.advance(s.now);
    expect(s.engine.stats().pings).toBe(1);
    expect(s.engine.wheelTicksScanned - scannedBefore, 'ticks scanned for the jump').toBeLessThanOrEqual(2);
  });
});

describe('log selection', () => {
  it('never builds the log events a sink does not want, and still sends everything else', () => {
    const logged: string[] = [];
    const frames: string[] = [];
    let seq = 0;
    const engine = new ServerEngine<string>({
      generateId: () => `id-${++seq}`,
      random: () => 0,
      settings: { pingIntervalMs: 1000, pingTimeoutMs: 1000, tickMs: 100 },
      sink: {
        send: (_h, f) => frames.push(f),
        ping: () => undefined,
        close: () => undefined,
        log: (e) => logged.push(e.type),
        wantsLog: (type) => type !== 'relayed' && type !== 'pinged',
      },
    });
    const a = engine.open('a', 0);
    const b = engine.open('b', 0);
    engine.receive(a, JSON.stringify({ type: 'pair_request', target_id: b.id }), 0);
    engine.receive(a, '{"type":"offer","sdp":"v=0"}', 0);
    engine.advance(1500);
    expect(frames).toContain('{"type":"offer","sdp":"v=0","from_peer":true}');
    expect(frames.filter((f) => f === '{"type":"ping"}').length).toBeGreaterThan(0);
    expect(logged).toEqual(['connected', 'connected', 'paired']);
  });
});
