import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import {
  MAX_TURN_TTL_SECONDS,
  TurnConfigError,
  mintTurnCredentials,
  rtcConfigJson,
  turnIdentity,
  type TurnCredentials,
  type TurnServer,
} from './turn.js';

const SECRET = 'vdi-known-answer-secret';
const NOW = 1_700_000_000;

describe('mintTurnCredentials', () => {
  it.each([
    // Passwords computed once, independently of this code, with:
    //   printf '%s' '<username>' | openssl dgst -sha1 -hmac 'vdi-known-answer-secret' -binary | base64
    {
      identity: 'alice@example.com',
      ttl: 3600,
      username: '1700003600:alice@example.com',
      password: 'yAP2UUsY5j3oPH220Eccxk/9Dak=',
    },
    {
      identity: 'org:zoë /%',
      ttl: 86_400,
      username: '1700086400:org%3Azo%C3%AB%20%2F%25',
      password: 'evs7zWuHHhNZoI+TZMktn6UextQ=',
    },
  ])('matches the known answer for $identity', ({ identity, ttl, username, password }) => {
    expect(mintTurnCredentials(SECRET, identity, NOW, ttl)).toEqual({
      username,
      password,
      expiresAt: NOW + ttl,
    });
  });

  it.each([
    [1, 1_700_000_001],
    [600, 1_700_000_600],
    [MAX_TURN_TTL_SECONDS, 1_700_604_800],
  ])('expires ttl=%p seconds after now, and says so in the username', (ttl, expiresAt) => {
    const creds = mintTurnCredentials(SECRET, 'bob', NOW, ttl);
    expect(creds.expiresAt).toBe(expiresAt);
    expect(creds.username).toBe(`${expiresAt}:bob`);
  });

  it('is the coturn scheme for any identity: base64 HMAC-SHA1 of the username, one ":" after the expiry', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 2_000_000_000 }),
        fc.integer({ min: 1, max: MAX_TURN_TTL_SECONDS }),
        (identity, now, ttl) => {
          const creds = mintTurnCredentials(SECRET, identity, now, ttl);
          expect(creds.username).toMatch(/^\d+:[A-Za-z0-9._~@+%-]+$/);
          expect(creds.username.split(':')[0]).toBe(String(now + ttl));
          expect(creds.password).toBe(createHmac('sha1', SECRET).update(creds.username).digest('base64'));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('depends on the secret, the identity and the time', () => {
    const base = mintTurnCredentials(SECRET, 'alice', NOW, 60);
    expect(mintTurnCredentials(`${SECRET}x`, 'alice', NOW, 60).password).not.toBe(base.password);
    expect(mintTurnCredentials(SECRET, 'alicf', NOW, 60).password).not.toBe(base.password);
    expect(mintTurnCredentials(SECRET, 'alice', NOW + 1, 60).password).not.toBe(base.password);
    expect(mintTurnCredentials(SECRET, 'alice', NOW, 60)).toEqual(base);
  });

  it.each([
    ['an empty secret', '', 'alice', NOW, 60, /shared secret must not be empty/],
    ['a secret with a NUL', 'a\0b', 'alice', NOW, 60, /control characters/],
    ['a secret with a newline', 'abc\n', 'alice', NOW, 60, /control characters/],
    ['a secret with surrounding spaces', ' abc', 'alice', NOW, 60, /leading\/trailing whitespace/],
    ['an empty identity', SECRET, '', NOW, 60, /identity must not be empty/],
    ['a lone surrogate in the identity', SECRET, 'a\uD800b', NOW, 60, /lone surrogate/],
    ['an identity too long for STUN', SECRET, 'a'.repeat(502), NOW, 60, /513|512-byte limit/],
    ['a ttl of zero', SECRET, 'alice', NOW, 0, /ttl must be a whole number of seconds in 1\.\.604800, got 0/],
    ['a negative ttl', SECRET, 'alice', NOW, -5, /ttl .* got -5/],
    ['a fractional ttl', SECRET, 'alice', NOW, 1.5, /ttl .* got 1\.5/],
    ['a ttl over a week', SECRET, 'alice', NOW, MAX_TURN_TTL_SECONDS + 1, /ttl .* got 604801/],
    ['a NaN ttl', SECRET, 'alice', NOW, Number.NaN, /ttl .* got NaN/],
    ['a negative time', SECRET, 'alice', -1, 60, /unix seconds, got -1/],
    ['a fractional time', SECRET, 'alice', NOW + 0.5, 60, /unix seconds, got 1700000000\.5/],
    [
      'a time in milliseconds',
      SECRET,
      'alice',
      NOW * 1000,
      60,
      /32-bit timestamp \(was the time given in milliseconds\?\)/,
    ],
  ])('refuses %s', (_what, secret, identity, now, ttl, message) => {
    const mint = () => mintTurnCredentials(secret, identity, now, ttl);
    expect(mint).toThrow(TurnConfigError);
    expect(mint).toThrow(message);
  });

  it('accepts the longest identity that fits the username limit', () => {
    // 10 digits of expiry + ':' + 501 bytes = 512 bytes.
    expect(mintTurnCredentials(SECRET, 'a'.repeat(501), NOW, 60).username).toHaveLength(512);
  });
});

