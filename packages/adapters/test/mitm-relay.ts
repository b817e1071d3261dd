// An active man in the middle on the signaling path, for tests: a WebSocket front for a real
// tandem-server that lets every frame through except the WebRTC handshake. Each client's offers,
// answers and candidates go to a werift peer of the relay's own, which answers that client itself;
// the relay then offers its other werift peer to the partner as if it were the first client, and
// bridges every data channel between the two calls (same label, same subprotocol), reading all of
// it. Both clients see `paired`, an open data channel, a direct path, their tandem peer's hello —
// everything but the certificates, which are the relay's. It hides the server's `resume` from
// the clients (so it never has to keep resume counts right), and with `v1: true` every v2
// capability (the clients then speak wire v1 to the server).
import { WebSocket, WebSocketServer } from 'ws';
import { RTCPeerConnection, type RTCDataChannel } from 'werift';

export interface MitmRelay {
  readonly url: string;
  /** Every text message the relay read off the bridged channels, as `<label>: <text>` (with the direction). */
  readonly read: string[];
  /** The certificate fingerprints of the relay's own peers (what each client sees as its peer's). */
  fingerprints(): string[];
  close(): Promise<void>;
}

interface Side {
  client: WebSocket;
  upstream: WebSocket;
  /** The relay's peer facing this client. */
  pc: RTCPeerConnection | null;
  partner: Side | null;
  /** Channels of this side's call by label, and what arrived for them before the other side's opened. */
  channels: Map<string, RTCDataChannel>;
}

export async function startMitmRelay(serverUrl: string, options: { v1?: boolean } = {}): Promise<MitmRelay> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = (wss.address() as { port: number }).port;
  const read: string[] = [];
  const sides = new Set<Side>();
  const byId = new Map<string, Side>();
  const pcs: RTCPeerConnection[] = [];

  const toClient = (s: Side, m: Record<string, unknown>) => {
    if (s.client.readyState === WebSocket.OPEN) s.client.send(JSON.stringify(m));
  };
  const newPeer = (s: Side): RTCPeerConnection => {
    const pc = new RTCPeerConnection({});
    pcs.push(pc);
    s.pc = pc;
    pc.onIceCandidate.subscribe((c) => {
      if (c === undefined) return;
      const j = c.toJSON();
      toClient(s, {
        type: 'candidate',
        candidate: { candidate: j.candidate ?? '', sdpMid: j.sdpMid ?? null, sdpMLineIndex: j.sdpMLineIndex ?? null },
        from_peer: true,
      });
    });
    // a channel the client opened: open the same towards the partner and bridge the two
    pc.onDataChannel.subscribe((dc) => {
      const other = s.partner?.pc;
      if (!other) return;
      const existing = s.partner!.channels.get(dc.label);
      const twin = existing ?? other.createDataChannel(dc.label, { protocol: dc.protocol, ordered: dc.ordered });
      s.channels.set(dc.label, dc);
      s.partner!.channels.set(dc.label, twin);
      bridge(dc, twin);
    });
    return pc;
  };
  const bridge = (a: RTCDataChannel, b: RTCDataChannel) => {
    const pipe = (from: RTCDataChannel, to: RTCDataChannel) => {
      const held: (string | Buffer)[] = [];
      const flush = () => {
        while (held.length > 0 && to.readyState === 'open') to.send(held.shift()!);
      };
      to.stateChanged.subscribe((st) => st === 'open' && flush());
      from.onMessage.subscribe((data) => {
        if (typeof data === 'string') read.push(`${from.label}: ${data}`);
        held.push(data);
        flush();
      });
    };
    pipe(a, b);
    pipe(b, a);
  };

  wss.on('connection', (client) => {
    const upstream = new WebSocket(serverUrl, { perMessageDeflate: false });
    const side: Side = { client, upstream, pc: null, partner: null, channels: new Map() };
    sides.add(side);
    const early: string[] = [];
    upstream.on('open', () => early.splice(0).forEach((f) => upstream.send(f)));
    upstream.on('message', (data) => {
      const m = JSON.parse(String(data)) as Record<string, unknown>;
      if (m['type'] === 'your_id') {
        byId.set(String(m['id']), side);
        if (options.v1 === true) {
          delete m['capabilities']; // the client takes the server for a v1 one
          delete m['version'];
        } else if (Array.isArray(m['capabilities']))
          m['capabilities'] = (m['capabilities'] as string[]).filter((c) => c !== 'resume');
      }
      if (m['type'] === 'paired') {
        const partner = byId.get(String(m['peer_id']));
        if (partner) {
          side.partner = partner;
          partner.partner = side;
        }
      }
      if (m['type'] === 'offer' || m['type'] === 'answer' || m['type'] === 'candidate') return; // none reach a client but ours
      toClient(side, m);
    });
    client.on('message', (data) => {
      const text = String(data);
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return;
      }
      if (m['type'] === 'offer') return void onOffer(side, String(m['sdp']));
      if (m['type'] === 'answer') return void side.pc?.setRemoteDescription({ type: 'answer', sdp: String(m['sdp']) });
      if (m['type'] === 'candidate') {
        const c = m['candidate'] as { candidate: string; sdpMid: string | null; sdpMLineIndex: number | null };
        if (side.pc && c.candidate !== '')
          void side.pc
            .addIceCandidate({
              candidate: c.candidate,
              sdpMid: c.sdpMid ?? undefined,
              sdpMLineIndex: c.sdpMLineIndex ?? undefined,
            })
            .catch(() => undefined);
        return;
      }
      if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
      else early.push(text);
    });
    const end = () => {
      client.close();
      upstream.close();
      side.pc?.close().catch(() => undefined);
      sides.delete(side);
    };
    client.on('close', end);
    upstream.on('close', end);
  });

  /** The initiator's offer: answer it ourselves, and offer our other peer to the partner in its place. */
  async function onOffer(initiator: Side, sdp: string): Promise<void> {
    const responder = initiator.partner;
    if (responder === null) return;
    const towardsInitiator = newPeer(initiator);
    const towardsResponder = newPeer(responder);
    // the initiator's chat channel comes with its offer; the responder gets ours, with the same subprotocol
    const tandem = /a=sctp-port/.test(sdp);
    responder.channels.set('chat', towardsResponder.createDataChannel('chat', tandem ? { protocol: 'tandem.2' } : {}));
    await towardsInitiator.setRemoteDescription({ type: 'offer', sdp });
    await towardsInitiator.setLocalDescription(await towardsInitiator.createAnswer());
    toClient(initiator, { type: 'answer', sdp: towardsInitiator.localDescription!.sdp, from_peer: true });
    await towardsResponder.setLocalDescription(await towardsResponder.createOffer());
    toClient(responder, { type: 'offer', sdp: towardsResponder.localDescription!.sdp, from_peer: true });
  }

  return {
    url: `ws://127.0.0.1:${port}`,
    read,
    fingerprints: () =>
      pcs.flatMap((pc) =>
        [...(pc.localDescription?.sdp ?? '').matchAll(/^a=fingerprint:(\S+ \S+)/gm)].map((m) => m[1]!),
      ),
    close: async () => {
      for (const s of sides) {
        s.client.terminate();
        s.upstream.terminate();
      }
      await Promise.all(pcs.map((pc) => pc.close().catch(() => undefined)));
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}
