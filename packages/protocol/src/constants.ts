// The protocol's constants, free of TypeBox: a browser bundle that decodes frames and speaks
// the protocol needs these but not the schema builders (messages.ts), which stay on the server
// and in the generated documents.

/** The protocol version this package speaks; v1 peers never send or need it. */
export const PROTOCOL_VERSION = 2;

/**
 * Capabilities a server may advertise in `your_id` and a client may request in `hello`.
 * A v1 peer never sees a capability it did not ask for.
 */
export const Capability = {
  /** Server may keep this client alive with WebSocket control pings instead of JSON `ping`. */
  WsPing: 'keepalive.ws-ping',
  /**
   * A dropped link detaches the session instead of ending it: the client comes back with `resume`
   * and its token within the grace period, keeps its ID and pairing, and both sides replay the
   * counted frames the other missed.
   */
  Resume: 'resume',
  /** The client may end its pairing without disconnecting (`leave`); its partner is told as usual. */
  Leave: 'leave',
  /**
   * The server hands the client the STUN/TURN servers to use (`welcome.ice_servers`), with
   * short-lived TURN credentials, and sends fresh ones (`ice_servers`) before those expire.
   */
  IceServers: 'ice-servers',
  /**
   * Pairing by short code: the server hands out nameplates (`nameplate_request` → `nameplate`),
   * pairs a claimer with a nameplate's owner (`claim` → `paired` with `nameplate`), and burns a
   * nameplate whose claim does not end with both sides confirming (`claim_result`). The rest of
   * the code, the secret words, never reaches the server: the two clients run a PAKE over their
   * call and confirm the call's DTLS fingerprints with its key.
   */
  Codes: 'codes',
} as const;
/**
 * What a client announces to its future partners in `hello` (servers grant nothing for these and
 * ignore them); a v2 server tells the partner in `paired.peer_capabilities`.
 */
export const PeerCapability = {
  /** This client takes calls whose media rides in the pairing's very first offer. */
  Media: 'peer.media',
} as const;

/** One of the known capability names (unknown names are allowed and ignored). */
export type Capability = (typeof Capability)[keyof typeof Capability];

/**
 * Resume counting (capability `resume`). After `welcome` grants resume, each side counts the
 * frames it sends and receives, except these control frames. A receiver acknowledges with `ack`
 * once it holds `ACK_EVERY_FRAMES` counted frames or `ACK_EVERY_BYTES` bytes it has not acked
 * yet; a sender keeps every counted frame until it is acknowledged, and after a resume replays
 * those the other side did not have. The n-th counted frame is frame n: no sequence numbers
 * travel, so relayed frames stay byte-for-byte what the peer sent.
 */
export const uncountedServerTypes: ReadonlySet<string> = new Set(['your_id', 'welcome', 'resumed', 'ping', 'ack']);
export const uncountedClientTypes: ReadonlySet<string> = new Set(['hello', 'pong', 'resume', 'ack']);
export const ACK_EVERY_FRAMES = 16;
export const ACK_EVERY_BYTES = 262_144;
