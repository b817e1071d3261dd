// Who may connect, over real sockets: tandem-server with JWT auth (HS256 secret file, a JWKS file,
// a JWKS URL on 127.0.0.1) refuses upgrades without a valid token (401, one log line, a metric),
// takes the token from ?token=, the subprotocol or a Bearer header, names the client by its sub,
// closes a link when its token expires (4003), keeps pairing within a tenant (on a cluster of two
// nodes over a real redis-server too), and never writes a token or a URL's query to its log.
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { TANDEM_SUBPROTOCOL, tokenSubprotocols } from '@tandem/protocol';
import { killAll, logHandle, start, startClient, startServer, type Proc } from './procs.js';
import { connect, type TestClient } from './ws-client.js';
import { startRedis, stopAllRedis, type RedisProc } from './redis.js';

const dir = mkdtempSync(join(tmpdir(), 'tandem-auth-'));
const SECRET = 'a-test-secret-of-at-least-32-bytes-long!';
const secretFile = join(dir, 'secret');
writeFileSync(secretFile, `${SECRET}\n`);
const hs = (claims: Record<string, unknown>, expiresIn: string | number = '10m') =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(Buffer.from(SECRET));

const tokensSeen: string[] = [];
const token = async (claims: Record<string, unknown>, expiresIn?: string | number) => {
  const t = await hs(claims, expiresIn);
  tokensSeen.push(t);
  return t;
};
const withToken = (url: string, t: string) => `${url}/?token=${encodeURIComponent(t)}&note=query-not-logged`;
const refusedWith = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('connected without a valid token');
    },
    (e: Error & { status?: number; body?: string }) => ({ status: e.status, body: e.body }),
  );
const noSecretIn = (proc: Proc) => {
  for (const t of tokensSeen)
    expect(proc.lines.filter((l) => l.includes(t) || l.includes(t.split('.')[2]!))).toEqual([]);
  expect(proc.lines.filter((l) => l.includes('query-not-logged') || l.includes(SECRET))).toEqual([]);
};

afterAll(async () => {
  await killAll();
  await stopAllRedis();
});

