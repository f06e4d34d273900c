/**
 * Warm pools (VDIPool): keeps the pool's target size (spec.size, or the size of the open
 * spec.schedule window) of desktops of its template started and Ready with no user identity, and
 * lets a new session of that template claim one. A pool with a schedule is synced again exactly at
 * its next change (status.nextChange); when the target drops, surplus unclaimed pods are deleted.
 *
 * - Sync (one pool at a time, its own queue): a pool whose template cannot be pooled gets
 *   Poolable=False and no pods; otherwise missing warm pods are created (with their Secret, owned
 *   by the pod) and surplus unclaimed ones deleted; failed unclaimed pods are replaced; a claimed
 *   pod whose session is gone is deleted (never returned to the pool); the status counts are
 *   written when they change.
 * - Claim: ONE merge patch of the pod, conditional on its resourceVersion (libs/session-spec
 *   claimPatch); a 409 means another claim won it, and the next candidate is tried. The claim lives
 *   on the pod (its `claimed-by` label), so an operator restarted between the claim and the
 *   session's status write finds it again (claimedBy) instead of claiming a second pod.
 *
 * Pods created but not yet in the cache are remembered (`expected`), so a sync that runs before
 * their watch events does not create them again.
 */
import { randomBytes } from 'node:crypto';
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import {
  API_VERSION,
  PLURAL_POOL,
  PoolReason,
  type VDIPool,
  type VDIPoolStatus,
  type VDISession,
  type VDITemplate,
} from '@vdi/crd-types';
import { KubeApiError, type KubeJsonClient } from '@vdi/kube-client';
import {
  FIELD_MANAGER,
  LABEL_CLAIMED_BY,
  SessionSpecError,
  resolveSession,
  LABEL_POOL,
  chooseEncoder,
  claimCandidates,
  claimPatch,
  encoderPlanOf,
  isUnclaimed,
  planSession,
  poolCounts,
  poolNetworkPolicy,
  poolPodName,
  poolPodSecret,
  poolStatus,
  poolStandIn,
  poolTargetAt,
  poolKeyId,
  madeWithKey,
  poolTemplate,
  poolability,
  renderPoolPod,
  type EffectiveSession,
} from '@vdi/session-spec';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { OperatorConfig } from '../config.js';
import type { Caches } from './caches.js';
import type { EventRecorder } from './events.js';
import { WorkQueue } from './work-queue.js';

export interface PoolDeps {
  caches: Caches;
  client: KubeJsonClient;
  config: Pick<OperatorConfig, 'platform' | 'sessionKey'>;
  log: Logger;
  events: EventRecorder;
  /** A session's key changed (its claimed pod's cache event): wake it. */
  wakeSession?: (key: string) => void;
  now?: () => Date;
  /** 6 characters of [a-z0-9] for a new pod's name. */
  suffix?: () => string;
}

/** How long a created pod may be missing from the cache before it counts as not there. */
const EXPECT_MS = 30_000;
/** Pods created per pool per sync: a pool of hundreds fills in a few passes, each quick. */
const CREATE_BATCH = 50;

const randomSuffix = () => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join('');
};

const podsPath = (ns: string) => `/api/v1/namespaces/${ns}/pods`;
const poolPath = (ns: string, name: string) => `/apis/${API_VERSION}/namespaces/${ns}/${PLURAL_POOL}/${name}`;

/** The status without transition times, for "did anything change". */
const comparable = (s: VDIPoolStatus | undefined) =>
  s && { ...s, conditions: s.conditions?.map(({ lastTransitionTime: _t, ...c }) => c) };

export class PoolManager {
  private readonly queue: WorkQueue;
  /** Pods this process created and the cache has not shown yet: name → pool, when. */
  private readonly expected = new Map<string, { pool: string; at: number }>();
  /** Claims this process made (session uid → pod name), until the cache shows them. */
  private readonly claims = new Map<string, string>();
  /** Pods a claim in this process is trying right now (two workers never try the same). */
  private readonly trying = new Set<string>();
  /** Warm pods whose Secret exists (made here or seen in the cache). */
  private readonly secretsMade = new Set<string>();
  private readonly ns: string;

