// A wire-v1 server written straight from docs/wire-v1.md by someone who never saw tandem's
// code: no @tandem imports, no extensions, JSON pings, and an extra field or two that receivers
// must ignore. Used to prove tandem-client works with "any server written to that page".
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';

interface Peer {
  id: string;
  ws: WebSocket;
  partner: Peer | null;
  lastHeard: number;
}

export interface ForeignServer {
  url: string;
  /** Every `type` a client sent, in order. */
  received: string[];
  close(): Promise<void>;
}

export async function startForeignServer(pingMs = 500, timeoutMs = 1000): Promise<ForeignServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const byId = new Map<string, Peer>();
  const received: string[] = [];
  const send = (p: Peer, msg: object) => p.ws.send(JSON.stringify({ ...msg, server: 'foreign/1' }));
  const unpair = (p: Peer) => {
    const other = p.partner;
    p.partner = null;
    if (other) {
      other.partner = null;
      send(other, { type: 'peer_disconnected', peer_id: p.id });
    }
  };
  wss.on('connection', (ws) => {
    const me: Peer = { id: randomUUID(), ws, partner: null, lastHeard: Date.now() };
    byId.set(me.id, me);
    send(me, { type: 'your_id', id: me.id });
    ws.on('message', (data) => {
      me.lastHeard = Date.now();
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        return send(me, { type: 'error', message: 'Invalid JSON' });
      }
      received.push(String(msg['type']));
      switch (msg['type']) {
        case 'pong':
          return;
        case 'pair_request': {
          const target = byId.get(String(msg['target_id']));
          if (!target) return send(me, { type: 'error', message: 'Target client not found' });
          if (target === me) return send(me, { type: 'error', message: 'Cannot pair with yourself' });
          if (me.partner) return send(me, { type: 'error', message: 'You are already paired' });
          if (target.partner) return send(me, { type: 'error', message: 'Target client is already paired' });
          me.partner = target;
          target.partner = me;
          send(me, { type: 'paired', peer_id: target.id, initiator: true });
          return send(target, { type: 'paired', peer_id: me.id, initiator: false });
        }
        case 'offer':
        case 'answer':
        case 'candidate':
          if (!me.partner) return send(me, { type: 'error', message: 'Not paired' });
          return me.partner.ws.send(JSON.stringify({ ...msg, from_peer: true }));
        default:
          return send(me, { type: 'error', message: `Unknown message type: ${String(msg['type'])}` });
      }
    });
    ws.on('close', () => {
      byId.delete(me.id);
      unpair(me);
    });
  });
  const timer = setInterval(() => {
    for (const p of byId.values()) {
      if (Date.now() - p.lastHeard > pingMs + timeoutMs) p.ws.terminate();
      else p.ws.send('{"type":"ping"}');
    }
  }, pingMs);
  await new Promise((r) => wss.once('listening', r));
  const { port } = wss.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise((r) => {
        clearInterval(timer);
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}
