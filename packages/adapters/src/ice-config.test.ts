// TURN REST credentials and the STUN/TURN settings' checks.
import { describe, expect, it } from 'vitest';
import { checkIceSettings, iceServersFor, turnCredentials } from './ice-config.js';

const base = { stunUrls: [], turnUrls: [], turnTtlS: 3600 };

describe('TURN REST credentials', () => {
  it('username is <expiry>:<user>; the password is base64(HMAC-SHA1(secret, username)), as coturn computes it', () => {
    // expected value from: echo -n "1700003600:client-1" | openssl dgst -sha1 -hmac s3cret -binary | base64
    expect(turnCredentials('s3cret', 'client-1', 3600, 1_700_000_000_000)).toEqual({
      username: '1700003600:client-1',
      credential: 'kZKXkDEk3rMZZ/9bY/B+5MFgQbI=',
    });
  });

  it('hands STUN servers as they are and TURN servers with credentials naming the client; nothing when none is configured', () => {
    expect(iceServersFor(base, 'c', 0)).toBeNull();
    const got = iceServersFor(
      {
        ...base,
        stunUrls: ['stun:stun.test:3478'],
        turnUrls: ['turn:turn.test:3478?transport=udp', 'turns:turn.test:5349'],
        turnSecret: 'x',
      },
      'client-9',
      1_000_000,
    )!;
    expect(got.ttlMs).toBe(3_600_000);
    expect(got.servers[0]).toEqual({ urls: ['stun:stun.test:3478'] });
    expect(got.servers[1]).toMatchObject({
      urls: ['turn:turn.test:3478?transport=udp', 'turns:turn.test:5349'],
      username: '4600:client-9',
    });
    expect(JSON.stringify(got)).not.toContain('"x"'); // the secret itself is never handed out
  });
});

describe('settings checks', () => {
  it.each([
    [{ turnUrls: ['turn:turn.test'] }, /needs --turn-secret/],
    [{ turnSecret: 's' }, /needs at least one --turn-url/],
    [{ turnUrls: ['http://turn.test'], turnSecret: 's' }, /malformed TURN URL "http:\/\/turn\.test"/],
    [{ turnUrls: ['turn:turn.test?transport=sctp'], turnSecret: 's' }, /malformed TURN URL/],
    [{ stunUrls: ['stun:'] }, /malformed STUN URL/],
    [{ stunUrls: ['stun:host:99999'] }, /port outside 1–65535/],
    [{ turnUrls: ['turn:t.test'], turnSecret: 's', turnTtlS: 172_800 }, /at most|from 60 to 86400/],
  ])('%j is refused in words', (over, message) => {
    expect(checkIceSettings({ ...base, ...over })).toMatch(message);
  });

  it.each([
    [{}],
    [{ stunUrls: ['stun:stun.l.example:19302', 'stuns:[2001:db8::1]:5349'] }],
    [
      {
        turnUrls: ['turn:192.0.2.10:3478', 'turn:turn.test?transport=tcp', 'turns:turn.test:443?transport=tcp'],
        turnSecret: 's',
      },
    ],
  ])('%j is accepted', (over) => {
    expect(checkIceSettings({ ...base, ...over })).toBeNull();
  });
});
