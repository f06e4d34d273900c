/**
 * Desktop access (ARCHITECTURE.md §5): `openSession` issues a one-time ticket bound to the
 * session and the user; Traefik's forwardAuth asks `GET /auth/session` about every request to a
 * desktop, which refuses requests that pages elsewhere start (foreign-request.ts), admits a valid
 * per-session cookie — handing Traefik the desktop's own basic-auth password for it — trades a
 * ticket opened from the portal for that cookie, and sends everyone else to the portal. All state
 * lives in the cluster (the ticket annotation) or in the browser (the signed cookie), so any
 * replica can answer any step.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { API_VERSION, KIND_SESSION, type VDISession } from '@vdi/crd-types';
import { KubeApiError, type KubeJsonClient } from '@vdi/kube-client';
import { desktopAuthorizationOf, ownerKey, parseOwnerKey, type Grantee } from '@vdi/session-spec';
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
  checkViaProof,
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
import { foreignRequest, type RequestOrigin } from './foreign-request.js';
import { FORWARD_AUTH_READ_BUDGET, ReadBudget } from './read-budget.js';
import { IdentityLiveness } from './liveness.js';
import { ANNOTATION_ACCESS_HOLDERS, withHolder } from './holders.js';
import { ShareCache } from '../shares/share-cache.js';
import { viewOnlyAuthorizationOf } from '../shares/view-only.js';

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
  /** Where the browser says the request comes from (Origin, Sec-Fetch-*). */
  from?: RequestOrigin;
  /** The original request's Referer. */
  referer?: string;
}

export type Decision =
  /** `authorization` opens the desktop's own basic auth; Traefik puts it on the request. */
  | { kind: 'allow'; username: string; authorization: string }
  | {
      kind: 'redeem';
      location: string;
      cookie: { name: string; value: string; path: string; secure: boolean; maxAge: number };
    }
  /** `clearCookie` names a desktop cookie to remove (its identity is no longer live). */
  | { kind: 'login'; location: string; why: string; clearCookie?: { name: string; secure: boolean } }
  | { kind: 'refuse'; status: 400 | 403; message: string }
  /** Over the read budget of the API server: try again later. */
  | { kind: 'busy'; retryAfterSeconds: number; message: string };

/** Sentinel of a read that the budget did not allow. */
class OverBudget {
  constructor(readonly retryAfterSeconds: number) {}
}

/** The origin of a Referer header, or undefined when there is none or it is not a URL. */
function refererOrigin(referer: string | undefined): string | undefined {
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}

@Injectable()
export class AccessService {
  private readonly log = new Logger('Access');
  /** Bounds this replica's reads of the API server on behalf of forward-auth. */
  private readonly reads = new ReadBudget(FORWARD_AUTH_READ_BUDGET);
  private readonly portalOrigin: string;

  constructor(
    private readonly sessions: SessionsService,
    private readonly caches: ApiCaches,
    @Inject(KUBE_CLIENT) private readonly kube: KubeJsonClient,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly liveness: IdentityLiveness,
    private readonly shares: ShareCache,
  ) {
    this.portalOrigin = new URL(config.portalUrl).origin;
  }

