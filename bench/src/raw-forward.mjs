// The physical floor of a relay on `ws`: pair like wire v1, then forward each frame's bytes to
// the partner untouched — no UTF-8 decode, no parse, no validation, no from_peer. No real server
// can be this cheap; tandem's relay cost is reported as a ratio against it. `--batched` adds
// tandem-server's write batching (a partner's socket corked from the first frame of a read
// until the work in hand is done), so the ratio against it is the cores' cost alone.
// Usage: node raw-forward.mjs <port> [--batched]
import { startV1Baseline } from './v1-baseline.mjs';

const corked = new Set();
let queued = false;
const uncorkAll = () => {
  queued = false;
  for (const socket of corked) socket.uncork();
  corked.clear();
};
const batched = process.argv.includes('--batched');

startV1Baseline(Number(process.argv[2] ?? 0), (data, isBinary, _me, peer) => {
  if (batched && !corked.has(peer.socket)) {
    peer.socket.cork();
    corked.add(peer.socket);
    if (!queued) {
      queued = true;
      process.nextTick(uncorkAll);
    }
  }
  peer.ws.send(data, { binary: isBinary });
});
