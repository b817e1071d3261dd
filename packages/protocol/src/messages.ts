// Every message of the tandem signaling protocol, as data. The wire-v1 contract
// (docs/wire-v1.md in the repository) is the floor: schemas accept unknown extra fields
// (receivers ignore them) and every addition beyond v1 is optional.
import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';

export {
  PROTOCOL_VERSION,
  Capability,
  uncountedServerTypes,
  uncountedClientTypes,
  ACK_EVERY_FRAMES,
  ACK_EVERY_BYTES,
} from './constants.js';

const Id = Type.String({ minLength: 1, maxLength: 256, description: 'Opaque client ID (the shareable key)' });

/** `RTCIceServer`: a STUN or TURN server with its credentials. */
export const IceServer = Type.Object(
  {
    urls: Type.Union([Type.String({ maxLength: 512 }), Type.Array(Type.String({ maxLength: 512 }), { maxItems: 16 })]),
    username: Type.Optional(Type.String({ maxLength: 512 })),
    credential: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { $id: 'IceServer', description: 'An ICE server in RTCIceServer form (TURN credentials are short-lived)' },
);
/** An ICE server in RTCIceServer form. */
export type IceServer = Static<typeof IceServer>;
const IceServerList = Type.Array(IceServer, { maxItems: 16 });
const Sdp = Type.String({ description: 'Session description (SDP text); bounded by the frame size limit' });

/** `RTCIceCandidateInit`; an empty `candidate` string is the end-of-candidates marker. */
export const IceCandidate = Type.Object(
  {
    candidate: Type.String({ maxLength: 4096 }),
    sdpMid: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
    sdpMLineIndex: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.Null()])),
    usernameFragment: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
  },
  { $id: 'IceCandidate', description: 'An ICE candidate in RTCIceCandidateInit form' },
);
/** An ICE candidate in RTCIceCandidateInit form. */
export type IceCandidate = Static<typeof IceCandidate>;

// ---------------------------------------------------------------- server → client

/** First frame after the WebSocket opens: the client's unguessable ID, plus optional v2 advertisement. */
export const YourId = Type.Object(
  {
    type: Type.Literal('your_id'),
    id: Id,
    version: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Highest protocol version the server speaks (absent: 1)' }),
    ),
    capabilities: Type.Optional(
      Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64, description: 'Extensions the server offers' }),
    ),
  },
  { $id: 'YourId', description: 'First frame after the WebSocket opens: the client ID to share' },
);
/** First frame after the WebSocket opens. */
export type YourId = Static<typeof YourId>;

/** A nameplate: the number at the head of a pairing code (`<nameplate>-<word>-<word>`). */
const nameplateNumber = (description = 'A nameplate: a short decimal number, the head of a pairing code') =>
  Type.String({ pattern: '^[1-9][0-9]{0,8}$', maxLength: 9, description });
const NameplateNumber = nameplateNumber();

/** Sent to both clients after a successful pair_request; the requester is the initiator. */
export const Paired = Type.Object(
  {
    type: Type.Literal('paired'),
    peer_id: Id,
    initiator: Type.Boolean(),
    nameplate: Type.Optional(
      nameplateNumber(
        'v2 (codes): this pairing is a claim of this nameplate; verify the code before trusting the call',
      ),
    ),
    peer_capabilities: Type.Optional(
      Type.Array(Type.String({ maxLength: 64 }), {
        maxItems: 64,
        description:
          "v2: what the partner asked for in its hello (none: a v1 partner), to a client that said hello; absent when the server does not know (the partner is on another node). A client learns from it, before the call, what the partner's first offer may carry (e.g. `peer.media`)",
      }),
    ),
  },
  {
    $id: 'Paired',
    description: 'Sent to both clients after a successful pair_request; the requester is the initiator',
  },
);
/** Sent to both clients after a successful pairing. */
export type Paired = Static<typeof Paired>;

