import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { decodeClientMessage, decodeServerMessage, encode, isClientMessage, isServerMessage } from './codec.js';
import { examples } from './examples.js';
import { catalogue } from './messages.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url), 'utf8')) as {
    text: string;
    value: unknown;
  }[];

describe('golden wire-v1 frames', () => {
  it.each(fixture('v1-client-frames.json'))('client frame $text', ({ text, value }) => {
    expect(decodeClientMessage(text)).toEqual({ ok: true, value });
    expect(decodeClientMessage(new TextEncoder().encode(text))).toEqual({ ok: true, value });
  });
  it.each(fixture('v1-server-frames.json'))('server frame $text', ({ text, value }) => {
    expect(decodeServerMessage(text)).toEqual({ ok: true, value });
  });
});

describe('wire-v1 error texts', () => {
  const err = (raw: string | Uint8Array) => {
    const r = decodeClientMessage(raw);
    if (r.ok) throw new Error('expected failure');
    return r.error;
  };
  it('invalid JSON', () => {
    expect(err('{nope')).toMatchObject({ code: 'invalid_json' });
    expect(err('{nope').message).toMatch(/^Invalid JSON/);
    expect(err('').message).toMatch(/^Invalid JSON/);
    expect(err(new Uint8Array([0xff, 0xfe])).message).toMatch(/^Invalid JSON/);
  });
  it('unknown type names the type', () => {
    expect(err('{"type":"teleport"}').message).toBe('Unknown message type: teleport');
    // a server-only type is unknown when a client sends it
    expect(err('{"type":"ping"}').message).toBe('Unknown message type: ping');
  });
  it('not an object', () => {
    for (const raw of ['[]', '1', 'null', '"x"', '{}', '{"type":1}']) expect(err(raw).code).toBe('not_an_object');
  });
  it('schema violations name the field', () => {
    expect(err('{"type":"pair_request"}').message).toBe(
      'Invalid pair_request: field "target_id" expected required property',
    );
    expect(err('{"type":"pair_request","target_id":5}').message).toBe(
      'Invalid pair_request: field "target_id" expected string',
    );
    expect(err('{"type":"candidate","candidate":{"candidate":1}}').message).toContain('field "candidate.candidate"');
    expect(err('{"type":"candidate","candidate":{"candidate":"","sdpMLineIndex":-1}}').message).toContain(
      'candidate.sdpMLineIndex',
    );
  });
  it('size limit is enforced before parsing', () => {
    const big = JSON.stringify({ type: 'offer', sdp: 'x'.repeat(70_000) });
    expect(err(big).code).toBe('too_large');
    expect(decodeClientMessage(big, { maxBytes: 100_000 }).ok).toBe(true);
    // multi-byte characters count as bytes, not UTF-16 units
    const wide = JSON.stringify({ type: 'offer', sdp: 'é'.repeat(33_000) });
    expect(wide.length).toBeLessThan(65536);
    expect(err(wide).code).toBe('too_large');
    expect(err(new Uint8Array(70_000)).code).toBe('too_large');
  });
});

describe('catalogue', () => {
  it('every example validates against its schema and round-trips', () => {
    for (const e of catalogue) {
      const list = examples[`${e.direction}${e.name}`];
      expect(list?.length, e.name).toBeGreaterThan(0);
      for (const ex of list ?? []) {
        const check = e.direction === 'client' ? isClientMessage : isServerMessage;
        expect(check(ex), `${e.name} ${JSON.stringify(ex)}`).toBe(true);
        const decoded = (e.direction === 'client' ? decodeClientMessage : decodeServerMessage)(encode(ex as never));
        expect(decoded).toEqual({ ok: true, value: ex });
      }
    }
  });
  it('every schema has a one-line description', () => {
    for (const e of catalogue) expect(e.summary).toMatch(/^[^\n]{10,}$/);
  });
  it('relayed frames require from_peer: true', () => {
    expect(decodeServerMessage('{"type":"offer","sdp":"x"}').ok).toBe(false);
    expect(decodeServerMessage('{"type":"offer","sdp":"x","from_peer":false}').ok).toBe(false);
  });
});
