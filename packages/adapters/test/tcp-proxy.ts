// A TCP proxy on loopback that can break a client's link the two ways networks do: a reset
// (every connection cut, new ones refused, for a while) and a stall (nothing flows either way,
// connections stay open, for a while). Every wait is bounded by the caller's durations.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** ws:// URL that reaches the target through the proxy. */
  readonly url: string;
  /** Cut every connection with a TCP reset and refuse new ones for `ms`. */
  reset(ms: number): Promise<void>;
  /** Hold every byte in both directions for `ms` (connections stay open), then let it all through. */
  stall(ms: number): Promise<void>;
  /** Send new connections to this port from now on (a load balancer picking another node). */
  retarget(port: number): void;
  close(): Promise<void>;
}

export async function startTcpProxy(firstTargetPort: number, path = ''): Promise<TcpProxy> {
  let targetPort = firstTargetPort;
  const pairs = new Set<[Socket, Socket]>();
  let refusing = false;
  let stalled = false;
  const held: (() => void)[] = [];
  const pipe = (from: Socket, to: Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (stalled) held.push(() => to.write(chunk));
      else to.write(chunk);
    });
  };
  const server: Server = createServer((client) => {
    if (refusing) return client.resetAndDestroy();
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    pipe(client, upstream);
    pipe(upstream, client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  return {
    url: `ws://127.0.0.1:${port}${path}`,
    retarget(port: number) {
      targetPort = port;
    },
    async reset(ms) {
      refusing = true;
      for (const [client, upstream] of pairs) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      }
      pairs.clear();
      await wait(ms);
      refusing = false;
    },
    async stall(ms) {
      stalled = true;
      await wait(ms);
      stalled = false;
      for (const release of held.splice(0)) release();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const [a, b] of pairs) {
          a.destroy();
          b.destroy();
        }
        server.close(() => r());
      }),
  };
}
