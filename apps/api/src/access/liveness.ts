/**
 * Whether the identity behind a desktop cookie is still live (issue #15 item 4): the account
 * exists, is enabled and still holds a platform role, and the identity provider's login session
 * the cookie came from (the `sid` of the token that opened the desktop) is still active — so a
 * portal logout (which ends that session), a disabled account or a removed role ends desktop
 * access within a bounded time.
 *
 * The API reads this through Keycloak's admin REST API with its own service account (a
 * confidential client with realm-management/view-users; client credentials from a Secret). A
 * verdict is cached per (subject, login session) for at most `cacheSeconds`. When Keycloak cannot
 * be asked, a verdict last seen live stays live for `graceSeconds` (logged), then the identity
 * counts as not live: an outage fails closed after the grace period.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { ROLE_ADMIN, ROLE_USER } from '../auth/principal.js';
import { IdentityProviderError, RealmAdmin, type Fetch } from './realm-admin.js';

export type Verdict = { live: true } | { live: false; why: string };

export interface LivenessSettings {
  /** Keycloak's admin API of the realm, e.g. http://localhost:8180/admin/realms/vdi. */
  adminUrl: string;
  /** The realm's token endpoint. */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  cacheSeconds: number;
  graceSeconds: number;
}

/** The liveness settings of a config, or undefined when no service account is configured. */
export function livenessSettings(config: ApiConfig): LivenessSettings | undefined {
  const id = config.identity;
  if (!id) return undefined;
  return {
    adminUrl: config.oidcIssuer.replace(/\/realms\/([^/]+)$/, '/admin/realms/$1'),
    tokenUrl: `${config.oidcIssuer}/protocol/openid-connect/token`,
    clientId: id.clientId,
    clientSecret: id.clientSecret,
    cacheSeconds: id.cacheSeconds,
    graceSeconds: id.graceSeconds,
  };
}

export { IdentityProviderError };

interface Entry {
  verdict: Verdict;
  at: number;
}

/** The verdict logic, without Nest: testable with a fake fetch. */
export class LivenessChecker {
  private readonly cache = new Map<string, Entry>();
  /** When each key was last confirmed live: the grace period runs from there. */
  private readonly lastLive = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<Verdict>>();
  private readonly groupCache = new Map<
    string,
    { groups: ReadonlySet<string>; at: number; confirmedAt: number }
  >();
  private readonly groupInflight = new Map<string, Promise<ReadonlySet<string>>>();
  private readonly realm: RealmAdmin;

  constructor(
    private readonly s: LivenessSettings,
    private readonly log: Pick<Logger, 'warn' | 'log'>,
    fetchImpl: Fetch = fetch,
    private readonly now: () => number = Date.now,
    /** The realm admin client to share (IdentityLiveness passes the API's one). */
    realm?: RealmAdmin,
  ) {
    this.realm = realm ?? new RealmAdmin(s, fetchImpl, now);
  }