/** The request of this client failed; the connection stays open. */
export const ErrorMessage = Type.Object(
  {
    type: Type.Literal('error'),
    message: Type.String({ description: 'Human text; clients match on the wire-v1 substrings' }),
    code: Type.Optional(Type.String({ description: 'Machine-readable error code (v2, optional)' })),
  },
  { $id: 'ErrorMessage', description: 'The request of this client failed; the connection stays open' },
);
/** The request of this client failed. */
export type ErrorMessage = Static<typeof ErrorMessage>;

const FromPeer = Type.Literal(true, { description: 'Set by the server on every relayed frame' });

/** An SDP offer relayed from the paired peer. */
export const RelayedOffer = Type.Object(
  { type: Type.Literal('offer'), sdp: Sdp, from_peer: FromPeer },
  { $id: 'RelayedOffer', description: 'An SDP offer relayed from the paired peer' },
);
/** An SDP offer relayed from the paired peer. */
export type RelayedOffer = Static<typeof RelayedOffer>;

/** An SDP answer relayed from the paired peer. */
export const RelayedAnswer = Type.Object(
  { type: Type.Literal('answer'), sdp: Sdp, from_peer: FromPeer },
  { $id: 'RelayedAnswer', description: 'An SDP answer relayed from the paired peer' },
);
/** An SDP answer relayed from the paired peer. */
export type RelayedAnswer = Static<typeof RelayedAnswer>;

/** An ICE candidate relayed from the paired peer. */
export const RelayedCandidate = Type.Object(
  { type: Type.Literal('candidate'), candidate: IceCandidate, from_peer: FromPeer },
  { $id: 'RelayedCandidate', description: 'An ICE candidate relayed from the paired peer' },
);
/** An ICE candidate relayed from the paired peer. */
export type RelayedCandidate = Static<typeof RelayedCandidate>;

/** Keepalive probe; the client answers with `pong`. */
export const Ping = Type.Object(
  { type: Type.Literal('ping') },
  { $id: 'Ping', description: 'Keepalive probe; the client answers pong' },
);
/** Keepalive probe. */
export type Ping = Static<typeof Ping>;

/** The partner's connection ended; both sides are unpaired and may pair anew. */
export const PeerDisconnected = Type.Object(
  { type: Type.Literal('peer_disconnected'), peer_id: Id },
  { $id: 'PeerDisconnected', description: "The partner's connection ended; both sides may pair anew" },
);
/** The partner's connection ended. */
export type PeerDisconnected = Static<typeof PeerDisconnected>;

const Count = Type.Integer({ minimum: 0, description: 'A count of counted frames in one direction (see Resume)' });
const ResumeToken = Type.String({
  minLength: 16,
  maxLength: 256,
  description: 'Secret, single-use resume token (never the public ID)',
});

/** v2: the server's answer to `hello`, naming the capabilities now in force. */
export const Welcome = Type.Object(
  {
    type: Type.Literal('welcome'),
    version: Type.Integer({ minimum: 1 }),
    capabilities: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 }),
    resume_token: Type.Optional(ResumeToken),
    resume_grace_ms: Type.Optional(
      Type.Integer({ minimum: 0, description: 'How long a detached session waits for its client' }),
    ),
    ping_interval_ms: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Quiet time after which the server pings this client' }),
    ),
    ping_timeout_ms: Type.Optional(Type.Integer({ minimum: 1, description: 'Time a pinged client has to answer' })),
    ice_servers: Type.Optional(IceServerList),
    ice_servers_ttl_ms: Type.Optional(
      Type.Integer({ minimum: 0, description: "How long the ICE servers' credentials stay valid from now" }),
    ),
  },
  { $id: 'Welcome', description: 'v2: the server accepts hello and names the capabilities in force' },
);
/** v2: the server's answer to `hello`. */
export type Welcome = Static<typeof Welcome>;