  constructor(private readonly d: PoolDeps) {
    this.ns = d.config.platform.namespace;
    this.queue = new WorkQueue({
      workers: 1,
      handler: (name) => this.sync(name),
      onResult: (name, outcome, _ms, err) => {
        if (outcome !== 'retry' && outcome !== 'terminal') return;
        const conflict = err instanceof KubeApiError && err.conflict;
        d.log[conflict ? 'debug' : 'warn']({ pool: name, err: String(err) }, 'pool sync failed');
      },
    });
  }

  /** Queues a pool (by name) for a sync. */
  add(name: string): void {
    this.queue.add(name);
  }

  /** Every pool once (leadership taken, periodic resync). */
  addAll(): void {
    for (const p of this.pools()) this.add(p.metadata.name!);
  }

  /** A pod event: its pool syncs; a claim the cache now shows is no longer only remembered. */
  pod(p: V1Pod): void {
    const name = p.metadata?.name ?? '';
    this.expected.delete(name);
    const pool = p.metadata?.labels?.[LABEL_POOL];
    const by = p.metadata?.labels?.[LABEL_CLAIMED_BY];
    if (by && this.claims.get(by) === name) this.claims.delete(by);
    if (pool) this.add(pool);
  }

  /** A template changed: its pools may have become (un)poolable, or render other pods. */
  template(name: string): void {
    for (const p of this.pools()) if (p.spec.template === name) this.add(p.metadata.name!);
  }

  /** A session went: pools with pods it claimed clean them up. */
  sessionGone(s: VDISession): void {
    for (const p of this.claimedPods(s.metadata.uid!)) {
      const pool = p.metadata?.labels?.[LABEL_POOL];
      if (pool) this.add(pool);
    }
    this.claims.delete(s.metadata.uid!);
  }

  shutdown(): Promise<void> {
    return this.queue.shutdown();
  }

  private pools(): readonly VDIPool[] {
    return this.d.caches.pools.list(this.ns);
  }

  private poolPods(pool?: string): V1Pod[] {
    return this.d.caches.pods
      .list(this.ns)
      .filter((p) => (pool ? p.metadata?.labels?.[LABEL_POOL] === pool : p.metadata?.labels?.[LABEL_POOL]));
  }

  private claimedPods(uid: string): V1Pod[] {
    return this.poolPods().filter((p) => p.metadata?.labels?.[LABEL_CLAIMED_BY] === uid);
  }

  /**
   * The pool pod a session claimed, when its status does not name it yet: one this process just
   * claimed, or one the cache shows labelled for it (a claim made before a restart).
   */
  claimedBy(session: VDISession): V1Pod | undefined {
    const uid = session.metadata.uid!;
    const name = this.claims.get(uid);
    if (name) {
      // A pod going away (the session was stopped) is never the desktop again: a resume claims
      // another warm pod or starts cold.
      const cached = this.d.caches.pods.get(name, this.ns);
      if (cached && !cached.metadata?.deletionTimestamp) return cached;
    }
    return this.claimedPods(uid).find((p) => !p.metadata?.deletionTimestamp);
  }

  /** Whether a template has a pool that can serve sessions (poolable, target size > 0 now). */
  pooled(template: string): boolean {
    const now = (this.d.now ?? (() => new Date()))();
    return this.pools().some(
      (p) =>
        p.spec.template === template &&
        poolTargetAt(p.spec, now).size > 0 &&
        !p.metadata.deletionTimestamp &&
        p.status?.conditions?.some((c) => c.type === 'Poolable' && c.status === 'True'),
    );
  }

