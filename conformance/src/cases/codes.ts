// Pairing by code (capability `codes`), the server's part: nameplates handed out and released,
// a claim pairs the claimer (initiator) with the owner with the nameplate in both `paired` frames,
// a claim that does not end in mutual confirmation burns the nameplate for good, and the claim's
// relays reach only its two ends. Each case skips where `codes` is not advertised. The words of
// a code and the PAKE are the clients' business: a server never sees them.
import { Capability, ErrorText } from '@tandem/protocol';
import type { RecordingClient } from '../recording-client.js';
import { negotiate } from './negotiate.js';
import { expectEq, expectTrue, sleep, Skip, type Case, type Ctx } from '../verdicts.js';

const NAMEPLATE = /^[1-9][0-9]{0,8}$/;

/** A client granted codes. */
async function withCodes(ctx: Ctx, label: string): Promise<RecordingClient & { id: string }> {
  const c = await ctx.client(label);
  await negotiate(c, Capability.Codes);
  return c;
}
async function nameplateOf(c: RecordingClient): Promise<{ nameplate: string; expiresInMs: number }> {
  const from = c.frames.length;
  c.json({ type: 'nameplate_request' });
  const m = await c.next((x) => x['type'] === 'nameplate', 'nameplate', undefined, from);
  expectTrue(
    NAMEPLATE.test(String(m['nameplate'])),
    `nameplate is a short decimal number (got ${JSON.stringify(m['nameplate'])})`,
  );
  expectTrue(
    Number.isInteger(m['expires_in_ms']) && Number(m['expires_in_ms']) > 0,
    'nameplate carries expires_in_ms > 0',
  );
  return { nameplate: String(m['nameplate']), expiresInMs: Number(m['expires_in_ms']) };
}
/** `claimer` claims `owner`'s nameplate; both paired frames are checked. */
async function claim(
  owner: RecordingClient & { id: string },
  claimer: RecordingClient & { id: string },
  nameplate: string,
) {
  const [fo, fc] = [owner.frames.length, claimer.frames.length];
  claimer.json({ type: 'claim', nameplate });
  const pc = await claimer.next((m) => m['type'] === 'paired', 'paired after claim', undefined, fc);
  const po = await owner.next((m) => m['type'] === 'paired', 'paired (owner) after claim', undefined, fo);
  // these fields as given; a v2 server may add optional ones (e.g. peer_capabilities), which receivers ignore
  const fields = (m: Record<string, unknown>) => ({
    type: m['type'],
    peer_id: m['peer_id'],
    initiator: m['initiator'],
    nameplate: m['nameplate'],
  });
  expectEq(fields(pc), { type: 'paired', peer_id: owner.id, initiator: true, nameplate }, 'the claimer’s paired frame');
  expectEq(
    fields(po),
    { type: 'paired', peer_id: claimer.id, initiator: false, nameplate },
    'the owner’s paired frame',
  );
}
/** An error that says why in tandem's words or code (a v2 error's code; the words for a reader). */
const refusedAs = (e: Record<string, unknown>, text: string, code: string) =>
  String(e['message']).startsWith(text) || e['code'] === code;
const closedWith = (nameplate: string, reason: string) => (m: Record<string, unknown>) =>
  m['type'] === 'nameplate_closed' && m['nameplate'] === nameplate && m['reason'] === reason;

