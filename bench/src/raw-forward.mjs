// The physical floor of a relay on `ws`: pair like wire v1, then forward each frame's bytes to
// the partner untouched — no UTF-8 decode, no parse, no validation, no from_peer. No real
// server can be this cheap; tandem's relay cost is reported as a ratio against it.
// Usage: node raw-forward.mjs <port>
import { randomUUID } from 'node:crypto';
import { WebSocketServer } from 'ws';

const byId = new Map();
const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0), perMessageDeflate: false });
wss.on('connection', (ws) => {
  const me = { id: randomUUID(), ws, peer: null };
  byId.set(me.id, me);
  ws.send(JSON.stringify({ type: 'your_id', id: me.id }));
  ws.on('message', (data, isBinary) => {
    if (me.peer) return me.peer.ws.send(data, { binary: isBinary });
    const msg = JSON.parse(data.toString());
    if (msg.type !== 'pair_request') return;
    const t = byId.get(msg.target_id);
    if (!t) return;
    me.peer = t;
    t.peer = me;
    ws.send(JSON.stringify({ type: 'paired', peer_id: t.id, initiator: true }));
    t.ws.send(JSON.stringify({ type: 'paired', peer_id: me.id, initiator: false }));
  });
  ws.on('close', () => byId.delete(me.id));
});
