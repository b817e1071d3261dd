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
  serverPaired: [
    { type: 'paired', peer_id: '5f2d1c9a-6b0e-4e8f-a1d2-7c3b4e5f6a7b', initiator: true },
    { type: 'paired', peer_id: '5f2d1c9a-6b0e-4e8f-a1d2-7c3b4e5f6a7b', initiator: false, nameplate: '7' },
  ],
  serverNameplate: [{ type: 'nameplate', nameplate: '7', expires_in_ms: 600000 }],
  serverNameplateClosed: [
    { type: 'nameplate_closed', nameplate: '7', reason: 'confirmed' },
    { type: 'nameplate_closed', nameplate: '7', reason: 'burnt', detail: 'key confirmation failed' },
  ],
  serverErrorMessage: [{ type: 'error', message: 'Target client not found' }],
  serverRelayedOffer: [{ type: 'offer', sdp: SDP, from_peer: true }],
  serverRelayedAnswer: [{ type: 'answer', sdp: SDP, from_peer: true }],
  serverRelayedCandidate: [
    { type: 'candidate', candidate: CAND, from_peer: true },
    { type: 'candidate', candidate: { candidate: '', sdpMid: '0', sdpMLineIndex: 0 }, from_peer: true },
  ],
  serverPing: [{ type: 'ping' }],
  serverPeerDisconnected: [{ type: 'peer_disconnected', peer_id: '5f2d1c9a-6b0e-4e8f-a1d2-7c3b4e5f6a7b' }],
  serverWelcome: [
    { type: 'welcome', version: 2, capabilities: ['keepalive.ws-ping'] },
    {
      type: 'welcome',
      version: 2,
      capabilities: ['resume'],
      resume_token: 'k3Jd9.q8Zr2mV5tYx1Lw0pNcA7sE4uH6',
      resume_grace_ms: 30000,
      ping_interval_ms: 25000,
      ping_timeout_ms: 20000,
    },
    {
      type: 'welcome',
      version: 2,
      capabilities: ['ice-servers'],
      ice_servers: [
        {
          urls: 'turn:turn.example.com:3478',
          username: '1764547200:0b7c5e0e-8a8f-4c1b-9d0e-3c2f1a6b9e44',
          credential: 'q0Wf1X2b8z3cS9lZ7mK4yR6tUeA=',
        },
      ],
      ice_servers_ttl_ms: 3_600_000,
    },
  ],
  serverResumed: [
    {
      type: 'resumed',
      id: '0b7c5e0e-8a8f-4c1b-9d0e-3c2f1a6b9e44',
      peer_id: '5f2d1c9a-6b0e-4e8f-a1d2-7c3b4e5f6a7b',
      received: 12,
      resume_token: 'x81Qe.Fh3Kp0Wn6Rz2Vb9Lc4Ty7Ud5Sg1',
      resume_grace_ms: 30000,
    },
  ],
  serverServerAck: [{ type: 'ack', received: 16 }],
  serverIceServers: [
    {
      type: 'ice_servers',
      ice_servers: [
        { urls: 'stun:turn.example.com:3478' },
        {
          urls: ['turn:turn.example.com:3478?transport=udp', 'turn:turn.example.com:3478?transport=tcp'],
          username: '1764547200:0b7c5e0e-8a8f-4c1b-9d0e-3c2f1a6b9e44',
          credential: 'q0Wf1X2b8z3cS9lZ7mK4yR6tUeA=',
        },
      ],
      ttl_ms: 3_600_000,
    },
  ],
  clientPairRequest: [{ type: 'pair_request', target_id: '5f2d1c9a-6b0e-4e8f-a1d2-7c3b4e5f6a7b' }],
  clientOffer: [{ type: 'offer', sdp: SDP }],
  clientAnswer: [{ type: 'answer', sdp: SDP }],
  clientCandidate: [
    { type: 'candidate', candidate: CAND },
    { type: 'candidate', candidate: { candidate: '', sdpMid: null, sdpMLineIndex: null } },
  ],
  clientPong: [{ type: 'pong' }],
  clientHello: [
    { type: 'hello', version: 2, capabilities: ['keepalive.ws-ping'] },
    { type: 'hello', version: 2, capabilities: ['resume'] },
  ],
  clientResume: [{ type: 'resume', token: 'k3Jd9.q8Zr2mV5tYx1Lw0pNcA7sE4uH6', received: 7 }],
  clientClientAck: [{ type: 'ack', received: 16 }],
  clientLeave: [{ type: 'leave' }],
  clientNameplateRequest: [{ type: 'nameplate_request' }],
  clientClaim: [{ type: 'claim', nameplate: '7' }],
  clientClaimResult: [
    { type: 'claim_result', ok: true },
    { type: 'claim_result', ok: false, reason: 'key confirmation failed' },
  ],
};