describe('JWT auth (HS256 secret file)', () => {
  let server: Proc;
  let url: string;
  beforeAll(async () => {
    ({ server, url } = await startServer([
      '--auth-jwt-secret-file',
      secretFile,
      '--auth-clock-skew',
      '0',
      '--log-level',
      'debug',
      '--no-demo',
    ]));
  }, 30_000);

  it('refuses an upgrade without a valid token before the WebSocket: 401 and why, one log line, a metric', async () => {
    expect(await refusedWith(connect(url))).toEqual({ status: 401, body: 'a token is required to connect' });
    const expired = await token({ sub: 'late' }, Math.floor(Date.now() / 1000) - 60);
    expect(await refusedWith(connect(withToken(url, expired)))).toEqual({ status: 401, body: 'token expired' });
    const early = await new SignJWT({ sub: 'early' })
      .setProtectedHeader({ alg: 'HS256' })
      .setNotBefore('1h')
      .setExpirationTime('2h')
      .sign(Buffer.from(SECRET));
    tokensSeen.push(early);
    expect(await refusedWith(connect(withToken(url, early)))).toEqual({ status: 401, body: 'token not valid yet' });
    const forged = await new SignJWT({ sub: 'mallory' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(Buffer.from('another-secret-of-at-least-32-bytes!!'));
    tokensSeen.push(forged);
    expect(await refusedWith(connect(withToken(url, forged)))).toEqual({
      status: 401,
      body: 'token invalid: bad signature',
    });
    expect(await refusedWith(connect(withToken(url, 'not.a.jwt')))).toMatchObject({ status: 401 });
    await server.waitFor(/Refused connection from 127\.0\.0\.1: 401 token invalid: not a well-formed JWT/);
    expect(server.count(/Refused connection from 127\.0\.0\.1: 401 /)).toBe(5);
    const metrics = await (await fetch(url.replace('ws://', 'http://') + '/metrics')).text();
    expect(metrics).toMatch(/tandem_refused_connections_total\{reason="unauthorized"\} 5/);
    noSecretIn(server);
  });

  it('takes the token from ?token=, the subprotocol (answering tandem, never the token) or a Bearer header', async () => {
    const viaQuery = await connect(withToken(url, await token({ sub: 'q' })));
    const t = await token({ sub: 'p' });
    const { WebSocket } = await import('ws');
    // offered token first: a server that echoed the first offer would send the token back
    const ws = new WebSocket(url, [...tokenSubprotocols(t)].reverse());
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    expect(ws.protocol).toBe(TANDEM_SUBPROTOCOL);
    ws.close();
    const viaBearer = await connect(url, { headers: { authorization: `Bearer ${await token({ sub: 'b' })}` } });
    expect(viaQuery.id).toMatch(/\S+/);
    expect(viaBearer.id).toMatch(/\S+/);
    viaQuery.ws.close();
    viaBearer.ws.close();
  });

  it('names a client by its sub and handle in the log; closes its link with 4003 when the token expires', async () => {
    const t = await token({ sub: 'alice' }, Math.floor(Date.now() / 1000) + 2);
    const a = await connect(withToken(url, t));
    const b = await connect(withToken(url, await token({ sub: 'bob' })));
    await server.waitFor(new RegExp(`Client alice#${logHandle(a.id)} connected\\.`));
    b.send({ type: 'pair_request', target_id: a.id });
    await a.next((m) => m['type'] === 'paired', 'paired');
    await server.waitFor(new RegExp(`Paired bob#${logHandle(b.id)} with alice#${logHandle(a.id)}\\.`));
    const closed = await a.closed(6_000);
    expect(closed).toEqual({ code: 4003, reason: 'authorization expired: reconnect with a fresh token' });
    await b.next((m) => m['type'] === 'peer_disconnected', 'peer_disconnected');
    await server.waitFor(new RegExp(`Authorization of alice#${logHandle(a.id)} expired`));
    noSecretIn(server);
    b.ws.close();
  });

  it('pairs only within a tenant: another tenant is "Target client not found"', async () => {
    const acme = await connect(withToken(url, await token({ sub: 'a', tenant: 'acme' })));
    const acme2 = await connect(withToken(url, await token({ sub: 'a2', tenant: 'acme' })));
    const globex = await connect(withToken(url, await token({ sub: 'g', tenant: 'globex' })));
    const none = await connect(withToken(url, await token({ sub: 'n' })));
    for (const c of [globex, none]) {
      c.send({ type: 'pair_request', target_id: acme.id });
      expect(await c.next((m) => m['type'] === 'error', 'error')).toMatchObject({ message: 'Target client not found' });
    }
    acme2.send({ type: 'pair_request', target_id: acme.id });
    await acme.next((m) => m['type'] === 'paired', 'paired within acme');
    for (const c of [acme, acme2, globex, none]) c.ws.close();
  });

  it('tandem-client --token-file and --token pair and chat', async () => {
    const fileA = join(dir, 'alice.token');
    writeFileSync(fileA, `${await token({ sub: 'alice-cli' })}\n`);
    const a = await startClient(url, ['--token-file', fileA]);
    const b = await startClient(url, ['--token', await token({ sub: 'bob-cli' })]);
    b.client.write(a.id);
    await a.client.waitFor(/Data channel opened/, 20_000);
    await b.client.waitFor(/Data channel opened/, 20_000);
    a.client.write('hello with a token');
    await b.client.waitFor(/< Peer: hello with a token/);
    await server.waitFor(new RegExp(`Client alice-cli#${logHandle(a.id)} connected`));
    noSecretIn(server);
  });
});

describe('JWT expiry with tandem-clients (HS256)', () => {
  it('an expired token ends the signaling link, not the call: they keep chatting; a token rotated in --token-file resumes', async () => {
    const { server, url } = await startServer(['--auth-jwt-secret-file', secretFile, '--auth-clock-skew', '0']);
    const fileA = join(dir, 'short.token');
    writeFileSync(fileA, await token({ sub: 'short' }, Math.floor(Date.now() / 1000) + 12));
    const a = await startClient(url, ['--token-file', fileA]);
    const b = await startClient(url, ['--token', await token({ sub: 'long' })]);
    b.client.write(a.id);
    await a.client.waitFor(/Data channel opened/, 20_000);
    await b.client.waitFor(/Data channel opened/, 20_000);
    await server.waitFor(new RegExp(`Authorization of short#${logHandle(a.id)} expired`), 20_000);
    await a.client.waitFor(/\*\*\* Signaling link lost; resuming\.\.\. \*\*\*/);
    await server.waitFor(/Refused connection from 127\.0\.0\.1: 401 token expired/);
    a.client.write('after expiry');
    await b.client.waitFor(/^< Peer: after expiry$/);
    b.client.write('still here');
    await a.client.waitFor(/^< Peer: still here$/);
    writeFileSync(fileA, await token({ sub: 'short' }));
    await a.client.waitFor(/\*\*\* Signaling resumed\. \*\*\*/, 10_000);
    expect(a.client.count(/disconnected/)).toBe(0);
    expect(b.client.count(/disconnected/)).toBe(0);
    noSecretIn(server);
  }, 60_000);
});

describe('JWT auth with key sets', () => {
  let jwksServer: Server | null = null;
  afterAll(() => jwksServer?.close());

  it('ES256 against --auth-jwks-file; RS256 against --auth-jwks-url (a JWKS served on 127.0.0.1)', async () => {
    const es = await generateKeyPair('ES256');
    const rs = await generateKeyPair('RS256');
    const jwk = async (key: CryptoKey, kid: string, alg: string): Promise<JWK> => ({
      ...(await exportJWK(key)),
      kid,
      alg,
      use: 'sig',
    });
    const jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [await jwk(es.publicKey, 'es-1', 'ES256')] }));
    const fileServer = await startServer(['--auth-jwks-file', jwksFile, '--no-demo']);
    const esToken = await new SignJWT({ sub: 'es-user' })
      .setProtectedHeader({ alg: 'ES256', kid: 'es-1' })
      .setExpirationTime('5m')
      .sign(es.privateKey);
    const c = await connect(withToken(fileServer.url, esToken));
    c.ws.close();
    const rsToken = await new SignJWT({ sub: 'rs-user' })
      .setProtectedHeader({ alg: 'RS256', kid: 'rs-1' })
      .setExpirationTime('5m')
      .sign(rs.privateKey);
    expect(await refusedWith(connect(withToken(fileServer.url, rsToken)))).toEqual({
      status: 401,
      body: 'token invalid: no key matches it',
    });
    // an HS256 token signed with the public key's bytes (the alg confusion attack) is refused
    const body = JSON.stringify({ keys: [await jwk(rs.publicKey, 'rs-1', 'RS256')] });
    jwksServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
    await new Promise<void>((r) => jwksServer!.listen(0, '127.0.0.1', r));
    const port = (jwksServer.address() as { port: number }).port;
    const urlServer = await startServer(['--auth-jwks-url', `http://127.0.0.1:${port}/jwks.json`, '--no-demo']);
    const d = await connect(withToken(urlServer.url, rsToken));
    d.ws.close();
    const confused = await new SignJWT({ sub: 'x' })
      .setProtectedHeader({ alg: 'HS256', kid: 'rs-1' })
      .setExpirationTime('5m')
      .sign(Buffer.from(body));
    expect(await refusedWith(connect(withToken(urlServer.url, confused)))).toEqual({
      status: 401,
      body: 'token invalid: algorithm not allowed',
    });
  });
});

