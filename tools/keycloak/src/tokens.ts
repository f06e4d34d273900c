/**
 * Real tokens from the local Keycloak, for tests: the password grant of the `vdi-tests` client,
 * the portal's own authorization code flow with PKCE (scripted like a browser: login form,
 * cookies, redirect), token introspection, and JWT verification against the realm's JWKS with
 * node:crypto only — the same checks an API makes (signature, issuer, audience, expiry).
 */
import { constants, createHash, createPublicKey, randomBytes, verify, type JsonWebKey } from 'node:crypto';
import {
  API_CLIENT_SECRET,
  CLIENTS,
  loadKeycloakConfig,
  realmEndpoints,
  type KeycloakConfig,
} from './config.js';

/** Keycloak's token endpoint response (RFC 6749 §5.1 plus OIDC and Keycloak fields). */
export interface TokenResponse {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
  refresh_expires_in?: number;
  id_token?: string;
  token_type: string;
  scope?: string;
  session_state?: string;
  [key: string]: unknown;
}

/** A refusal from a Keycloak endpoint, with the OAuth error code (e.g. `invalid_grant`). */
export class KeycloakHttpError extends Error {
  override name = 'KeycloakHttpError';
  constructor(
    message: string,
    readonly status: number,
    readonly error: string | undefined,
    readonly description: string | undefined,
  ) {
    super(message);
  }
}

export interface JwtParts {
  header: { alg: string; kid?: string; typ?: string; [k: string]: unknown };
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

export interface Jwks {
  keys: (JsonWebKey & { kid?: string; alg?: string; use?: string })[];
}

function b64urlJson(part: string, what: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new Error(`the JWT's ${what} is not base64url JSON`);
  }
}

/** Splits and decodes a compact JWS. Does not verify anything. */
export function decodeJwt(token: string): JwtParts {
  const parts = token.split('.');
  if (parts.length !== 3)
    throw new Error(`not a compact JWT (expected 3 dot-separated parts, got ${parts.length})`);
  const [h, p, s] = parts as [string, string, string];
  return {
    header: b64urlJson(h, 'header') as JwtParts['header'],
    payload: b64urlJson(p, 'payload'),
    signingInput: `${h}.${p}`,
    signature: Buffer.from(s, 'base64url'),
  };
}

const ALGS: Record<string, { hash: string; kty: string; pss?: number; ec?: boolean }> = {
  RS256: { hash: 'sha256', kty: 'RSA' },
  RS384: { hash: 'sha384', kty: 'RSA' },
  RS512: { hash: 'sha512', kty: 'RSA' },
  PS256: { hash: 'sha256', kty: 'RSA', pss: 32 },
  PS384: { hash: 'sha384', kty: 'RSA', pss: 48 },
  PS512: { hash: 'sha512', kty: 'RSA', pss: 64 },
  ES256: { hash: 'sha256', kty: 'EC', ec: true },
  ES384: { hash: 'sha384', kty: 'EC', ec: true },
  ES512: { hash: 'sha512', kty: 'EC', ec: true },
};

export interface VerifyOptions {
  issuer: string;
  /** When given, `aud` (a string or an array) must contain it. */
  audience?: string;
  /** Seconds since the epoch; default now. */
  now?: number;
  /** Allowed clock skew in seconds (default 30). */
  leewaySeconds?: number;
}

/**
 * Verifies a JWT like a resource server: the key named by `kid` in `jwks`, the signature
 * (RS/PS/ES 256–512; never `none` or HMAC), `iss`, `aud`, `exp` and `nbf`. Returns the payload.
 */
