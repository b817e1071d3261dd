// The floor: the least a wire-v1 relay can do on `ws` — parse JSON, pair, add from_peer,
// stringify. No validation, no keepalive, no limits. Usage: node floor.mjs <port>
import { startV1Baseline } from './v1-baseline.mjs';

startV1Baseline(Number(process.argv[2] ?? 0), (data, _isBinary, _me, peer) => {
  const msg = JSON.parse(data.toString());
  msg.from_peer = true;
  peer.ws.send(JSON.stringify(msg));
});
