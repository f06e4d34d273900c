/**
 * The verified-token memory of TokenVerifier, against a real JWKS endpoint on a local port and
 * tokens signed with its key (the realm's part; Keycloak itself is in the integration tests).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { ApiConfig } from '../config.js';
import { TokenVerifier, UnauthenticatedError } from './token-verifier.js';

const ISSUER = 'https://id.example.com/realms/vdi';
const AUDIENCE = 'vdi-api';

let server: http.Server;
let privateKey: CryptoKey;
let verifier: TokenVerifier;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  verifier = new TokenVerifier({
    oidcIssuer: ISSUER,
    oidcAudience: AUDIENCE,
    oidcJwksUri: `http://127.0.0.1:${port}/certs`,
    clockToleranceSeconds: 0,
  } as ApiConfig);
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

function token(subject: string, expiresInSeconds: number): Promise<string> {
  return new SignJWT({
    email: `${subject}@example.com`,
    email_verified: true,
    realm_access: { roles: ['vdi-user'] },
  })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds)
    .sign(privateKey);
}

describe('TokenVerifier', () => {
  it('answers a token it verified from memory, and each token with its own principal', async () => {
    const alice = await token('alice', 300);
    const bob = await token('bob', 300);
    const first = await verifier.verify(alice);
    expect(first.user).toBe('alice@example.com');
    // The same principal object: no second signature check for the same token.
    expect(await verifier.verify(alice)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    const b = await verifier.verify(bob);
    expect(b.user).toBe('bob@example.com');
    expect(b).not.toBe(first);
  });

  it('refuses a remembered token once it has expired', async () => {
    const t = await token('carol', 2);
    expect((await verifier.verify(t)).user).toBe('carol@example.com');
    const deadline = Date.now() + 10_000;
    let refusal: unknown;
    while (Date.now() < deadline && !refusal) {
      refusal = await verifier.verify(t).then(
        () => undefined,
        (err: unknown) => err,
      );
      if (!refusal) await new Promise((r) => setTimeout(r, 100));
    }
    expect(refusal).toBeInstanceOf(UnauthenticatedError);
    expect((refusal as Error).message).toBe('the token has expired; log in again');
  });

  it('does not remember a refusal: a bad signature is refused every time', async () => {
    const good = await token('dave', 300);
    const [h, p] = good.split('.');
    const forged = `${h}.${p}.${Buffer.from('not a signature').toString('base64url')}`;
    for (let i = 0; i < 2; i++)
      await expect(verifier.verify(forged)).rejects.toThrow(
        'the token signature is not valid for this realm',
      );
    expect((await verifier.verify(good)).user).toBe('dave@example.com');
  });
});
