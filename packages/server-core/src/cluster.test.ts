// Real engines as nodes of one cluster over in-memory directories: wire-v1 across nodes, the
// interleavings a slow directory allows (deferred hub, stepped by the test), model-based runs with
// invariants, a node's death, a reset, and sessions resumed through another node.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorText, encode } from '@tandem/protocol';
import { InMemoryDirectory, MemoryHub } from './directory/memory-directory.js';
import { MemoryServer, ResumingMemoryClient, macrotask, type MemoryClient } from './testing/memory-server.js';

function cluster(n: number, hub = new MemoryHub(), extra: ConstructorParameters<typeof MemoryServer>[0] = {}) {
  let token = 0;
  const servers = Array.from(
    { length: n },
    (_, i) =>
      new MemoryServer({
        directory: new InMemoryDirectory(hub, `node-${i}`),
        generateToken: () => `tok${i}x${String(++token).padStart(20, '0')}`,
        ...extra,
      }),
  );
  return { hub, servers };
}
const pairReq = (c: MemoryClient, target: string) => c.send(encode({ type: 'pair_request', target_id: target }));
const types = (c: MemoryClient) => c.messages().map((m) => m['type']);

describe('engines as cluster nodes (in-memory directory)', () => {
  it("a v2 client paired across nodes is not told its partner's hello (this node does not know it): it assumes nothing", () => {
    const {
      servers: [n0, n1],
    } = cluster(2);
    const a = n0!.connect();
    const b = n1!.connect();
    for (const c of [a, b]) c.send(JSON.stringify({ type: 'hello', version: 2, capabilities: ['peer.media'] }));
    pairReq(a, b.conn.id);
    expect(a.messages().at(-1)).toEqual({ type: 'paired', peer_id: b.conn.id, initiator: true });
    expect(b.messages().at(-1)).toEqual({ type: 'paired', peer_id: a.conn.id, initiator: false });
  });

  it('the seed scenario across nodes: pair by ID, relay in order with from_peer, errors, peer_disconnected, pair again', () => {
    const {
      servers: [n0, n1],
    } = cluster(2);
    const a = n0!.connect();
    const b = n1!.connect();
    const c = n1!.connect();
    pairReq(a, b.conn.id);
    expect(a.messages().at(-1)).toEqual({ type: 'paired', peer_id: b.conn.id, initiator: true });
    expect(b.messages().at(-1)).toEqual({ type: 'paired', peer_id: a.conn.id, initiator: false });
    for (let i = 0; i < 5; i++) a.send(`{"type":"candidate","candidate":{"candidate":"c${i}","sdpMid":"0"}}`);
    expect(b.received.slice(-5)).toEqual(
      [0, 1, 2, 3, 4].map(
        (i) => `{"type":"candidate","candidate":{"candidate":"c${i}","sdpMid":"0"},"from_peer":true}`,
      ),
    );
    pairReq(c, a.conn.id);
    expect(c.messages().at(-1)).toEqual({ type: 'error', message: ErrorText.TargetAlreadyPaired });
    pairReq(b, c.conn.id);
    expect(b.messages().at(-1)).toEqual({ type: 'error', message: ErrorText.AlreadyPaired });
    expect(n0!.engine.stats().pairs + n1!.engine.stats().pairs).toBe(2); // one half on each node
    a.close();
    expect(b.messages().at(-1)).toEqual({ type: 'peer_disconnected', peer_id: a.conn.id });
    expect(n1!.engine.stats().pairs).toBe(0);
    pairReq(b, c.conn.id);
    expect(c.messages().at(-1)).toEqual({ type: 'paired', peer_id: b.conn.id, initiator: false });
    pairReq(c, a.conn.id);
    expect(c.messages().at(-1)).toEqual({ type: 'error', message: ErrorText.AlreadyPaired });
  });

  it('leave across nodes tells the partner; both may pair again', () => {
    const {
      servers: [n0, n1],
    } = cluster(2);
    const a = n0!.connect();
    const b = n1!.connect();
    pairReq(a, b.conn.id);
    a.send('{"type":"leave"}');
    expect(b.messages().at(-1)).toEqual({ type: 'peer_disconnected', peer_id: a.conn.id });
    pairReq(b, a.conn.id);
    expect(a.messages().at(-1)).toEqual({ type: 'paired', peer_id: b.conn.id, initiator: false });
  });

  it('hands out the key only once any node can find it (the directory registered it)', async () => {
    const {
      hub,
      servers: [n0, n1],
    } = cluster(2, new MemoryHub({ deferred: true }));
    const a = n0!.connect();
    expect(a.received).toEqual([]);
    expect(hub.records.has(a.conn.id)).toBe(false);
    await hub.flush(macrotask);
    expect(hub.records.has(a.conn.id)).toBe(true);
    expect(types(a)).toEqual(['your_id']);
    const b = n1!.connect();
    pairReq(b, a.conn.id); // before its own key arrived: held until then, and answered after it
    await hub.flush(macrotask);
    expect(types(b)).toEqual(['your_id', 'paired']);
  });

  it('a slow directory: frames sent while a pair request waits are handled after its answer, in order', async () => {
    const {
      hub,
      servers: [n0, n1],
    } = cluster(2, new MemoryHub({ deferred: true }));
    const a = n0!.connect();
    const b = n1!.connect();
    await hub.flush(macrotask);
    pairReq(a, b.conn.id);
    a.send('{"type":"offer","sdp":"first"}');
    a.send('not json');
    expect(types(a)).toEqual(['your_id']); // nothing answered before the directory
    await hub.flush(macrotask);
    expect(types(a)).toEqual(['your_id', 'paired', 'error']);
    expect(b.messages().slice(1)).toEqual([
      { type: 'paired', peer_id: a.conn.id, initiator: false },
      { type: 'offer', sdp: 'first', from_peer: true },
    ]);
  });

  it('requester_busy: paired from another node while its own request was on its way, a client hears "already paired", then paired', async () => {
    const {
      hub,
      servers: [n0, n1],
    } = cluster(2, new MemoryHub({ deferred: true }));
    const x = n0!.connect();
    const y = n0!.connect();
    const z = n1!.connect();
    await hub.flush(macrotask);
    pairReq(z, x.conn.id); // reaches the directory first
    pairReq(x, y.conn.id);
    await hub.flush(macrotask);
    expect(x.messages().slice(1)).toEqual([
      { type: 'error', message: ErrorText.AlreadyPaired },
      { type: 'paired', peer_id: z.conn.id, initiator: false },
    ]);
    expect(y.messages().slice(1)).toEqual([]);
    expect(z.messages().at(-1)).toEqual({ type: 'paired', peer_id: x.conn.id, initiator: true });
  });

  it(
    'model-based: random clients, requests, signals, leaves and closes over 3 nodes with random interleavings keep every invariant',
    { timeout: 60_000 },
    async () => {
      const who = fc.nat(20);
      const op = fc.oneof(
        { weight: 2, arbitrary: fc.record({ k: fc.constant('connect' as const), node: fc.nat(2) }) },
        { weight: 4, arbitrary: fc.record({ k: fc.constant('pair' as const), who, target: who }) },
        { weight: 6, arbitrary: fc.record({ k: fc.constant('signal' as const), who }) },
        { weight: 1, arbitrary: fc.record({ k: fc.constant('leave' as const), who }) },
        { weight: 1, arbitrary: fc.record({ k: fc.constant('close' as const), who }) },
        { weight: 4, arbitrary: fc.record({ k: fc.constant('step' as const), n: fc.nat(20) }) },
      );
      let relayed = 0;
      let paired = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 20, maxLength: 80, size: 'max' }), async (ops) => {
          const { hub, servers } = cluster(3, new MemoryHub({ deferred: true }));
          // leaves: where in its frames a client left its pair (sent only when nothing waits, so it takes effect at once)
          const clients: { c: MemoryClient; node: number; open: boolean; sent: number; leaves: Set<number> }[] = [];
          const pick = (n: number) => clients[n % clients.length];
          for (let i = 0; i < 4; i++)
            clients.push({ c: servers[i % 3]!.connect(), node: i % 3, open: true, sent: 0, leaves: new Set() });
          for (const o of ops) {
            if (o.k === 'connect')
              clients.push({ c: servers[o.node]!.connect(), node: o.node, open: true, sent: 0, leaves: new Set() });
            else if (o.k === 'step') {
              for (let i = 0; i < o.n; i++) hub.step();
              await new Promise((r) => setImmediate(r)); // the engines take in the answers
            } else if (clients.length > 0) {
              const x = pick(o.who)!;
              if (!x.open) continue;
              if (o.k === 'pair') pairReq(x.c, pick(o.target)!.c.conn.id);
              if (o.k === 'signal')
                x.c.send(`{"type":"candidate","candidate":{"candidate":"${x.c.conn.id} ${++x.sent}"}}`);
              if (o.k === 'leave' && x.c.conn.held === null) {
                x.leaves.add(x.c.received.length);
                x.c.send('{"type":"leave"}');
              }
              if (o.k === 'close') {
                x.c.close();
                x.open = false;
              }
            }
          }
          await hub.flush(macrotask);
          const byId = new Map(clients.map((x) => [x.c.conn.id, x]));
          for (const x of clients) {
            const frames = x.c.messages();
            // paired and peer_disconnected alternate, and each peer_disconnected names the partner before it
            let partner: string | null = null;
            for (const [i, m] of frames.entries()) {
              if (x.leaves.has(i)) partner = null;
              if (m['type'] === 'paired') {
                expect(partner, `${x.c.conn.id}: paired twice without a peer_disconnected`).toBeNull();
                partner = String(m['peer_id']);
              } else if (m['type'] === 'peer_disconnected') {
                expect(m['peer_id']).toBe(partner);
                partner = null;
              } else if (m['type'] === 'candidate') {
                // relayed only from a partner of that time, in the sender's order
                const from = (m['candidate'] as { candidate: string }).candidate.split(' ')[0];
                expect(from).toBe(partner);
              }
            }
            if (x.leaves.has(frames.length)) partner = null;
            if (!x.open) continue;
            const engine = servers[x.node]!.engine;
            const peerId = x.c.conn.peerId;
            // what the client was told is what the engine holds
            expect(peerId).toBe(partner);
            // pairing is symmetric across engines, and the directory agrees
            if (peerId !== null) {
              const other = byId.get(peerId)!;
              expect(other.open).toBe(true);
              expect(other.c.conn.peerId).toBe(x.c.conn.id);
            }
            expect(hub.records.get(x.c.conn.id)?.peer ?? null).toBe(peerId);
            expect(engine.connection(x.c.conn.id)).toBe(x.c.conn);
          }
          // every relayed candidate arrived in the order its sender sent it
          for (const x of clients) {
            const seen = new Map<string, number>();
            for (const m of x.c.messages()) {
              if (m['type'] !== 'candidate') continue;
              const [from, count] = (m['candidate'] as { candidate: string }).candidate.split(' ');
              const n = Number(count);
              expect(n).toBeGreaterThan(seen.get(from!) ?? 0);
              seen.set(from!, n);
            }
          }
          paired += clients.reduce((sum, x) => sum + x.c.messages().filter((m) => m['type'] === 'paired').length, 0);
          relayed += clients.reduce(
            (sum, x) => sum + x.c.messages().filter((m) => m['type'] === 'candidate').length,
            0,
          );
          for (const [id] of hub.records) expect(byId.get(id)?.open, `directory keeps ${id}`).toBe(true);
          const pairs = servers.reduce((sum, s) => sum + s.engine.stats().pairs, 0);
          const halves = clients.filter((x) => x.open && x.c.conn.peerId !== null).length;
          const crossing = clients.filter(
            (x) => x.open && x.c.conn.peerId !== null && byId.get(x.c.conn.peerId)!.node !== x.node,
          ).length;
          expect(pairs).toBe((halves - crossing) / 2 + crossing);
        }),
        { numRuns: 200 },
      );
      expect(paired, 'the runs paired clients at all').toBeGreaterThan(400);
      expect(relayed, 'the runs relayed signals at all').toBeGreaterThan(400);
    },
  );

  it("a node's death: partners elsewhere are told, its IDs are not found", () => {
    const {
      hub,
      servers: [n0, n1],
    } = cluster(2);
    const a = n0!.connect();
    const b = n1!.connect();
    pairReq(b, a.conn.id);
    hub.kill('node-0');
    expect(b.messages().at(-1)).toEqual({ type: 'peer_disconnected', peer_id: a.conn.id });
    pairReq(b, a.conn.id);
    expect(b.messages().at(-1)).toEqual({ type: 'error', message: ErrorText.TargetNotFound });
  });

  it('a reset (the directory lost its state) ends cross-node pairs only, and registers every client again', () => {
    const {
      hub,
      servers: [n0, n1],
    } = cluster(2);
    const [a, b] = [n0!.connect(), n0!.connect()];
    const c = n1!.connect();
    const d = n0!.connect();
    pairReq(a, b.conn.id);
    pairReq(c, d.conn.id);
    const registrations = hub.nodes.get('node-0')!.listener!.reset();
    expect(d.messages().at(-1)).toEqual({ type: 'peer_disconnected', peer_id: c.conn.id });
    expect(b.messages().at(-1)).toEqual({ type: 'paired', peer_id: a.conn.id, initiator: false });
    expect(registrations).toEqual(
      expect.arrayContaining([
        { id: a.conn.id, localPeer: b.conn.id, epoch: expect.any(String), sessionKey: null, tenant: null },
        { id: b.conn.id, localPeer: a.conn.id, epoch: expect.any(String), sessionKey: null, tenant: null },
        { id: d.conn.id, localPeer: null, epoch: null, sessionKey: null, tenant: null },
      ]),
    );
    expect(n0!.engine.stats().pairs).toBe(1);
  });

  it('tells its host to read nextWake() again only after directory work that filed a timer', async () => {
    const {
      hub,
      servers: [n0, n1],
    } = cluster(2, new MemoryHub({ deferred: true }));
    let wakes = 0;
    n1!.engine.onWake(() => wakes++);
    const a = n0!.connect();
    const b = n1!.connect();
    a.send(encode({ type: 'hello', version: 2, capabilities: ['resume'] }));
    await hub.flush(macrotask);
    pairReq(a, b.conn.id);
    await hub.flush(macrotask);
    wakes = 0;
    for (let i = 0; i < 5; i++) a.send(`{"type":"offer","sdp":"o${i}"}`);
    await hub.flush(macrotask);
    expect(types(b).filter((t) => t === 'offer')).toHaveLength(5);
    expect(wakes, 'relayed signals from another node file no timer').toBe(0);
    // a's session moves to n1: adopting it files its keepalive there, at a time the host must learn
    const token = String(a.messages().find((m) => m['type'] === 'welcome')!['resume_token']);
    a.close(1006);
    const fresh = n1!.connect();
    await hub.flush(macrotask);
    fresh.send(encode({ type: 'resume', token, received: 1 }));
    await hub.flush(macrotask);
    expect(types(fresh)).toContain('resumed');
    expect(wakes).toBeGreaterThan(0);
    expect(n1!.engine.nextWake()).not.toBeNull();
  });

  describe('resume through another node', () => {
    it('moves the session: same ID and pairing, missed frames replayed, nothing lost or repeated either way', () => {
      const {
        servers: [n0, n1, n2],
      } = cluster(3);
      const r = new ResumingMemoryClient(n0!);
      const partner = new ResumingMemoryClient(n1!);
      partner.send({ type: 'pair_request', target_id: r.id });
      r.pump();
      for (let i = 0; i < 5; i++) partner.send({ type: 'offer', sdp: `before-${i}` });
      r.pump();
      for (let i = 0; i < 3; i++) partner.send({ type: 'offer', sdp: `lost-${i}` });
      r.breakLink('close', 3);
      for (let i = 0; i < 2; i++) partner.send({ type: 'offer', sdp: `detached-${i}` });
      const reply = r.resume(n2!);
      expect(reply).toMatchObject({ type: 'resumed', id: r.id, peer_id: partner.id });
      for (let i = 0; i < 2; i++) partner.send({ type: 'offer', sdp: `after-${i}` });
      r.pump();
      expect(r.got).toEqual([
        ...[0, 1, 2, 3, 4].map((i) => `before-${i}`),
        'lost-0',
        'lost-1',
        'lost-2',
        'detached-0',
        'detached-1',
        'after-0',
        'after-1',
      ]);
      // and the other way
      r.send({ type: 'offer', sdp: 'from-the-moved-one' });
      partner.pump();
      expect(partner.got).toEqual(['from-the-moved-one']);
      expect(n0!.engine.connection(r.id)).toBeUndefined();
      expect(n2!.engine.connection(r.id)?.peerId).toBe(partner.id);
      expect(n0!.logs).toContainEqual({ type: 'handed_over', id: r.id, node: 'node-2' });
      // a third party sees it paired; when it leaves, the partner is told from its new node
      const other = n1!.connect();
      pairReq(other, r.id);
      expect(other.messages().at(-1)).toEqual({ type: 'error', message: ErrorText.TargetAlreadyPaired });
      r.link.close(1000);
      partner.pump();
      expect(partner.peerDisconnects).toEqual([r.id]);
    });

    it('to the node of its partner: the pair is whole on one node again', () => {
      const {
        servers: [n0, n1],
      } = cluster(2);
      const r = new ResumingMemoryClient(n0!);
      const partner = new ResumingMemoryClient(n1!);
      r.send({ type: 'pair_request', target_id: partner.id });
      partner.pump();
      r.breakLink('close', 0);
      expect(r.resume(n1!)).toMatchObject({ type: 'resumed', id: r.id, peer_id: partner.id });
      partner.send({ type: 'offer', sdp: 'local now' });
      r.pump();
      expect(r.got).toEqual(['local now']);
      expect(n1!.engine.stats().pairs).toBe(1);
      expect(n0!.engine.stats().pairs).toBe(0);
    });

    it("hands a client granted ice-servers fresh servers from its new node at once (its old node's credentials would lapse unrenewed)", () => {
      const policy = (node: string) => (id: string) => ({
        servers: [{ urls: `turn:${node}.test:3478`, username: `9999999999:${id}`, credential: `from-${node}` }],
        ttlMs: 600_000,
      });
      const hub = new MemoryHub();
      let token = 0;
      const [n0, n1] = ['node-0', 'node-1'].map(
        (node) =>
          new MemoryServer({
            directory: new InMemoryDirectory(hub, node),
            generateToken: () => `tok${node}x${String(++token).padStart(20, '0')}`,
            iceServers: policy(node),
          }),
      );
      const r = new ResumingMemoryClient(n0!);
      r.link.send(encode({ type: 'hello', version: 2, capabilities: ['resume', 'ice-servers'] }));
      r.pump();
      expect(
        r.link
          .messages()
          .filter((m) => m['type'] === 'welcome')
          .at(-1)!['ice_servers'],
      ).toEqual([expect.objectContaining({ credential: 'from-node-0' })]);
      r.breakLink('close', 0);
      expect(r.resume(n1!)).toMatchObject({ type: 'resumed', id: r.id });
      const fresh = r.link.messages().filter((m) => m['type'] === 'ice_servers');
      expect(fresh).toEqual([
        {
          type: 'ice_servers',
          ice_servers: [{ urls: 'turn:node-1.test:3478', username: `9999999999:${r.id}`, credential: 'from-node-1' }],
          ttl_ms: 600_000,
        },
      ]);
    });

    it('refuses a wrong secret or an unknown key with resume_failed and a fresh session goes on', () => {
      const {
        servers: [n0, n1],
      } = cluster(2);
      const r = new ResumingMemoryClient(n0!);
      r.breakLink('close', 0);
      r.token = `${r.token.split('.')[0]}.wrong-secret-wrong-secret`;
      const reply = r.resume(n1!);
      expect(reply).toMatchObject({ type: 'error', code: 'resume_failed' });
      expect(String(reply['message'])).toMatch(/unknown, used or expired token/);
      expect(n0!.engine.stats().detached).toBe(1); // still waiting for its real client
    });
  });
});

