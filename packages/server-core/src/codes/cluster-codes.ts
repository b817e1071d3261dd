// Pairing by code across the nodes of a cluster. The node that took a nameplate (its owner's)
// decides every claim of it, so one claim and one burn are decided once, whichever node the
// claimer is on: the claimer's node asks (`code_claim`), the owner's node answers
// (`code_claim_answer`) and the claimer's node pairs the two through the directory as any
// pairing; what the claimer reports (`code_result`) goes back to the owner's node, which tells
// the claimer's node how the nameplate ended (`nameplate_closed`). A claimer that disconnects or
// leaves ends the pairing, and the owner's node burns the claim when it hears of it.
import { encode } from '@tandem/protocol';
import type { EngineContext, Turn } from '../engine-context.js';
import type { NodeMessage } from '../directory/directory.js';
import { pairRequest } from '../pairing/pair-request.js';
import { PairingState } from '../tables.js';
import { deliver, rejectFrame } from '../to-clients.js';
import { post } from '../to-nodes.js';
import { tellEnded } from './code-ends.js';
import { underClaim } from './codes.js';
import { refuse } from './refusals.js';
import { ErrorText } from '@tandem/protocol';

type CodeMessage = Extract<
  NodeMessage,
  { type: 'code_claim' | 'code_claim_answer' | 'code_unclaim' | 'code_result' | 'nameplate_closed' }
>;

/** Whether `m` is about pairing by code. */
export function isCodeMessage(m: NodeMessage): m is CodeMessage {
  return m.type.startsWith('code_') || m.type === 'nameplate_closed';
}

/** A code message from another node. */
export function codesFromNode<H>(ctx: EngineContext<H>, turn: Turn<H>, m: CodeMessage): void {
  const book = ctx.codes;
  if (book === null) {
    // this node offers no codes (a mixed cluster): a claim hears that its nameplate is unknown here
    if (m.type === 'code_claim')
      post(ctx, m.claimerNode, {
        type: 'code_claim_answer',
        to: m.claimer,
        nameplate: m.nameplate,
        node: ctx.node,
        refusal: 'unknown',
      });
    return;
  }
  switch (m.type) {
    case 'code_claim': {
      const answer = (
        extra: { owner: string } | { refusal: 'unknown' | 'burnt' | 'claimed' | 'rate_limited' | 'full' },
      ) =>
        post(ctx, m.claimerNode, {
          type: 'code_claim_answer',
          to: m.claimer,
          nameplate: m.nameplate,
          node: ctx.node,
          ...extra,
        });
      const r = book.claim(m.nameplate, m.claimer, null, turn.now, m.claimerNode); // its node counted its address
      if (!r.ok) return answer({ refusal: r.refusal });
      const owner = ctx.local.get(r.nameplate.owner);
      if (owner === undefined || owner.codes === null || owner.pairingState !== PairingState.unpaired) {
        book.unclaim(r.nameplate);
        return answer({ refusal: 'unknown' });
      }
      underClaim(owner, m.nameplate, m.claimer); // its `paired` frame, when the claimer's node pairs them, names the nameplate
      return answer({ owner: owner.id });
    }
    case 'code_claim_answer': {
      const conn = ctx.local.get(m.to);
      const unclaim = () => post(ctx, m.node, { type: 'code_unclaim', nameplate: m.nameplate, claimer: m.to });
      if (!book.awaiting.answered(m.to, m.nameplate) || conn === undefined || conn.codes === null) {
        if (m.owner !== undefined) unclaim(); // given up on, or gone: the nameplate holds
        return;
      }
      if (m.owner === undefined) return refuse(ctx, turn, conn, m.refusal ?? 'unknown');
      if (conn.pairingState !== PairingState.unpaired) {
        unclaim();
        return rejectFrame(ctx, turn, conn, ErrorText.AlreadyPaired, 'already_paired');
      }
      const owner = m.owner;
      underClaim(conn, m.nameplate, owner);
      conn.codes.remoteClaim = { nameplate: m.nameplate, node: m.node };
      return pairRequest(ctx, turn, conn, owner, (_t, paired) => {
        if (paired) return ctx.sink.log?.({ type: 'nameplate', id: conn.id, event: 'claimed' });
        underClaim(conn, null, null);
        if (conn.codes) conn.codes.remoteClaim = null;
        unclaim();
      });
    }
    case 'code_unclaim': {
      const n = book.get(m.nameplate);
      if (n === undefined || n.state.kind !== 'claimed' || n.state.claimer !== m.claimer) return;
      const owner = ctx.local.get(n.owner);
      if (owner?.codes?.pairingPeer === m.claimer) underClaim(owner, null, null);
      return book.unclaim(n, m.claimer);
    }
    case 'code_result': {
      const n = book.get(m.nameplate);
      if (n === undefined || n.state.kind !== 'claimed' || n.state.claimer !== m.claimer) return;
      const ended = m.ok
        ? book.confirm(m.claimer)
        : book.burn(m.claimer, m.reason ?? 'the other side could not confirm the code');
      if (ended !== null) tellEnded(ctx, turn, ended);
      return;
    }
    case 'nameplate_closed': {
      const conn = ctx.local.get(m.to);
      if (conn === undefined || conn.codes === null || conn.pairingState === PairingState.closed) return;
      if (conn.codes.remoteClaim?.nameplate === m.nameplate) conn.codes.remoteClaim = null;
      if (conn.codes.pairingNameplate === m.nameplate) conn.codes.pairingNameplate = null;
      const frame = { type: 'nameplate_closed', nameplate: m.nameplate, reason: m.reason } as const;
      return deliver(
        ctx,
        turn,
        conn,
        encode(m.detail === undefined ? frame : { ...frame, detail: m.detail.slice(0, 200) }),
      );
    }
  }
}
