// tandem's advertised extensions (v2): each case skips where the capability is not advertised.
import { Capability, ErrorText, PROTOCOL_VERSION } from '@tandem/protocol';
import { negotiate } from './negotiate.js';
import { Skip, expectEq, expectTrue, isError, sleep, type Case } from '../verdicts.js';

/** tandem's advertised extensions (v2) cases, in order. */
export const extensionsCases: Case[] = [
  {
    name: 'ext.keepalive_ws_ping',
    async run(ctx) {
      const a = await ctx.client();
      const yourId = a.messages()[0] as { capabilities?: string[] };
      if (!yourId.capabilities?.includes(Capability.WsPing)) throw new Skip('not advertised');
      a.json({ type: 'hello', version: PROTOCOL_VERSION, capabilities: [Capability.WsPing] });
      const w = await a.next((m) => m['type'] === 'welcome', 'welcome');
      expectTrue((w['capabilities'] as string[]).includes(Capability.WsPing), `welcome grants ${Capability.WsPing}`);
      let controlPings = 0;
      a.onPing.push(() => controlPings++); // the socket answers with a pong by itself
      await sleep(ctx.opts.pingIntervalMs + ctx.opts.toleranceMs);
      expectTrue(controlPings > 0, 'no control ping within the interval');
      expectEq(a.count('ping'), 0, 'JSON pings after negotiating control pings');
      await sleep(ctx.opts.pingTimeoutMs + ctx.opts.toleranceMs);
      expectTrue(a.closed === null, 'closed although its stack answered control pings');
    },
  },
  {
    name: 'ext.ice_servers.welcome_hands_out_servers',
    async run(ctx) {
      const [a, b] = [await ctx.client('A'), await ctx.client('B')];
      const wa = await negotiate(a, Capability.IceServers);
      const wb = await negotiate(b, Capability.IceServers);
      // MUST: a granted ice-servers brings the servers and their lifetime in welcome
      const servers = wa['ice_servers'] as
        { urls: string | string[]; username?: string; credential?: string }[] | undefined;
      expectTrue(
        Array.isArray(servers) && servers.length > 0,
        'welcome granting ice-servers carries a non-empty ice_servers list',
      );
      expectTrue(
        Number.isInteger(wa['ice_servers_ttl_ms']) && Number(wa['ice_servers_ttl_ms']) > 0,
        'welcome carries ice_servers_ttl_ms > 0',
      );
      const turn = (w: Record<string, unknown>) =>
        (w['ice_servers'] as { urls: string | string[]; username?: string; credential?: string }[]).filter((s) =>
          [s.urls].flat().some((u) => /^turns?:/i.test(u)),
        );
      for (const s of turn(wa))
        expectTrue(
          typeof s.username === 'string' && typeof s.credential === 'string',
          'a TURN server comes with a username and credential',
        );
      // SHOULD: credentials of one's own, and a username that does not carry the client's ID: the
      // ID is its pairing key, and the username reaches TURN logs and travels in the clear on turn: links
      const [ta, tb] = [turn(wa), turn(wb)];
      if (ta.length > 0 && tb.length > 0) {
        ctx.should(
          !ta[0]!.username!.includes(a.id),
          "the TURN username does not carry the client's ID (an opaque per-session handle instead)",
        );
        ctx.should(ta[0]!.credential !== tb[0]!.credential, 'each client gets TURN credentials of its own');
      }
    },
  },
  {
    name: 'ext.leave.ends_the_pair_and_the_partner_is_told',
    async run(ctx) {
      const a = await ctx.client('A');
      await negotiate(a, Capability.Leave);
      const b = await ctx.client('B');
      a.json({ type: 'pair_request', target_id: b.id });
      await a.next((m) => m['type'] === 'paired', 'paired');
      await b.next((m) => m['type'] === 'paired', 'paired');
      a.json({ type: 'leave' });
      const told = await b.next((m) => m['type'] === 'peer_disconnected', 'peer_disconnected after leave');
      expectEq(told['peer_id'], a.id, 'peer_disconnected names the leaver');
      expectTrue(a.closed === null, 'the leaver stays connected');
      b.json({ type: 'pair_request', target_id: a.id }); // both are free again
      await b.next((m) => m['type'] === 'paired', 'paired again', undefined, b.frames.length);
    },
  },
  {
    name: 'ext.resume.lost_link_detaches_and_resume_replays',
    async run(ctx) {
      const a = await ctx.client('A');
      const w = await negotiate(a, Capability.Resume);
      const token = w['resume_token'];
      expectTrue(
        typeof token === 'string' && token.length >= 16,
        `welcome carries a resume token: ${JSON.stringify(token)}`,
      );
      expectTrue(!String(token).includes(a.id), 'the token is not the public ID');
      const grace = Number(w['resume_grace_ms']);
      if (!(grace >= 2 * ctx.opts.toleranceMs))
        throw new Skip(`grace ${grace} ms is too short to test with a tolerance of ${ctx.opts.toleranceMs} ms`);
      const b = await ctx.client('B');
      ctx.keepAlive(a);
      ctx.keepAlive(b);
      a.json({ type: 'pair_request', target_id: b.id }); // A's counted frame 1
      await a.next((m) => m['type'] === 'paired', 'paired'); // the server's counted frame 1
      await b.next((m) => m['type'] === 'paired', 'paired');
      a.close(); // the link is lost, not closed
      await sleep(100);
      b.json({ type: 'offer', sdp: 'sent while A was away' });
      await sleep(ctx.opts.toleranceMs);
      expectEq(b.count('peer_disconnected'), 0, 'peer_disconnected while the session is detached');
      const again = await ctx.client('A2');
      again.json({ type: 'resume', token, received: 1 });
      const resumed = await again.next((m) => m['type'] === 'resumed' || m['type'] === 'error', 'resumed');
      expectEq(resumed['type'], 'resumed', `answer to resume (${JSON.stringify(resumed)})`);
      expectEq(
        [resumed['id'], resumed['peer_id'], resumed['received']],
        [a.id, b.id, 1],
        'resumed: same ID, same partner, what the server had',
      );
      expectTrue(resumed['resume_token'] !== token, 'a resume hands out a new token');
      const replayed = await again.next((m) => m['type'] === 'offer', 'the offer sent while A was away');
      expectEq([replayed['sdp'], replayed['from_peer']], ['sent while A was away', true], 'replayed offer');
      again.json({ type: 'offer', sdp: 'back' });
      await b.next((m) => m['type'] === 'offer' && m['sdp'] === 'back', 'a relay after the resume');
      // the old token is spent; its user gets an error and a working fresh connection
      const thief = await ctx.client('thief');
      thief.json({ type: 'resume', token, received: 0 });
      await thief.next((m) => m['type'] === 'error', 'an error for a spent token');
      thief.json({ type: 'pair_request', target_id: 'nobody-0000' });
      await thief.next(
        isError(ErrorText.TargetNotFound),
        'a normal answer after the refused resume',
        undefined,
        thief.frames.length,
      );
      expectEq(b.count('peer_disconnected'), 0, 'peer_disconnected at any point');
    },
  },
];
