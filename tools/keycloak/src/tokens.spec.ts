import { createHash, createSign, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import {
  audiences,
  decodeJwt,
  loginFormAction,
  pkcePair,
  realmRoles,
  verifyJwt,
  type Jwks,
} from './tokens.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = Math.floor(Date.now() / 1000);
const claims = { iss: 'http://localhost:8180/realms/vdi', aud: 'vdi-api', exp: now + 300, sub: 'u1' };

function rs256(payload: object, key: KeyObject, kid = 'k1'): string {
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64(payload)}`;
  const s = createSign('sha256').update(input).sign(key).toString('base64url');
  return `${input}.${s}`;
}

describe('verifyJwt', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwks: Jwks = {
    keys: [
      { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'RS256' },
      // Keycloak also publishes an encryption key; it must never be used to verify.
      {
        ...generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }),
        kid: 'k1',
        use: 'enc',
      },
    ],
  };
  const opts = { issuer: claims.iss, audience: 'vdi-api' };

  it('accepts a valid RS256 token and returns its claims', () => {
    expect(verifyJwt(rs256(claims, rsa.privateKey), jwks, opts).sub).toBe('u1');
  });
  it('accepts aud as an array containing the audience', () => {
    expect(() =>
      verifyJwt(rs256({ ...claims, aud: ['account', 'vdi-api'] }, rsa.privateKey), jwks, opts),
    ).not.toThrow();
  });
  it('accepts an ES256 token (signature in JOSE r||s form)', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const input = `${b64({ alg: 'ES256', kid: 'e1' })}.${b64(claims)}`;
    const s = sign('sha256', Buffer.from(input), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
    const ecJwks: Jwks = { keys: [{ ...ec.publicKey.export({ format: 'jwk' }), kid: 'e1' }] };
    expect(verifyJwt(`${input}.${s.toString('base64url')}`, ecJwks, opts).sub).toBe('u1');
  });
  it('refuses a token signed by another key', () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(() => verifyJwt(rs256(claims, other.privateKey), jwks, opts)).toThrow(/signature does not verify/);
  });
  it('refuses a tampered payload', () => {
    const [h, , s] = rs256(claims, rsa.privateKey).split('.');
    expect(() => verifyJwt(`${h}.${b64({ ...claims, sub: 'admin' })}.${s}`, jwks, opts)).toThrow(/signature/);
  });
  it('refuses another issuer, a missing audience and an expired token', () => {
    expect(() =>
      verifyJwt(rs256({ ...claims, iss: 'http://evil/realms/vdi' }, rsa.privateKey), jwks, opts),
    ).toThrow(/issuer/);
    expect(() => verifyJwt(rs256({ ...claims, aud: 'account' }, rsa.privateKey), jwks, opts)).toThrow(
      /audience/,
    );
    expect(() => verifyJwt(rs256({ ...claims, exp: now - 3600 }, rsa.privateKey), jwks, opts)).toThrow(
      /expired/,
    );
  });
  it('refuses alg none and HMAC', () => {
    const none = `${b64({ alg: 'none' })}.${b64(claims)}.`;
    expect(() => verifyJwt(none, jwks, opts)).toThrow(/not accepted/);
    const hs = `${b64({ alg: 'HS256', kid: 'k1' })}.${b64(claims)}.c2ln`;
    expect(() => verifyJwt(hs, jwks, opts)).toThrow(/not accepted/);
  });
  it('refuses an unknown kid', () => {
    expect(() => verifyJwt(rs256(claims, rsa.privateKey, 'other'), jwks, opts)).toThrow(/kid 'other'/);
  });
});

describe('claim helpers', () => {
  it('reads aud as a list and realm_access.roles', () => {
    expect(audiences({ aud: 'vdi-api' })).toEqual(['vdi-api']);
    expect(audiences({ aud: ['a', 'b'] })).toEqual(['a', 'b']);
    expect(audiences({})).toEqual([]);
    expect(realmRoles({ realm_access: { roles: ['vdi-user'] } })).toEqual(['vdi-user']);
    expect(realmRoles({})).toEqual([]);
  });
  it('decodes a JWT without verifying it, and rejects what is not one', () => {
    expect(decodeJwt(`${b64({ alg: 'RS256' })}.${b64({ a: 1 })}.x`).payload).toEqual({ a: 1 });
    expect(() => decodeJwt('abc')).toThrow(/3 dot-separated parts/);
  });
});

describe('PKCE and the login form', () => {
  it('derives the S256 challenge from the verifier (RFC 7636)', () => {
    const { verifier, challenge } = pkcePair();
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(challenge).toBe(createHash('sha256').update(verifier).digest('base64url'));
  });
  it('finds the login form action and decodes its HTML entities', () => {
    const html =
      '<form id="kc-form-login" class="x" onsubmit="login.disabled = true; return true;" ' +
      'action="http://localhost:8180/realms/vdi/login-actions/authenticate?session_code=a&amp;execution=b&amp;client_id=vdi-portal" method="post">';
    expect(loginFormAction(html)).toBe(
      'http://localhost:8180/realms/vdi/login-actions/authenticate?session_code=a&execution=b&client_id=vdi-portal',
    );
    expect(loginFormAction('<html>no form</html>')).toBeUndefined();
  });
});