  /**
   * A one-time ticket URL for one of the caller's sessions (any session for an admin), or for a
   * session a live share (VDIShare) names the caller in.
   */
  async open(p: Principal, name: string): Promise<SessionAccess> {
    const found = await this.openable(p, name);
    const shared = found.shared;
    let s = found.session;
    // This replica's cache may not show yet the Running status the owner just saw elsewhere
    // (the API server, another replica's subscription): read it once before refusing.
    if (!s.metadata.deletionTimestamp && !(s.status?.phase === 'Running' && s.status.url))
      s = await this.fresher(s);
    if (s.metadata.deletionTimestamp) throw badInput(`session '${name}' is being deleted`);
    const phase = s.status?.phase ?? 'Pending';
    if (phase !== 'Running' || !s.status?.url) {
      const why = s.status?.message ? `: ${s.status.message}` : '';
      throw badInput(`session '${name}' is not ready yet (phase ${phase}${why}); open it once it is Running`);
    }
    // A token outlives its login by up to its lifetime: a ticket needs the login still live.
    if (this.liveness.enabled) {
      const v = await this.liveness.check(p.subject, p.sessionId);
      if (!v.live) throw badInput(`your login can no longer open desktops (${v.why}); log in again`);
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
              owner: ownerKey(p.owner),
              username: p.username,
              admin: p.isAdmin,
              expiresAt,
              ...(p.sessionId ? { idpSession: p.sessionId } : {}),
              // A group share admits by the groups of the token that asked for the ticket.
              ...(shared && p.groups.length ? { groups: p.groups } : {}),
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
    const login = (why: string): Extract<Decision, { kind: 'login' }> => ({
      kind: 'login',
      location: `${this.config.portalUrl}/open/${encodeURIComponent(name)}`,
      why,
    });
    // First, before any cookie counts: a page elsewhere (another desktop above all) must not
    // use this desktop's cookie.
    const foreign = foreignRequest(req.url, req.from ?? {});
    if (foreign) {
      this.log.warn({
        msg: 'foreign request refused',
        session: name,
        origin: req.from?.origin,
        why: foreign,
      });
      return { kind: 'refuse', status: 403, message: foreign };
    }
    const { ticket, via, clean } = splitTicket(req.url);
    // A ticket is redeemed only where its user clicked it: on the portal's navigation (its
    // Referer), by a client with a bearer token, or on the retry of the "connecting" page that
    // such a navigation reached (its proof). A link handed to someone else would otherwise log
    // their browser into the issuer's desktop.
    if (ticket !== undefined && !this.fromPortal(req, req.url.host, ticket, via)) {
      this.log.warn({ msg: 'ticket refused', session: name, why: 'not opened from the portal' });
      return login('ticket not opened from the portal');
    }
    // A ticket was written a moment ago, maybe through another replica: read it from the API
    // server, not from a cache that may not show it yet.
    const s = ticket !== undefined ? await this.read(name) : await this.session(name);
    if (s instanceof OverBudget) {
      this.log.warn({ msg: 'read budget exhausted', session: name, retryAfterSeconds: s.retryAfterSeconds });
      return {
        kind: 'busy',
        retryAfterSeconds: s.retryAfterSeconds,
        message: `too many desktop requests need a session lookup right now; try again in ${s.retryAfterSeconds} s`,
      };
    }
    if (!s || s.metadata.deletionTimestamp) return login('no such session');
    // The owner key decides; an unclaimed session (0.1.x, no spec.owner) is opened by admins only.
    const target = {
      ref: `${ns}/${name}`,
      uid: s.metadata.uid!,
      owner: s.spec.owner ? ownerKey(s.spec.owner) : undefined,
    };

    const secure = req.url.protocol === 'https:';
    const raw = req.cookies[cookieName(name, secure)];
    const cookie = raw ? await verifyDesktopCookie(raw, this.config.access.cookieSecret) : undefined;

    if (ticket !== undefined) {
      const annotation = s.metadata.annotations?.[ANNOTATION_ACCESS_TICKET];
      const record = decodeTicketRecord(annotation);
      const check = checkTicket(record, ticket, Date.now());
      if (!check.ok || !record) {
        this.log.warn({ msg: 'ticket refused', session: name, why: check.ok ? 'unknown' : check.why });
        return login(`ticket ${check.ok ? 'unknown' : check.why}`);
      }
      // A ticket is the issued user's: a browser or client that is someone else (another owner
      // key, whatever its e-mail) is refused.
      const presenter = req.bearer ? ownerKey(req.bearer.owner) : cookie?.owner;
      if (presenter !== undefined && presenter !== record.owner) {
        this.log.warn({
          msg: 'ticket presented by another user',
          session: name,
          issuedTo: record.owner,
          presenter,
        });
        return { kind: 'refuse', status: 403, message: 'this desktop link was issued to another user' };
      }
      const holders = withHolder(s.metadata.annotations?.[ANNOTATION_ACCESS_HOLDERS], {
        owner: record.owner,
        username: record.username,
        ...(record.idpSession ? { idpSession: record.idpSession } : {}),
      });
      if (!(await this.consume(name, target.uid, annotation!, holders))) {
        this.log.warn({ msg: 'ticket refused', session: name, why: 'already used' });
        return login('ticket already used');
      }
      const claims: DesktopClaims = {
        session: target.ref,
        uid: target.uid,
        owner: record.owner,
        username: record.username,
        admin: record.admin,
        ...(record.idpSession ? { idpSession: record.idpSession } : {}),
        ...(record.groups?.length ? { groups: record.groups } : {}),
      };
      const ttl = this.config.access.cookieTtlSeconds;
      this.log.log({ msg: 'ticket redeemed', session: name, owner: record.owner, user: record.username });
      return {
        kind: 'redeem',
        location: clean,
        cookie: {
          name: cookieName(name, secure),
          value: await signDesktopCookie(claims, this.config.access.cookieSecret, ttl),
          path: '/',
          secure,
          maxAge: ttl,
        },
      };
    }
    let sharedTo =
      cookie && !cookieAdmits(cookie, target) && cookie.session === target.ref && cookie.uid === target.uid
        ? this.sharedRole(name, target.uid, {
            subject: parseOwnerKey(cookie.owner)?.subject ?? '',
            username: cookie.username,
            groups: cookie.groups ?? [],
          })
        : undefined;
    if (cookie && (cookieAdmits(cookie, target) || sharedTo)) {
      const subject = parseOwnerKey(cookie.owner)?.subject;
      const verdict = subject
        ? await this.liveness.check(subject, cookie.idpSession)
        : ({ live: false, why: 'the cookie names no owner' } as const);
      if (!verdict.live) {
        this.log.warn({
          msg: 'cookie of a revoked identity',
          session: name,
          user: cookie.username,
          why: verdict.why,
        });
        return {
          ...login(`access revoked: ${verdict.why}`),
          clearCookie: { name: cookieName(name, secure), secure },
        };
      }
      if (sharedTo?.share.spec.grantee.group && subject) {
        // Admitted by a group share: the cookie's groups are those of the token it was issued for,
        // so ask the identity provider which of them the user is still in (cached like liveness).
        const current = await this.liveness.groupsOf(subject);
        if (current) {
          const still = (cookie.groups ?? []).filter((g) => current.has(g) || current.has(`/${g}`));
          sharedTo = this.sharedRole(name, target.uid, {
            subject,
            username: cookie.username,
            groups: still,
          });
          if (!sharedTo) {
            this.log.warn({ msg: 'grantee left the group', session: name, user: cookie.username });
            return {
              ...login('no live share of this session admits you (you are no longer in its group)'),
              clearCookie: { name: cookieName(name, secure), secure },
            };
          }
        }
      }
      if (sharedTo) {
        // A grantee: `control` gets the session's password, `view` the view-only one, which
        // Selkies caps at the viewer role on the server (its input is dropped there).
        this.shares.noteUse(sharedTo.share, cookie.username);
        return {
          kind: 'allow',
          username: cookie.username,
          authorization:
            sharedTo.role === 'control'
              ? desktopAuthorizationOf(this.config.access.sessionKey, s)
              : viewOnlyAuthorizationOf(this.config.access.sessionKey, s),
        };
      }
      return {
        kind: 'allow',
        username: cookie.username,
        // A claimed warm desktop opens with its pod's own password (status.desktopPod).
        authorization: desktopAuthorizationOf(this.config.access.sessionKey, s),
      };
    }
    if (cookie && cookie.session === target.ref && cookie.uid === target.uid) {
      this.log.warn({ msg: 'no live share', session: name, user: cookie.username });
      return {
        ...login('no live share of this session admits you (revoked or expired)'),
        clearCookie: { name: cookieName(name, secure), secure },
      };
    }
    return login(cookie ? 'cookie not valid for this session' : 'no cookie');
  }

  /** The role a live share of this session (this uid: not a former session of the name) gives `who`. */
  private sharedRole(name: string, uid: string, who: Grantee) {
    if (!who.subject) return undefined;
    const granted = this.shares.roleFor(name, who);
    if (!granted || granted.share.metadata.ownerReferences?.some((o) => o.uid === uid) === false)
      return undefined;
    return granted;
  }

  /** The session to open: the caller's own (sessions.get), else one a live share names them in. */
  private async openable(p: Principal, name: string): Promise<{ session: VDISession; shared: boolean }> {
    try {
      return { session: await this.sessions.get(p, name), shared: false };
    } catch (err) {
      const s = this.shares.roleFor(name, { subject: p.subject, username: p.username, groups: p.groups })
        ? await this.session(name)
        : undefined;
      if (!s || s instanceof OverBudget || !this.sharedRole(name, s.metadata.uid!, p)) throw err;
      this.log.log({ msg: 'shared session opened', session: name, user: p.user });
      return { session: s, shared: true };
    }
  }

  /** Whether a ticket request comes from the portal (Referer), a bearer client, or carries the proof. */
  private fromPortal(req: ForwardedRequest, host: string, ticket: string, via: string | undefined): boolean {
    if (req.bearer) return true;
    if (refererOrigin(req.referer) === this.portalOrigin) return true;
    return via !== undefined && checkViaProof(this.config.access.cookieSecret, host, ticket, via);
  }

  /** Removes the ticket annotation if it still has exactly this value; false when someone else did. */
  private async consume(name: string, uid: string, value: string, holders: string): Promise<boolean> {
    const pointer = (a: string) => `/metadata/annotations/${a.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const path = pointer(ANNOTATION_ACCESS_TICKET);
    try {
      await this.kube.jsonPatch(this.ref(name), [
        { op: 'test', path: '/metadata/uid', value: uid },
        { op: 'test', path, value },
        { op: 'remove', path },
        // Who holds a cookie of this desktop now: what the revocation loop checks.
        { op: 'add', path: pointer(ANNOTATION_ACCESS_HOLDERS), value: holders },
      ]);
      return true;
    } catch (err) {
      // 422: a test failed (used by another request, or replaced by a newer ticket); 404: gone.
      if (err instanceof KubeApiError && [404, 409, 422].includes(err.status)) return false;
      throw err;
    }
  }

  /** The session from the cache; a miss (just created elsewhere) is looked up on the API server. */
  private async session(name: string): Promise<VDISession | undefined | OverBudget> {
    return this.caches.sessions.get(name, this.config.sessionsNamespace) ?? (await this.read(name));
  }

  /** The same session (same uid) as the API server has it now, within the read budget; else `s`. */
  private async fresher(s: VDISession): Promise<VDISession> {
    const fresh = await this.read(s.metadata.name!);
    return fresh && !(fresh instanceof OverBudget) && fresh.metadata.uid === s.metadata.uid ? fresh : s;
  }

  /** The session read from the API server, within the read budget. */
  private async read(name: string): Promise<VDISession | undefined | OverBudget> {
    const take = this.reads.take();
    if (!take.ok) return new OverBudget(take.retryAfterSeconds);
    return this.kube.get<VDISession>(this.ref(name));
  }

  private ref(name: string) {
    return {
      apiVersion: API_VERSION,
      kind: KIND_SESSION,
      metadata: { name, namespace: this.config.sessionsNamespace },
    };
  }
}
