// werift is given exactly the ICE servers in force. Left alone, werift's ICE agent sends a STUN
// request to stun.l.google.com:19302 whenever its configuration names no STUN server; tandem must
// never contact a server the user did not configure. Every UDP datagram and DNS lookup of two
// real werift peers is recorded while they connect and chat.
import dgram from 'node:dgram';
import dns from 'node:dns';
import { networkInterfaces } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import type { IceCandidate } from '@tandem/protocol';
import type { PeerSession } from '@tandem/client-core';
import { weriftPeerFactory } from '../src/werift.js';

const sent: { address: string; port: number }[] = [];
const lookups: string[] = [];
const originalSend = dgram.Socket.prototype.send;
const originalLookup = dns.lookup;
const originalPromiseLookup = dns.promises.lookup;
(dgram.Socket.prototype as unknown as { send: (...a: unknown[]) => unknown }).send = function (
  this: dgram.Socket,
  ...args: unknown[]
) {
  // send(msg, [offset, length,] port, address, cb)
  const numbers = args.filter((a) => typeof a === 'number') as number[];
  const strings = args.filter((a) => typeof a === 'string') as string[];
  const port = numbers.length >= 3 ? numbers[2]! : numbers[0]!;
  sent.push({ address: strings[0] ?? '', port });
  return (originalSend as (...a: unknown[]) => unknown).apply(this, args);
};
(dns as unknown as { lookup: (...a: unknown[]) => unknown }).lookup = (...args: unknown[]) => {
  lookups.push(String(args[0]));
  return (originalLookup as (...a: unknown[]) => unknown)(...args);
};
// werift resolves STUN/TURN host names with dns.promises.lookup
(dns.promises as unknown as { lookup: (...a: unknown[]) => unknown }).lookup = (...args: unknown[]) => {
  lookups.push(String(args[0]));
  return (originalPromiseLookup as (...a: unknown[]) => unknown)(...args);
};
afterAll(() => {
  dgram.Socket.prototype.send = originalSend;
  (dns as unknown as { lookup: unknown }).lookup = originalLookup;
  (dns.promises as unknown as { lookup: unknown }).lookup = originalPromiseLookup;
});

async function connectPair(iceServers: { urls: string }[]): Promise<void> {
  const factory = weriftPeerFactory();
  const sessions: PeerSession[] = [];
  const ready = [false, false];
  const pending: IceCandidate[][] = [[], []];
  let opened = 0;
  let got = '';
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const deliver = (to: number, c: IceCandidate) =>
    ready[to] ? void sessions[to]!.addCandidate(c) : pending[to]!.push(c);
  for (const i of [0, 1]) {
    sessions.push(
      factory({
        iceServers,
        iceTransportPolicy: 'all',
        handlers: {
          iceCandidate: (c) => c && deliver(1 - i, c),
          channelOpen: () => {
            if (++opened === 2) sessions[0]!.send('hello');
          },
          channelMessage: (d) => {
            got = String(d);
            done();
          },
          channelClose: () => undefined,
          failed: () => undefined,
          iceState: () => undefined,
        },
      }),
    );
  }
  const [a, b] = sessions as [PeerSession, PeerSession];
  a.createDataChannel('chat');
  const answer = await b.acceptOffer(await a.createOffer());
  ready[1] = true;
  for (const c of pending[1]!.splice(0)) await b.addCandidate(c);
  await a.acceptAnswer(answer);
  ready[0] = true;
  for (const c of pending[0]!.splice(0)) await a.addCandidate(c);
  await Promise.race([
    finished,
    new Promise((_, rej) => setTimeout(() => rej(new Error('no message in 20 s')), 20_000)),
  ]);
  expect(got).toBe('hello');
  // gathering may still be running its server-reflexive step: give it its full timeout window
  await new Promise((r) => setTimeout(r, 1500));
  a.close();
  b.close();
}

const localAddresses = new Set(
  Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)),
);

describe('werift gets exactly the ICE servers in force', () => {
  it('with none configured, two peers connect and chat, and nothing but their own host addresses is contacted', async () => {
    sent.length = 0;
    lookups.length = 0;
    await connectPair([]);
    // no name is looked up at all (a STUN fallback would resolve stun.l.google.com first)
    expect(lookups.filter((h) => !/^[\d.]+$|:/.test(h))).toEqual([]);
    expect(sent.filter((d) => d.port === 19302)).toEqual([]);
    const foreign = sent.filter((d) => !localAddresses.has(d.address));
    expect(foreign, JSON.stringify(foreign.slice(0, 5))).toEqual([]);
    expect(sent.length).toBeGreaterThan(0); // it did talk: to itself
  }, 40_000);

  it('with a STUN server configured, that server (and only it) is asked', async () => {
    sent.length = 0;
    lookups.length = 0;
    // a STUN server on loopback that never answers: werift asks it and times out
    const stun = dgram.createSocket('udp4');
    const asked: number[] = [];
    stun.on('message', () => asked.push(Date.now()));
    await new Promise<void>((r) => stun.bind(0, '127.0.0.1', () => r()));
    const port = (stun.address() as { port: number }).port;
    try {
      await connectPair([{ urls: `stun:127.0.0.1:${port}` }]);
      expect(asked.length).toBeGreaterThan(0);
      expect(sent.filter((d) => d.port === 19302)).toEqual([]);
      expect(lookups.filter((h) => h.includes('google'))).toEqual([]);
    } finally {
      stun.close();
    }
  }, 40_000);
});
