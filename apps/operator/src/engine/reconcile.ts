/**
 * reconcile(namespace/name): make one session's world match its spec, then say so in its status.
 *
 * Level-triggered and idempotent: it reads the current state from the caches (never an event's
 * snapshot), computes the whole desired state with libs/session-spec, applies it server-side
 * under one field manager, observes the pod and writes status only when it changed. Running it
 * twice, or again after a crash half-way, changes nothing more.
 *
 * Shape: fetch (gone → done) → deletion path or ensure finalizer → resolve template → render →
 * apply → observe → computeStatus → one status patch.
 *
 * This file is that dispatcher; the steps live beside it: what to write comes from
 * libs/session-spec (desired.ts: placement, encoder plan, keys, objects in apply order), the
 * children are applied and deleted by children.ts, and the session's own finalizer and status
 * are written by session-writes.ts.
 */
import type { KubernetesObject, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import { isStopped, SESSION_FINALIZER, type VDISession, type VDISessionStatus } from '@vdi/crd-types';
import { KubeApiError, type KubeJsonClient } from '@vdi/kube-client';
import {
  ANNOTATION_ENCODER_PLAN,
  LABEL_SESSION,
  LABEL_USER_HASH,
  MANAGED_SELECTOR,
  SessionSpecError,
  childNames,
  computeStatus,
  planSession,
  renderPlanned,
  sessionUrl,
  DEFAULT_WARN_BEFORE,
  durationSeconds,
  desktopPodName,
  LABEL_POOL,
  mayHandOverHomes,
  poolPodPassword,
  resolveSession,
  expiresAt,
  expiryStage,
  failedForGood,
  formatDuration,
  sessionOwnerHash,
  userHomeClaimName,
  type DesiredSession,
  type Observation,
} from '@vdi/session-spec';
import type { Logger } from 'pino';
import type { OperatorConfig } from '../config.js';
import type { Caches } from './caches.js';
import { ChildWriter } from './children.js';
import type { PoolManager } from './pools.js';
import type { EventRecorder } from './events.js';
import { SessionWriter, sessionRef } from './session-writes.js';
import { onlyProgress } from './starting.js';
import type { ViewerWatch } from './viewers.js';
import type { Result } from './work-queue.js';

/** The per-user home claim a session mounts, and whether it is known to exist already. */
interface UserHome {
  name: string;
  exists: boolean;
}

/**
 * The batching window of a desktop's start steps (WorkQueue.addSoon in main.ts): its pod created,
 * placed, started, its home claim provisioned and bound each come as an event within moments of
 * each other; each is a status refresh, and within this window they cost one reconcile and at
 * most one status write instead of one each. Its readiness (what the owner waits for) is not
 * delayed. A new session's first status waits for the same window (reconcileNormal).
 */
export const START_STEPS_WINDOW_MS = 1_000;

/**
 * How long a new session's start may go without a status while a burst of starts is on
 * (ReconcilerDeps.quietStarts), counted from when its desktop pod was made: in a burst a pod is
 * placed, started and ready within this, so its first status is Running, one write instead of two.
 */
export const BURST_QUIET_MS = 30_000;

/** The scheduler's note on a claim bound on first use: the node its volume was provisioned for. */
const SELECTED_NODE = 'volume.kubernetes.io/selected-node';

/** What the operator's caches select: everything the platform made (caches.ts). */

export interface ReconcilerDeps {
  caches: Caches;
  client: KubeJsonClient;
  config: OperatorConfig;
  log: Logger;
  events: EventRecorder;
  /** Who watches each desktop (idle culling); without it nothing is culled. */
  viewers?: ViewerWatch;
  /** Warm pools a new session claims its desktop from (pools.ts); without it every start is cold. */
  pools?: PoolManager;
  /**
   * Whether other sessions wait for their start (or their Running status) right now: a new
   * session's pass then ends once its pod is made, and its Service and routes follow in its next
   * pass, after theirs (work-queue.ts priorities). Without it every pass runs to its end.
   */
  othersWaiting?: () => boolean;
  /**
   * Whether a burst of starts is on (main.ts: StartingSessions.burst): a new session whose start
   * only moves on (starting.ts onlyProgress) then writes no status until its desktop is ready,
   * fails, waits in a queue, or has been starting for BURST_QUIET_MS. Without it every pass
   * writes its status.
   */
  quietStarts?: () => boolean;
  now?: () => Date;
}

export class Reconciler {
  /** The session's children: applied, deleted, orphans removed (children.ts). */
  private readonly children: ChildWriter;
  /** The session's own finalizer and status, and the memo of our last write (session-writes.ts). */
  private readonly writes: SessionWriter;
  private readonly now: () => Date;

  constructor(private readonly d: ReconcilerDeps) {
    this.now = d.now ?? (() => new Date());
    this.children = new ChildWriter(d);
    this.writes = new SessionWriter(d);
  }

  /** Forget what was applied, so the next reconcile of every session re-applies (periodic resync). */
  forgetApplied(): void {
    this.children.forgetApplied();
  }

  /** A child of a session was deleted (its cache says so): see ChildWriter.forgetChild. */
  forgetChild(obj: KubernetesObject): void {
    this.children.forgetChild(obj);
  }

  /**
   * Whether a session event carries exactly the copy this process's own last write (finalizer or
   * status) returned: the reconcile that wrote it already acted on everything in it, so its echo
   * wakes nobody (deletions always do).
   */
  isOwnSessionWrite(s: VDISession): boolean {
    return this.writes.isOwnWrite(s);
  }

  /** The session cache now holds `s` (see SessionWriter.cacheHas). */
  cacheHas(s: VDISession): void {
    this.writes.cacheHas(s);
  }

  /** Whether a child's cache event is the echo of this process's own apply (see ChildWriter.isOwnWrite). */
  isOwnWrite(obj: KubernetesObject): boolean {
    return this.children.isOwnWrite(obj);
  }

  async reconcile(key: string): Promise<Result> {
    const [namespace, name] = key.split('/') as [string, string];
    const cached = this.d.caches.sessions.get(name, namespace);
    // The session we wrote objects for may be gone without our deletion path (ChildWriter `owners`).
    await this.children.removeOrphans(key, cached?.metadata.uid);
    if (!cached) {
      this.children.forgetSession(key);
      this.writes.forget(key);
      this.d.viewers?.track(key, false);
      return {};
    }
    // Cached objects are shared: work on a copy.
    const session = structuredClone(this.writes.freshest(key, cached)) as VDISession;
    this.d.log.debug(
      {
        key,
        uid: session.metadata.uid,
        rv: session.metadata.resourceVersion,
        cachedRv: cached.metadata.resourceVersion,
        deleting: Boolean(session.metadata.deletionTimestamp),
      },
      'reconcile',
    );
    if (session.metadata.deletionTimestamp) {
      this.d.viewers?.track(key, false);
      return this.reconcileDelete(key, session);
    }
    if (!(session.metadata.finalizers ?? []).includes(SESSION_FINALIZER)) {
      if (!(await this.writes.addFinalizer(session))) return {};
      // Carry on in this pass with the copy the patch returned, so a new desktop's pod is made
      // without waiting for the update's watch event (which then finds nothing left to do).
      const updated = this.writes.lastWritten(key, session.metadata.uid);
      if (!updated) return {};
      return this.reconcileNormal(key, structuredClone(updated));
    }
    return this.reconcileNormal(key, session);
  }

  /** A session that is not being deleted and carries our finalizer: the whole way to its status. */
  private async reconcileNormal(key: string, session: VDISession): Promise<Result> {
    const { config, caches, log } = this.d;
    const now = this.now();
    const template = caches.templates.get(session.spec.template);
    const base: Omit<Observation, 'now'> = { session, startDeadlineSeconds: config.startDeadlineSeconds };
    // The desktop: one named after the session, or a claimed warm pod (named in the status, or
    // found by its claimed-by label when the status write after the claim was lost).
    let pod =
      caches.pods.get(desktopPodName(session), session.metadata.namespace) ??
      caches.pods.get(childNames(session.metadata.name!).pod, session.metadata.namespace) ??
      this.d.pools?.claimedBy(session);
    if (!template) {
      // Nothing can be rendered without the template; a desktop already running is left alone
      // and keeps being reported (the template's re-creation requeues us) unless it is stopped.
      if (isStopped(session)) {
        await this.stopDesktop(session, pod);
        await this.writeStatus(session, computeStatus({ ...base, now, templateMissing: true }));
        return {};
      }
      const url = sessionUrl(session.metadata.name!, config.platform);
      await this.writeStatus(
        session,
        computeStatus({ ...base, now, templateMissing: true, url, ...(pod ? { pod } : {}) }),
      );
      return {};
    }
    // A new desktop of a pooled template: claim a warm one (one conditional patch of the pod) when
    // the pool has one that fits; otherwise it starts cold below.
    if (!pod && this.d.pools && !isStopped(session) && !failedForGood(session)) {
      let eff;
      try {
        eff = resolveSession(session.spec, structuredClone(template.spec));
      } catch (err) {
        if (!(err instanceof SessionSpecError)) throw err;
      }
      if (eff) pod = await this.d.pools.claim(session, template, eff);
    }
    const poolPod = pod?.metadata?.labels?.[LABEL_POOL] ? pod.metadata.name : undefined;
    // What to write (libs/session-spec desired.ts): the GPU nodes the template allows, the
    // encoder plan (the one recorded on an existing pod, or chosen from the free slices there),
    // and the objects; the per-user home claim, which may need the API server, in between.
    let desired: DesiredSession;
    let home: UserHome | undefined;
    try {
      // Free slices from the count kept by pod events (caches.slices), not a walk over every pod.
      const cluster = { nodes: caches.nodes.list(), slices: caches.slices, desktopPod: pod };
      const planned = planSession(session, template, config.platform, cluster);
      if (planned.effective.persistence === 'user') home = await this.userHomeClaim(session, pod);
      desired = renderPlanned(session, template, config.platform, planned, {
        sessionKey: config.sessionKey,
        ...(home ? { userHomeClaim: home.name } : {}),
        // A claimed warm pod keeps the password it started with (its own name's).
        ...(poolPod ? { desktopPassword: poolPodPassword(config.sessionKey, poolPod) } : {}),
      });
    } catch (err) {
      if (!(err instanceof SessionSpecError)) throw err;
      // The spec or the template cannot become a desktop: say so; a template edit requeues us.
      await this.writeStatus(session, computeStatus({ ...base, now, specError: err }));
      return {};
    }

    const { rendered, facts } = desired;
    // A session whose lifetime is over ends here: deleted (the finalizer removes its desktop).
    const ends = expiresAt({ session, maxLifetimeSeconds: rendered.effective.maxLifetimeSeconds });
    if (ends && new Date(ends).getTime() <= now.getTime()) return this.expire(session, ends);
    // A stopped session keeps its name, route, secrets and home, and no desktop: its pod goes.
    const stopped = isStopped(session);
    // A session that failed for good keeps no desktop: its pod (running, or pending for a GPU
    // time-slice that would otherwise go to a desktop nobody can open) is deleted, never re-made.
    if (!stopped && failedForGood(session)) return this.release(session, pod, base, now);

    // Idle culling: a running desktop nobody has watched for its whole idle timeout is stopped
    // (or deleted), once its desktop confirms right now that nobody watches it.
    const idleTimeoutSeconds = rendered.effective.idleTimeoutSeconds;
    this.d.viewers?.track(key, !stopped && idleTimeoutSeconds !== undefined);
    let look = idleTimeoutSeconds !== undefined ? this.d.viewers?.last(key) : undefined;
    const idleSince = session.status?.idleSince;
    if (
      !stopped &&
      idleTimeoutSeconds !== undefined &&
      idleSince &&
      session.status?.phase === 'Running' &&
      (look?.count ?? 0) === 0 &&
      new Date(idleSince).getTime() + idleTimeoutSeconds * 1000 <= now.getTime()
    ) {
      const fresh = await this.d.viewers?.lookNow(session);
      if (fresh?.count === 0)
        return this.cull(session, rendered.effective.idleAction, idleSince, idleTimeoutSeconds);
      look = fresh ?? look;
    }

    let applyError: string | undefined;
    let waitingFor: string | undefined;
    let podCreated = false;
    this.children.noteOwner(key, session.metadata.uid!);
    if (stopped) {
      await this.stopDesktop(session, pod);
    } else {
      if (session.status?.phase === 'Stopped') {
        this.d.events.record(
          session,
          'Normal',
          'Resumed',
          'the session was resumed: starting a new desktop (it waits for a GPU time-slice when none is free)',
        );
      }
      try {
        ({ waitingFor, podCreated = false } = await this.children.apply(
          key,
          session,
          desired,
          pod,
          home?.exists,
          Boolean(poolPod),
          // Only a first start defers: nobody has been told anything about it yet.
          session.status?.phase ? undefined : this.d.othersWaiting,
        ));
      } catch (err) {
        if (!(err instanceof KubeApiError) || err.status >= 500 || err.status === 409 || err.status === 429)
          throw err;
        // A 4xx the server will answer again the same way (forbidden, invalid): report, retry slowly.
        applyError = err.message;
        log.error({ key, err: err.message }, 'applying the desktop objects failed');
      }
    }

    // A session seen for the first time whose desktop pod this pass created: its first status
    // waits for the pod's first steps (START_STEPS_WINDOW_MS at most; its readiness or the steps'
    // events come first when they can), so a quick start costs one status write, not two.
    if (podCreated && !applyError && !session.status?.phase) return { requeueAfterMs: START_STEPS_WINDOW_MS };

    const observed = stopped
      ? undefined
      : (caches.pods.get(rendered.pod.metadata!.name!, session.metadata.namespace) ??
        (pod ? pod : undefined));
    // Warnings before the end: the smallest lead time reached (condition ExpiringSoon, an Event
    // when a new one is reached), and when the next one is.
    const leads = (template.spec.lifetime?.warnBefore ?? DEFAULT_WARN_BEFORE).map((d) => durationSeconds(d));
    const stage = ends ? expiryStage(new Date(ends).getTime(), now.getTime(), leads) : {};
    const warnedBefore = stage.stage !== undefined ? formatDuration(stage.stage) : undefined;
    if (ends && warnedBefore && warnedBefore !== session.status?.warnedBefore) {
      const left = formatDuration(Math.max(0, Math.round((new Date(ends).getTime() - now.getTime()) / 1000)));
      this.d.events.record(
        session,
        'Warning',
        'ExpiringSoon',
        `the session ends at ${ends} (in ${left}); extend it (extendSession) up to its template's maximum lifetime, or save your work`,
      );
    }
    // The node a home provisioned on first use was made on (local-path and other node-local
    // storage pin it there): named while the desktop waits for that node (WaitingForHomeNode).
    const homeNode = rendered.home
      ? caches.claims.get(rendered.home.claim.metadata!.name!, session.metadata.namespace)?.metadata
          ?.annotations?.[SELECTED_NODE]
      : undefined;
    const status = computeStatus({
      ...base,
      now,
      ...(warnedBefore ? { warnedBefore } : {}),
      ...(applyError ? { applyError } : {}),
      encoderPlan: rendered.encoderPlan,
      url: rendered.url,
      ...(rendered.home ? { homeClaim: rendered.home.claim.metadata!.name! } : {}),
      ...(homeNode ? { homeNode } : {}),
      ...(observed ? { pod: observed } : {}),
      gpuSlices: { free: facts.free, total: facts.total },
      ...(rendered.effective.maxLifetimeSeconds !== undefined
        ? { maxLifetimeSeconds: rendered.effective.maxLifetimeSeconds }
        : {}),
      ...(look ? { viewers: look } : {}),
      ...(idleTimeoutSeconds !== undefined ? { idleTimeoutSeconds } : {}),
    });
    // In a burst, a new session's progress (pod made, placed, its desktop starting) is not written:
    // the API server is busiest then, and the pod's next event (ready, failed) wakes the session for
    // its first status. A start that takes longer gets its progress written at the end of the window.
    const quiet = this.quietFor(session, status, observed, now, { stopped, applyError, waitingFor });
    if (quiet !== undefined) {
      const wake = this.nextWake(status, now);
      return { refreshWithinMs: quiet, ...(wake !== undefined ? { requeueAfterMs: wake } : {}) };
    }
    // How the desktop started (status.startPath, shown by the portal and kubectl describe).
    await this.writeStatus(
      session,
      status,
      stopped ? {} : poolPod ? { startPath: 'Pool', desktopPod: poolPod } : { startPath: 'Cold' },
    );
    // A start that failed for good just now releases its desktop in this pass: no later event
    // need come (its pod may wait forever for a node that cannot take it).
    if (!stopped && !failedForGood(session) && failedForGood({ ...session, status }))
      return this.release(
        { ...session, status },
        observed,
        { ...base, session: { ...session, status } },
        now,
      );
    if (applyError) return { requeueAfterMs: 30_000 };
    if (waitingFor) return { requeueAfterMs: 1_000 };
    const wake = this.nextWake(status, now);
    const warnWake = stage.nextInMs !== undefined ? stage.nextInMs + 100 : undefined;
    return {
      requeueAfterMs: wake === undefined ? warnWake : Math.min(wake, warnWake ?? Infinity),
    };
  }

  /**
   * How much longer a new session's first status may wait (BURST_QUIET_MS), or undefined when it
   * is written now: only while a burst is on, for a session with no status yet whose desktop pod
   * exists and whose start only moves on (onlyProgress).
   */
  private quietFor(
    session: VDISession,
    status: VDISessionStatus,
    pod: V1Pod | undefined,
    now: Date,
    pass: { stopped: boolean; applyError: string | undefined; waitingFor: string | undefined },
  ): number | undefined {
    if (session.status?.phase || pass.stopped || pass.applyError || pass.waitingFor) return undefined;
    const made = pod?.metadata?.creationTimestamp;
    if (!made || pod.metadata?.deletionTimestamp || !onlyProgress(status)) return undefined;
    const left = new Date(made).getTime() + BURST_QUIET_MS - now.getTime();
    return left > 0 && this.d.quietStarts?.() ? left : undefined;
  }

  /**
   * Writes the status with how the desktop started: `start` when this pass decided it, else what
   * the status said before (a write that does not look at the desktop keeps it).
   */
  private writeStatus(
    session: VDISession,
    status: VDISessionStatus,
    start?: Pick<VDISessionStatus, 'startPath' | 'desktopPod'>,
  ): Promise<void> {
    const { startPath: _p, desktopPod: _d, ...rest } = status;
    const from = start ?? session.status ?? {};
    // A warm pod was placed and started before its session existed: for the session, those steps
    // took no time (its timeline starts at its creation, never before).
    if (from.startPath === 'Pool' && rest.createdAt) {
      for (const k of ['scheduledAt', 'imageReadyAt', 'startedAt'] as const) {
        const at = rest[k];
        if (at && at < rest.createdAt) rest[k] = rest.createdAt;
      }
    }
    return this.writes.writeStatus(session, {
      ...rest,
      ...(from.startPath ? { startPath: from.startPath } : {}),
      ...(from.desktopPod ? { desktopPod: from.desktopPod } : {}),
    });
  }

  /** Deletes the desktop pod of a session that failed for good, and keeps reporting the failure. */
  private async release(
    session: VDISession,
    pod: V1Pod | undefined,
    base: Omit<Observation, 'now'>,
    now: Date,
  ): Promise<Result> {
    await this.children.deleteDesktopPod(
      session,
      pod,
      'DesktopReleased',
      'the desktop failed for good; its pod was deleted and its place released (stop and resume the session, or delete it and create a new one, to try again)',
    );
    // The failure stays (computeStatus keeps StartDeadlineExceeded); no pod is observed any more.
    await this.writeStatus(session, computeStatus({ ...base, now }));
    return {};
  }

  /** A stopped session's desktop goes; its route, secrets and home stay for a resume. */
  private stopDesktop(session: VDISession, pod: V1Pod | undefined): Promise<void> {
    return this.children.deleteDesktopPod(
      session,
      pod,
      'Stopped',
      'the session was stopped: its desktop pod was deleted and its GPU time-slice freed; its home and name are kept (resume it to start a new desktop)',
    );
  }

  /**
   * Culls a session nobody watched for its idle timeout: stops it (its home and name stay; the
   * owner resumes it) or deletes it, as its template says, with an Event that says why.
   */
  private async cull(
    session: VDISession,
    action: 'Stop' | 'Delete',
    idleSince: string,
    idleTimeoutSeconds: number,
  ): Promise<Result> {
    const idle = formatDuration(idleTimeoutSeconds);
    const key = `${session.metadata.namespace}/${session.metadata.name}`;
    this.d.log.info({ key, idleSince, action }, 'idle session culled');
    if (action === 'Delete') {
      this.d.events.record(
        session,
        'Normal',
        'IdleExpired',
        `nobody watched the desktop for ${idle} (no viewer since ${idleSince}); deleting the session`,
      );
      await this.d.client.delete(sessionRef(session), { uid: session.metadata.uid! });
      return {};
    }
    this.d.events.record(
      session,
      'Normal',
      'IdleStopped',
      `nobody watched the desktop for ${idle} (no viewer since ${idleSince}); stopped it to free its place — its home is kept, resume it to continue`,
    );
    // Conditional on the version read: an owner's change meanwhile (a resume, a stop) wins.
    await this.d.client.mergePatch(sessionRef(session), {
      metadata: { resourceVersion: session.metadata.resourceVersion },
      spec: { state: 'Stopped' },
    });
    return {};
  }

  /** Deletes a session past its lifetime, with an Event that says why and when it was due. */
  private async expire(session: VDISession, ends: string): Promise<Result> {
    const lifetime = formatDuration(
      Math.round((new Date(ends).getTime() - new Date(session.metadata.creationTimestamp!).getTime()) / 1000),
    );
    this.d.events.record(
      session,
      'Normal',
      'LifetimeExpired',
      `the session reached its maximum lifetime of ${lifetime} (due ${ends}); deleting it`,
    );
    this.d.log.info({ key: `${session.metadata.namespace}/${session.metadata.name}`, ends }, 'lifetime over');
    // Conditional on the uid: a newer session of the same name is never deleted by mistake.
    await this.d.client.delete(sessionRef(session), { uid: session.metadata.uid! });
    return {};
  }

  /**
   * The per-user home claim of a session (persistence `user`): the one its desktop pod mounts,
   * once there is a pod; before, the one annotated for the session's owner (issuer + subject: its
   * own, or a 0.1.x home the owner migration handed over), never one of another identity with the
   * same e-mail (userHomeClaimName; a SessionSpecError otherwise). A claim the cache does not hold
   * would be created: the API server is asked first, since the cache may not show yet a home the
   * migration has just handed to this owner — for the owner's claims only (the owner label the
   * migration sets too), not every home of the namespace — unless no home the migration could hand
   * over is cached. `exists`: the claim is known to be there.
   */
  private async userHomeClaim(session: VDISession, pod: V1Pod | undefined): Promise<UserHome> {
    const mounted = pod?.spec?.volumes?.find((v) => v.name === 'home')?.persistentVolumeClaim?.claimName;
    if (mounted) return { name: mounted, exists: true };
    const ns = session.metadata.namespace!;
    const cached = this.d.caches.claims.list(ns);
    const name = userHomeClaimName(session, cached);
    if (cached.some((c) => c.metadata?.name === name)) return { name, exists: true };
    // Without a home the migration could still hand over (mayHandOverHomes), a session's home has
    // one possible name, and a claim of that name the cache does not show yet only makes the
    // create answer 409 (children.ts then checks whose it is): nothing to ask the API server.
    if (!mayHandOverHomes(cached)) return { name, exists: false };
    const selector = `${MANAGED_SELECTOR},${LABEL_USER_HASH}=${sessionOwnerHash(session)}`;
    const fresh = await this.d.client.call<{ items: V1PersistentVolumeClaim[] }>(
      'GET',
      `/api/v1/namespaces/${ns}/persistentvolumeclaims?labelSelector=${encodeURIComponent(selector)}`,
    );
    const picked = userHomeClaimName(session, fresh.items);
    return { name: picked, exists: fresh.items.some((c) => c.metadata?.name === picked) };
  }

  /**
   * When to look again without an event: at the start deadline of a session still starting;
   * otherwise not at all (events and the periodic resync cover the rest; TURN credentials are
   * minted on request by the TURN REST endpoint, so nothing here rotates).
   */
  private nextWake(status: VDISessionStatus, now: Date): number | undefined {
    const wakes: number[] = [];
    // The start deadline, while it runs (status.ts: not while the desktop waits in the queue for
    // a GPU; the pod event that ends the wait wakes the session instead).
    if (status.startDeadlineAt)
      wakes.push(Math.max(1000, new Date(status.startDeadlineAt).getTime() - now.getTime() + 500));
    // The end of its idle timeout (the reconcile then asks the desktop once more).
    if (status.idleUntil)
      wakes.push(Math.max(100, new Date(status.idleUntil).getTime() - now.getTime() + 100));
    // The end of its lifetime (just after, so the reconcile then sees it due).
    if (status.expiresAt)
      wakes.push(Math.max(100, new Date(status.expiresAt).getTime() - now.getTime() + 100));
    // At most an hour ahead: timers cannot hold a 30-day lifetime, and resyncs come anyway.
    return wakes.length > 0 ? Math.min(...wakes, 3_600_000) : undefined;
  }

  /** A session being deleted: its children go (the pod first), then our finalizer. */
  private async reconcileDelete(key: string, session: VDISession): Promise<Result> {
    const { config } = this.d;
    if (!(session.metadata.finalizers ?? []).includes(SESSION_FINALIZER)) return {};
    const status = computeStatus({
      session,
      now: this.now(),
      deleting: true,
      startDeadlineSeconds: config.startDeadlineSeconds,
    });
    await this.writeStatus(session, status).catch(() => undefined);
    const name = session.metadata.name!;
    const namespace = session.metadata.namespace!;
    // A claimed warm pod goes with its session (never back to the pool).
    const poolPodLeft = (await this.d.pools?.release(session)) ?? false;
    if ((await this.children.deleteChildren(key, namespace, name, session.metadata.uid!)) || poolPodLeft) {
      // Wait for the pod to be gone, so no desktop outlives its session.
      return { requeueAfterMs: 500 };
    }
    await this.writes.removeFinalizer(session);
    this.d.log.debug({ key, uid: session.metadata.uid }, 'finalizer removed');
    this.children.released(key);
    this.d.events.record(session, 'Normal', 'Deleted', 'desktop and its objects removed');
    return {};
  }
}

// Kept importable from here, where they were before the split.
export { ANNOTATION_ENCODER_PLAN, SESSION_FINALIZER, LABEL_SESSION };
