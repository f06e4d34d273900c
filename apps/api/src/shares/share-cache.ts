/**
 * The shares (VDIShare) of the sessions namespace, watched (an informer of its own) and indexed
 * by session and by grantee (share-index.ts) from the watch's events, so forward-auth answers
 * "may this person open this desktop, and how" with one map read. The same events drive what
 * must happen to desktops already open:
 *
 * - a share deleted (revoked, by the API or kubectl) or expired (a timer per share at its
 *   expiresAt) closes the open pages of its role on the desktop, through Selkies' own API
 *   (`GET /api/sessions`, `DELETE /api/sessions/<id>` with the session password, straight to the
 *   pod), so the grantee's page goes within seconds and its reconnect meets forward-auth's refusal;
 * - a role changed closes the pages of the old role, and the grantee's page comes back with the
 *   new one (forward-auth hands it the other password);
 * - Events on the session: ShareGranted, ShareUpdated, ShareRevoked, ShareExpired (and ShareUsed,
 *   from forward-auth, once per share). Each replica reacts to the same watch: closing is
 *   idempotent, and the Events have names made from the share's uid, so a second replica's POST
 *   is refused (409) rather than doubling it.
 *
 * Selkies tells roles apart, not people: closing the `view` role closes every viewer's page, and
 * those whose share still admits them reconnect (README, "Sharing a desktop").
 */
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type * as k8s from '@kubernetes/client-node';
import {
  API_VERSION,
  GROUP,
  KIND_SESSION,
  KIND_SHARE,
  PLURAL_SHARE,
  VERSION,
  type ShareRole,
  type VDIShare,
} from '@vdi/crd-types';
import {
  InformerSet,
  KubeApiError,
  KubeJsonClient,
  makeTransformingInformer,
  withoutManagedFields,
  type Cache,
} from '@vdi/kube-client';
import {
  closeDesktopConnection,
  desktopAuthorizationOf,
  desktopBaseUrl,
  desktopConnections,
  desktopPodName,
  grantedRole,
  parseRfc3339,
  type Grantee,
} from '@vdi/session-spec';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { ApiCaches } from '../kube/caches.js';
import { KUBE_CLIENT, KUBE_CONFIG } from '../kube/tokens.js';
import { sessionEvent } from '../common/session-event.js';
import { ShareIndex, type ShareChange, type ShareEvent } from './share-index.js';

/** Selkies' role of a share role's pages. */
export const SELKIES_ROLE: Record<ShareRole, string> = { view: 'viewer', control: 'controller' };

/** An expiry missed by at most this much (the API was down) still closes the role's pages. */
const LATE_EXPIRY_MS = 5 * 60_000;
/** An add event of a share made longer ago than this is the initial list, not a grant. */
const FRESH_MS = 60_000;

export type ShareEventReason =
  'ShareGranted' | 'ShareUpdated' | 'ShareUsed' | 'ShareRevoked' | 'ShareExpired';

/** What a reaction did, for tests and the log: pages closed and how long it took. */
export interface ClosedPages {
  share: string;
  session: string;
  role: ShareRole;
  why: 'revoked' | 'expired' | 'roleChanged';
  closed: number;
  /** From the change (watch event or timer) to the last page closed. */
  ms: number;
}