  /**
   * Claims a warm pod that fits the session (resolved to `eff`), or undefined when none does (the
   * session starts cold). One conditional patch per try; a 409 or 404 moves to the next one.
   */
  async claim(session: VDISession, template: VDITemplate, eff: EffectiveSession): Promise<V1Pod | undefined> {
    const name = template.metadata.name!;
    if (!this.pooled(name)) return undefined;
    const key = `${session.metadata.namespace}/${session.metadata.name}`;
    const keyId = poolKeyId(this.d.config.sessionKey);
    for (const candidate of claimCandidates(this.poolPods(), name, eff, session.metadata.uid!, keyId)) {
      const podName = candidate.metadata!.name!;
      if (this.trying.has(podName)) continue;
      this.trying.add(podName);
      try {
        const claimed = await this.d.client.call<V1Pod>(
          'PATCH',
          `${podsPath(this.ns)}/${podName}?fieldManager=${FIELD_MANAGER}`,
          claimPatch(candidate, session),
          'application/merge-patch+json',
        );
        this.claims.set(session.metadata.uid!, podName);
        const pool = candidate.metadata!.labels![LABEL_POOL]!;
        this.d.log.info({ key, uid: session.metadata.uid, pod: podName, pool }, 'claimed a warm desktop');
        this.d.events.record(
          session,
          'Normal',
          'ClaimedFromPool',
          `claimed warm desktop pod ${podName} of pool ${pool}: it was started and Ready before the session existed`,
        );
        this.add(pool);
        return claimed;
      } catch (err) {
        // Someone else claimed it (409: its version moved) or it is gone (404): the next one.
        if (err instanceof KubeApiError && (err.conflict || err.notFound)) continue;
        throw err;
      } finally {
        this.trying.delete(podName);
      }
    }
    return undefined;
  }

  /**
   * Deletes the pool pods a session claimed (its deletion path): a claimed desktop goes with its
   * session, never back to the pool. True while one still exists.
   */
  async release(session: VDISession): Promise<boolean> {
    const uid = session.metadata.uid!;
    const pods = this.claimedPods(uid);
    const remembered = this.claims.get(uid);
    if (remembered && !pods.some((p) => p.metadata?.name === remembered)) {
      const cached = this.d.caches.pods.get(remembered, this.ns);
      if (cached) pods.push(cached);
    }
    let left = false;
    for (const p of pods) {
      left = true;
      if (p.metadata?.deletionTimestamp) continue;
      await this.deletePod(p);
    }
    return left;
  }

  /**
   * Deletes a pod of the pool that nobody has claimed: conditional on the version read (a claim
   * changes it), and never one a claim in this process is trying right now.
   */
  private async deleteUnclaimed(p: V1Pod): Promise<void> {
    const name = p.metadata!.name!;
    if (this.trying.has(name) || [...this.claims.values()].includes(name)) return;
    try {
      await this.d.client.call('DELETE', `${podsPath(this.ns)}/${name}`, {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        preconditions: { uid: p.metadata!.uid, resourceVersion: p.metadata!.resourceVersion },
      });
    } catch (err) {
      // Gone already, or changed since (claimed): left as it is.
      if (!(err instanceof KubeApiError && (err.notFound || err.conflict))) throw err;
    }
  }

