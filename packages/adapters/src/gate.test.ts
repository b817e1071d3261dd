import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ConnectionGate, clientAddress, defaultConnectionLimits, originMatcher } from './gate.js';
import { escapeLogText, serverLogLine } from './server-log.js';

describe('client address', () => {
  const trusted = new Set(['10.0.0.1', '10.0.0.2']);
  it('is the socket peer unless that peer is a trusted proxy', () => {
    expect(clientAddress('::ffff:192.0.2.1', '203.0.113.9', trusted)).toBe('192.0.2.1');
    expect(clientAddress('10.0.0.1', '203.0.113.9', trusted)).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.1', undefined, trusted)).toBe('10.0.0.1');
  });
  it('walks X-Forwarded-For from the right past trusted hops only; a forged left part is never believed', () => {
    expect(clientAddress('10.0.0.1', '198.51.100.7, 203.0.113.9, 10.0.0.2', trusted)).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.1', ['1.1.1.1', '203.0.113.9'], trusted)).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.1', 'garbage, 10.0.0.2', trusted)).toBe('10.0.0.2');
  });
  it('whatever the header says, an untrusted peer is counted as itself', () => {
    fc.assert(fc.property(fc.string(), (header) => clientAddress('192.0.2.44', header, trusted) === '192.0.2.44'));
  });
});

describe('origin allowlist', () => {
  const allows = originMatcher([
    'https://chat.example.com',
    '*.example.org',
    'https://*.example.net',
    'http://localhost:5173',
  ]);
  it.each([
    ['https://chat.example.com', true],
    ['HTTPS://Chat.Example.com', true],
    ['http://chat.example.com', false],
    ['https://chat.example.com:444', false],
    ['https://a.example.org', true],
    ['http://a.b.example.org', true],
    ['https://example.org', false],
    ['https://evilexample.org', false],
    ['https://x.example.net', true],
    ['http://x.example.net', false],
    ['http://localhost:5173', true],
    ['http://localhost', false],
    ['null', false],
    [undefined, true],
  ])('%s → %s', (origin, ok) => expect(allows(origin)).toBe(ok));
  it('refuses patterns that are not origins at start', () => {
    expect(() => originMatcher(['chat.example.com'])).toThrow(/needs its scheme/);
    expect(() => originMatcher(['https://*'])).toThrow(/not an origin/);
    expect(originMatcher([])('https://anything.example')).toBe(true);
  });
});

describe('connection gate', () => {
  it('defaults stay under the file limit', () => {
    expect(defaultConnectionLimits(20_000).maxConnections).toBe(19_744);
    expect(defaultConnectionLimits(1_024).maxConnections).toBe(768);
    expect(defaultConnectionLimits(null).maxConnections).toBe(10_000);
  });
  it('counts never go negative or leak under any order of admits and releases (model)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.constantFrom('a', 'b', 'c'))), (ops) => {
        const gate = new ConnectionGate({ maxConnections: 4, maxConnectionsPerIp: 2 });
        const model = new Map<string, number>();
        let total = 0;
        for (const [admit, ip] of ops) {
          const mine = model.get(ip) ?? 0;
          if (admit) {
            const { refusal } = gate.admit(ip, undefined, undefined);
            const expected = total >= 4 ? 'max_connections' : mine >= 2 ? 'max_connections_per_ip' : null;
            expect(refusal?.reason ?? null).toBe(expected);
            if (expected === null) {
              model.set(ip, mine + 1);
              total++;
            }
          } else if (mine > 0) {
            gate.release(ip);
            model.set(ip, mine - 1);
            total--;
          }
          expect(gate.connections).toBe(total);
          expect(gate.connectionsFrom(ip)).toBe(model.get(ip) ?? 0);
        }
      }),
    );
  });
});

describe('text log', () => {
  it('escapes every control character and line separator a client can put in a string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        const line = serverLogLine({
          type: 'pair_failed',
          id: 'me',
          targetId: s,
          error: 'target_not_found',
          message: 'Target client not found',
        });
        expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
      }),
    );
  });
  it('a forged line stays inside its own line, readable', () => {
    expect(escapeLogText('x\nClient FORGED connected.')).toBe('x\\nClient FORGED connected.');
    expect(escapeLogText('a\\nb\u2028\u0007')).toBe('a\\\\nb\\u2028\\u0007');
    expect(escapeLogText('y'.repeat(250))).toBe(`${'y'.repeat(200)}…(50 more)`);
  });
});
