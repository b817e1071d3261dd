// Sockets that never finish an HTTP request, over real sockets on 127.0.0.1: tandem-server with a
// file limit of 300 (prlimit) takes 320 silent sockets from one address; they are capped at
// accept (per address) and closed after the header deadline, while a client from another
// loopback address connects and /healthz answers throughout.
import { get as httpGet } from 'node:http';
import { connect as tcpConnect, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, startServer } from './procs.js';
import { connect } from './ws-client.js';

afterAll(killAll);

const silent = (port: number): Promise<Socket> =>
  new Promise((resolve) => {
    const s = tcpConnect({ port, host: '127.0.0.1' });
    s.on('error', () => undefined);
    s.once('connect', () => resolve(s));
    s.once('close', () => resolve(s));
  });
const closedWithin = (s: Socket, ms: number) =>
  new Promise<boolean>((resolve) => {
    if (s.destroyed || s.readyState === 'closed') return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });

describe('half-open HTTP sockets', () => {
  it('320 silent sockets from one address under a file limit of 300 do not lock out other clients', async () => {
    // the defaults under that limit: 225 connections, 56 pending from one address, 37 pending past the cap
    const { url } = await startServer(['--header-timeout', '1', '--no-demo'], { fileLimit: 300 });
    const port = Number(new URL(url).port);
    const sockets: Socket[] = [];
    for (let i = 0; i < 320; i++) sockets.push(await silent(port));
    await new Promise((r) => setTimeout(r, 200));
    const open = sockets.filter((s) => !s.destroyed && s.readyState === 'open');
    // only the first few were kept; the others were closed at accept
    expect(open.length).toBeLessThanOrEqual(56);
    // a client from another address gets in, and /healthz answers, while they are there
    const other = await connect(url, { localAddress: '127.0.0.2' } as object);
    expect(other.id).toMatch(/\S/);
    other.ws.close();
    const health = await new Promise<number | undefined>((resolve, reject) =>
      httpGet(`${url.replace('ws://', 'http://')}/healthz`, { localAddress: '127.0.0.2' }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject),
    );
    expect(health).toBe(200);
    // the ones kept are closed once the header deadline passes (1 s, checked every second)
    const closed = await Promise.all(open.map((s) => closedWithin(s, 4_000)));
    expect(closed.every(Boolean)).toBe(true);
    // and the address can connect again
    const again = await connect(url);
    expect(again.id).toMatch(/\S/);
    again.ws.close();
  }, 60_000);
});