export function verifyJwt(token: string, jwks: Jwks, opts: VerifyOptions): Record<string, unknown> {
  const { header, payload, signingInput, signature } = decodeJwt(token);
  const alg = ALGS[header.alg];
  if (!alg) throw new Error(`JWT algorithm '${header.alg}' is not accepted (only RS*, PS*, ES*)`);
  const candidates = jwks.keys.filter(
    (k) => k.kty === alg.kty && (header.kid === undefined || k.kid === header.kid) && k.use !== 'enc',
  );
  const jwk = candidates[0];
  if (!jwk) throw new Error(`no ${alg.kty} signing key with kid '${header.kid}' in the JWKS`);
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const ok = verify(
    alg.hash,
    Buffer.from(signingInput),
    alg.ec
      ? { key, dsaEncoding: 'ieee-p1363' }
      : alg.pss !== undefined
        ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.pss }
        : key,
    signature,
  );
  if (!ok) throw new Error(`JWT signature does not verify with key '${jwk.kid}'`);
  if (payload.iss !== opts.issuer) {
    throw new Error(`JWT issuer is '${String(payload.iss)}', expected '${opts.issuer}'`);
  }
  if (opts.audience !== undefined && !audiences(payload).includes(opts.audience)) {
    throw new Error(`JWT audience ${JSON.stringify(payload.aud)} does not contain '${opts.audience}'`);
  }
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const leeway = opts.leewaySeconds ?? 30;
  if (typeof payload.exp !== 'number' || payload.exp + leeway < now) {
    throw new Error(`JWT expired at ${String(payload.exp)} (now ${now})`);
  }
  if (typeof payload.nbf === 'number' && payload.nbf - leeway > now) {
    throw new Error(`JWT not valid before ${payload.nbf} (now ${now})`);
  }
  return payload;
}

/** `aud` as a list: Keycloak writes a single audience as a string, several as an array. */
export function audiences(payload: Record<string, unknown>): string[] {
  const aud = payload.aud;
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
}

/** The realm roles of a Keycloak access token (`realm_access.roles`). */
export function realmRoles(payload: Record<string, unknown>): string[] {
  const ra = payload.realm_access as { roles?: unknown } | undefined;
  return Array.isArray(ra?.roles) ? ra.roles.filter((r): r is string => typeof r === 'string') : [];
}

async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* not JSON: reported below */
  }
  if (!res.ok) {
    const error = typeof body.error === 'string' ? body.error : undefined;
    const description = typeof body.error_description === 'string' ? body.error_description : undefined;
    throw new KeycloakHttpError(
      `${url} answered ${res.status}: ${error ?? text.slice(0, 200)}${description ? ` (${description})` : ''}`,
      res.status,
      error,
      description,
    );
  }
  return body;
}

export interface GrantOptions {
  /** Default `vdi-tests`, the only client with the password grant enabled. */
  clientId?: string;
  /** Default `openid`, so an ID token comes along. */
  scope?: string;
  config?: KeycloakConfig;
}

/**
 * The resource owner password grant at the realm's token endpoint: a real token for a demo user,
 * as Keycloak returns it. Throws KeycloakHttpError (status 401/400, error `invalid_grant`) when
 * the credentials are wrong.
 */
export async function passwordGrant(
  username: string,
  password: string,
  opts: GrantOptions = {},
): Promise<TokenResponse> {
  const cfg = opts.config ?? loadKeycloakConfig();
  return (await postForm(realmEndpoints(cfg).internal.token, {
    grant_type: 'password',
    client_id: opts.clientId ?? CLIENTS.tests,
    username,
    password,
    scope: opts.scope ?? 'openid',
  })) as TokenResponse;
}

/** RFC 7662 introspection as the `vdi-api` client (its dev secret). */
export async function introspect(token: string, config?: KeycloakConfig): Promise<Record<string, unknown>> {
  const cfg = config ?? loadKeycloakConfig();
  const basic = Buffer.from(`${CLIENTS.api}:${API_CLIENT_SECRET}`).toString('base64');
  return postForm(realmEndpoints(cfg).internal.introspection, { token }, { authorization: `Basic ${basic}` });
}

export async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new KeycloakHttpError(`${url} answered ${res.status}`, res.status, undefined, undefined);
  return (await res.json()) as Record<string, unknown>;
}

/** The realm's JSON Web Key Set (fetched from the internal address). */
export async function fetchJwks(config?: KeycloakConfig): Promise<Jwks> {
  const cfg = config ?? loadKeycloakConfig();
  return (await getJson(realmEndpoints(cfg).internal.jwks)) as unknown as Jwks;
}

/** A PKCE pair (RFC 7636): a random verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function decodeEntities(s: string): string {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Keycloak's login form action URL from the login page's HTML. */
export function loginFormAction(html: string): string | undefined {
  const form = /<form[^>]*\bid="kc-form-login"[^>]*>/i.exec(html)?.[0];
  const action = form && /\baction="([^"]+)"/i.exec(form)?.[1];
  return action === undefined ? undefined : decodeEntities(action);
}