/** v2 (`resume`): the session is this connection's again; replay of what the client missed follows. */
export const Resumed = Type.Object(
  {
    type: Type.Literal('resumed'),
    id: Id,
    peer_id: Type.Union([Id, Type.Null()], { description: 'The partner, if still paired' }),
    received: Type.Integer({ minimum: 0, description: "Counted frames of the client's the server has" }),
    resume_token: ResumeToken,
    resume_grace_ms: Type.Integer({ minimum: 0 }),
  },
  {
    $id: 'Resumed',
    description: 'v2 (resume): the detached session is back; the server replays what the client missed',
  },
);
/** v2: the session is this connection's again. */
export type Resumed = Static<typeof Resumed>;

/** v2 (`ice-servers`): fresh ICE servers (new TURN credentials) before the last ones expire. */
export const IceServersMessage = Type.Object(
  {
    type: Type.Literal('ice_servers'),
    ice_servers: IceServerList,
    ttl_ms: Type.Integer({ minimum: 0, description: 'How long these credentials stay valid from now' }),
  },
  {
    $id: 'IceServers',
    description: 'v2 (ice-servers): fresh STUN/TURN servers and credentials, sent before the previous ones expire',
  },
);
/** v2: fresh ICE servers. */
export type IceServersMessage = Static<typeof IceServersMessage>;

/** v2 (`resume`), both directions: the sender has received this many counted frames. */
export const ServerAck = Type.Object(
  { type: Type.Literal('ack'), received: Count },
  {
    $id: 'ServerAck',
    description: "v2 (resume): the server has this many of the client's counted frames; the client may forget them",
  },
);
/** v2: server acknowledgement. */
export type ServerAck = Static<typeof ServerAck>;

/** v2 (`codes`): the nameplate this client may now hand out as the head of a code. */
export const NameplateMessage = Type.Object(
  {
    type: Type.Literal('nameplate'),
    nameplate: NameplateNumber,
    expires_in_ms: Type.Integer({ minimum: 0, description: 'How long the nameplate can be claimed from now' }),
  },
  { $id: 'Nameplate', description: 'v2 (codes): a nameplate for this client, the head of the code it hands out' },
);
/** v2: a nameplate for this client. */
export type NameplateMessage = Static<typeof NameplateMessage>;

/** Why a nameplate ended. */
export const NameplateEnd = Type.Union(
  [Type.Literal('confirmed'), Type.Literal('burnt'), Type.Literal('expired'), Type.Literal('replaced')],
  {
    description:
      'confirmed: both sides confirmed the code; burnt: a claim did not end in confirmation; expired; replaced by a newer one',
  },
);

/** v2 (`codes`): a nameplate of this client's, or one it claimed, is gone, and why. */
export const NameplateClosed = Type.Object(
  {
    type: Type.Literal('nameplate_closed'),
    nameplate: NameplateNumber,
    reason: NameplateEnd,
    detail: Type.Optional(Type.String({ maxLength: 200, description: 'What the other side said, if anything' })),
  },
  {
    $id: 'NameplateClosed',
    description:
      'v2 (codes): a nameplate is gone: confirmed, burnt by a claim that did not confirm, expired or replaced',
  },
);
/** v2: a nameplate is gone. */
export type NameplateClosed = Static<typeof NameplateClosed>;

// ---------------------------------------------------------------- client → server

/** Ask the server to pair this client with the client whose ID is `target_id`. */
export const PairRequest = Type.Object(
  { type: Type.Literal('pair_request'), target_id: Id },
  { $id: 'PairRequest', description: 'Ask to be paired with the client whose ID is target_id' },
);
/** Ask to be paired with another client. */
export type PairRequest = Static<typeof PairRequest>;

/** An SDP offer for the paired peer. */
export const Offer = Type.Object(
  { type: Type.Literal('offer'), sdp: Sdp },
  { $id: 'Offer', description: 'An SDP offer for the paired peer' },
);
/** An SDP offer for the paired peer. */
export type Offer = Static<typeof Offer>;

