// The messages between the nodes of a cluster, as data: what one engine posts to another (through
// any directory: Redis pub/sub, or the in-memory hub in tests) and the envelope a shared-store
// directory carries them in, with the session handover's request and reply. Checked by compiled
// validators at the boundary: a node never trusts what arrives on its channel.
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

const Id = Type.String({ minLength: 1, maxLength: 256 });
const Epoch = Type.String({ minLength: 1, maxLength: 64, description: 'Names one pairing, unique among all pairings' });
const Node = Type.String({ minLength: 1, maxLength: 128, description: 'A node of the cluster' });
const Nameplate = Type.String({ pattern: '^[0-9]{1,9}$', description: 'A nameplate number (pairing by code)' });

/** A signal relayed across nodes; `frame` already carries `from_peer`. */
export const NodeSignal = Type.Object({
  type: Type.Literal('signal'),
  to: Id,
  from: Id,
  epoch: Epoch,
  messageType: Type.Union([Type.Literal('offer'), Type.Literal('answer'), Type.Literal('candidate')]),
  frame: Type.String(),
});

/**
 * Messages between nodes, posted by one engine and delivered to another in order per sender.
 * Every message names its addressee (`to`); a node ignores one for a client it no longer holds
 * or that is no longer paired with the sender's client, so a late or repeated message is harmless.
 */
export const NodeMessage = Type.Union([
  /** `to` was paired by `peer` (on `peerNode`), the initiator. */
  Type.Object({ type: Type.Literal('paired'), to: Id, peer: Id, peerNode: Node, epoch: Epoch }),
  NodeSignal,
  /** `peer`, partner of `to`, left (closed, timed out, left the pair, or its node died). */
  Type.Object({ type: Type.Literal('peer_left'), to: Id, peer: Id, epoch: Epoch }),
  /** `peer`, partner of `to`, now lives on `node` (its session was resumed there). */
  Type.Object({ type: Type.Literal('peer_moved'), to: Id, peer: Id, node: Node, epoch: Epoch }),
  // Pairing by code across nodes. The node that took a nameplate decides its claims: the
  // claimer's node asks it (`code_claim`), hears back (`code_claim_answer`), and forwards what
  // its client reports (`code_result`) or that the pairing could not be made (`code_unclaim`).
  /** `claimer` (on `claimerNode`) claims nameplate `nameplate`, held by the receiving node. */
  Type.Object({
    type: Type.Literal('code_claim'),
    nameplate: Nameplate,
    claimer: Id,
    claimerNode: Node,
  }),
  /** The claim of `to` on `nameplate` (held by `node`): `owner` to pair with, or why not (`refusal`). */
  Type.Object({
    type: Type.Literal('code_claim_answer'),
    to: Id,
    nameplate: Nameplate,
    node: Node,
    owner: Type.Optional(Id),
    refusal: Type.Optional(
      Type.Union([
        Type.Literal('unknown'),
        Type.Literal('burnt'),
        Type.Literal('claimed'),
        Type.Literal('rate_limited'),
        Type.Literal('full'),
      ]),
    ),
  }),
  /** `claimer`'s pairing under its claim of `nameplate` was not made: the nameplate is open again. */
  Type.Object({ type: Type.Literal('code_unclaim'), nameplate: Nameplate, claimer: Id }),
  /** `claimer` reported the outcome of its code exchange (`claim_result`). */
  Type.Object({
    type: Type.Literal('code_result'),
    nameplate: Nameplate,
    claimer: Id,
    ok: Type.Boolean(),
    reason: Type.Optional(Type.String({ maxLength: 256 })),
  }),
  /** The nameplate `to` claimed ended (the claimer's `nameplate_closed`). */
  Type.Object({
    type: Type.Literal('nameplate_closed'),
    to: Id,
    nameplate: Nameplate,
    reason: Type.Union([Type.Literal('confirmed'), Type.Literal('burnt'), Type.Literal('expired')]),
    detail: Type.Optional(Type.String({ maxLength: 256 })),
  }),
]);
/** A message between nodes. */
export type NodeMessage = Static<typeof NodeMessage>;

/** A partner as the directory knows it: its ID, the node that holds it, and the pairing's epoch. */
export const PeerRef = Type.Object({ id: Id, node: Node, epoch: Epoch });
export type PeerRef = Static<typeof PeerRef>;

/** A resumable session moving between nodes: everything its new node needs to carry on. */
export const MovedSession = Type.Object({
  id: Id,
  peer: Type.Union([PeerRef, Type.Null()]),
  wsPing: Type.Boolean(),
  /** The ledger: frames counted each way; `retained` are frames `acked + 1 … sent`, to replay now. */
  sent: Type.Integer({ minimum: 0 }),
  acked: Type.Integer({ minimum: 0 }),
  received: Type.Integer({ minimum: 0 }),
  retained: Type.Array(Type.String()),
  /** The client was granted `ice-servers`: its new node sends it fresh ones at once. */
  iceServers: Type.Optional(Type.Boolean()),
});
export type MovedSession = Static<typeof MovedSession>;

/** A session handed over, or why not (a sentence for the client). */
export const HandoverResult = Type.Union([
  Type.Object({ ok: Type.Literal(true), session: MovedSession }),
  Type.Object({ ok: Type.Literal(false), why: Type.String({ maxLength: 1024 }) }),
]);
export type HandoverResult = Static<typeof HandoverResult>;

/** What a shared-store directory publishes on a node's channel (the signal has a leaner text form of its own). */
export const NodeEnvelope = Type.Union([
  /** A message for the node's engine. */
  Type.Object({ t: Type.Literal('m'), m: NodeMessage }),
  /** Node `from` asks for the session of resume token `key`.`secret`, its client having received `received` frames. */
  Type.Object({
    t: Type.Literal('take'),
    ticket: Type.String({ minLength: 1, maxLength: 64 }),
    from: Node,
    key: Type.String({ minLength: 1, maxLength: 256 }),
    secret: Type.String({ maxLength: 256 }),
    received: Type.Integer({ minimum: 0 }),
    /** Who the asking node's link is authorized as, when its host authorizes clients: a resume must match. */
    asking: Type.Optional(
      Type.Object({
        subject: Type.Union([Type.String({ maxLength: 1024 }), Type.Null()]),
        tenant: Type.Union([Type.String({ maxLength: 256 }), Type.Null()]),
      }),
    ),
  }),
  /** The answer to the `take` of `ticket`. */
  Type.Object({
    t: Type.Literal('given'),
    ticket: Type.String({ minLength: 1, maxLength: 64 }),
    result: HandoverResult,
  }),
]);
export type NodeEnvelope = Static<typeof NodeEnvelope>;

const envelopeCheck = TypeCompiler.Compile(NodeEnvelope);
const signalCheck = TypeCompiler.Compile(NodeSignal);

/** A node-channel text as an envelope, or why it is not one (never throws). */
export function decodeNodeEnvelope(text: string): { ok: true; value: NodeEnvelope } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
  if (envelopeCheck.Check(value)) return { ok: true, value };
  const first = envelopeCheck.Errors(value).First();
  return { ok: false, error: `not a node message: ${first?.path || '/'} ${first?.message ?? 'is invalid'}` };
}

/** Whether a signal rebuilt from its lean text form is a well-formed node signal. */
export function isNodeSignal(value: unknown): value is Static<typeof NodeSignal> {
  return signalCheck.Check(value);
}