function cookieHeader(res: Response, jar: Map<string, string>): string {
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const eq = pair?.indexOf('=') ?? -1;
    if (pair && eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

export interface CodeLoginOptions {
  /** Default `vdi-portal`. */
  clientId?: string;
  /** Default `http://localhost:3000/api/auth/callback/keycloak`, allowed by the portal client. */
  redirectUri?: string;
  scope?: string;
  /** Set false to leave PKCE out (Keycloak must then refuse the request). Default true. */
  pkce?: boolean;
  config?: KeycloakConfig;
}

/**
 * The portal's login as a browser does it: authorization request with PKCE S256 → Keycloak's
 * login form → POST of the credentials (with the form's cookies) → redirect to `redirectUri`
 * with a code → code exchange with the verifier. Returns the token response. Throws
 * KeycloakHttpError when Keycloak refuses a step (e.g. `invalid_request` without PKCE).
 */
export async function authorizationCodeLogin(
  username: string,
  password: string,
  opts: CodeLoginOptions = {},
): Promise<TokenResponse> {
  const cfg = opts.config ?? loadKeycloakConfig();
  const ep = realmEndpoints(cfg);
  const clientId = opts.clientId ?? CLIENTS.portal;
  const redirectUri = opts.redirectUri ?? 'http://localhost:3000/api/auth/callback/keycloak';
  const { verifier, challenge } = pkcePair();
  const state = randomBytes(12).toString('base64url');
  const q = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    scope: opts.scope ?? 'openid profile email',
    redirect_uri: redirectUri,
    state,
    ...(opts.pkce === false ? {} : { code_challenge: challenge, code_challenge_method: 'S256' }),
  });
  const jar = new Map<string, string>();
  const refused = (location: string, step: string) => {
    const u = new URL(location);
    const error = u.searchParams.get('error') ?? undefined;
    const description = u.searchParams.get('error_description') ?? undefined;
    return new KeycloakHttpError(
      `${step} refused: ${error}${description ? ` (${description})` : ''}`,
      302,
      error,
      description,
    );
  };

  // The browser follows the public URL (the issuer's host), as the portal would send it.
  const page = await fetch(`${ep.public.authorization}?${q}`, {
    redirect: 'manual',
    signal: AbortSignal.timeout(15_000),
  });
  const pageCookies = cookieHeader(page, jar);
  if (page.status === 302 || page.status === 303) {
    throw refused(page.headers.get('location') ?? '', 'authorization request');
  }
  const html = await page.text();
  if (page.status !== 200) {
    throw new KeycloakHttpError(
      `authorization request answered ${page.status}: ${html.slice(0, 300)}`,
      page.status,
      undefined,
      undefined,
    );
  }
  const action = loginFormAction(html);
  if (!action) throw new Error(`no login form (id kc-form-login) on Keycloak's login page for ${clientId}`);

  const login = await fetch(action, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: pageCookies },
    body: new URLSearchParams({ username, password, credentialId: '' }).toString(),
    signal: AbortSignal.timeout(15_000),
  });
  const location = login.headers.get('location');
  if (!location || !location.startsWith(redirectUri)) {
    const body = await login.text();
    const msg = /id="input-error[^"]*"[^>]*>([^<]+)</i.exec(body)?.[1]?.trim();
    throw new KeycloakHttpError(
      `login of '${username}' failed (status ${login.status})${msg ? `: ${decodeEntities(msg)}` : ''}`,
      login.status,
      'login_failed',
      msg,
    );
  }
  const back = new URL(location);
  if (back.searchParams.get('error')) throw refused(location, 'login');
  if (back.searchParams.get('state') !== state) throw new Error(`state mismatch in the redirect ${location}`);
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`no code in the redirect ${location}`);

  return (await postForm(ep.internal.token, {
    grant_type: 'authorization_code',
    client_id: clientId,
    code,
    redirect_uri: redirectUri,
    ...(opts.pkce === false ? {} : { code_verifier: verifier }),
  })) as TokenResponse;
}
