// A TURN Allocate over UDP with long-term credentials (RFC 5389/5766), run inside a lab namespace:
//   node turn-probe.mjs <host> <port> <username> <password>
// Prints `OK <relayed address>:<port>` or `ERROR <code> <reason>` (or `TIMEOUT`). No dependencies.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';

const [host, portText, username, password] = process.argv.slice(2);
const port = Number(portText);
const MAGIC = 0x2112a442;
const ALLOCATE = 0x0003;
const attr = (type, value) => {
  const pad = (4 - (value.length % 4)) % 4;
  const b = Buffer.alloc(4 + value.length + pad);
  b.writeUInt16BE(type, 0);
  b.writeUInt16BE(value.length, 2);
  value.copy(b, 4);
  return b;
};
const header = (type, length, tid) => {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(length, 2);
  h.writeUInt32BE(MAGIC, 4);
  tid.copy(h, 8);
  return h;
};
function request(auth) {
  const tid = randomBytes(12);
  const attrs = [attr(0x0019, Buffer.from([17, 0, 0, 0]))]; // REQUESTED-TRANSPORT: UDP
  if (auth)
    attrs.push(
      attr(0x0006, Buffer.from(username)),
      attr(0x0014, Buffer.from(auth.realm)),
      attr(0x0015, Buffer.from(auth.nonce)),
    );
  let body = Buffer.concat(attrs);
  if (auth) {
    // MESSAGE-INTEGRITY over the message with the length already counting it
    const key = createHash('md5').update(`${username}:${auth.realm}:${password}`).digest();
    const hmac = createHmac('sha1', key)
      .update(Buffer.concat([header(ALLOCATE, body.length + 24, tid), body]))
      .digest();
    body = Buffer.concat([body, attr(0x0008, hmac)]);
  }
  return Buffer.concat([header(ALLOCATE, body.length, tid), body]);
}
function parse(msg) {
  const type = msg.readUInt16BE(0);
  const attrs = new Map();
  for (let i = 20; i + 4 <= msg.length;) {
    const t = msg.readUInt16BE(i);
    const len = msg.readUInt16BE(i + 2);
    attrs.set(t, msg.subarray(i + 4, i + 4 + len));
    i += 4 + len + ((4 - (len % 4)) % 4);
  }
  return { type, attrs };
}
const socket = createSocket('udp4');
const timer = setTimeout(() => {
  console.log('TIMEOUT');
  process.exit(2);
}, 5000);
let authed = false;
socket.on('message', (msg) => {
  const { type, attrs } = parse(msg);
  if (type === 0x0103) {
    // success: XOR-RELAYED-ADDRESS
    const x = attrs.get(0x0016);
    const p = x.readUInt16BE(2) ^ (MAGIC >>> 16);
    const a = (x.readUInt32BE(4) ^ MAGIC) >>> 0;
    console.log(`OK ${[a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.')}:${p}`);
    clearTimeout(timer);
    process.exit(0);
  }
  const err = attrs.get(0x0009);
  const code = err ? err[2] * 100 + err[3] : 0;
  const reason = err ? err.subarray(4).toString() : '';
  if (code === 401 && !authed) {
    authed = true;
    socket.send(request({ realm: attrs.get(0x0014).toString(), nonce: attrs.get(0x0015).toString() }), port, host);
    return;
  }
  console.log(`ERROR ${code} ${reason}`);
  clearTimeout(timer);
  process.exit(1);
});
socket.send(request(null), port, host);
