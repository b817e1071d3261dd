// One or more example payloads per message, keyed `${direction}${Name}`; used by the AsyncAPI
// document and checked against the schemas in the tests.
const SDP = 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
const CAND = { candidate: 'candidate:1 1 UDP 2122252543 192.168.1.2 54400 typ host', sdpMid: '0', sdpMLineIndex: 0 };

/** Example payloads per message key. */
export const examples: Record<string, readonly Record<string, unknown>[]> = {
  serverYourId: [
    { type: 'your_id', id: '0b7c5e0e-8a8f-4c1b-9d0e-3c2f1a6b9e44' },
    { type: 'your_id', id: '0b7c5e0e-8a8f-4c1b-9d0e-3c2f1a6b9e44', version: 2, capabilities: ['keepalive.ws-ping'] },
  ],
  serverPaired: [{ type: 'paired', peer_id: '5f2d1c9a-6b0e-4e8f-a1d2-7c3b4e5f6a7b', initiator: true }],
  serverErrorMessage: [{ type: 'error', message: 'Target client not found' }],
  serverRelayedOffer: [{ type: 'offer', sdp: SDP, from_peer: true }],
  serverRelayedAnswer: [{ type: 'answer', sdp: SDP, from_peer: true }],
  serverRelayedCandidate: [
    { type: 'candidate', candidate: CAND, from_peer: true },
    { type: 'candidate', candidate: { candidate: '', sdpMid: '0', sdpMLineIndex: 0 }, from_peer: true },
  ],
  serverPing: [{ type: 'ping' }],
  serverPeerDisconnected: [{ type: 'peer_disconnected', peer_id: '5f2d1c9a-6b0e-4e8f-a1d2-7c3b4e5f6a7b' }],
  serverWelcome: [{ type: 'welcome', version: 2, capabilities: ['keepalive.ws-ping'] }],
  clientPairRequest: [{ type: 'pair_request', target_id: '5f2d1c9a-6b0e-4e8f-a1d2-7c3b4e5f6a7b' }],
  clientOffer: [{ type: 'offer', sdp: SDP }],
  clientAnswer: [{ type: 'answer', sdp: SDP }],
  clientCandidate: [{ type: 'candidate', candidate: CAND }, { type: 'candidate', candidate: { candidate: '', sdpMid: null, sdpMLineIndex: null } }],
  clientPong: [{ type: 'pong' }],
  clientHello: [{ type: 'hello', version: 2, capabilities: ['keepalive.ws-ping'] }],
};
