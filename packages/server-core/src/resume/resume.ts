// `resume` on a fresh link: the session is here (move it onto the link), or another node holds
// it (the directory brings it over, and it is adopted). Either way the client gets `resumed`, a
// new token, and the frames it missed, in order.
import { ErrorText, ResumeLedger, encode } from '@tandem/protocol';
import { Connection, RemotePeer, ResumeSession } from '../connection.js';
import type { EngineContext, Turn } from '../engine-context.js';
import type { HandoverResult, MaybePromise, MovedSession } from '../directory/directory.js';
import { awaitAnswer } from '../directory-turns.js';
import { sendIceServers } from '../ice-servers.js';
import { keepaliveEvent, noteHeard, pingDueAt } from '../keepalive/keepalive-effects.js';
import { retireFreshLink } from '../lifecycle.js';
import { uncountDetached } from '../detached.js';
import { KeepaliveInput, PairingState } from '../tables.js';
import { deliver } from '../to-clients.js';
import { settle } from '../to-nodes.js';
import { checkResume, newToken, parseToken, reissueToken, wireToken } from './session.js';

/** `resume` on link `fresh`: move the detached (or half-open) session onto it, then replay what its client missed. */
export function resumeSession<H>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  fresh: Connection<H>,
  presented: string,
  received: number,
): void {
  const fail = (t: Turn<H>, why: string) => {
    ctx.counters.resumeFailures++;
    ctx.sink.log?.({ type: 'resume_failed', id: fresh.id, why });
    deliver(
      ctx,
      t,
      fresh,
      encode({ type: 'error', message: `${ErrorText.ResumeFailed}: ${why}`, code: 'resume_failed' }),
    );
  };
  if (ctx.generateToken === null) return fail(turn, 'this server does not offer resume');
  if (fresh.resume !== null || fresh.pairingState !== PairingState.unpaired)
    return fail(turn, 'resume must be the first message on a new connection');
  const token = parseToken(presented);
  const session = token === null ? undefined : ctx.sessions.get(token.key);
  if (token !== null && session === undefined) {
    // not here: perhaps another node of the cluster holds it
    const unreachable = (t: Turn<H>) => fail(t, 'the cluster directory is unreachable');
    let answer: MaybePromise<HandoverResult>;
    try {
      answer = ctx.directory.takeSession(token.key, token.secret, received, fresh.auth?.holder ?? null);
    } catch {
      return unreachable(turn);
    }
    const taken = (t: Turn<H>, result: HandoverResult) =>
      result.ok ? adoptSession(ctx, t, fresh, result.session) : fail(t, result.why);
    return awaitAnswer(ctx, turn, fresh, answer, taken, unreachable);
  }
  const check = checkResume(session, token?.secret ?? '', received, fresh.auth?.holder ?? null);
  if (!check.ok) return fail(turn, check.why);
  const { session: here, resume: r, replay } = check;
  here.auth = fresh.auth; // the new link's authorization (its expiry) is the session's now
  const tookOver = r.attached;
  if (tookOver) ctx.sink.close(here.handle, ctx.closes.taken_over);
  retireFreshLink(ctx, fresh);
  if (!tookOver) uncountDetached(ctx, here); // while the old link is still its handle, for the host to free it
  fresh.resumedInto = here;
  here.handle = fresh.link;
  r.attached = true;
  if (tookOver) noteHeard(ctx, turn, here);
  else {
    here.heardAt = turn.now;
    keepaliveEvent(ctx, turn, here, KeepaliveInput.resumed);
  }
  ctx.counters.resumes++;
  const newToken = reissueToken(ctx, here);
  r.ledger.ackSent();
  sendResumed(ctx, here, newToken, replay, tookOver);
}

/** Another node handed over the session `fresh`'s client asked to resume: it lives here now. */
function adoptSession<H>(ctx: EngineContext<H>, turn: Turn<H>, fresh: Connection<H>, moved: MovedSession): void {
  const session = new Connection<H>(moved.id, fresh.link, fresh);
  session.heardAt = turn.now;
  session.wsPing ||= moved.wsPing;
  adoptPairing(ctx, session, moved);
  const linkGone = fresh.pairingState === PairingState.closed;
  if (!linkGone) retireFreshLink(ctx, fresh);
  fresh.resumedInto = session;
  ctx.local.set(session.id, session);
  settle(ctx.directory.adopt(session.id));
  const r = (session.resume = new ResumeSession(newToken(ctx, session), ResumeLedger.restore(moved)));
  ctx.counters.resumes++;
  r.ledger.ackSent();
  // its new link closed while the session was on its way: it waits here for the client
  if (linkGone) return keepaliveEvent(ctx, turn, session, KeepaliveInput.lost);
  ctx.wheel.file(session, pingDueAt(ctx, session));
  sendResumed(ctx, session, wireToken(r.token), moved.retained, false);
  // its TURN credentials came from the old node: this node's, now, and on its own schedule after
  if (moved.iceServers === true && ctx.iceServers !== null) sendIceServers(ctx, turn, session);
}

/** The adopted session's pairing: whole on this node again, or across nodes. */
function adoptPairing<H>(ctx: EngineContext<H>, session: Connection<H>, moved: MovedSession): void {
  const ref = moved.peer;
  if (ref === null) return;
  if (ref.node === ctx.node) {
    const partner = ctx.local.get(ref.id);
    if (
      partner === undefined ||
      partner.pairingState !== PairingState.paired ||
      partner.peer?.id !== session.id ||
      partner.pairEpoch !== ref.epoch
    )
      return;
    partner.peer = session; // the pair is whole on this node again, still counted once
    session.peer = partner;
  } else {
    session.peer = new RemotePeer(ref.id, ref.node);
    ctx.counters.pairs++;
  }
  session.pairEpoch = ref.epoch;
  session.pairingState = PairingState.paired;
}

/** `resumed` on the session's new link, then the frames its client missed, in order. */
function sendResumed<H>(
  ctx: EngineContext<H>,
  session: Connection<H>,
  token: string,
  replay: readonly string[],
  tookOver: boolean,
): void {
  const r = session.resume!;
  const resumed = {
    type: 'resumed',
    id: session.id,
    peer_id: session.peer?.id ?? null,
    received: r.ledger.received,
    resume_token: token,
    resume_grace_ms: ctx.settings.resumeGraceMs,
  } as const;
  ctx.sink.send(session.handle, encode(resumed));
  for (const frame of replay) ctx.sink.send(session.handle, frame);
  ctx.sink.log?.({ type: 'resumed', id: session.id, replayed: replay.length, tookOver });
}