describe('pairing by code across nodes', () => {
  const hello = (c: MemoryClient) => c.send(encode({ type: 'hello', version: 2, capabilities: ['codes', 'leave'] }));
  const ofType = (c: MemoryClient, type: string) => c.messages().filter((m) => m['type'] === type);
  const joined = (servers: MemoryServer[], i: number) => {
    const c = servers[i]!.connect();
    hello(c);
    return c;
  };
  const settle = async (hub: MemoryHub) => {
    await hub.flush(macrotask);
  };

  it('numbers are smallest-free across nodes; a claim from another node pairs, confirms once, and frees the number everywhere', async () => {
    const hub = new MemoryHub({ deferred: true });
    const { servers } = cluster(2, hub);
    const owner = joined(servers, 0);
    const other = joined(servers, 1);
    const claimer = joined(servers, 1);
    await settle(hub);
    owner.send(encode({ type: 'nameplate_request' }));
    await settle(hub);
    other.send(encode({ type: 'nameplate_request' }));
    await settle(hub);
    expect(ofType(owner, 'nameplate')[0]).toMatchObject({ nameplate: '1' });
    expect(ofType(other, 'nameplate')[0]).toMatchObject({ nameplate: '2' }); // node 1 does not hand out 1 again
    claimer.send(encode({ type: 'claim', nameplate: '1' }));
    await settle(hub);
    expect(ofType(claimer, 'paired')).toEqual([
      { type: 'paired', peer_id: owner.conn.id, initiator: true, nameplate: '1' },
    ]);
    expect(ofType(owner, 'paired')).toEqual([
      { type: 'paired', peer_id: claimer.conn.id, initiator: false, nameplate: '1' },
    ]);
    claimer.send(encode({ type: 'claim_result', ok: true }));
    owner.send(encode({ type: 'claim_result', ok: true }));
    await settle(hub);
    for (const c of [owner, claimer])
      expect(ofType(c, 'nameplate_closed')).toEqual([
        { type: 'nameplate_closed', nameplate: '1', reason: 'confirmed' },
      ]);
    expect(servers[0]!.engine.stats().codesConfirmed).toBe(1);
    expect(hub.nameplates.has('1')).toBe(false); // free again, on every node
    const next = joined(servers, 1);
    await settle(hub);
    next.send(encode({ type: 'nameplate_request' }));
    await settle(hub);
    expect(ofType(next, 'nameplate')[0]).toMatchObject({ nameplate: '1' });
  });

  it('a failed claim from another node burns the nameplate on its node: the right code then fails from any node', async () => {
    const hub = new MemoryHub({ deferred: true });
    const { servers } = cluster(3, hub);
    const owner = joined(servers, 0);
    const guesser = joined(servers, 1);
    const rightful = [joined(servers, 2), joined(servers, 0)];
    await settle(hub);
    owner.send(encode({ type: 'nameplate_request' }));
    await settle(hub);
    guesser.send(encode({ type: 'claim', nameplate: '1' }));
    await settle(hub);
    guesser.send(encode({ type: 'claim_result', ok: false, reason: 'key confirmation failed' }));
    await settle(hub);
    expect(ofType(owner, 'nameplate_closed')[0]).toMatchObject({ reason: 'burnt', detail: 'key confirmation failed' });
    expect(ofType(guesser, 'nameplate_closed')[0]).toMatchObject({ reason: 'burnt' });
    expect(servers[0]!.engine.stats().nameplatesBurnt).toBe(1);
    for (const c of rightful) {
      c.send(encode({ type: 'claim', nameplate: '1' }));
      await settle(hub);
      expect(c.messages().at(-1)).toMatchObject({ type: 'error', code: 'nameplate_burnt' });
    }
  });

  it('two claims at once from two nodes: one pairs, the other hears the code is in use; a claimer that disconnects burns it', async () => {
    const hub = new MemoryHub({ deferred: true });
    const { servers } = cluster(3, hub);
    const owner = joined(servers, 0);
    const a = joined(servers, 1);
    const b = joined(servers, 2);
    await settle(hub);
    owner.send(encode({ type: 'nameplate_request' }));
    await settle(hub);
    a.send(encode({ type: 'claim', nameplate: '1' }));
    b.send(encode({ type: 'claim', nameplate: '1' }));
    await settle(hub);
    const pairedOnes = [a, b].filter((c) => ofType(c, 'paired').length === 1);
    expect(pairedOnes).toHaveLength(1);
    const loser = pairedOnes[0] === a ? b : a;
    expect(loser.messages().at(-1)).toMatchObject({ type: 'error', code: 'nameplate_claimed' });
    pairedOnes[0]!.close(1000); // mid-exchange
    await settle(hub);
    expect(ofType(owner, 'nameplate_closed')[0]).toMatchObject({ reason: 'burnt' });
    loser.send(encode({ type: 'claim', nameplate: '1' }));
    await settle(hub);
    expect(loser.messages().at(-1)).toMatchObject({ type: 'error', code: 'nameplate_burnt' });
  });

  it("a claim whose nameplate's node died is refused once the answer is overdue, not waited for forever", async () => {
    const hub = new MemoryHub({ deferred: true });
    const { servers } = cluster(2, hub);
    const owner = joined(servers, 0);
    const claimer = joined(servers, 1);
    await settle(hub);
    owner.send(encode({ type: 'nameplate_request' }));
    await settle(hub);
    hub.nodes.delete('node-0'); // its messages go nowhere, but its nameplate record is still found
    claimer.send(encode({ type: 'claim', nameplate: '1' }));
    await settle(hub);
    expect(ofType(claimer, 'paired')).toEqual([]);
    servers[1]!.advance(11_000);
    expect(claimer.messages().at(-1)).toMatchObject({ type: 'error', code: 'nameplate_unknown' });
  });
});