  /** Whether `subject`'s login session `idpSession` still opens desktops. */
  async check(subject: string, idpSession: string | undefined): Promise<Verdict> {
    if (!idpSession)
      return { live: false, why: 'the cookie names no login session (made before revocation)' };
    const key = `${subject}\n${idpSession}`;
    const hit = this.cache.get(key);
    if (hit && this.now() - hit.at < this.s.cacheSeconds * 1000) return hit.verdict;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.ask(key, subject, idpSession).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async ask(key: string, subject: string, idpSession: string): Promise<Verdict> {
    let verdict: Verdict;
    try {
      verdict = await this.fetchVerdict(subject, idpSession);
    } catch (err) {
      const since = this.lastLive.get(key);
      const inGrace = since !== undefined && this.now() - since < this.s.graceSeconds * 1000;
      this.log.warn({
        msg: 'identity provider unreachable',
        subject,
        error: (err as Error).message,
        verdict: inGrace ? 'live (grace period)' : 'not live',
      });
      verdict = inGrace
        ? { live: true }
        : { live: false, why: 'the identity provider cannot confirm the login' };
      // Asked again soon, not after a whole cache period.
      this.remember(key, verdict, this.now() - Math.max(0, this.s.cacheSeconds - 5) * 1000);
      return verdict;
    }
    if (verdict.live) this.lastLive.set(key, this.now());
    else this.lastLive.delete(key);
    this.remember(key, verdict, this.now());
    return verdict;
  }

  private remember(key: string, verdict: Verdict, at: number): void {
    if (this.cache.size > 10_000) {
      const old = this.now() - Math.max(this.s.cacheSeconds, this.s.graceSeconds) * 1000;
      for (const [k, e] of this.cache) if (e.at < old) this.cache.delete(k);
      for (const [k, t] of this.lastLive) if (t < old) this.lastLive.delete(k);
    }
    this.cache.set(key, { verdict, at });
  }

  private async fetchVerdict(subject: string, idpSession: string): Promise<Verdict> {
    const user = encodeURIComponent(subject);
    const account = await this.admin(`/users/${user}`, [404]);
    if (account === undefined) return { live: false, why: 'account deleted' };
    if ((account as { enabled?: boolean }).enabled !== true) return { live: false, why: 'account disabled' };
    const roles = (await this.admin(`/users/${user}/role-mappings/realm/composite`)) as { name?: string }[];
    if (!roles.some((r) => r.name === ROLE_USER || r.name === ROLE_ADMIN)) {
      return { live: false, why: `role ${ROLE_USER} removed` };
    }
    const sessions = (await this.admin(`/users/${user}/sessions`)) as { id?: string }[];
    if (!sessions.some((x) => x.id === idpSession))
      return { live: false, why: 'logged out (login session ended)' };
    return { live: true };
  }

  /**
   * The groups `subject` is in now at the identity provider, by name and by path (a token's
   * `groups` claim carries one or the other, as its mapper is set), cached like a verdict. A desktop
   * cookie keeps the groups of the token it was issued for: forward-auth asks this before it admits
   * someone by a group share, so leaving the group ends that access within the cache period, not at
   * the cookie's expiry. When the identity provider cannot be asked, the groups last seen stay for
   * the grace period, then none count (fails closed, as the verdict does).
   */
  async groupsOf(subject: string): Promise<ReadonlySet<string>> {
    const key = `groups\n${subject}`;
    const hit = this.groupCache.get(key);
    if (hit && this.now() - hit.at < this.s.cacheSeconds * 1000) return hit.groups;
    let p = this.groupInflight.get(key);
    if (!p) {
      p = this.askGroups(key, subject).finally(() => this.groupInflight.delete(key));
      this.groupInflight.set(key, p);
    }
    return p;
  }

  private async askGroups(key: string, subject: string): Promise<ReadonlySet<string>> {
    const last = this.groupCache.get(key);
    try {
      const list = (await this.admin(
        `/users/${encodeURIComponent(subject)}/groups?briefRepresentation=true&first=0&max=1000`,
        [404],
      )) as { name?: string; path?: string }[] | undefined;
      const groups = new Set<string>();
      for (const g of list ?? []) {
        if (g.name) groups.add(g.name);
        if (g.path) groups.add(g.path);
      }
      if (this.groupCache.size > 10_000) this.groupCache.clear();
      this.groupCache.set(key, { groups, at: this.now(), confirmedAt: this.now() });
      return groups;
    } catch (err) {
      const inGrace = last !== undefined && this.now() - last.confirmedAt < this.s.graceSeconds * 1000;
      this.log.warn({
        msg: 'identity provider unreachable',
        subject,
        error: (err as Error).message,
        groups: inGrace ? 'last seen (grace period)' : 'none',
      });
      const groups = inGrace ? last.groups : new Set<string>();
      // Asked again soon, not after a whole cache period.
      this.groupCache.set(key, {
        groups,
        at: this.now() - Math.max(0, this.s.cacheSeconds - 5) * 1000,
        confirmedAt: last?.confirmedAt ?? 0,
      });
      return groups;
    }
  }

  private admin(path: string, absent: number[] = []): Promise<unknown> {
    return this.realm.get(path, absent);
  }
}

/** The API's liveness checker; `enabled` is false when no service account is configured. */
@Injectable()
export class IdentityLiveness {
  private readonly log = new Logger('Liveness');
  private readonly checker: LivenessChecker | undefined;
  /** The API's one realm admin client (realm-admin.ts), also the share directory's; undefined when not configured. */
  readonly realm: RealmAdmin | undefined;

  constructor(@Inject(API_CONFIG) config: ApiConfig) {
    const s = livenessSettings(config);
    this.realm = s ? new RealmAdmin(s) : undefined;
    this.checker = s ? new LivenessChecker(s, this.log, fetch, Date.now, this.realm) : undefined;
    if (!s) {
      this.log.warn({
        msg: 'desktop access is not revocable: no identity provider service account (set VDI_OIDC_ADMIN_CLIENT_ID and VDI_OIDC_ADMIN_CLIENT_SECRET)',
      });
    }
  }

  get enabled(): boolean {
    return this.checker !== undefined;
  }

  check(subject: string, idpSession: string | undefined): Promise<Verdict> {
    return this.checker ? this.checker.check(subject, idpSession) : Promise.resolve({ live: true });
  }

  /** The groups `subject` is in now (see LivenessChecker.groupsOf); undefined when not configured. */
  groupsOf(subject: string): Promise<ReadonlySet<string>> | undefined {
    return this.checker?.groupsOf(subject);
  }
}
