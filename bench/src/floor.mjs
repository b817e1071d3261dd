// The floor: the least a wire-v1 relay can do on `ws` — parse JSON, pair, add from_peer,
// stringify. No validation, no keepalive, no limits. Plain JS so it runs on bare node, like
// tandem-server's dist and PeerServer. Usage: node floor.mjs <port>
import { randomUUID } from 'node:crypto';
import { WebSocketServer } from 'ws';

const byId = new Map();
const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0), perMessageDeflate: false });
wss.on('connection', (ws) => {
  const me = { id: randomUUID(), ws, peer: null };
  byId.set(me.id, me);
  ws.send(JSON.stringify({ type: 'your_id', id: me.id }));
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.type === 'pair_request') {
      const t = byId.get(msg.target_id);
      if (!t) return;
      me.peer = t;
      t.peer = me;
      ws.send(JSON.stringify({ type: 'paired', peer_id: t.id, initiator: true }));
      t.ws.send(JSON.stringify({ type: 'paired', peer_id: me.id, initiator: false }));
    } else if (me.peer) {
      msg.from_peer = true;
      me.peer.ws.send(JSON.stringify(msg));
    }
  });
  ws.on('close', () => byId.delete(me.id));
});
