/**
 * Next.js proxy (the file convention formerly called middleware): puts the portal's security
 * headers (lib/security-headers.ts) on every page, with a fresh CSP nonce per request. The nonce
 * also goes into the request's own Content-Security-Policy header, where Next.js finds it while
 * rendering and puts it on its script tags (the root layout renders per request: connection()).
 */
import { NextResponse, type NextRequest } from 'next/server';
import { readRuntimeConfig } from './lib/runtime-config';
import {
  newNonce,
  securityHeaders,
  SILENT_CHECK_SSO_PATH,
  silentCheckSsoHeaders,
} from './lib/security-headers';

export function proxy(request: NextRequest): NextResponse {
  if (request.nextUrl.pathname === SILENT_CHECK_SSO_PATH) {
    const response = NextResponse.next();
    for (const [k, v] of Object.entries(silentCheckSsoHeaders())) response.headers.set(k, v);
    return response;
  }
  const runtime = readRuntimeConfig(process.env);
  const headers = securityHeaders({
    nonce: newNonce(),
    apiUrl: runtime.apiUrl,
    keycloakUrl: runtime.keycloakUrl,
    dev: process.env.NODE_ENV === 'development',
  });
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set('Content-Security-Policy', headers['Content-Security-Policy']!);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  for (const [k, v] of Object.entries(headers)) response.headers.set(k, v);
  return response;
}

export const config = {
  matcher: [
    // Pages and the silent-check page; not Next's hashed static files (no document, no script of ours inline).
    {
      source: '/((?!_next/static|_next/image|favicon.ico).*)',
      missing: [
        { type: 'header', key: 'next-router-prefetch' },
        { type: 'header', key: 'purpose', value: 'prefetch' },
      ],
    },
  ],
};
