/**
 * Sharing a session with a named colleague (issue #18): the owner grants a user (who must exist
 * at the identity provider) or a group `view` or `control` until a time at most
 * VDI_SHARE_MAX_SECONDS ahead; changes its role or expiry; revokes it. A share is a VDIShare in
 * the sessions' namespace owned by the session (it dies with it), one per (session, grantee).
 * Every refusal happens before anything is written. Grantees list what is shared with them.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  API_VERSION,
  KIND_SESSION,
  KIND_SHARE,
  LABEL_SHARE_GRANTEE_GROUP,
  LABEL_SHARE_GRANTEE_USER,
  LABEL_SHARE_SESSION,
  type ShareRole,
  type VDIShare,
  type VDISession,
} from '@vdi/crd-types';
import type { KubeJsonClient } from '@vdi/kube-client';
import {
  DEFAULT_SHARE_MAX_SECONDS,
  desktopAuthorizationOf,
  desktopBaseUrl,
  desktopConnections,
  desktopPodName,
  expiryProblem,
  labelValue,
  ownedBy,
  shareInputProblem,
  shareIsLive,
  shareName,
} from '@vdi/session-spec';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { badInput, forbidden, notFound, quoted } from '../common/errors.js';
import { ApiCaches } from '../kube/caches.js';
import { KUBE_CLIENT } from '../kube/tokens.js';
import type { Principal } from '../auth/principal.js';
import { IdentityLiveness } from '../access/liveness.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { ShareCache, SELKIES_ROLE } from './share-cache.js';

export interface ShareRequest {
  session: string;
  user?: string | null | undefined;
  group?: string | null | undefined;
  role: string;
  expiresAt: string;
}

/** A page connected to a desktop, as Selkies reports it, with who it probably is. */
export interface DesktopPage {
  id: string;
  role: string;
  connectedAt?: string | undefined;
  /** The owner for controller pages when no control share was used; the users whose shares of that role were used. */
  who: string[];
}

/** The group form the tokens carry (principal.ts strips the leading '/'). */
export const normalizeGroup = (g: string) => g.trim().replace(/^\/+/, '');

@Injectable()
export class SharesService {
  private readonly log = new Logger('Shares');
  private readonly maxSeconds: number;