  private async deletePod(p: V1Pod): Promise<void> {
    await this.d.client.delete(
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: p.metadata!.name!, namespace: this.ns } },
      { uid: p.metadata!.uid! },
    );
  }

  private async sync(name: string): Promise<{ requeueAfterMs?: number } | void> {
    const { caches, log } = this.d;
    const now = (this.d.now ?? (() => new Date()))();
    const pool = caches.pools.get(name, this.ns);
    const pods = this.poolPods(name);
    // Claimed pods whose session is gone (deleted while this operator was down, or a claim whose
    // session vanished): deleted, never returned to the pool.
    const sessionUids = new Set(caches.sessions.list(this.ns).map((s) => s.metadata.uid));
    for (const p of pods) {
      const by = p.metadata?.labels?.[LABEL_CLAIMED_BY];
      if (by && !sessionUids.has(by) && !p.metadata?.deletionTimestamp) {
        log.info(
          { pool: name, pod: p.metadata?.name, session: by },
          'claimed desktop of a gone session deleted',
        );
        await this.deletePod(p);
      }
    }
    if (!pool || pool.metadata.deletionTimestamp) {
      // Its unclaimed pods go with it (owner references; explicitly too, not waiting for the GC).
      for (const p of pods) if (isUnclaimed(p)) await this.deleteUnclaimed(p);
      return;
    }
    const template = caches.templates.get(pool.spec.template);
    let verdict = poolability(template, pool.spec.template);
    if (verdict.poolable && template) {
      // A template the schema accepts may still not become a desktop (resolveSession's checks,
      // e.g. /dev/shm as large as the memory limit): said in the status, not retried in silence.
      try {
        resolveSession({ user: 'pool', template: pool.spec.template }, structuredClone(template.spec));
      } catch (err) {
        if (!(err instanceof SessionSpecError)) throw err;
        verdict = {
          poolable: false,
          reason: PoolReason.TemplateInvalid,
          message: `template '${pool.spec.template}' cannot become a desktop: ${err.message}; fix the template`,
        };
      }
    }
    // The size to keep now: spec.size, or the open schedule window's (libs/session-spec poolTargetAt).
    const target = poolTargetAt(pool.spec, now);
    if (target.error && pool.status?.conditions?.find((c) => c.type === 'ScheduleValid')?.status !== 'False')
      log.warn(
        { pool: name, reason: target.error.reason, err: target.error.message },
        'pool schedule invalid',
      );
    const size = target.size;
    const unclaimed = pods.filter(isUnclaimed);
    if (!verdict.poolable || !template) {
      for (const p of unclaimed) await this.deleteUnclaimed(p);
    } else {
      // Failed warm pods are replaced, and so are those made with another session key (the key
      // rotated, or another operator wrote here): their password is one nobody in front of them
      // knows, so they are never claimed (claimCandidates) and would only hold a place.
      const keyId = poolKeyId(this.d.config.sessionKey);
      const stale = unclaimed.filter((p) => p.status?.phase === 'Failed' || !madeWithKey(p, keyId));
      for (const p of stale) {
        if (!madeWithKey(p, keyId))
          log.info({ pool: name, pod: p.metadata?.name }, 'warm desktop of another session key replaced');
        await this.deleteUnclaimed(p);
      }
      const live = unclaimed.filter((p) => !stale.includes(p));
      // A pod whose Secret was never made (the operator stopped between the two creates) gets it.
      for (const p of live) await this.ensureSecret(pool, template, p);
      const expiry = Date.now() - EXPECT_MS;
      const expected = [...this.expected].filter(
        ([podName, e]) => e.pool === name && e.at > expiry && !live.some((p) => p.metadata?.name === podName),
      ).length;
      const have = live.length + expected;
      if (have < size) {
        await this.ensurePolicy(pool, template);
        const n = Math.min(size - have, CREATE_BATCH);
        for (let i = 0; i < n; i++) await this.createPod(pool, template);
      } else if (live.length > size) {
        // Surplus (the target dropped): only unclaimed pods, the ones still starting first, then
        // the newest. A claimed pod belongs to its session and is never touched here.
        const ready = (p: V1Pod) =>
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        const order = [...live].sort((a, b) => {
          const r = Number(ready(a) ?? false) - Number(ready(b) ?? false);
          if (r !== 0) return r;
          return (b.metadata?.creationTimestamp ?? '') > (a.metadata?.creationTimestamp ?? '') ? 1 : -1;
        });
        for (const p of order.slice(0, live.length - size)) await this.deleteUnclaimed(p);
      }
    }
    for (const n of this.secretsMade)
      if (!caches.pods.get(n, this.ns) && !this.expected.has(n)) this.secretsMade.delete(n);
    const counts = poolCounts(this.poolPods(name), name);
    const status = poolStatus(pool, counts, verdict, now, target);
    if (!isDeepStrictEqual(comparable(status), comparable(pool.status))) {
      await this.d.client.call(
        'PATCH',
        `${poolPath(this.ns, name)}/status?fieldManager=${FIELD_MANAGER}`,
        // A merge patch keeps what it does not name: a next change that is no more is removed.
        {
          status: {
            ...status,
            ...(pool.status?.nextChange && !status.nextChange ? { nextChange: null } : {}),
          },
        },
        'application/merge-patch+json',
      );
    }
    // The schedule's next change: synced again exactly then (a little after, so the instant has
    // passed on this clock), not polled.
    const untilChange = target.nextChange
      ? Math.max(0, target.nextChange.getTime() - now.getTime()) + 50
      : undefined;
    // Pods still coming: look again soon even if an event is missed.
    if (verdict.poolable && counts.warm < size)
      return { requeueAfterMs: Math.min(2_000, untilChange ?? Infinity) };
    return untilChange !== undefined ? { requeueAfterMs: untilChange } : undefined;
  }

  /** Makes a warm pod's Secret when neither the cache nor this process knows it was made. */
  private async ensureSecret(pool: VDIPool, template: VDITemplate, p: V1Pod): Promise<void> {
    const name = p.metadata!.name!;
    if (this.secretsMade.has(name)) return;
    if (this.d.caches.children.get('Secret')?.get(`${name}-auth`, this.ns)) {
      this.secretsMade.add(name);
      return;
    }
    const { config } = this.d;
    const rendered = renderPoolPod(pool, template, config.platform, {
      podName: name,
      encoderPlan: encoderPlanOf(p) ?? chooseEncoder('auto', 0, { products: [] }),
      sessionKey: config.sessionKey,
    });
    await this.createSecret(rendered.secret, name, p.metadata!.uid!);
  }

  private async createSecret(secret: V1Secret, podName: string, podUid: string): Promise<void> {
    try {
      await this.d.client.call(
        'POST',
        `/api/v1/namespaces/${this.ns}/secrets?fieldManager=${FIELD_MANAGER}`,
        poolPodSecret(secret, { metadata: { name: podName, uid: podUid } }),
      );
    } catch (err) {
      if (!(err instanceof KubeApiError && err.conflict)) throw err;
    }
    this.secretsMade.add(podName);
  }

  /** The NetworkPolicy isolating the pool's warm pods (applied before its first pod). */
  private async ensurePolicy(pool: VDIPool, template: VDITemplate): Promise<void> {
    const np = poolNetworkPolicy(pool, template, this.d.config.platform);
    if (this.d.caches.children.get('NetworkPolicy')?.get(np.metadata!.name!, this.ns)) return;
    await this.d.client.apply(np as never, FIELD_MANAGER);
  }

  /** Creates one warm pod and its Secret (owned by the pod, so it goes with it). */
  private async createPod(pool: VDIPool, template: VDITemplate): Promise<void> {
    const { config, caches } = this.d;
    const podName = poolPodName(pool.metadata.name!, (this.d.suffix ?? randomSuffix)());
    const t = poolTemplate(pool, template);
    const standIn = poolStandIn(pool, podName, this.ns);
    const cluster = { nodes: caches.nodes.list(), slices: caches.slices };
    const plan = planSession(standIn, t, config.platform, cluster);
    const rendered = renderPoolPod(pool, template, config.platform, {
      podName,
      encoderPlan: plan.encoderPlan,
      sessionKey: config.sessionKey,
    });
    this.expected.set(podName, { pool: pool.metadata.name!, at: Date.now() });
    let created: V1Pod;
    try {
      created = await this.d.client.call<V1Pod>(
        'POST',
        `${podsPath(this.ns)}?fieldManager=${FIELD_MANAGER}`,
        rendered.pod,
      );
    } catch (err) {
      this.expected.delete(podName);
      throw err;
    }
    await this.createSecret(rendered.secret, podName, created.metadata!.uid!);
  }
}