/** An SDP answer for the paired peer. */
export const Answer = Type.Object(
  { type: Type.Literal('answer'), sdp: Sdp },
  { $id: 'Answer', description: 'An SDP answer for the paired peer' },
);
/** An SDP answer for the paired peer. */
export type Answer = Static<typeof Answer>;

/** A trickled ICE candidate for the paired peer. */
export const Candidate = Type.Object(
  { type: Type.Literal('candidate'), candidate: IceCandidate },
  { $id: 'Candidate', description: 'A trickled ICE candidate for the paired peer' },
);
/** A trickled ICE candidate for the paired peer. */
export type Candidate = Static<typeof Candidate>;

/** Answer to `ping`. Any frame counts as proof of life, so this is only needed when idle. */
export const Pong = Type.Object({ type: Type.Literal('pong') }, { $id: 'Pong', description: 'Answer to ping' });
/** Answer to ping. */
export type Pong = Static<typeof Pong>;

/**
 * v2: announce the client's version and the capabilities it wants. Sent only to a server that
 * advertised `capabilities` in `your_id`, so a v1 server never receives it.
 */
export const Hello = Type.Object(
  {
    type: Type.Literal('hello'),
    version: Type.Integer({ minimum: 1 }),
    capabilities: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 }),
  },
  {
    $id: 'Hello',
    description: 'v2: announce version and requested capabilities (only to servers that advertise them)',
  },
);
/** v2: announce version and requested capabilities. */
export type Hello = Static<typeof Hello>;

/** v2 (`leave`): end this client's pairing and stay connected; the partner gets `peer_disconnected`. */
export const Leave = Type.Object(
  { type: Type.Literal('leave') },
  { $id: 'Leave', description: 'v2 (leave): end the pairing without disconnecting; the partner is told' },
);
/** v2: end the pairing without disconnecting. */
export type Leave = Static<typeof Leave>;

/** v2 (`resume`): take a detached session over, on a new connection, right after `your_id`. */
export const Resume = Type.Object(
  {
    type: Type.Literal('resume'),
    token: ResumeToken,
    received: Type.Integer({ minimum: 0, description: "Counted frames of the server's the client has" }),
  },
  { $id: 'Resume', description: 'v2 (resume): take a detached session over on this new connection' },
);
/** v2: take a detached session over. */
export type Resume = Static<typeof Resume>;

/** v2 (`resume`): the client has received this many counted frames. */
export const ClientAck = Type.Object(
  { type: Type.Literal('ack'), received: Count },
  {
    $id: 'ClientAck',
    description: "v2 (resume): the client has this many of the server's counted frames; the server may forget them",
  },
);
/** v2: client acknowledgement. */
export type ClientAck = Static<typeof ClientAck>;

/** v2 (`codes`): ask for a nameplate; the words of the code are made on the client and never sent. */
export const NameplateRequest = Type.Object(
  { type: Type.Literal('nameplate_request') },
  {
    $id: 'NameplateRequest',
    description: 'v2 (codes): ask for a nameplate, the head of a pairing code (a newer request replaces the last)',
  },
);
/** v2: ask for a nameplate. */
export type NameplateRequest = Static<typeof NameplateRequest>;

/** v2 (`codes`): pair with the owner of a nameplate; the claimer is the initiator. One claim per nameplate. */
export const Claim = Type.Object(
  { type: Type.Literal('claim'), nameplate: NameplateNumber },
  {
    $id: 'Claim',
    description:
      'v2 (codes): pair with the owner of a nameplate (one claim each: it confirms, or the nameplate is burnt)',
  },
);
/** v2: claim a nameplate. */
export type Claim = Static<typeof Claim>;

