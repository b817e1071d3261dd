// The physical floor of a relay on `ws`: pair like wire v1, then forward each frame's bytes to
// the partner untouched — no UTF-8 decode, no parse, no validation, no from_peer. No real server
// can be this cheap; tandem's relay cost is reported as a ratio against it.
// Usage: node raw-forward.mjs <port>
import { startV1Baseline } from './v1-baseline.mjs';

startV1Baseline(Number(process.argv[2] ?? 0), (data, isBinary, _me, peer) => peer.ws.send(data, { binary: isBinary }));
