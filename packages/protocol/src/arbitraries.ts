// fast-check arbitraries for every message, for property tests here, in the cores and in the
// conformance suite. Import from '@tandem/protocol/arbitraries' (fast-check is a peer dependency).
import fc from 'fast-check';
import type {
  Answer,
  Candidate,
  ClientMessage,
  ErrorMessage,
  Hello,
  IceCandidate,
  Offer,
  PairRequest,
  Paired,
  PeerDisconnected,
  Ping,
  Pong,
  RelayedAnswer,
  RelayedCandidate,
  RelayedOffer,
  Resume,
  Resumed,
  ClientAck,
  ServerAck,
  Leave,
  ServerMessage,
  Welcome,
  YourId,
} from './messages.js';

/** Any string the schemas accept as an ID (including non-ASCII and lone surrogates). */
export const arbId = (): fc.Arbitrary<string> => fc.string({ minLength: 1, maxLength: 64, unit: 'binary' });
/** SDP-ish text: arbitrary strings up to 2 KiB, so the property covers escaping, not SDP grammar. */
export const arbSdp = (): fc.Arbitrary<string> => fc.string({ maxLength: 2048, unit: 'binary' });

/** An ICE candidate in RTCIceCandidateInit form, including the end-of-candidates marker. */
export const arbIceCandidate = (): fc.Arbitrary<IceCandidate> =>
  fc.record(
    {
      candidate: fc.oneof(fc.constant(''), fc.string({ maxLength: 200 })),
      sdpMid: fc.option(fc.string({ maxLength: 8 }), { nil: null }),
      sdpMLineIndex: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: null }),
      usernameFragment: fc.option(fc.string({ maxLength: 16 }), { nil: null }),
    },
    { requiredKeys: ['candidate'] },
  );

const arbToken = () => fc.string({ minLength: 16, maxLength: 64 });
const caps = () => fc.array(fc.string({ maxLength: 32 }), { maxLength: 4 });

/** Client → server messages, one arbitrary each. */
export const arbClient = {
  pairRequest: (): fc.Arbitrary<PairRequest> => fc.record({ type: fc.constant('pair_request'), target_id: arbId() }),
  offer: (): fc.Arbitrary<Offer> => fc.record({ type: fc.constant('offer'), sdp: arbSdp() }),
  answer: (): fc.Arbitrary<Answer> => fc.record({ type: fc.constant('answer'), sdp: arbSdp() }),
  candidate: (): fc.Arbitrary<Candidate> => fc.record({ type: fc.constant('candidate'), candidate: arbIceCandidate() }),
  pong: (): fc.Arbitrary<Pong> => fc.constant({ type: 'pong' }),
  hello: (): fc.Arbitrary<Hello> =>
    fc.record({ type: fc.constant('hello'), version: fc.integer({ min: 1, max: 1000 }), capabilities: caps() }),
  resume: (): fc.Arbitrary<Resume> => fc.record({ type: fc.constant('resume'), token: arbToken(), received: fc.nat() }),
  ack: (): fc.Arbitrary<ClientAck> => fc.record({ type: fc.constant('ack'), received: fc.nat() }),
  leave: (): fc.Arbitrary<Leave> => fc.constant({ type: 'leave' }),
} as const;

/** Server → client messages, one arbitrary each. */
export const arbServer = {
  yourId: (): fc.Arbitrary<YourId> =>
    fc.record(
      { type: fc.constant('your_id'), id: arbId(), version: fc.integer({ min: 1, max: 1000 }), capabilities: caps() },
      { requiredKeys: ['type', 'id'] },
    ),
  paired: (): fc.Arbitrary<Paired> =>
    fc.record({ type: fc.constant('paired'), peer_id: arbId(), initiator: fc.boolean() }),
  error: (): fc.Arbitrary<ErrorMessage> =>
    fc.record(
      { type: fc.constant('error'), message: fc.string({ unit: 'binary' }), code: fc.string() },
      { requiredKeys: ['type', 'message'] },
    ),
  offer: (): fc.Arbitrary<RelayedOffer> =>
    fc.record({ type: fc.constant('offer'), sdp: arbSdp(), from_peer: fc.constant(true) }),
  answer: (): fc.Arbitrary<RelayedAnswer> =>
    fc.record({ type: fc.constant('answer'), sdp: arbSdp(), from_peer: fc.constant(true) }),
  candidate: (): fc.Arbitrary<RelayedCandidate> =>
    fc.record({ type: fc.constant('candidate'), candidate: arbIceCandidate(), from_peer: fc.constant(true) }),
  ping: (): fc.Arbitrary<Ping> => fc.constant({ type: 'ping' }),
  peerDisconnected: (): fc.Arbitrary<PeerDisconnected> =>
    fc.record({ type: fc.constant('peer_disconnected'), peer_id: arbId() }),
  welcome: (): fc.Arbitrary<Welcome> =>
    fc.record(
      {
        type: fc.constant('welcome'),
        version: fc.integer({ min: 1, max: 1000 }),
        capabilities: caps(),
        resume_token: arbToken(),
        resume_grace_ms: fc.nat(),
        ping_interval_ms: fc.integer({ min: 1 }),
        ping_timeout_ms: fc.integer({ min: 1 }),
      },
      { requiredKeys: ['type', 'version', 'capabilities'] },
    ),
  resumed: (): fc.Arbitrary<Resumed> =>
    fc.record({
      type: fc.constant('resumed'),
      id: arbId(),
      peer_id: fc.option(arbId(), { nil: null }),
      received: fc.nat(),
      resume_token: arbToken(),
      resume_grace_ms: fc.nat(),
    }),
  ack: (): fc.Arbitrary<ServerAck> => fc.record({ type: fc.constant('ack'), received: fc.nat() }),
} as const;

/** Any valid client message. */
export const arbClientMessage = (): fc.Arbitrary<ClientMessage> =>
  fc.oneof(...Object.values(arbClient).map((a) => a() as fc.Arbitrary<ClientMessage>));
/** Any valid server message. */
export const arbServerMessage = (): fc.Arbitrary<ServerMessage> =>
  fc.oneof(...Object.values(arbServer).map((a) => a() as fc.Arbitrary<ServerMessage>));

/**
 * Client messages broken in one field: the right `type` with a field removed or of the wrong
 * JSON type. Each value comes with the field that is wrong, so tests can check the error names it.
 */
export const arbInvalidClientMessage = (): fc.Arbitrary<{ frame: Record<string, unknown>; field: string }> =>
  fc.oneof(
    fc.record({ frame: fc.constant({ type: 'pair_request' }), field: fc.constant('target_id') }),
    fc
      .tuple(fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.constant('')), fc.constant('target_id'))
      .map(([v, field]) => ({
        frame: { type: 'pair_request', target_id: v },
        field,
      })),
    fc
      .tuple(fc.constantFrom('offer', 'answer'), fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.string())))
      .map(([type, sdp]) => ({
        frame: { type, sdp },
        field: 'sdp',
      })),
    fc
      .oneof(fc.string(), fc.integer(), fc.constant(null))
      .map((candidate) => ({ frame: { type: 'candidate', candidate }, field: 'candidate' })),
    fc.oneof(fc.integer(), fc.constant(null), fc.constant(true)).map((c) => ({
      frame: { type: 'candidate', candidate: { candidate: c, sdpMid: '0', sdpMLineIndex: 0 } },
      field: 'candidate',
    })),
  );