describe('JWT tenants on a cluster (real redis-server)', () => {
  let redis: RedisProc;
  beforeAll(async () => {
    redis = await startRedis();
  }, 30_000);

  it('another tenant on another node is "Target client not found"; the same tenant pairs across nodes', async () => {
    const node = async () => {
      const proc = start('tandem-server', ['--port', '0', '--redis', redis.url, '--auth-jwt-secret-file', secretFile]);
      const m = await proc.waitFor(/Listening on (ws:\/\/\S+)/);
      await proc.waitFor(/Cluster node \S+ is ready/);
      return m[1]!;
    };
    const [u0, u1] = [await node(), await node()];
    const acme = await connect(withToken(u0, await token({ sub: 'a', tenant: 'acme' })));
    const globex = await connect(withToken(u1, await token({ sub: 'g', tenant: 'globex' })));
    const acme2: TestClient = await connect(withToken(u1, await token({ sub: 'a2', tenant: 'acme' })));
    globex.send({ type: 'pair_request', target_id: acme.id });
    expect(await globex.next((m) => m['type'] === 'error', 'error')).toMatchObject({
      message: 'Target client not found',
    });
    acme2.send({ type: 'pair_request', target_id: acme.id });
    await acme.next((m) => m['type'] === 'paired', 'paired across nodes within acme');
  });
});
