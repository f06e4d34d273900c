/**
 * The portal's security headers, as a pure function of the request's nonce and the runtime
 * configuration; proxy.ts sets them on every page. The portal holds the user's access token and
 * hands out desktop tickets, so:
 *
 * - a Content-Security-Policy runs only scripts that carry this response's nonce (Next.js puts it
 *   on its own tags when it finds `'nonce-…'` in the request's CSP) and what they load
 *   (`'strict-dynamic'`), talks only to the API and Keycloak, and lets no other site frame it;
 * - `nosniff` keeps a browser from running an upload or an API answer as a script;
 * - `strict-origin-when-cross-origin` sends other origins the portal's origin and nothing more:
 *   the desktop's forward-auth needs that origin to redeem a ticket (apps/api access), and the
 *   path (a session name) stays at home.
 */

export interface PortalHeaderInput {
  /** A fresh random value for this response (base64), see newNonce. */
  nonce: string;
  /** The API the browser calls (GraphQL over HTTP and websocket). */
  apiUrl: string;
  /** Keycloak, which the browser calls for tokens and frames for the silent login check. */
  keycloakUrl: string;
  /** `next dev`: React needs eval for its error overlays. */
  dev?: boolean;
}

/** The page keycloak-js frames for its silent login check, served from public/. */
export const SILENT_CHECK_SSO_PATH = '/silent-check-sso.html';
/**
 * SHA-256 of the inline script of public/silent-check-sso.html (a static file gets no nonce);
 * security-headers.spec.ts recomputes it from the file, so an edit there fails the test.
 */
export const SILENT_CHECK_SSO_SCRIPT_SHA256 = 'sha256-4CI4ch7ynI1klQB/ndzKB5vGfRl+eRaIA+j9AtHUlH8=';

/** A nonce: 128 random bits, base64. */
export function newNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes));
}

const origin = (url: string) => new URL(url).origin;
const wsOrigin = (url: string) => origin(url).replace(/^http/, 'ws');

function policy(directives: Record<string, string[]>): string {
  return Object.entries(directives)
    .map(([name, values]) => [name, ...values].join(' '))
    .join('; ');
}

/** The Content-Security-Policy of the portal's pages. */
export function contentSecurityPolicy(i: PortalHeaderInput): string {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(i.nonce)) {
    throw new Error('a CSP nonce must be base64 (see newNonce)');
  }
  const keycloak = origin(i.keycloakUrl);
  return policy({
    'default-src': ["'self'"],
    'script-src': ["'self'", `'nonce-${i.nonce}'`, "'strict-dynamic'", ...(i.dev ? ["'unsafe-eval'"] : [])],
    // Next.js and React set a few style attributes of their own; styles run no code.
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'data:', 'blob:'],
    'font-src': ["'self'"],
    'connect-src': ["'self'", origin(i.apiUrl), wsOrigin(i.apiUrl), keycloak],
    // keycloak-js's silent check: Keycloak's page in a hidden frame, which lands on ours.
    'frame-src': ["'self'", keycloak],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'self'", keycloak],
    'frame-ancestors': ["'none'"],
  });
}

/** The Content-Security-Policy of the silent-check page: its one script, framed by the portal alone. */
export function silentCheckSsoPolicy(): string {
  return policy({
    'default-src': ["'none'"],
    'script-src': [`'${SILENT_CHECK_SSO_SCRIPT_SHA256}'`],
    'frame-ancestors': ["'self'"],
    'base-uri': ["'none'"],
    'form-action': ["'none'"],
  });
}

const COMMON = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
};

/** Every security header of a portal page. */
export function securityHeaders(i: PortalHeaderInput): Record<string, string> {
  return { 'Content-Security-Policy': contentSecurityPolicy(i), ...COMMON, 'X-Frame-Options': 'DENY' };
}

/** The security headers of the silent-check page (framed by the portal, so no X-Frame-Options DENY). */
export function silentCheckSsoHeaders(): Record<string, string> {
  return { 'Content-Security-Policy': silentCheckSsoPolicy(), ...COMMON, 'X-Frame-Options': 'SAMEORIGIN' };
}