describe('turnIdentity', () => {
  it.each([
    ['alice@example.com', 'alice@example.com'],
    ['a.b_c~d+e-f', 'a.b_c~d+e-f'],
    ['org:alice', 'org%3Aalice'],
    ['50%', '50%25'],
    ['zoë', 'zo%C3%AB'],
    ['a b', 'a%20b'],
    ['tab\there', 'tab%09here'],
    ['😀', '%F0%9F%98%80'],
  ])('encodes %p as %p', (identity, encoded) => {
    expect(turnIdentity(identity)).toBe(encoded);
  });

  it('never maps two identities to the same string', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }), { minLength: 2 }),
        (ids) => {
          expect(new Set(ids.map(turnIdentity)).size).toBe(ids.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('rtcConfigJson', () => {
  const creds: TurnCredentials = mintTurnCredentials(SECRET, 'alice@example.com', NOW, 3600);
  const server: TurnServer = { host: 'turn.vdi.example.com', port: 3478, protocol: 'udp' };

  it('is the document Selkies reads: a stun: server and a turn: server with the credentials', () => {
    expect(rtcConfigJson(server, creds)).toBe(
      [
        '{',
        '  "iceServers": [',
        '    {',
        '      "urls": [',
        '        "stun:turn.vdi.example.com:3478"',
        '      ]',
        '    },',
        '    {',
        '      "urls": [',
        '        "turn:turn.vdi.example.com:3478?transport=udp"',
        '      ],',
        '      "username": "1700003600:alice@example.com",',
        '      "credential": "yAP2UUsY5j3oPH220Eccxk/9Dak="',
        '    }',
        '  ],',
        '  "blockStatus": "NOT_BLOCKED",',
        '  "iceTransportPolicy": "all"',
        '}',
        '',
      ].join('\n'),
    );
  });

  it.each<[string, TurnServer, string, string]>([
    ['udp', server, 'stun:turn.vdi.example.com:3478', 'turn:turn.vdi.example.com:3478?transport=udp'],
    [
      'tcp',
      { ...server, protocol: 'tcp' },
      'stun:turn.vdi.example.com:3478',
      'turn:turn.vdi.example.com:3478?transport=tcp',
    ],
    [
      'TLS',
      { ...server, protocol: 'tcp', port: 5349, tls: true },
      'stun:turn.vdi.example.com:5349',
      'turns:turn.vdi.example.com:5349?transport=tcp',
    ],
    [
      'a separate STUN server',
      { ...server, stunHost: '10.0.0.7', stunPort: 3479 },
      'stun:10.0.0.7:3479',
      'turn:turn.vdi.example.com:3478?transport=udp',
    ],
    [
      'a STUN port only',
      { ...server, stunPort: 19302 },
      'stun:turn.vdi.example.com:19302',
      'turn:turn.vdi.example.com:3478?transport=udp',
    ],
  ])('gives the URLs for %s', (_what, s, stunUrl, turnUrl) => {
    const parsed = JSON.parse(rtcConfigJson(s, creds)) as {
      iceServers: { urls: string[]; username?: string; credential?: string }[];
    };
    expect(parsed.iceServers).toEqual([
      { urls: [stunUrl] },
      { urls: [turnUrl], username: creds.username, credential: creds.password },
    ]);
  });

  it('is deterministic, whatever order the input keys come in', () => {
    const reordered: TurnServer = { protocol: 'udp', port: 3478, host: 'turn.vdi.example.com' };
    const credsReordered: TurnCredentials = {
      expiresAt: creds.expiresAt,
      password: creds.password,
      username: creds.username,
    };
    expect(rtcConfigJson(reordered, credsReordered)).toBe(rtcConfigJson(server, creds));
  });

  it('escapes whatever the credentials contain', () => {
    const odd = { ...creds, password: 'a"b\\c\n' };
    const parsed = JSON.parse(rtcConfigJson(server, odd)) as { iceServers: { credential?: string }[] };
    expect(parsed.iceServers[1]?.credential).toBe('a"b\\c\n');
  });

  it.each<[string, Partial<TurnServer>, Partial<TurnCredentials>, RegExp]>([
    ['an empty host', { host: '' }, {}, /TURN host must not be empty/],
    ['an IPv6 host', { host: '::1' }, {}, /IPv6 .* Selkies splits ICE URLs on ':'/],
    ['a bracketed IPv6 host', { host: '[fd00::1]' }, {}, /IPv6/],
    ['a host with a port', { host: 'turn.example.com:3478' }, {}, /has a port/],
    ['a host with a path', { host: 'turn.example.com/x' }, {}, /not a DNS name or an IPv4 address/],
    ['a host with spaces', { host: 'turn example' }, {}, /not a DNS name/],
    ['a port of 0', { port: 0 }, {}, /TURN port must be an integer in 1\.\.65535, got 0/],
    ['a port over 65535', { port: 65536 }, {}, /TURN port .* got 65536/],
    ['a fractional port', { port: 3478.5 }, {}, /TURN port .* got 3478\.5/],
    ['an unknown protocol', { protocol: 'sctp' as 'udp' }, {}, /protocol must be "udp" or "tcp", got "sctp"/],
    ['an empty STUN host', { stunHost: '' }, {}, /STUN host must not be empty/],
    ['a bad STUN port', { stunPort: -1 }, {}, /STUN port .* got -1/],
    ['an empty username', {}, { username: '' }, /must have a username and a password/],
    ['an empty password', {}, { password: '' }, /must have a username and a password/],
    ['a username too long for STUN', {}, { username: `1:${'ä'.repeat(256)}` }, /512-byte limit/],
  ])('refuses %s', (_what, serverPatch, credsPatch, message) => {
    const render = () => rtcConfigJson({ ...server, ...serverPatch }, { ...creds, ...credsPatch });
    expect(render).toThrow(TurnConfigError);
    expect(render).toThrow(message);
  });
});