export const codesCases: Case[] = [
  {
    name: 'ext.codes.claim_pairs_and_confirming_releases',
    async run(ctx) {
      const owner = await withCodes(ctx, 'owner');
      const claimer = await withCodes(ctx, 'claimer');
      const { nameplate } = await nameplateOf(owner);
      await claim(owner, claimer, nameplate);
      owner.json({ type: 'claim_result', ok: true });
      claimer.json({ type: 'claim_result', ok: true });
      await owner.next(closedWith(nameplate, 'confirmed'), 'nameplate_closed {reason: confirmed} to the owner');
      await claimer.next(closedWith(nameplate, 'confirmed'), 'nameplate_closed {reason: confirmed} to the claimer');
      // released: the pair goes on as any other, and the nameplate cannot be claimed again
      const late = await withCodes(ctx, 'late');
      late.json({ type: 'claim', nameplate });
      const e = await late.next((m) => m['type'] === 'error', 'an error for a released nameplate');
      ctx.should(
        refusedAs(e, ErrorText.UnknownNameplate, 'nameplate_unknown'),
        `the error names ${ErrorText.UnknownNameplate}`,
      );
    },
  },
  {
    name: 'ext.codes.failed_confirmation_burns_the_nameplate',
    async run(ctx) {
      const owner = await withCodes(ctx, 'owner');
      const guesser = await withCodes(ctx, 'guesser');
      const { nameplate } = await nameplateOf(owner);
      await claim(owner, guesser, nameplate);
      owner.json({ type: 'claim_result', ok: false, reason: 'key confirmation failed' });
      await owner.next(closedWith(nameplate, 'burnt'), 'nameplate_closed {reason: burnt} to the owner');
      await guesser.next(closedWith(nameplate, 'burnt'), 'nameplate_closed {reason: burnt} to the claimer');
      guesser.json({ type: 'leave' });
      const rightful = await withCodes(ctx, 'rightful');
      rightful.json({ type: 'claim', nameplate });
      const e = await rightful.next((m) => m['type'] === 'error', 'an error for a burnt nameplate');
      ctx.should(
        refusedAs(e, ErrorText.NameplateBurnt, 'nameplate_burnt'),
        `the error names ${ErrorText.NameplateBurnt}`,
      );
      await sleep(100);
      expectEq(rightful.count('paired'), 0, 'paired frames after claiming a burnt nameplate');
    },
  },
  {
    name: 'ext.codes.abandoned_claim_burns_the_nameplate',
    async run(ctx) {
      const owner = await withCodes(ctx, 'owner');
      const claimer = await withCodes(ctx, 'claimer');
      const { nameplate } = await nameplateOf(owner);
      await claim(owner, claimer, nameplate);
      owner.json({ type: 'claim_result', ok: true }); // one side only: the other goes mid-exchange
      claimer.close(); // an abrupt loss
      await owner.next(closedWith(nameplate, 'burnt'), 'nameplate_closed {reason: burnt} after the claimer went');
      const again = await withCodes(ctx, 'again');
      again.json({ type: 'claim', nameplate });
      const e = await again.next((m) => m['type'] === 'error', 'an error for a burnt nameplate');
      ctx.should(
        refusedAs(e, ErrorText.NameplateBurnt, 'nameplate_burnt'),
        `the error names ${ErrorText.NameplateBurnt}`,
      );
      await sleep(100);
      expectEq(again.count('paired'), 0, 'paired frames after claiming a burnt nameplate');
    },
  },
  {
    name: 'ext.codes.relayed_only_within_the_claim',
    async run(ctx) {
      const owner = await withCodes(ctx, 'owner');
      const claimer = await withCodes(ctx, 'claimer');
      const other = await withCodes(ctx, 'other');
      const { nameplate } = await nameplateOf(owner);
      await claim(owner, claimer, nameplate);
      claimer.json({ type: 'offer', sdp: 'v=0 (claim)' });
      const o = await owner.next((m) => m['type'] === 'offer', 'the claimer’s offer at the owner');
      expectEq(o, { type: 'offer', sdp: 'v=0 (claim)', from_peer: true }, 'the relayed offer');
      await sleep(200);
      expectEq(other.count('offer'), 0, 'offers reaching a client outside the claim');
      // a claimer cannot claim a second nameplate while paired
      const second = await withCodes(ctx, 'second owner');
      const { nameplate: n2 } = await nameplateOf(second);
      claimer.json({ type: 'claim', nameplate: n2 });
      await claimer.next((m) => m['type'] === 'error', 'an error for a claim while paired');
      expectEq(second.count('paired'), 0, 'paired frames at a second owner');
    },
  },
  {
    name: 'ext.codes.smallest_free_nameplate_first',
    level: 'SHOULD',
    async run(ctx) {
      const a = await withCodes(ctx, 'A');
      const b = await withCodes(ctx, 'B');
      const na = await nameplateOf(a);
      const nb = await nameplateOf(b);
      expectTrue(na.nameplate !== nb.nameplate, 'two open nameplates differ');
      ctx.should(na.nameplate.length <= 4 && nb.nameplate.length <= 4, 'nameplates stay short (at most 4 digits)');
      // A asks again: its last one goes (replaced), and is the smallest free number again
      const from = a.frames.length;
      a.json({ type: 'nameplate_request' });
      await a.next(closedWith(na.nameplate, 'replaced'), 'nameplate_closed {reason: replaced}', undefined, from);
      const again = await a.next((m) => m['type'] === 'nameplate', 'a new nameplate', undefined, from);
      ctx.should(String(again['nameplate']) === na.nameplate, 'the smallest free number is handed out first');
    },
  },
  {
    name: 'ext.codes.nameplate_expires',
    level: 'SHOULD',
    async run(ctx) {
      const a = await withCodes(ctx, 'A');
      const { nameplate, expiresInMs } = await nameplateOf(a);
      const budget = Math.max(5_000, ctx.opts.pingIntervalMs + ctx.opts.pingTimeoutMs);
      if (expiresInMs > budget) throw new Skip(`it expires in ${Math.round(expiresInMs / 1000)} s: too long to wait`);
      ctx.keepAlive(a);
      await a.next(
        closedWith(nameplate, 'expired'),
        'nameplate_closed {reason: expired}',
        expiresInMs + ctx.opts.toleranceMs,
      );
    },
  },
];
