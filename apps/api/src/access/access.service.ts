/**
 * Desktop access (ARCHITECTURE.md §5): `openSession` issues a one-time ticket bound to the
 * session and the user; Traefik's forwardAuth asks `GET /auth/session` about every request to a
 * desktop, which admits a valid per-session cookie, trades a valid ticket for that cookie, and
 * sends everyone else to the portal. All state lives in the cluster (the ticket annotation) or in
 * the browser (the signed cookie), so any replica can answer any step.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { API_VERSION, KIND_SESSION, type VDISession } from '@vdi/crd-types';
import { KubeApiError, type KubeJsonClient } from '@vdi/kube-client';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { badInput, toApiError } from '../common/errors.js';
import { ApiCaches } from '../kube/caches.js';
import { KUBE_CLIENT } from '../kube/tokens.js';
import type { Principal } from '../auth/principal.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { sessionNameProblem } from '../sessions/session-name.js';
import {
  ANNOTATION_ACCESS_TICKET,
  checkTicket,
  cookieAdmits,
  cookieName,
  decodeTicketRecord,
  encodeTicketRecord,
  newTicket,
  signDesktopCookie,
  splitTicket,
  verifyDesktopCookie,
  withTicket,
  type DesktopClaims,
} from './access-tokens.js';

export interface SessionAccess {
  url: string;
  expiresAt: string;
}

/** What forwardAuth knows about the request Traefik is asking about. */
export interface ForwardedRequest {
  /** `session` query parameter of the Middleware's address: namespace/name. */
  sessionRef: string | undefined;
  /** The original URL (X-Forwarded-Proto/Host/Uri). */
  url: URL | undefined;
  cookies: Record<string, string | undefined>;
  /** The caller of the original request when it carried a valid bearer token (integrations). */
  bearer?: Principal;
}

export type Decision =
  | { kind: 'allow'; username: string }
  | {
      kind: 'redeem';
      location: string;
      cookie: { name: string; value: string; path: string; secure: boolean; maxAge: number };
    }
  | { kind: 'login'; location: string; why: string }
  | { kind: 'refuse'; status: 400 | 403; message: string };

@Injectable()
export class AccessService {
  private readonly log = new Logger('Access');

