// Frame surgery for the relay: mark a validated frame as relayed without re-serialising it, so
// the SDP reaches the partner byte-for-byte as its peer sent it.

const FROM_PEER_SUFFIX = ',"from_peer":true}';
const FROM_PEER_ONLY = '"from_peer":true}';
const CLOSE_BRACE = 125; // }
const OPEN_BRACE = 123; // {

/**
 * Adds `from_peer: true` to a frame that parsed as a JSON object: its last non-space character is
 * `}`; JSON.parse keeps the last of duplicate keys, so appending wins even if the sender put its
 * own `from_peer` in.
 */
export function addFromPeer(frame: string): string {
  let end = frame.length - 1;
  while (end > 0 && frame.charCodeAt(end) !== CLOSE_BRACE) end--;
  let inner = end - 1;
  while (inner > 0 && isJsonSpace(frame.charCodeAt(inner))) inner--;
  const hadNoMembers = frame.charCodeAt(inner) === OPEN_BRACE;
  return frame.slice(0, end) + (hadNoMembers ? FROM_PEER_ONLY : FROM_PEER_SUFFIX);
}

function isJsonSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}