@Injectable()
export class ShareCache implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('Shares');
  readonly cache: Cache<VDIShare>;
  readonly index = new ShareIndex();
  private readonly set: InformerSet;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Shares whose first use this replica has recorded (or seen recorded). */
  private readonly used = new Set<string>();
  private readonly listeners: ((c: ClosedPages) => void)[] = [];
  private readonly ns: string;

  constructor(
    @Inject(KUBE_CONFIG) kc: k8s.KubeConfig,
    @Inject(KUBE_CLIENT) private readonly kube: KubeJsonClient,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly caches: ApiCaches,
  ) {
    this.ns = config.sessionsNamespace;
    this.set = new InformerSet((msg, fields) => this.log.warn(`${msg} ${JSON.stringify(fields)}`));
    this.cache = this.set.add(
      'shares',
      makeTransformingInformer<VDIShare>(
        kc,
        new KubeJsonClient(kc, 2),
        `/apis/${GROUP}/${VERSION}/namespaces/${this.ns}/${PLURAL_SHARE}`,
        withoutManagedFields,
      ),
    );
    for (const event of ['add', 'update', 'delete'] as const satisfies ShareEvent[]) {
      this.cache.on(event, (s: VDIShare) => {
        // Called from the watch handler: an exception here would stop the watch.
        try {
          this.react(event, s, this.index.apply(event, s));
        } catch (err) {
          this.log.error({ msg: 'share event failed', event, share: s.metadata?.name, error: String(err) });
        }
      });
    }
  }

  onModuleInit(): void {
    void this.set.start();
  }

  async onModuleDestroy(): Promise<void> {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.set.stop();
  }

  get synced(): boolean {
    return this.set.synced;
  }

  /** Calls `fn` after each reaction that closed (or tried to close) a role's pages. */
  onClosed(fn: (c: ClosedPages) => void): void {
    this.listeners.push(fn);
  }

  /** The role the live shares of `session` give `who`, and the deciding share. */
  roleFor(session: string, who: Grantee, now = Date.now()): { role: ShareRole; share: VDIShare } | undefined {
    return grantedRole(this.index.ofSession(session), who, now);
  }

  /**
   * Records the first use of a share (status.firstUsedAt and a ShareUsed Event), once: later
   * requests find it in `used` or in the share's status. Never awaited by forward-auth.
   */
  noteUse(share: VDIShare, username: string): void {
    const uid = share.metadata.uid!;
    if (this.used.has(uid) || share.status?.firstUsedAt) return;
    this.used.add(uid);
    const at = new Date().toISOString();
    void this.kube
      .mergePatch(
        this.ref(share.metadata.name!),
        { status: { firstUsedAt: at, firstUsedBy: username } },
        'status',
      )
      .catch((err: unknown) =>
        this.log.warn({
          msg: 'share use not recorded',
          share: share.metadata.name,
          error: (err as Error).message,
        }),
      );
    this.log.log({
      msg: 'share used',
      share: share.metadata.name,
      session: share.spec.session,
      user: username,
    });
    void this.event(
      share,
      'ShareUsed',
      `${username} opened the desktop (${share.spec.role}) for the first time under share ${share.metadata.name}`,
    );
  }

  private react(event: ShareEvent, s: VDIShare, change: ShareChange): void {
    const name = s.metadata.name!;
    if (event === 'delete') {
      this.clearTimer(name);
      this.used.delete(s.metadata.uid!);
    } else {
      if (s.status?.firstUsedAt) this.used.add(s.metadata.uid!);
      this.armTimer(s);
    }
    const who = granteeText(s);
    switch (change.kind) {
      case 'granted':
        if (Date.now() - Date.parse(String(s.metadata.creationTimestamp ?? '')) < FRESH_MS)
          void this.event(s, 'ShareGranted', `shared with ${who} (${s.spec.role}) until ${s.spec.expiresAt}`);
        return;
      case 'roleChanged':
        void this.event(
          s,
          'ShareUpdated',
          `share with ${who} changed from ${change.closeRole} to ${s.spec.role} (until ${s.spec.expiresAt})`,
          s.metadata.resourceVersion,
        );
        void this.closeRole(s, change.closeRole, 'roleChanged');
        return;
      case 'expiryChanged':
        void this.event(
          s,
          'ShareUpdated',
          `share with ${who} now ends at ${s.spec.expiresAt}`,
          s.metadata.resourceVersion,
        );
        return;
      case 'revoked': {
        const at = parseRfc3339(s.spec.expiresAt) ?? 0;
        // An expired share deleted later closes nothing more: its pages closed when it expired.
        if (at <= Date.now()) return;
        void this.event(s, 'ShareRevoked', `share with ${who} (${s.spec.role}) revoked`);
        void this.closeRole(s, change.closeRole, 'revoked');
        return;
      }
      case 'none':
        return;
    }
  }

  private armTimer(s: VDIShare): void {
    const name = s.metadata.name!;
    this.clearTimer(name);
    const at = parseRfc3339(s.spec.expiresAt);
    if (at === undefined) return;
    const wait = at - Date.now();
    if (wait < -LATE_EXPIRY_MS) return;
    // setTimeout's limit is ~24.8 days; shares last at most days, but a hand-made one may not.
    const t = setTimeout(
      () => {
        this.timers.delete(name);
        const now = this.cache.get(name, this.ns);
        if (now && now.metadata.uid === s.metadata.uid && now.spec.expiresAt !== s.spec.expiresAt) return;
        void this.event(
          s,
          'ShareExpired',
          `share with ${granteeText(s)} (${s.spec.role}) expired at ${s.spec.expiresAt}`,
        );
        void this.closeRole(s, s.spec.role, 'expired');
      },
      Math.min(Math.max(wait, 0), 2 ** 31 - 1),
    );
    t.unref();
    this.timers.set(name, t);
  }

  private clearTimer(name: string): void {
    const t = this.timers.get(name);
    if (t) clearTimeout(t);
    this.timers.delete(name);
  }

  /**
   * Closes the open pages of `role` on the share's desktop, unless another live share still gives
   * that role to someone… which Selkies cannot tell apart: they are closed too and reconnect.
   */
  private async closeRole(s: VDIShare, role: ShareRole, why: ClosedPages['why']): Promise<void> {
    const started = Date.now();
    const session = this.caches.sessions.get(s.spec.session, this.ns);
    // A claimed warm desktop is its pool pod, opened with that pod's password (session-spec pool.ts).
    const base = session && desktopBaseUrl(this.caches.pods.get(desktopPodName(session), this.ns));
    let closed = 0;
    if (session && base) {
      const authorization = desktopAuthorizationOf(this.config.access.sessionKey, session);
      try {
        for (const c of await desktopConnections(base, authorization, 5_000))
          if (c.role === SELKIES_ROLE[role] && (await closeDesktopConnection(base, authorization, c.id)))
            closed++;
      } catch (err) {
        this.log.warn({
          msg: 'could not close the pages of a share',
          share: s.metadata.name,
          session: s.spec.session,
          role,
          error: (err as Error).message,
        });
      }
    }
    const result: ClosedPages = {
      share: s.metadata.name!,
      session: s.spec.session,
      role,
      why,
      closed,
      ms: Date.now() - started,
    };
    this.log.log({ msg: 'share pages closed', ...result });
    for (const fn of this.listeners) fn(result);
  }

  /** An Event on the share's session, named after the share so replicas do not double it. */
  private async event(
    s: VDIShare,
    reason: ShareEventReason,
    message: string,
    suffix?: string,
  ): Promise<void> {
    const sessionUid = s.metadata.ownerReferences?.find((o) => o.kind === KIND_SESSION)?.uid;
    const name = `${s.spec.session}.${reason.toLowerCase()}.${s.metadata.uid}${suffix ? `.${suffix}` : ''}`;
    try {
      await this.kube.call(
        'POST',
        `/api/v1/namespaces/${this.ns}/events`,
        sessionEvent({
          namespace: this.ns,
          name,
          session: s.spec.session,
          sessionUid,
          related: { kind: KIND_SHARE, name: s.metadata.name! },
          reason,
          message,
        }),
      );
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) return; // another replica said it
      this.log.warn({
        msg: 'event not recorded',
        session: s.spec.session,
        reason,
        error: (err as Error).message,
      });
    }
  }

  ref(name: string) {
    return { apiVersion: API_VERSION, kind: KIND_SHARE, metadata: { name, namespace: this.ns } };
  }
}

/** How a share's grantee reads in messages. */
export function granteeText(s: VDIShare): string {
  return s.spec.grantee.user !== undefined ? `user ${s.spec.grantee.user}` : `group ${s.spec.grantee.group}`;
}