  constructor(
    private readonly sessions: SessionsService,
    private readonly shares: ShareCache,
    private readonly caches: ApiCaches,
    private readonly liveness: IdentityLiveness,
    @Inject(KUBE_CLIENT) private readonly kube: KubeJsonClient,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {
    const env = Number(process.env.VDI_SHARE_MAX_SECONDS);
    this.maxSeconds = Number.isInteger(env) && env > 0 ? env : DEFAULT_SHARE_MAX_SECONDS;
  }

  /** Grants (or re-grants: same session and grantee) a share of one of the caller's sessions. */
  async share(p: Principal, req: ShareRequest): Promise<VDIShare> {
    const user = req.user?.trim() || undefined;
    const group = req.group ? normalizeGroup(req.group) || undefined : undefined;
    const problem = shareInputProblem(
      { session: req.session, user, group, role: req.role, expiresAt: req.expiresAt },
      { username: p.username, subject: p.subject },
      Date.now(),
      this.maxSeconds,
    );
    if (problem) throw badInput(problem);
    const s = await this.owned(p, req.session);
    let subject: string | undefined;
    if (user) {
      subject = await this.userSubject(user);
      if (subject === p.subject) throw badInput('you cannot share a session with yourself');
    }
    if (group) await this.checkGroup(group);
    const name = shareName(req.session, { user, group });
    const share: VDIShare = {
      apiVersion: API_VERSION,
      kind: KIND_SHARE,
      metadata: {
        name,
        namespace: this.config.sessionsNamespace,
        labels: {
          [LABEL_SHARE_SESSION]: req.session,
          ...(user ? { [LABEL_SHARE_GRANTEE_USER]: labelValue(user) } : {}),
          ...(group ? { [LABEL_SHARE_GRANTEE_GROUP]: labelValue(group) } : {}),
        },
        ownerReferences: [
          {
            apiVersion: API_VERSION,
            kind: KIND_SESSION,
            name: req.session,
            uid: s.metadata.uid!,
            controller: false,
          },
        ],
      },
      spec: {
        session: req.session,
        grantee: user ? { user, ...(subject ? { subject } : {}) } : { group: group! },
        role: req.role as ShareRole,
        expiresAt: new Date(Date.parse(req.expiresAt)).toISOString(),
      },
    };
    const existing = await this.kube.get<VDIShare>(this.shares.ref(name));
    let out: VDIShare;
    if (existing) {
      out = (await this.kube.mergePatch(this.shares.ref(name), {
        metadata: { uid: existing.metadata.uid },
        spec: { role: share.spec.role, expiresAt: share.spec.expiresAt },
      })) as unknown as VDIShare;
    } else {
      out = await this.kube.call<VDIShare>(
        'POST',
        `/apis/${API_VERSION}/namespaces/${this.config.sessionsNamespace}/vdishares`,
        share,
      );
    }
    this.log.log({ msg: 'session shared', session: req.session, share: name, user, group, role: req.role });
    return out;
  }

  /** Changes the role and/or the expiry of a share of one of the caller's sessions. */
  async update(
    p: Principal,
    name: string,
    change: { role?: string | null; expiresAt?: string | null },
  ): Promise<VDIShare> {
    const share = await this.ownShare(p, name);
    if (change.role != null && change.role !== 'view' && change.role !== 'control')
      throw badInput(`role '${change.role}' is not one of view, control`, 'role');
    if (change.expiresAt != null) {
      const problem = expiryProblem(change.expiresAt, Date.now(), this.maxSeconds);
      if (problem) throw badInput(problem, 'expiresAt');
    }
    if (change.role == null && change.expiresAt == null) throw badInput('give a new role or expiresAt');
    const out = (await this.kube.mergePatch(this.shares.ref(name), {
      metadata: { uid: share.metadata.uid },
      spec: {
        ...(change.role != null ? { role: change.role } : {}),
        ...(change.expiresAt != null
          ? { expiresAt: new Date(Date.parse(change.expiresAt)).toISOString() }
          : {}),
      },
    })) as unknown as VDIShare;
    this.log.log({ msg: 'share updated', share: name, role: out.spec.role, expiresAt: out.spec.expiresAt });
    return out;
  }

  /** Deletes a share of one of the caller's sessions; its grantee's open pages close (share-cache.ts). */
  async revoke(p: Principal, name: string): Promise<VDIShare> {
    const share = await this.ownShare(p, name);
    await this.kube.delete(this.shares.ref(name), { uid: share.metadata.uid! });
    this.log.log({ msg: 'share revoked', share: name, session: share.spec.session });
    return share;
  }

  /** The shares of one of the caller's sessions (expired ones too, until the session goes). */
  async list(p: Principal, session: string): Promise<VDIShare[]> {
    await this.owned(p, session);
    return [...this.shares.index.ofSession(session)].sort((a, b) =>
      a.metadata.name!.localeCompare(b.metadata.name!),
    );
  }

  /** The live shares naming the caller (or one of their groups), with their sessions. */
  sharedWithMe(p: Principal): { share: VDIShare; session: VDISession | undefined }[] {
    const now = Date.now();
    return this.shares.index
      .ofGrantee({ username: p.username, subject: p.subject, groups: p.groups })
      .filter((s) => shareIsLive(s, now) && this.shares.roleFor(s.spec.session, who(p), now))
      .filter((s) => s.spec.grantee.subject === undefined || s.spec.grantee.subject === p.subject)
      .map((share) => ({
        share,
        session: this.caches.sessions.get(share.spec.session, this.config.sessionsNamespace),
      }))
      .sort((a, b) => a.share.spec.session.localeCompare(b.share.spec.session));
  }

  /** The pages open on one of the caller's desktops (Selkies' `GET /api/sessions`), with who they probably are. */
  async connections(p: Principal, session: string): Promise<DesktopPage[]> {
    const s = await this.owned(p, session);
    const base = desktopBaseUrl(this.caches.pods.get(desktopPodName(s), this.config.sessionsNamespace));
    if (!base) return [];
    const pages = await desktopConnections(
      base,
      desktopAuthorizationOf(this.config.access.sessionKey, s),
      3_000,
    ).catch((err: unknown) => {
      this.log.warn({ msg: 'desktop did not list its pages', session, error: (err as Error).message });
      return [];
    });
    const now = Date.now();
    const usedBy = (role: ShareRole) =>
      [...this.shares.index.ofSession(session)]
        .filter((x) => x.spec.role === role && shareIsLive(x, now) && x.status?.firstUsedBy)
        .map((x) => x.status!.firstUsedBy!);
    return pages.map((c) => {
      const role = c.role ?? 'controller';
      const shared = role === SELKIES_ROLE.view ? usedBy('view') : usedBy('control');
      return {
        id: c.id,
        role,
        connectedAt: c.connectedAt,
        who: role === SELKIES_ROLE.view ? shared : [p.username, ...shared],
      };
    });
  }

  /** The session, when the caller owns it; refusals name what to do. */
  private async owned(p: Principal, name: string): Promise<VDISession> {
    const s = await this.sessions.get(p, name);
    if (!ownedBy(s, p.owner)) throw forbidden(`session '${name}' is not yours: only its owner can share it`);
    if (s.metadata.deletionTimestamp) throw badInput(`session '${name}' is being deleted`);
    return s;
  }

  private async ownShare(p: Principal, name: string): Promise<VDIShare> {
    const share =
      this.shares.cache.get(name, this.config.sessionsNamespace) ??
      (await this.kube.get<VDIShare>(this.shares.ref(name)));
    if (!share) throw notFound(`there is no share named ${quoted(name)}; list them with shares(session)`);
    await this.owned(p, share.spec.session);
    return share;
  }

  /** The subject of an identity-provider user, or a refusal when there is none. */
  private async userSubject(username: string): Promise<string | undefined> {
    const realm = this.liveness.realm;
    if (!realm) {
      // Without the service account the API cannot check; the share names the username only.
      this.log.warn({
        msg: 'share grantee not checked: no identity provider service account',
        user: username,
      });
      return undefined;
    }
    const found = (await realm.get(`/users?username=${encodeURIComponent(username)}&exact=true`)) as {
      id?: string;
      username?: string;
      enabled?: boolean;
    }[];
    const u = found.find((x) => x.username?.toLowerCase() === username.toLowerCase());
    if (!u?.id)
      throw badInput(
        `there is no user ${quoted(username)} at the identity provider; check the username`,
        'user',
      );
    if (u.enabled === false)
      throw badInput(`user ${quoted(username)} is disabled at the identity provider`, 'user');
    return u.id;
  }

  /**
   * Refuses a group the identity provider does not know (the tokens' `groups` claim carries group
   * names without their path, so any group of that name admits). Unchecked without the service account.
   */
  private async checkGroup(group: string): Promise<void> {
    const realm = this.liveness.realm;
    if (!realm) {
      this.log.warn({ msg: 'share grantee not checked: no identity provider service account', group });
      return;
    }
    const found = (await realm.get(
      `/groups?search=${encodeURIComponent(group)}&exact=true&briefRepresentation=true&populateHierarchy=true`,
    )) as { name?: string; subGroups?: unknown[] }[];
    const named = (gs: { name?: string; subGroups?: unknown[] }[]): boolean =>
      gs.some(
        (g) => g.name === group || named((g.subGroups ?? []) as { name?: string; subGroups?: unknown[] }[]),
      );
    if (!named(found))
      throw badInput(
        `there is no group ${quoted(group)} at the identity provider; check the group name`,
        'group',
      );
  }
}

/** The caller as a grantee. */
export const who = (p: Principal) => ({ subject: p.subject, username: p.username, groups: p.groups });
