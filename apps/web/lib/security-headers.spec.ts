import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  contentSecurityPolicy,
  newNonce,
  securityHeaders,
  SILENT_CHECK_SSO_SCRIPT_SHA256,
  silentCheckSsoHeaders,
} from './security-headers';

const input = {
  nonce: 'bm9uY2Utb25l',
  apiUrl: 'https://vdi.example.com/api',
  keycloakUrl: 'https://sso.example.com/auth',
};
const directives = (csp: string) =>
  Object.fromEntries(
    csp.split('; ').map((d) => {
      const [name, ...values] = d.split(' ');
      return [name!, values];
    }),
  );

describe('portal security headers', () => {
  it('run only scripts with this response’s nonce (and what they load), never eval in production', () => {
    const d = directives(contentSecurityPolicy(input));
    expect(d['script-src']).toEqual(["'self'", "'nonce-bm9uY2Utb25l'", "'strict-dynamic'"]);
    expect(d['object-src']).toEqual(["'none'"]);
    expect(d['base-uri']).toEqual(["'none'"]);
    expect(contentSecurityPolicy({ ...input, dev: true })).toContain("'unsafe-eval'");
    expect(contentSecurityPolicy(input)).not.toContain('unsafe-eval');
  });

  it('talk to the API (HTTP and websocket) and Keycloak only, and let nobody frame the portal', () => {
    const d = directives(contentSecurityPolicy(input));
    expect(d['connect-src']).toEqual([
      "'self'",
      'https://vdi.example.com',
      'wss://vdi.example.com',
      'https://sso.example.com',
    ]);
    expect(d['frame-src']).toEqual(["'self'", 'https://sso.example.com']);
    expect(d['frame-ancestors']).toEqual(["'none'"]);
    expect(
      directives(contentSecurityPolicy({ ...input, apiUrl: 'http://localhost:4000' }))['connect-src'],
    ).toContain('ws://localhost:4000');
  });

  it('send other origins the portal’s origin only (what the desktop forward-auth checks), and no sniffing', () => {
    expect(securityHeaders(input)).toMatchObject({
      'Referrer-Policy': 'strict-origin-when-cross-origin',
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
    });
  });

  it('refuse a nonce that could break out of the header', () => {
    expect(() => contentSecurityPolicy({ ...input, nonce: "x' 'unsafe-inline" })).toThrow(/base64/);
    expect(() => contentSecurityPolicy({ ...input, nonce: 'a;b' })).toThrow(/base64/);
  });

  it('make a fresh 128-bit nonce each time', () => {
    const a = newNonce();
    expect(Buffer.from(a, 'base64')).toHaveLength(16);
    expect(a).not.toBe(newNonce());
    expect(() => contentSecurityPolicy({ ...input, nonce: a })).not.toThrow();
  });

  it('allow the silent-check page exactly its own inline script, framed by the portal alone', () => {
    const html = readFileSync(path.join(import.meta.dirname, '../public/silent-check-sso.html'), 'utf8');
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    expect(scripts).toHaveLength(1);
    const hash = `sha256-${createHash('sha256').update(scripts[0]!).digest('base64')}`;
    expect(SILENT_CHECK_SSO_SCRIPT_SHA256).toBe(hash);
    const h = silentCheckSsoHeaders();
    const d = directives(h['Content-Security-Policy']!);
    expect(d['script-src']).toEqual([`'${hash}'`]);
    expect(d['frame-ancestors']).toEqual(["'self'"]);
    expect(h['X-Frame-Options']).toBe('SAMEORIGIN');
  });
});
