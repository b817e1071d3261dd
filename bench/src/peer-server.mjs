// PeerServer (the `peer` npm package) on loopback, as PeerJS users run it. Only the connection
// limit is raised (default 5000) so the memory figure can reach 19,000 clients.
// Usage: node peer-server.mjs <port>
import { PeerServer } from 'peer';

PeerServer({ host: '127.0.0.1', port: Number(process.argv[2] ?? 9000), path: '/', concurrent_limit: 1_000_000 });
