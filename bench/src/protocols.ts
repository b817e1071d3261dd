// How a load client speaks to each system under test: connect, learn its ID, pair, send an offer,
// and recognise a relayed offer. tandem and the floor speak wire v1; PeerServer speaks PeerJS.
import { randomUUID } from 'node:crypto';

export type SystemName = 'tandem' | 'tandem-no-metrics' | 'peerserver' | 'floor' | 'raw' | 'raw-batched';
/** The systems every figure compares. */
export const systems: SystemName[] = ['tandem', 'peerserver', 'floor'];
/**
 * The relay figure adds the raw-forward floor (pairs, then forwards bytes unparsed) and tandem
 * with metrics off (the cost of metrics on the relay path).
 */
export const relaySystems: SystemName[] = [...systems, 'raw', 'raw-batched', 'tandem-no-metrics'];

export interface Dialect {
  /** URL for a new client; PeerJS clients pick their own ID. */
  url(base: string): { url: string; id?: string };
  /** Extract the client's ID from the first frame (or the one it chose). */
  idFrom(frame: string, chosen?: string): string | null;
  /** Frames that pair a with b (none for PeerServer, which routes by `dst`). */
  pairFrame(targetId: string): string | null;
  isPaired(frame: string): boolean;
  offerFrame(targetId: string, sdp: string): string;
  isOffer(frame: string): boolean;
}

export const dialects: Record<SystemName, Dialect> = {
  tandem: v1(),
  'tandem-no-metrics': v1(),
  floor: v1(),
  raw: v1(),
  'raw-batched': v1(),
  peerserver: {
    url(base) {
      const id = randomUUID();
      return { url: `${base}/peerjs?key=peerjs&id=${id}&token=${randomUUID().slice(0, 12)}`, id };
    },
    idFrom: (frame, chosen) => (frame.includes('"OPEN"') ? chosen! : null),
    pairFrame: () => null,
    isPaired: () => true,
    offerFrame: (dst, sdp) =>
      JSON.stringify({
        type: 'OFFER',
        dst,
        payload: { sdp: { type: 'offer', sdp }, type: 'data', connectionId: 'dc_bench' },
      }),
    isOffer: (frame) => frame.startsWith('{"type":"OFFER"'),
  },
};

function v1(): Dialect {
  return {
    url: (base) => ({ url: base }),
    idFrom: (frame) => (frame.startsWith('{"type":"your_id"') ? (JSON.parse(frame) as { id: string }).id : null),
    pairFrame: (target) => JSON.stringify({ type: 'pair_request', target_id: target }),
    isPaired: (frame) => frame.startsWith('{"type":"paired"'),
    offerFrame: (_target, sdp) => JSON.stringify({ type: 'offer', sdp }),
    isOffer: (frame) => frame.startsWith('{"type":"offer"'),
  };
}

/** An SDP-like string (with real CRLFs) that makes a wire-v1 offer frame exactly `bytes` long. */
export function sdpOfSize(bytes: number): string {
  const line = 'a=candidate:1 1 udp 2122260223 192.168.1.20 54321 typ host generation 0\r\n';
  let s = 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
  const size = (x: string) => JSON.stringify({ type: 'offer', sdp: x }).length;
  while (size(s) < bytes) s += line;
  while (size(s) > bytes) s = s.slice(0, -1);
  while (size(s) < bytes) s += 'x';
  return s;
}
