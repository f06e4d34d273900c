/**
 * Verifies bearer access tokens against the realm's JWKS: signature (RS/ES/PS algorithms only),
 * issuer, audience (`aud` a string or an array), expiry and not-before. `createRemoteJWKSet`
 * caches the keys and refetches them when a token names an unknown `kid` (key rotation), at most
 * once per cooldown. A verified token's principal is kept for up to a minute (never past the
 * token's expiry): every request carries the same token for minutes, and its signature check was
 * the largest cost of a request in the benchmark's CPU profile (22 %).
 */
import { Inject, Injectable } from '@nestjs/common';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { ClaimsError, audiences, principalFromClaims, type Principal } from './principal.js';

export class UnauthenticatedError extends Error {
  override name = 'UnauthenticatedError';
}

/**
 * How long a verified token is answered from memory. Bounds what a cache changes: a token signed
 * by a key the realm has just removed is still accepted for at most this long (as by any API that
 * cached the old key set), and never after it expires.
 */
export const VERIFIED_TOKEN_TTL_MS = 60_000;
/** Verified tokens kept (Keycloak access tokens are 1–2 KB: a few MB at most). */
const VERIFIED_TOKENS_MAX = 5_000;

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];

@Injectable()
export class TokenVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;
  private readonly verified = new LRUCache<string, Readonly<Principal>>({ max: VERIFIED_TOKENS_MAX });

  constructor(@Inject(API_CONFIG) private readonly config: ApiConfig) {
    this.jwks = createRemoteJWKSet(new URL(config.oidcJwksUri), {
      cooldownDuration: 30_000,
      cacheMaxAge: 10 * 60_000,
      timeoutDuration: 5_000,
    });
  }

  /** The principal of an `Authorization` header value; throws UnauthenticatedError with a reason. */
  async verifyHeader(header: string | undefined): Promise<Principal> {
    if (!header)
      throw new UnauthenticatedError('no bearer token; log in and send Authorization: Bearer <token>');
    const m = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim());
    if (!m) throw new UnauthenticatedError('the Authorization header must be "Bearer <token>"');
    return this.verify(m[1]!);
  }

  async verify(token: string): Promise<Principal> {
    const known = this.verified.get(token);
    if (known) return known;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer: this.config.oidcIssuer,
        algorithms: ALGORITHMS,
        clockTolerance: this.config.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      throw new UnauthenticatedError(reason(err));
    }
    // Checked here rather than by jwtVerify so a missing audience gets its own message.
    if (!audiences(payload.aud).includes(this.config.oidcAudience)) {
      throw new UnauthenticatedError(
        `the token is not meant for this API (audience ${this.config.oidcAudience})`,
      );
    }
    let principal: Readonly<Principal>;
    try {
      principal = Object.freeze(principalFromClaims(payload as Record<string, unknown>));
    } catch (err) {
      if (err instanceof ClaimsError) throw new UnauthenticatedError(err.message);
      throw err;
    }
    // Kept until the token expires (exp is required above), at most VERIFIED_TOKEN_TTL_MS.
    const ttl = Math.min(VERIFIED_TOKEN_TTL_MS, payload.exp! * 1000 - Date.now());
    if (ttl > 0) this.verified.set(token, principal, { ttl });
    return principal;
  }
}

function reason(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired; log in again';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return 'the token was issued by another identity provider';
    return `the token's ${err.claim} claim is not acceptable (${err.reason})`;
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWSSignatureVerificationFailed) {
    return 'the token signature is not valid for this realm';
  }
  if (err instanceof errors.JOSEAlgNotAllowed)
    return 'the token is signed with an algorithm this API does not accept';
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) {
    return 'the identity provider keys could not be fetched; try again';
  }
  return 'the token is not a valid access token';
}
