/**
 * `GET /auth/session`: Traefik's forwardAuth endpoint for desktops. Traefik passes the original
 * request's method, host, URI and headers (X-Forwarded-*, Cookie, Authorization, Origin, Referer,
 * Sec-Fetch-*); a 2xx answer lets the request through with X-Forwarded-User and Authorization
 * (the desktop's basic auth) put on it in place of the client's own, anything else goes back to
 * the browser as is (redirects and Set-Cookie included).
 */
import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AUTH_USER_HEADER } from '@vdi/session-spec';
import { TokenVerifier } from '../auth/token-verifier.js';
import type { Principal } from '../auth/principal.js';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { AccessService, type ForwardedRequest } from './access.service.js';
import { startingPage, startingRetryUrl, STARTING_RETRY_SECONDS } from './starting-page.js';

const first = (h: string | string[] | undefined) => (Array.isArray(h) ? h[0] : h);

/** The original URL of a forwarded request, from Traefik's X-Forwarded-* headers. */
export function forwardedUrl(headers: FastifyRequest['headers']): URL | undefined {
  const host = first(headers['x-forwarded-host']);
  if (!host) return undefined;
  const proto = first(headers['x-forwarded-proto']) === 'https' ? 'https' : 'http';
  const uri = first(headers['x-forwarded-uri']) || '/';
  try {
    return new URL(`${proto}://${host}${uri.startsWith('/') ? uri : `/${uri}`}`);
  } catch {
    return undefined;
  }
}

@Controller('auth')
export class ForwardAuthController {
  constructor(
    private readonly access: AccessService,
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  /** The page of a desktop address the ingress does not route yet (see starting-page.ts). */
  @Get('starting')
  async starting(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const host = first(req.headers['x-forwarded-host']);
    const q = req.url.indexOf('?');
    const retry = startingRetryUrl({
      host,
      search: q >= 0 ? req.url.slice(q) : '',
      referer: first(req.headers.referer),
      portalUrl: this.config.portalUrl,
      secret: this.config.access.cookieSecret,
    });
    await reply
      .code(503)
      .header('retry-after', String(STARTING_RETRY_SECONDS))
      .header('cache-control', 'no-store')
      // The page passes a ticket on: no Referer of it may leave for anywhere else.
      .header('referrer-policy', 'same-origin')
      .type('text/html; charset=utf-8')
      .send(startingPage(host, this.config.portalUrl, retry));
  }

  @Get('session')
  async session(
    @Query('session') sessionRef: string | undefined,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    let bearer: Principal | undefined;
    if (req.headers.authorization) {
      bearer = await this.verifier.verifyHeader(req.headers.authorization).catch(() => undefined);
    }
    const h = req.headers;
    const referer = first(h.referer);
    const forwarded: ForwardedRequest = {
      sessionRef,
      url: forwardedUrl(h),
      cookies: req.cookies ?? {},
      ...(bearer ? { bearer } : {}),
      from: {
        origin: first(h.origin),
        secFetchSite: first(h['sec-fetch-site']),
        secFetchMode: first(h['sec-fetch-mode']),
        secFetchDest: first(h['sec-fetch-dest']),
      },
      ...(referer !== undefined ? { referer } : {}),
    };
    const d = await this.access.decide(forwarded);
    reply.header('cache-control', 'no-store');
    switch (d.kind) {
      case 'allow':
        // Traefik copies both onto the request (authResponseHeaders), replacing the client's own.
        await reply
          .code(200)
          .header(AUTH_USER_HEADER, d.username)
          .header('authorization', d.authorization)
          .send();
        return;
      case 'redeem':
        reply.setCookie(d.cookie.name, d.cookie.value, {
          path: d.cookie.path,
          httpOnly: true,
          sameSite: 'lax',
          secure: d.cookie.secure,
          maxAge: d.cookie.maxAge,
        });
        await reply.redirect(d.location, 302);
        return;
      case 'login':
        if (d.clearCookie) {
          reply.clearCookie(d.clearCookie.name, {
            path: '/',
            httpOnly: true,
            sameSite: 'lax',
            secure: d.clearCookie.secure,
          });
        }
        await reply.header('x-vdi-auth', d.why).redirect(d.location, 302);
        return;
      case 'refuse':
        await reply.code(d.status).type('text/plain; charset=utf-8').send(`${d.message}\n`);
        return;
      case 'busy':
        await reply
          .code(503)
          .header('retry-after', String(d.retryAfterSeconds))
          .type('text/plain; charset=utf-8')
          .send(`${d.message}\n`);
    }
  }
}
