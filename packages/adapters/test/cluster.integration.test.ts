// A cluster for real: one redis-server, tandem-server processes as nodes, v1 clients on real
// sockets split across them. Every wire-v1 rule must hold across nodes; a node killed with -9 must
// have its clients' partners told within the lease TTL plus a little; a Redis restart must end
// cross-node pairs with peer_disconnected, never drop a relayed frame silently.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { ErrorText } from '@tandem/protocol';
import { killAll, leaksCode, logHandle, type Proc, start, startClient } from './procs.js';
import { startTcpProxy } from './tcp-proxy.js';
import { connect, type TestClient } from './ws-client.js';
import { startRedis, stopAllRedis, type RedisProc } from './redis.js';

// short for the test, but not so short that a node busy starting another (tsx compiles) misses a renewal
const LEASE_S = 2;
let redis: RedisProc;
const nodes: { proc: Proc; url: string; admin: string }[] = [];

async function startNode(): Promise<{ proc: Proc; url: string; admin: string }> {
  const proc = start('tandem-server', [
    '--port',
    '0',
    '--admin-port',
    '0',
    '--redis',
    redis.url,
    '--lease-ttl',
    String(LEASE_S),
    '--no-demo',
    '--log-level',
    'info',
  ]);
  const m = await proc.waitFor(/Listening on (ws:\/\/\S+)/);
  const a = await proc.waitFor(/Admin endpoints on (http:\/\/\S+)\//);
  await proc.waitFor(/Cluster node \S+ is ready/);
  return { proc, url: m[1]!, admin: a[1]! };
}

const readyz = async (admin: string) => (await fetch(`${admin}/readyz`)).status;
/** One sample from a node's /metrics. */
async function metric(admin: string, name: string): Promise<number> {
  const text = await (await fetch(`${admin}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name} `) || (l.startsWith(`${name}{`) && !l.startsWith('#')));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}
/** Wait until `proc` has logged more lines matching `re` than `before` (earlier tests log them too). */
async function another(proc: Proc, re: RegExp, before: number, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (proc.count(re) <= before) {
    if (Date.now() > until)
      throw new Error(`no new line matching ${re} within ${ms} ms; output:\n${proc.lines.slice(-30).join('\n')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
/** readyz, waiting up to `ms` for it to become `want`. */
async function readyzBecomes(admin: string, want: number, ms = 10_000): Promise<number> {
  const until = Date.now() + ms;
  let status = await readyz(admin);
  while (status !== want && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    status = await readyz(admin);
  }
  return status;
}

beforeAll(async () => {
  redis = await startRedis();
  nodes.push(await startNode(), await startNode());
}, 60_000);
afterAll(async () => {
  await killAll();
  await stopAllRedis();
});

async function crossPair(): Promise<[TestClient, TestClient]> {
  const a = await connect(nodes[0]!.url);
  const b = await connect(nodes[1]!.url);
  a.send({ type: 'pair_request', target_id: b.id });
  await a.next((m) => m['type'] === 'paired', 'paired on node 1');
  await b.next((m) => m['type'] === 'paired', 'paired on node 2');
  return [a, b];
}

describe('pairing by code across nodes, with real tandem-client processes (werift)', () => {
  const CODE = /^\*\*\* Your code: ([0-9]+(-[a-z]+){2,}) \*\*\*$/;
  it('a code made on one node is joined on the other and verified; a wrong guess from one node burns it for every node', async () => {
    const owner = start('tandem-client', ['--url', nodes[0]!.url, '--code']);
    const code = (await owner.waitFor(CODE, 30_000))[1]!;
    const before = new Map(nodes.map((n) => [n, n.proc.lines.length] as const));
    const joiner = start('tandem-client', ['--url', nodes[1]!.url, '--join', code]);
    for (const c of [owner, joiner]) {
      await c.waitFor(/^\*\*\* Verified peer \*\*\*$/, 30_000);
      await c.waitFor(/Data channel opened/, 30_000);
    }
    joiner.write('hello across nodes by code');
    await owner.waitFor(/^< Peer: hello across nodes by code$/);
    await nodes[0]!.proc.waitFor(/Code pairing of \S+ nameplate confirmed by both sides/);
    for (const n of nodes) expect(leaksCode(n.proc.lines, code, before.get(n)!)).toBe(false);
    await owner.kill();
    await joiner.kill();

    // a wrong guess from node 1 burns the code held on node 0: the right one then fails from either node
    const owner2 = start('tandem-client', ['--url', nodes[0]!.url, '--code', '--code-words', '3']);
    const code2 = (await owner2.waitFor(CODE, 30_000))[1]!;
    const [nameplate, w1] = code2.split('-');
    const guesser = start('tandem-client', [
      '--url',
      nodes[1]!.url,
      '--join',
      `${nameplate}-${w1 === 'abandon' ? 'ability' : 'abandon'}-zoo-zone`,
    ]);
    await guesser.waitFor(/^\*\*\* Verification failed: key confirmation failed/, 30_000);
    expect(await guesser.kill()).toBe(4);
    await owner2.waitFor(/^\*\*\* Code burnt: someone tried it/, 15_000);
    for (const n of [1, 0]) {
      const late = start('tandem-client', ['--url', nodes[n]!.url, '--join', code2]);
      await late.waitFor(/^\*\*\* Code rejected: Nameplate burnt/, 15_000);
      expect(await late.kill()).toBe(3);
    }
    expect(await metric(nodes[0]!.admin, 'tandem_nameplates_burnt_total')).toBe(1);
    await owner2.kill();
  }, 120_000);
});

describe('two nodes and a Redis', () => {
  it('pair across nodes by ID; relay in order, byte for byte with from_peer; only inside the pair', async () => {
    const bystander = await connect(nodes[1]!.url);
    const [a, b] = await crossPair();
    expect(a.frames.at(-1)).toEqual({ type: 'paired', peer_id: b.id, initiator: true });
    expect(b.frames.at(-1)).toEqual({ type: 'paired', peer_id: a.id, initiator: false });
    for (let i = 0; i < 50; i++)
      a.send({
        type: 'candidate',
        candidate: { candidate: `c${i}`, sdpMid: '0', sdpMLineIndex: 0, extra: { deep: [i] } },
      });
    b.send({ type: 'offer', sdp: 'v=0 ünïcödé', custom: 1 });
    await b.next(
      (m) => m['type'] === 'candidate' && (m['candidate'] as { candidate: string }).candidate === 'c49',
      'the 50th candidate',
    );
    const got = b.frames
      .filter((m) => m['type'] === 'candidate')
      .map((m) => (m['candidate'] as { candidate: string }).candidate);
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => `c${i}`));
    expect(b.frames.find((m) => m['type'] === 'candidate')).toEqual({
      type: 'candidate',
      candidate: { candidate: 'c0', sdpMid: '0', sdpMLineIndex: 0, extra: { deep: [0] } },
      from_peer: true,
    });
    expect(await a.next((m) => m['type'] === 'offer', 'offer')).toEqual({
      type: 'offer',
      sdp: 'v=0 ünïcödé',
      custom: 1,
      from_peer: true,
    });
    expect(bystander.frames.filter((m) => m['type'] !== 'ping' && m['type'] !== 'your_id')).toEqual([]);
    a.ws.close();
    b.ws.close();
    bystander.ws.close();
  });

  it('every pairing error text is the same across nodes', async () => {
    const [a, b] = await crossPair();
    const c = await connect(nodes[1]!.url);
    const d = await connect(nodes[0]!.url);
    const err = async (cl: TestClient) => (await cl.next((m) => m['type'] === 'error', 'error'))['message'];
    c.send({ type: 'pair_request', target_id: a.id }); // a is on the other node, paired
    expect(await err(c)).toBe(ErrorText.TargetAlreadyPaired);
    a.send({ type: 'pair_request', target_id: c.id });
    expect(await err(a)).toBe(ErrorText.AlreadyPaired);
    d.send({ type: 'pair_request', target_id: 'no-such-client' });
    expect(await err(d)).toBe(ErrorText.TargetNotFound);
    d.frames.length = 1;
    d.send({ type: 'pair_request', target_id: d.id });
    expect(await err(d)).toBe(ErrorText.CannotPairWithSelf);
    d.frames.length = 1;
    d.send({ type: 'offer', sdp: 'x' });
    expect(await err(d)).toBe(ErrorText.NotPaired);
    for (const x of [a, b, c, d]) x.ws.close();
  });

  it('peer_disconnected crosses nodes when a peer closes; both can pair again, across nodes', async () => {
    const [a, b] = await crossPair();
    a.ws.close();
    expect(await b.next((m) => m['type'] === 'peer_disconnected', 'peer_disconnected')).toEqual({
      type: 'peer_disconnected',
      peer_id: a.id,
    });
    const c = await connect(nodes[0]!.url);
    b.send({ type: 'pair_request', target_id: c.id });
    await c.next((m) => m['type'] === 'paired', 'c paired with b');
    b.send({ type: 'offer', sdp: 'again' });
    expect(await c.next((m) => m['type'] === 'offer', 'offer')).toMatchObject({ sdp: 'again', from_peer: true });
    b.ws.close();
    c.ws.close();
  });

  it('texts on a node channel that are not node messages are dropped and counted; the nodes carry on', async () => {
    const raw = new Redis(redis.url);
    try {
      const channels = (await raw.pubsub('CHANNELS', 'tandem:ch:*')) as string[];
      expect(channels.length).toBeGreaterThanOrEqual(2);
      const before = await Promise.all(nodes.map((n) => metric(n.admin, 'tandem_node_messages_invalid_total')));
      const garbage = [
        'null',
        '{"t":"m"}',
        '{"t":"m","m":null}',
        'Sto\nfrom\n1\noffer', // a signal without its frame
        '{"t":"m","m":{"type":"signal","to":"a","from":"b","epoch":"1","messageType":"offer","frame":7}}',
        '{"t":"take","ticket":"t","from":"n","key":"k","secret":null,"received":0}',
      ];
      for (const channel of channels) for (const text of garbage) await raw.publish(channel, text);
      for (const [i, n] of nodes.entries()) {
        const until = Date.now() + 5000;
        while ((await metric(n.admin, 'tandem_node_messages_invalid_total')) < before[i]! + garbage.length) {
          if (Date.now() > until) throw new Error(`node ${i + 1} did not count the invalid texts`);
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(n.proc.child.exitCode).toBeNull();
        expect(await readyz(n.admin)).toBe(200);
      }
      // and the cluster still pairs and relays across nodes
      const [a, b] = await crossPair();
      a.send({ type: 'offer', sdp: 'after the garbage' });
      await b.next((m) => m['sdp'] === 'after the garbage', 'an offer across nodes');
    } finally {
      raw.disconnect();
    }
  });

  it('races across nodes are decided once: of many requests for one free target, exactly one pairs', async () => {
    for (let round = 0; round < 5; round++) {
      const target = await connect(nodes[round % 2]!.url);
      const askers = await Promise.all(Array.from({ length: 8 }, (_, i) => connect(nodes[i % 2]!.url)));
      for (const x of askers) x.send({ type: 'pair_request', target_id: target.id });
      const answers = await Promise.all(
        askers.map((x) => x.next((m) => m['type'] === 'paired' || m['type'] === 'error', 'an answer')),
      );
      const paired = answers.filter((m) => m['type'] === 'paired');
      expect(paired).toHaveLength(1);
      expect(answers.filter((m) => m['type'] === 'error').map((m) => m['message'])).toEqual(
        Array(7).fill(ErrorText.TargetAlreadyPaired),
      );
      const winner = askers[answers.indexOf(paired[0]!)]!;
      expect(await target.next((m) => m['type'] === 'paired', 'target paired')).toEqual({
        type: 'paired',
        peer_id: winner.id,
        initiator: false,
      });
      for (const x of [target, ...askers]) x.ws.close();
    }
  });

  it('a node killed with -9: its clients partners elsewhere are told within the lease TTL plus a little, its IDs become not found, a new node joins', async () => {
    const extra = await startNode();
    const a = await connect(extra.url);
    const b = await connect(nodes[0]!.url);
    b.send({ type: 'pair_request', target_id: a.id });
    await b.next((m) => m['type'] === 'paired', 'paired');
    const killedAt = Date.now();
    await extra.proc.kill('SIGKILL');
    expect(
      await b.next((m) => m['type'] === 'peer_disconnected', 'peer_disconnected after kill -9', (LEASE_S + 3) * 1000),
    ).toEqual({ type: 'peer_disconnected', peer_id: a.id });
    const took = Date.now() - killedAt;
    expect(took).toBeLessThan((LEASE_S + 2) * 1000);
    b.send({ type: 'pair_request', target_id: a.id });
    expect(await b.next((m) => m['type'] === 'error', 'error')).toMatchObject({ message: ErrorText.TargetNotFound });
    const again = await startNode();
    const c = await connect(again.url);
    b.send({ type: 'pair_request', target_id: c.id });
    await c.next((m) => m['type'] === 'paired', 'paired with the new node');
    b.ws.close();
    c.ws.close();
    await again.proc.kill();
  });

  it('one node loses only its subscription (the others never notice): on reconnecting it ends its cross-node pairs on both sides, so nothing sent meanwhile is silently lost', async () => {
    const [a, b] = await crossPair();
    // find node 1's subscriber connection and cut it, as a network blip or Redis's pubsub buffer limit would
    const { Redis } = await import('ioredis');
    const admin = new Redis(redis.url);
    try {
      const list = String(await admin.client('LIST'));
      const subs = list.split('\n').filter((l) => /name=tandem-\S+-sub /.test(l));
      const node1 = nodes[0]!.proc.lines.join('\n').match(/as node (\S+)\.\.\./)![1]!;
      const line = subs.find((l) => l.includes(`name=tandem-${node1}-sub `))!;
      const id = /id=(\d+)/.exec(line)![1]!;
      await admin.client('KILL', 'ID', id);
    } finally {
      admin.disconnect();
    }
    b.send({ type: 'offer', sdp: 'sent while node 1 could not hear' });
    expect(await a.next((m) => m['type'] === 'peer_disconnected', 'a told', 10_000)).toEqual({
      type: 'peer_disconnected',
      peer_id: b.id,
    });
    expect(await b.next((m) => m['type'] === 'peer_disconnected', 'b told', 10_000)).toEqual({
      type: 'peer_disconnected',
      peer_id: a.id,
    });
    // whether or not the offer got through before the cut, the pair ended with a clear notice on both sides
    expect(a.frames.filter((m) => m['type'] === 'offer').length).toBeLessThanOrEqual(1);
    // both may pair again at once
    a.send({ type: 'pair_request', target_id: b.id });
    await b.next(
      (m) =>
        m['type'] === 'paired' &&
        m['initiator'] === false &&
        b.frames.indexOf(m) > b.frames.findIndex((x) => x['type'] === 'peer_disconnected'),
      'paired again',
      10_000,
    );
    a.ws.close();
    b.ws.close();
  });

  it('Redis restarts: cross-node pairs end with peer_disconnected, pairings fail clearly and readyz says not ready while it is down, all recover after', async () => {
    const [a, b] = await crossPair();
    const local1 = await connect(nodes[0]!.url);
    const local2 = await connect(nodes[0]!.url);
    local1.send({ type: 'pair_request', target_id: local2.id });
    await local2.next((m) => m['type'] === 'paired', 'same-node pair');
    expect(await readyzBecomes(nodes[0]!.admin, 200), nodes[0]!.proc.lines.join('\n')).toBe(200);
    const [lost, rejoined] = [/Lost Redis/, /Rejoined the cluster \(reconnected\)/];
    const before = nodes.map((n) => ({ lost: n.proc.count(lost), rejoined: n.proc.count(rejoined) }));
    let resetsBefore = NaN;
    let lone: TestClient | null = null;
    await redis.stop();
    try {
      await another(nodes[0]!.proc, lost, before[0]!.lost);
      expect(await readyz(nodes[0]!.admin)).toBe(503);
      expect(await metric(nodes[0]!.admin, 'tandem_directory_available')).toBe(0);
      resetsBefore = await metric(nodes[0]!.admin, 'tandem_cluster_resets_total');
      lone = await connect(nodes[0]!.url);
      lone.send({ type: 'pair_request', target_id: local1.id });
      const refused = await lone.next((m) => m['type'] === 'error', 'error while Redis is down');
      expect(refused['message']).toMatch(new RegExp(`^${ErrorText.Unavailable}`));
      expect(refused['code']).toBe('unavailable');
      // a same-node pair keeps relaying without Redis
      local1.send({ type: 'offer', sdp: 'still here' });
      expect(await local2.next((m) => m['type'] === 'offer', 'same-node relay while Redis is down')).toMatchObject({
        sdp: 'still here',
      });
      // a signal sent across while Redis is down is either delivered or its pair ends: here it ends
      a.send({ type: 'offer', sdp: 'during the outage' });
    } finally {
      await redis.restart(); // whatever happened above, the tests after this one need their Redis
    }
    expect(await a.next((m) => m['type'] === 'peer_disconnected', 'a told', 15_000)).toEqual({
      type: 'peer_disconnected',
      peer_id: b.id,
    });
    expect(await b.next((m) => m['type'] === 'peer_disconnected', 'b told', 15_000)).toEqual({
      type: 'peer_disconnected',
      peer_id: a.id,
    });
    expect(b.frames.filter((m) => m['type'] === 'offer')).toEqual([]);
    await another(nodes[0]!.proc, rejoined, before[0]!.rejoined);
    await another(nodes[1]!.proc, rejoined, before[1]!.rejoined);
    expect(await readyzBecomes(nodes[0]!.admin, 200)).toBe(200);
    expect(await metric(nodes[0]!.admin, 'tandem_directory_available')).toBe(1);
    expect(await metric(nodes[0]!.admin, 'tandem_cluster_resets_total')).toBe(resetsBefore + 1);
    expect(await metric(nodes[0]!.admin, 'tandem_node_messages_total{direction="sent"}')).toBeGreaterThan(0);
    // everyone is findable again and may pair across nodes
    a.frames.splice(1);
    b.send({ type: 'pair_request', target_id: a.id });
    await a.next((m) => m['type'] === 'paired' && m['peer_id'] === b.id, 'paired again after the restart');
    a.send({ type: 'offer', sdp: 'after' });
    expect(await b.next((m) => m['type'] === 'offer', 'relay after the restart')).toMatchObject({ sdp: 'after' });
    // the same-node pair survived
    expect(local2.frames.filter((m) => m['type'] === 'peer_disconnected')).toEqual([]);
    for (const x of [a, b, local1, local2, lone!]) x.ws.close();
  }, 60_000);
});

describe('resume across nodes, with real tandem-client processes (werift)', () => {
  it('a client whose link drops comes back through the other node and resumes there: same key, same call, no line lost, signaling works after', async () => {
    // A reaches the cluster through a TCP proxy standing in for a load balancer without sticky sessions
    const proxy = await startTcpProxy(Number(new URL(nodes[0]!.url).port));
    try {
      const a = await startClient(proxy.url);
      const b = await startClient(nodes[1]!.url);
      b.client.write(a.id);
      await a.client.waitFor(/Data channel opened/);
      await b.client.waitFor(/Data channel opened/);
      a.client.write('before');
      await b.client.waitFor(/^< Peer: before$/);
      // the balancer sends A's next connection to node 2; A's link is cut
      proxy.retarget(Number(new URL(nodes[1]!.url).port));
      const broken = proxy.reset(2_000);
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 500));
        a.client.write(`a during ${i}`);
        b.client.write(`b during ${i}`);
      }
      await broken;
      await a.client.waitFor(/^\*\*\* Signaling resumed\. \*\*\*$/, 20_000);
      await nodes[0]!.proc.waitFor(
        new RegExp(`Client ${logHandle(a.id)} resumed through node \\S+; its session moved there`),
      );
      await nodes[1]!.proc.waitFor(new RegExp(`Client ${logHandle(a.id)} resumed its session`));
      for (let i = 0; i < 3; i++) {
        await b.client.waitFor(new RegExp(`^< Peer: a during ${i}$`));
        await a.client.waitFor(new RegExp(`^< Peer: b during ${i}$`));
      }
      expect(a.client.count(/Your Client ID/)).toBe(1);
      expect(b.client.count(/disconnected/)).toBe(0);
      // signaling on the new node: B leaves, A (now on node 2) is told; A's key can be paired with from node 1
      await b.client.kill('SIGINT');
      await a.client.waitFor(new RegExp(`\\*\\*\\* Peer ${b.id} disconnected\\. \\*\\*\\*`));
      const c = await startClient(nodes[0]!.url);
      c.client.write(a.id);
      await c.client.waitFor(new RegExp(`Paired with ${a.id}`));
      await a.client.waitFor(/Data channel opened/);
      await a.client.kill();
      await c.client.kill();
    } finally {
      await proxy.close();
    }
  }, 90_000);
});

describe('the seed scenario with real tandem-client processes (werift) split across nodes', () => {
  it('chat across nodes; a node killed with -9 mid-call: the call outlives it; once the peer itself goes, the partner is told and can pair again', async () => {
    const doomed = await startNode();
    const a = await startClient(doomed.url);
    const b = await startClient(nodes[0]!.url);
    b.client.write(a.id);
    await a.client.waitFor(/Data channel opened/);
    await b.client.waitFor(/Data channel opened/);
    a.client.write('hello from node 3');
    await b.client.waitFor(/^< Peer: hello from node 3$/);
    b.client.write('hello from node 1');
    await a.client.waitFor(/^< Peer: hello from node 1$/);
    const t0 = Date.now();
    await doomed.proc.kill('SIGKILL');
    // past the lease the survivor's node tells B its peer is gone, but the call is up and A answers
    // over it: B keeps the call (A, whose only URL is the dead node, cannot re-register meanwhile)
    await new Promise((r) => setTimeout(r, (LEASE_S + 2) * 1000));
    a.client.write('still here after the node died');
    await b.client.waitFor(/^< Peer: still here after the node died$/);
    expect(b.client.count(/disconnected/)).toBe(0);
    // A itself goes: the call ends, and B is told
    await a.client.kill('SIGKILL');
    await b.client.waitFor(new RegExp(`\\*\\*\\* Peer ${a.id} disconnected\\. \\*\\*\\*`), 40_000);
    const c = await startClient(nodes[1]!.url);
    b.client.write(c.id);
    await c.client.waitFor(/Data channel opened/);
    c.client.write('and on');
    await b.client.waitFor(/^< Peer: and on$/);
    await Promise.all([a.client.kill(), b.client.kill(), c.client.kill()]);
  }, 90_000);
});

describe('a call outlives a cluster node killed with -9, its clients re-homed by a load balancer', () => {
  it('the two ends on different nodes; one node dies: its client comes back through a live node, signaling is restored around the call, and leaving is announced after', async () => {
    const doomed = await startNode();
    // A reaches the cluster through a TCP proxy standing in for a load balancer
    const proxy = await startTcpProxy(Number(new URL(doomed.url).port));
    try {
      const a = await startClient(proxy.url);
      const b = await startClient(nodes[0]!.url, ['--pair', a.id]);
      await a.client.waitFor(/Data channel opened/, 30_000);
      await b.client.waitFor(/Data channel opened/, 30_000);
      await new Promise((r) => setTimeout(r, 500)); // the control channel is up: both are tandem clients
      a.client.write('before the node died');
      await b.client.waitFor(/^< Peer: before the node died$/);
      // the balancer takes the dead node out: A's next connection goes to node 2
      proxy.retarget(Number(new URL(nodes[1]!.url).port));
      await doomed.proc.kill('SIGKILL');
      a.client.write('while A is re-homed');
      await b.client.waitFor(/^< Peer: while A is re-homed$/);
      b.client.write('and back');
      await a.client.waitFor(/^< Peer: and back$/);
      // A's session died with its node: A takes a new key on node 2, B keeps or renews its own, and
      // the two pair again through the call
      const newA = (await a.client.waitFor(/^\*\*\* Signaling restored \(new key (\S+)\) \*\*\*$/, 40_000))[1]!;
      const newB = (await b.client.waitFor(/^\*\*\* Signaling restored \(new key (\S+)\) \*\*\*$/, 40_000))[1]!;
      expect(newA).not.toBe(a.id);
      expect(newB).toBe(b.id); // B's session on node 1 lived: it keeps its key
      a.client.write('after the node died');
      await b.client.waitFor(/^< Peer: after the node died$/);
      for (const c of [a, b]) {
        expect(c.client.count(/disconnected|left|Ready for new connection/)).toBe(0);
        expect(c.client.count(/Your Client ID/)).toBe(1);
      }
      for (const n of [nodes[0]!, nodes[1]!])
        expect(n.proc.lines.some((l) => l.includes('after the node died'))).toBe(false);
      // the cluster pairs them again: A leaving (on node 2) is announced to B (on node 1)
      a.client.write('/leave');
      await b.client.waitFor(new RegExp(`^\\*\\*\\* Peer ${newA} disconnected\\. \\*\\*\\*$`), 20_000);
      await Promise.all([a.client.kill(), b.client.kill()]);
    } finally {
      await proxy.close();
    }
  }, 120_000);
});