  constructor(
    private readonly sessions: SessionsService,
    private readonly caches: ApiCaches,
    @Inject(KUBE_CLIENT) private readonly kube: KubeJsonClient,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  /** A one-time ticket URL for one of the caller's sessions (any session for an admin). */
  async open(p: Principal, name: string): Promise<SessionAccess> {
    const s = await this.sessions.get(p, name);
    if (s.metadata.deletionTimestamp) throw badInput(`session '${name}' is being deleted`);
    const phase = s.status?.phase ?? 'Pending';
    if (phase !== 'Running' || !s.status?.url) {
      const why = s.status?.message ? `: ${s.status.message}` : '';
      throw badInput(`session '${name}' is not ready yet (phase ${phase}${why}); open it once it is Running`);
    }
    const { ticket, hash } = newTicket();
    const expiresAt = Date.now() + this.config.access.ticketTtlSeconds * 1000;
    try {
      // metadata.uid makes the patch a precondition: a new session of the same name is not touched.
      await this.kube.mergePatch(this.ref(name), {
        metadata: {
          uid: s.metadata.uid,
          annotations: {
            [ANNOTATION_ACCESS_TICKET]: encodeTicketRecord({
              hash,
              user: p.user,
              username: p.username,
              admin: p.isAdmin,
              expiresAt,
            }),
          },
        },
      });
    } catch (err) {
      throw toApiError(err, { template: s.spec.template, name });
    }
    this.log.log({ msg: 'ticket issued', session: name, user: p.user });
    return { url: withTicket(s.status.url, ticket), expiresAt: new Date(expiresAt).toISOString() };
  }

  /** The forwardAuth answer for one request to a desktop. */
  async decide(req: ForwardedRequest): Promise<Decision> {
    const ns = this.config.sessionsNamespace;
    const [refNs, name, ...rest] = (req.sessionRef ?? '').split('/');
    if (refNs !== ns || !name || rest.length > 0 || sessionNameProblem(name)) {
      return {
        kind: 'refuse',
        status: 400,
        message: `session=${req.sessionRef ?? ''} does not name a session of ${ns} (expected ${ns}/<name>); check the Middleware's address`,
      };
    }
    if (!req.url) {
      return {
        kind: 'refuse',
        status: 400,
        message: 'X-Forwarded-Host is missing: this endpoint answers Traefik forwardAuth requests',
      };
    }
    const login = (why: string): Decision => ({
      kind: 'login',
      location: `${this.config.portalUrl}/open/${encodeURIComponent(name)}`,
      why,
    });
    const { ticket, clean } = splitTicket(req.url);
    // A ticket was written a moment ago, maybe through another replica: read it from the API
    // server, not from a cache that may not show it yet.
    const s =
      ticket !== undefined ? await this.kube.get<VDISession>(this.ref(name)) : await this.session(name);
    if (!s || s.metadata.deletionTimestamp) return login('no such session');
    const target = { ref: `${ns}/${name}`, uid: s.metadata.uid!, owner: s.spec.user };

    const raw = req.cookies[cookieName(name)];
    const cookie = raw ? await verifyDesktopCookie(raw, this.config.access.cookieSecret) : undefined;

    if (ticket !== undefined) {
      const annotation = s.metadata.annotations?.[ANNOTATION_ACCESS_TICKET];
      const record = decodeTicketRecord(annotation);
      const check = checkTicket(record, ticket, Date.now());
      if (!check.ok || !record) {
        this.log.warn({ msg: 'ticket refused', session: name, why: check.ok ? 'unknown' : check.why });
        return login(`ticket ${check.ok ? 'unknown' : check.why}`);
      }
      // A ticket is the issued user's: a browser or client that is someone else is refused.
      const presenter = req.bearer?.user ?? cookie?.user;
      if (presenter !== undefined && presenter !== record.user) {
        this.log.warn({
          msg: 'ticket presented by another user',
          session: name,
          issuedTo: record.user,
          presenter,
        });
        return { kind: 'refuse', status: 403, message: 'this desktop link was issued to another user' };
      }
      if (!(await this.consume(name, target.uid, annotation!))) {
        this.log.warn({ msg: 'ticket refused', session: name, why: 'already used' });
        return login('ticket already used');
      }
      const claims: DesktopClaims = {
        session: target.ref,
        uid: target.uid,
        user: record.user,
        username: record.username,
        admin: record.admin,
      };
      const ttl = this.config.access.cookieTtlSeconds;
      this.log.log({ msg: 'ticket redeemed', session: name, user: record.user });
      return {
        kind: 'redeem',
        location: clean,
        cookie: {
          name: cookieName(name),
          value: await signDesktopCookie(claims, this.config.access.cookieSecret, ttl),
          path: '/',
          secure: req.url.protocol === 'https:',
          maxAge: ttl,
        },
      };
    }
    if (cookie && cookieAdmits(cookie, target)) return { kind: 'allow', username: cookie.username };
    return login(cookie ? 'cookie not valid for this session' : 'no cookie');
  }

  /** Removes the ticket annotation if it still has exactly this value; false when someone else did. */
  private async consume(name: string, uid: string, value: string): Promise<boolean> {
    const path = `/metadata/annotations/${ANNOTATION_ACCESS_TICKET.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    try {
      await this.kube.jsonPatch(this.ref(name), [
        { op: 'test', path: '/metadata/uid', value: uid },
        { op: 'test', path, value },
        { op: 'remove', path },
      ]);
      return true;
    } catch (err) {
      // 422: a test failed (used by another request, or replaced by a newer ticket); 404: gone.
      if (err instanceof KubeApiError && [404, 409, 422].includes(err.status)) return false;
      throw err;
    }
  }

  /** The session from the cache; a miss (just created elsewhere) is looked up on the API server. */
  private async session(name: string): Promise<VDISession | undefined> {
    return (
      this.caches.sessions.get(name, this.config.sessionsNamespace) ??
      (await this.kube.get<VDISession>(this.ref(name)))
    );
  }

  private ref(name: string) {
    return {
      apiVersion: API_VERSION,
      kind: KIND_SESSION,
      metadata: { name, namespace: this.config.sessionsNamespace },
    };
  }
}