/** v2 (`codes`): this side's outcome of the code exchange on a claimed pairing. */
export const ClaimResult = Type.Object(
  {
    type: Type.Literal('claim_result'),
    ok: Type.Boolean({ description: 'true: this side confirmed the peer knows the code and the call is theirs' }),
    reason: Type.Optional(Type.String({ maxLength: 200, description: 'Why not, when ok is false' })),
  },
  {
    $id: 'ClaimResult',
    description: 'v2 (codes): released once both sides say ok; burnt at once when either does not',
  },
);
/** v2: one side's outcome of the code exchange. */
export type ClaimResult = Static<typeof ClaimResult>;

// ---------------------------------------------------------------- unions

/** Every message a client may send, discriminated by `type`. */
export const ClientMessage = Type.Union(
  [PairRequest, Offer, Answer, Candidate, Pong, Hello, Resume, ClientAck, Leave, NameplateRequest, Claim, ClaimResult],
  { $id: 'ClientMessage' },
);
/** Every message a client may send. */
export type ClientMessage = Static<typeof ClientMessage>;

/** Every message a server may send, discriminated by `type`. */
export const ServerMessage = Type.Union(
  [
    YourId,
    Paired,
    ErrorMessage,
    RelayedOffer,
    RelayedAnswer,
    RelayedCandidate,
    Ping,
    PeerDisconnected,
    Welcome,
    Resumed,
    ServerAck,
    IceServersMessage,
    NameplateMessage,
    NameplateClosed,
  ],
  { $id: 'ServerMessage' },
);
/** Every message a server may send. */
export type ServerMessage = Static<typeof ServerMessage>;

/** Client messages the server relays to the partner. */
export type SignalMessage = Offer | Answer | Candidate;

/** A catalogue entry: one message schema with its direction, name and wire-v1 status. */
export interface MessageEntry {
  readonly name: string;
  readonly direction: 'client' | 'server';
  readonly type: string;
  readonly schema: TObject;
  readonly summary: string;
  readonly since: 1 | 2;
}

function entry(name: string, direction: 'client' | 'server', schema: TObject, since: 1 | 2): MessageEntry {
  const typeSchema = schema.properties['type'] as TSchema & { const: string };
  return { name, direction, type: typeSchema.const, schema, summary: String(schema['description']), since };
}

/** The whole protocol in one table; JSON Schema, AsyncAPI and the decoders are derived from it. */
export const catalogue: readonly MessageEntry[] = [
  entry('YourId', 'server', YourId, 1),
  entry('Paired', 'server', Paired, 1),
  entry('ErrorMessage', 'server', ErrorMessage, 1),
  entry('RelayedOffer', 'server', RelayedOffer, 1),
  entry('RelayedAnswer', 'server', RelayedAnswer, 1),
  entry('RelayedCandidate', 'server', RelayedCandidate, 1),
  entry('Ping', 'server', Ping, 1),
  entry('PeerDisconnected', 'server', PeerDisconnected, 1),
  entry('Welcome', 'server', Welcome, 2),
  entry('Resumed', 'server', Resumed, 2),
  entry('ServerAck', 'server', ServerAck, 2),
  entry('IceServers', 'server', IceServersMessage, 2),
  entry('Nameplate', 'server', NameplateMessage, 2),
  entry('NameplateClosed', 'server', NameplateClosed, 2),
  entry('PairRequest', 'client', PairRequest, 1),
  entry('Offer', 'client', Offer, 1),
  entry('Answer', 'client', Answer, 1),
  entry('Candidate', 'client', Candidate, 1),
  entry('Pong', 'client', Pong, 1),
  entry('Hello', 'client', Hello, 2),
  entry('Resume', 'client', Resume, 2),
  entry('ClientAck', 'client', ClientAck, 2),
  entry('Leave', 'client', Leave, 2),
  entry('NameplateRequest', 'client', NameplateRequest, 2),
  entry('Claim', 'client', Claim, 2),
  entry('ClaimResult', 'client', ClaimResult, 2),
];
