// The contract every Directory implementation must meet, as a vitest suite: the in-memory one
// runs it here, the Redis one in @tandem/adapters, and anyone writing their own (NATS, Postgres)
// can run it too: `import { describeDirectoryContract } from '@tandem/server-core/directory-contract'`.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Directory, HandoverResult, NodeMessage, PairOutcome } from '../directory/directory.js';
import type { Holder } from '../connection.js';

/** A cluster of `n` directories for one test. */
export interface ContractCluster {
  /** One directory per node, started; the suite calls `listen` on each. */
  readonly directories: readonly Directory[];
  /** Node `i` dies as kill -9 would (no goodbye); resolves when the others may notice (lease). */
  kill(i: number): Promise<void>;
  close(): Promise<void>;
}

export interface ContractOptions {
  /** How long a dead node's clients may take to vanish, ms (its lease TTL plus reaping). */
  readonly noticeDeathMs: number;
  /** fast-check runs of the concurrent pairing property. */
  readonly raceRuns?: number;
}

interface Node {
  readonly directory: Directory;
  readonly messages: NodeMessage[];
  handover: (key: string, secret: string, received: number, to: string) => HandoverResult;
  readonly handovers: { key: string; secret: string; received: number; to: string; asking?: Holder }[];
}

async function eventually(check: () => boolean, what: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Run the directory contract against clusters made by `make(n)`. */
export function describeDirectoryContract(
  name: string,
  make: (nodes: number) => Promise<ContractCluster>,
  options: ContractOptions,
): void {
  describe(`Directory contract: ${name}`, () => {
    let cluster: ContractCluster | null = null;
    afterEach(async () => {
      await cluster?.close();
      cluster = null;
    });
    let seq = 0;
    const id = (label: string) => `${label}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;
    const nodesOf = async (n: number): Promise<Node[]> => {
      cluster = await make(n);
      return cluster.directories.map((directory) => {
        const node: Node = {
          directory,
          messages: [],
          handovers: [],
          handover: () => ({ ok: false, why: 'no session here' }),
        };
        directory.listen({
          message: (m) => node.messages.push(m),
          reset: () => [],
          handover: (key, secret, received, to, asking) => {
            node.handovers.push({ key, secret, received, to, ...(asking ? { asking } : {}) });
            return node.handover(key, secret, received, to);
          },
        });
        return node;
      });
    };

    it('pairs by ID across nodes, and answers busy, unknown and requester_busy as the records say', async () => {
      const [n0, n1] = await nodesOf(2);
      const [a, b, c] = [id('a'), id('b'), id('c')];
      await n0!.directory.register(a);
      await n1!.directory.register(b);
      await n1!.directory.register(c);
      expect(n0!.directory.available).toBe(true);
      expect(await n0!.directory.pair(a, b)).toEqual({
        verdict: 'paired',
        node: n1!.directory.node,
        epoch: expect.any(String),
      });
      expect(await n1!.directory.pair(c, b)).toEqual({ verdict: 'busy' });
      expect(await n1!.directory.pair(c, 'nobody-has-this-id')).toEqual({ verdict: 'unknown' });
      expect(await n1!.directory.pair(b, c)).toEqual({ verdict: 'requester_busy' });
      expect(await n1!.directory.pair(c, a)).toEqual({ verdict: 'busy' });
    });

    it('unpair and unregister clear both sides and name the partner; an unregistered ID is unknown', async () => {
      const [n0, n1] = await nodesOf(2);
      const [a, b, c] = [id('a'), id('b'), id('c')];
      await n0!.directory.register(a);
      await n1!.directory.register(b);
      await n1!.directory.register(c);
      const first = (await n0!.directory.pair(a, b)) as { epoch: string };
      expect(await n1!.directory.unpair(b, `${first.epoch}-another`)).toBeNull(); // another pairing's end: nothing happens
      expect(await n1!.directory.unpair(b, first.epoch)).toEqual({
        id: a,
        node: n0!.directory.node,
        epoch: first.epoch,
      });
      expect(await n1!.directory.unpair(b, first.epoch)).toBeNull();
      // the same two again: a new epoch, so the first pairing's end cannot end this one
      const again = (await n0!.directory.pair(a, b)) as { epoch: string };
      expect(again.epoch).not.toBe(first.epoch);
      expect(await n1!.directory.unpair(b, first.epoch)).toBeNull();
      expect(await n1!.directory.unpair(b, again.epoch)).toEqual({
        id: a,
        node: n0!.directory.node,
        epoch: again.epoch,
      });
      const third = (await n1!.directory.pair(c, a)) as { epoch: string };
      expect(third).toEqual({ verdict: 'paired', node: n0!.directory.node, epoch: expect.any(String) });
      expect(await n0!.directory.unregister(a)).toEqual({ id: c, node: n1!.directory.node, epoch: third.epoch });
      expect(await n1!.directory.pair(b, a)).toEqual({ verdict: 'unknown' });
      expect(await n1!.directory.pair(b, c)).toEqual({
        verdict: 'paired',
        node: n1!.directory.node,
        epoch: expect.any(String),
      });
    });

    it('delivers posted messages to the named node only, in order', async () => {
      const [n0, n1, n2] = await nodesOf(3);
      const sent: NodeMessage[] = Array.from({ length: 200 }, (_, i) => ({
        type: 'signal',
        to: 'x',
        from: 'y',
        epoch: '7',
        messageType: 'candidate',
        frame: `{"n":${i}}`,
      }));
      for (const m of sent) n0!.directory.post(n1!.directory.node, m);
      n0!.directory.post(n2!.directory.node, { type: 'peer_left', to: 'z', peer: 'y', epoch: '8' });
      await eventually(() => n1!.messages.length === 200 && n2!.messages.length === 1, 'messages', 5000);
      expect(n1!.messages).toEqual(sent);
      expect(n2!.messages).toEqual([{ type: 'peer_left', to: 'z', peer: 'y', epoch: '8' }]);
      expect(n0!.messages).toEqual([]);
    });

    it('decides concurrent requests from many nodes once: the paired verdicts form a matching, every busy is explained', async () => {
      const nodes = await nodesOf(3);
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 2, max: 8 }),
          fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 24 }),
          async (clients, requests) => {
            const ids = Array.from({ length: clients }, (_, i) => ({
              id: id(`r${i}`),
              node: nodes[i % nodes.length]!,
            }));
            await Promise.all(ids.map((c) => c.node.directory.register(c.id)));
            const asked = requests.map(([r, t]) => ({
              from: ids[r % clients]!,
              target: t % (clients + 1) === clients ? 'unregistered-id' : ids[t % clients]!.id,
            }));
            // all at once, each from its requester's node
            const verdicts: PairOutcome[] = await Promise.all(
              asked.map((q) => q.from.node.directory.pair(q.from.id, q.target)),
            );
            const pairedWith = new Map<string, string>();
            const epochOf = new Map<string, string>();
            const epochs = new Set<string>();
            for (const [i, v] of verdicts.entries()) {
              const q = asked[i]!;
              if (v.verdict !== 'paired') continue;
              for (const x of [q.from.id, q.target]) expect(pairedWith.has(x), `${x} paired twice`).toBe(false);
              pairedWith.set(q.from.id, q.target);
              pairedWith.set(q.target, q.from.id);
              expect(epochs.has(v.epoch), 'epochs are unique').toBe(false);
              epochs.add(v.epoch);
              epochOf.set(q.from.id, v.epoch);
              epochOf.set(q.target, v.epoch);
              expect(v.node).toBe(ids.find((c) => c.id === q.target)!.node.directory.node);
            }
            for (const [i, v] of verdicts.entries()) {
              const q = asked[i]!;
              if (v.verdict === 'busy') expect(pairedWith.has(q.target), `busy ${q.target} is paired`).toBe(true);
              if (v.verdict === 'requester_busy')
                expect(pairedWith.has(q.from.id), `requester ${q.from.id} is paired`).toBe(true);
              if (v.verdict === 'unknown') expect(q.target === 'unregistered-id' || q.target === q.from.id).toBe(true);
            }
            // and the records agree: unpairing each paired client names its partner
            for (const c of ids) {
              const partner = await c.node.directory.unpair(c.id, epochOf.get(c.id) ?? '');
              expect(partner?.id ?? null).toBe(pairedWith.get(c.id) ?? null);
              if (partner !== null) pairedWith.delete(partner.id);
            }
            await Promise.all(ids.map((c) => c.node.directory.unregister(c.id)));
          },
        ),
        { numRuns: options.raceRuns ?? 30 },
      );
    });

    it('nameplate numbers: concurrent takes from many nodes never share a number, the smallest free goes first, only the holder frees one', async () => {
      const nodes = await nodesOf(3);
      if (nodes.some((n) => n.directory.takeNameplate === undefined)) return; // a directory without codes
      const take = (n: Node, max = 50) => n.directory.takeNameplate!(max, 60_000);
      const free = (n: Node, number: string) => n.directory.releaseNameplate!(number);
      const find = (n: Node, number: string) => n.directory.findNameplate!(number);
      // the model: which node holds each number
      const held = new Map<string, number>();
      const smallestFree = () => {
        let k = 1;
        while (held.has(String(k))) k++;
        return String(k);
      };
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.array(
              fc.oneof(
                fc.record({ op: fc.constant('take' as const), node: fc.nat(2) }),
                fc.record({ op: fc.constant('free' as const), node: fc.nat(2), which: fc.nat() }),
              ),
              { minLength: 1, maxLength: 6 },
            ),
            { minLength: 1, maxLength: 6 },
          ),
          async (batches) => {
            for (const batch of batches) {
              // frees first (each by the holder, or by another node, which must not free it), then takes, all at once
              const numbers = [...held.keys()];
              const frees = batch.flatMap((b) =>
                b.op === 'free' && numbers.length > 0
                  ? [{ node: b.node, number: numbers[b.which % numbers.length]! }]
                  : [],
              );
              await Promise.all(frees.map((f) => free(nodes[f.node]!, f.number)));
              for (const f of frees) if (held.get(f.number) === f.node) held.delete(f.number);
              const takers = batch.filter((b) => b.op === 'take').map((b) => b.node);
              const before = new Set(held.keys());
              const got = await Promise.all(takers.map((t) => take(nodes[t]!)));
              expect(new Set(got).size, 'no number handed out twice').toBe(got.length);
              for (const [i, g] of got.entries()) {
                expect(g).not.toBeNull();
                expect(before.has(g!), `${g} was held already`).toBe(false);
                held.set(g!, takers[i]!);
              }
              // the numbers taken at once are the smallest ones free before them
              const expected: string[] = [];
              for (let k = 1; expected.length < got.length; k++) if (!before.has(String(k))) expected.push(String(k));
              expect([...got].sort((a, b) => Number(a) - Number(b))).toEqual(expected);
              for (const [number, holder] of held)
                expect(await find(nodes[0]!, number)).toBe(nodes[holder]!.directory.node);
              // one more, alone: the smallest free
              const alone = await take(nodes[1]!);
              expect(alone).toBe(smallestFree());
              held.set(alone!, 1);
            }
            await Promise.all([...held].map(([number, holder]) => free(nodes[holder]!, number)));
            held.clear();
            expect(await find(nodes[2]!, '1')).toBeNull();
          },
        ),
        { numRuns: options.raceRuns ?? 30 },
      );
      // at most `max`: then none
      const got = await Promise.all([0, 1, 2, 0].map((i) => take(nodes[i]!, 3)));
      expect(got.filter((g) => g === null)).toHaveLength(1);
      for (const [i, g] of got.entries()) if (g !== null) await free(nodes[[0, 1, 2, 0][i]!]!, g);
    });

    it("pairs only within a tenant, on every node: another tenant's client is unknown, as one not there", async () => {
      const [n0, n1] = await nodesOf(2);
      const [a, b, c, d, e] = [id('a'), id('b'), id('c'), id('d'), id('e')];
      await n0!.directory.register(a, 'acme');
      await n1!.directory.register(b, 'acme');
      await n1!.directory.register(c, 'globex');
      await n1!.directory.register(d, null);
      await n0!.directory.register(e);
      expect(await n0!.directory.pair(a, c, 'acme')).toEqual({ verdict: 'unknown' });
      expect(await n0!.directory.pair(a, d, 'acme')).toEqual({ verdict: 'unknown' });
      expect(await n1!.directory.pair(d, a, null)).toEqual({ verdict: 'unknown' });
      expect(await n1!.directory.pair(c, a, 'globex')).toEqual({ verdict: 'unknown' });
      expect(await n0!.directory.pair(e, d, null)).toMatchObject({ verdict: 'paired' });
      expect(await n0!.directory.pair(a, b, 'acme')).toMatchObject({ verdict: 'paired', node: n1!.directory.node });
      // a requester unknown to the directory (a lost record) is recorded with its tenant
      const f = id('f');
      await n1!.directory.register(f, 'globex');
      const g = id('g');
      expect(await n0!.directory.pair(g, f, 'globex')).toMatchObject({ verdict: 'paired' });
      const h = id('h');
      await n0!.directory.register(h, 'acme');
      // another tenant's client is unknown even when it is paired: 'busy' would tell it is there
      expect(await n0!.directory.pair(h, g, 'acme')).toEqual({ verdict: 'unknown' });
      expect(await n0!.directory.pair(h, a, 'acme')).toEqual({ verdict: 'busy' });
    });

    it('hands a session over: the node holding its key is asked, and its answer returned', async () => {
      const [n0, n1] = await nodesOf(2);
      const a = id('a');
      await n0!.directory.register(a);
      await n0!.directory.setSession('key-a', a);
      const moved: HandoverResult = {
        ok: true,
        session: { id: a, peer: null, wsPing: false, sent: 2, acked: 1, received: 5, retained: ['{"type":"x"}'] },
      };
      n0!.handover = () => moved;
      const asking = { subject: 'alice', tenant: 'acme' };
      expect(await n1!.directory.takeSession('key-a', 'the-secret', 4, asking)).toEqual(moved);
      expect(n0!.handovers).toEqual([
        { key: 'key-a', secret: 'the-secret', received: 4, to: n1!.directory.node, asking },
      ]);
      expect((await n1!.directory.takeSession('no-such-key', 's', 0)).ok).toBe(false);
      await n0!.directory.setSession('key-a', null);
      expect((await n1!.directory.takeSession('key-a', 'the-secret', 4)).ok).toBe(false);
    });

    it('adopt moves a record to the adopting node and keeps its pairing', async () => {
      const [n0, n1, n2] = await nodesOf(3);
      const [a, b] = [id('a'), id('b')];
      await n0!.directory.register(a);
      await n1!.directory.register(b);
      const { epoch } = (await n1!.directory.pair(b, a)) as { epoch: string };
      await n2!.directory.adopt(a);
      expect(await n1!.directory.unpair(b, epoch)).toEqual({ id: a, node: n2!.directory.node, epoch });
      const c = id('c');
      await n1!.directory.register(c);
      expect(await n1!.directory.pair(c, a)).toEqual({
        verdict: 'paired',
        node: n2!.directory.node,
        epoch: expect.any(String),
      });
    });

    it("a dead node's clients vanish and their partners' nodes are told peer_left", async () => {
      const [n0, n1] = await nodesOf(2);
      const [a, b, lone] = [id('a'), id('b'), id('lone')];
      await n0!.directory.register(a);
      await n0!.directory.register(lone);
      await n1!.directory.register(b);
      const { epoch } = (await n1!.directory.pair(b, a)) as { epoch: string };
      await cluster!.kill(0);
      await eventually(
        () => n1!.messages.some((m) => m.type === 'peer_left'),
        'peer_left for the dead node',
        options.noticeDeathMs,
      );
      expect(n1!.messages).toEqual([{ type: 'peer_left', to: b, peer: a, epoch }]);
      expect(await n1!.directory.pair(b, lone)).toEqual({ verdict: 'unknown' });
      expect(await n1!.directory.pair(b, a)).toEqual({ verdict: 'unknown' });
    });
  });
}
