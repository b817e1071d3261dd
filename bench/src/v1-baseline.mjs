// What the two bench baselines share: a wire-v1 server on `ws` that assigns IDs and pairs, and
// hands every frame from a paired client to `relay(data, isBinary, me, peer)`. Plain JS so the
// baselines run on bare node, like tandem-server's dist and PeerServer.
import { randomUUID } from 'node:crypto';
import { WebSocketServer } from 'ws';

/** Start a baseline on `port`; `relay` is the only thing the baselines differ in. */
export function startV1Baseline(port, relay) {
  const byId = new Map();
  const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    const me = { id: randomUUID(), ws, socket: req.socket, peer: null };
    byId.set(me.id, me);
    ws.send(JSON.stringify({ type: 'your_id', id: me.id }));
    ws.on('message', (data, isBinary) => {
      if (me.peer) return relay(data, isBinary, me, me.peer);
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
  return wss;
}
