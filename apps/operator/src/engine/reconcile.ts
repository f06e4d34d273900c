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
 */
import { createHmac } from 'node:crypto';
import type { V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import { API_VERSION, isStopped, KIND_SESSION, type VDISession, type VDISessionStatus } from '@vdi/crd-types';
import { KubeApiError, type KubeJsonClient, type KubeObject } from '@vdi/kube-client';
import {
  FIELD_MANAGER,
  LABEL_SESSION,
  SessionSpecError,
  chooseEncoder,
  childNames,
  computeStatus,
  eligible,
  gpuCapacity,
  parseEncoderPlan,
  renderSession,
  renderedObjects,
  resolveSession,
  sessionPassword,
  sessionUrl,
  statusChanged,
  DEFAULT_WARN_BEFORE,
  durationSeconds,
  expiresAt,
  expiryStage,
  failedForGood,
  startClock,
  formatDuration,
  turnRestKey,
  userHomeClaimName,
  type EncoderPlan,
  type Observation,
  type Placement,
  type RenderedSession,
} from '@vdi/session-spec';
import type { Logger } from 'pino';
import type { OperatorConfig } from '../config.js';
import type { Caches } from './caches.js';
import type { EventRecorder } from './events.js';
import type { ViewerWatch } from './viewers.js';
import type { Result } from './work-queue.js';

/** Domain-qualified, so it is obviously ours among other controllers' finalizers. */
export const FINALIZER = 'vdi.kasm.io/session-cleanup';
/** The scheduler's note on a claim bound on first use: the node its volume was provisioned for. */
const SELECTED_NODE = 'volume.kubernetes.io/selected-node';

/** What the operator's caches select: everything the platform made (caches.ts). */
const MANAGED = 'app.kubernetes.io/part-of=vdi-platform';
/** The encoder decision, kept on the pod: it must not change for the life of a pod. */
export const ANNOTATION_ENCODER_PLAN = 'vdi.kasm.io/encoder-plan';

export interface ReconcilerDeps {
  caches: Caches;
  client: KubeJsonClient;
  config: OperatorConfig;
  log: Logger;
  events: EventRecorder;
  /** Who watches each desktop (idle culling); without it nothing is culled. */
  viewers?: ViewerWatch;
  now?: () => Date;
}

export class Reconciler {
  /** Hash of the last children applied per session: an unchanged desired state is not re-sent. */
  private readonly applied = new Map<string, string>();
  /**
   * Per session, the copy our last write (finalizer or status patch) returned, and the
   * resourceVersions it supersedes. The cache learns of our own writes one watch event later; a
   * reconcile in between (a pod event, a requeue) would act on the older copy: add the finalizer
   * again (its resourceVersion test fails, 422), write the same status and its Event twice, or
   * run the deletion again after the finalizer is gone, aiming its writes at a new session of
   * the same name. Dropped once the cache has moved past those versions.
   */
  private readonly written = new Map<string, { uid: string; behind: Set<string>; session: VDISession }>();
  /**
   * Per session key, the uid of the session whose objects this process may have written and not
   * yet removed. Normally the deletion path removes them under our finalizer. But kube-apiserver
   * can hard-delete a session whose finalizer was added at the moment of the DELETE (the DELETE
   * decides from a copy without it: kubernetes/kubernetes#77988); the session then vanishes with
   * our finalizer on it, and whatever we applied for it would wait for the garbage collector.
   * Seeing a key without that session, the reconciler removes them itself (after a restart this
   * memory is gone, and the garbage collector does it through the owner references).
   */
  private readonly owners = new Map<string, string>();
  private readonly now: () => Date;

  constructor(private readonly d: ReconcilerDeps) {
    this.now = d.now ?? (() => new Date());
  }

  /** Forget what was applied, so the next reconcile of every session re-applies (periodic resync). */
  forgetApplied(): void {
    this.applied.clear();
  }

  async reconcile(key: string): Promise<Result> {
    const [namespace, name] = key.split('/') as [string, string];
    const cached = this.d.caches.sessions.get(name, namespace);
    const owner = this.owners.get(key);
    if (owner && owner !== cached?.metadata.uid) {
      // The session we wrote objects for is gone without our deletion path (see `owners`).
      await this.removeOrphans(key, namespace, name, owner);
    }
    if (!cached) {
      this.applied.delete(key);
      this.written.delete(key);
      this.d.viewers?.track(key, false);
      return {};
    }
    // Cached objects are shared: work on a copy.
    const session = structuredClone(this.freshest(key, cached)) as VDISession;
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
    if (!(session.metadata.finalizers ?? []).includes(FINALIZER)) {
      if (!(await this.addFinalizer(session))) return {};
      // Carry on in this pass with the copy the patch returned, so a new desktop's pod is made
      // without waiting for the update's watch event (which then finds nothing left to do).
      const updated = this.written.get(key)?.session;
      if (!updated || updated.metadata.uid !== session.metadata.uid) return {};
      return this.reconcileNormal(key, structuredClone(updated));
    }
    return this.reconcileNormal(key, session);
  }

  private async reconcileNormal(key: string, session: VDISession): Promise<Result> {
    const { config, caches, log } = this.d;
    const now = this.now();
    const template = caches.templates.get(session.spec.template);
    const base: Omit<Observation, 'now'> = { session, startDeadlineSeconds: config.startDeadlineSeconds };
    const pod = caches.pods.get(childNames(session.metadata.name!).pod, session.metadata.namespace);
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
    // GPU nodes this session's template allows (its node selector and tolerations, plus the GPU taint).
    const placement: Placement = {
      nodeSelector: template.spec.nodeSelector ?? {},
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }, ...(template.spec.tolerations ?? [])],
    };
    const slices = (p: Placement) =>
      gpuCapacity(
        caches.nodes.list().filter((n) => eligible(n, p)),
        caches.pods.list(),
        config.platform.gpuResourceName,
      );
    let facts = slices(placement);
    let rendered: RenderedSession;
    try {
      const effective = resolveSession(session.spec, structuredClone(template.spec));
      const plan = planOf(pod) ?? chooseEncoder(template.spec.encoder, effective.gpu, facts);
      if (plan.gpuProducts) {
        facts = slices({ ...placement, gpuProducts: plan.gpuProducts });
      }
      rendered = renderSession(session, structuredClone(template), config.platform, {
        encoderPlan: plan,
        sessionPassword: this.sessionPassword(session),
        turnRestKey: turnRestKey(this.d.config.sessionKey, session.metadata.uid!),
        ...(effective.persistence === 'user'
          ? { userHomeClaim: await this.userHomeClaim(session, pod) }
          : {}),
      });
    } catch (err) {
      if (!(err instanceof SessionSpecError)) throw err;
      // The spec or the template cannot become a desktop: say so; a template edit requeues us.
      await this.writeStatus(session, computeStatus({ ...base, now, specError: err }));
      return {};
    }

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
    this.owners.set(key, session.metadata.uid!);
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
        await this.applyChildren(key, session, rendered, pod);
      } catch (err) {
        if (!(err instanceof KubeApiError) || err.status >= 500 || err.status === 409 || err.status === 429)
          throw err;
        // A 4xx the server will answer again the same way (forbidden, invalid): report, retry slowly.
        applyError = err.message;
        log.error({ key, err: err.message }, 'applying the desktop objects failed');
      }
    }

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
    await this.writeStatus(session, status);
    if (applyError) return { requeueAfterMs: 30_000 };
    const wake = this.nextWake(session, status, now);
    const warnWake = stage.nextInMs !== undefined ? stage.nextInMs + 100 : undefined;
    return {
      requeueAfterMs: wake === undefined ? warnWake : Math.min(wake, warnWake ?? Infinity),
    };
  }

  /** Deletes the desktop pod of a session that failed for good, and keeps reporting the failure. */
  private async release(
    session: VDISession,
    pod: V1Pod | undefined,
    base: Omit<Observation, 'now'>,
    now: Date,
  ): Promise<Result> {
    await this.deleteDesktopPod(
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
    return this.deleteDesktopPod(
      session,
      pod,
      'Stopped',
      'the session was stopped: its desktop pod was deleted and its GPU time-slice freed; its home and name are kept (resume it to start a new desktop)',
    );
  }

  /**
   * Deletes a session's desktop pod (conditional on its uid, so a newer pod is never hit), with an
   * Event when this call deleted it; the session and its other children stay.
   */
  private async deleteDesktopPod(
    session: VDISession,
    pod: V1Pod | undefined,
    reason: string,
    message: string,
  ): Promise<void> {
    if (!pod || pod.metadata?.deletionTimestamp) return;
    if (!(await this.d.client.delete(pod as KubeObject, { uid: pod.metadata!.uid! }))) return;
    this.d.events.record(session, 'Normal', reason, message);
    this.d.log.info(
      { key: `${session.metadata.namespace}/${session.metadata.name}`, pod: pod.metadata!.name, reason },
      'desktop pod deleted',
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
   * migration has just handed to this owner.
   */
  private async userHomeClaim(session: VDISession, pod: V1Pod | undefined): Promise<string> {
    const mounted = pod?.spec?.volumes?.find((v) => v.name === 'home')?.persistentVolumeClaim?.claimName;
    if (mounted) return mounted;
    const ns = session.metadata.namespace!;
    const cached = this.d.caches.claims.list(ns);
    const name = userHomeClaimName(session, cached);
    if (cached.some((c) => c.metadata?.name === name)) return name;
    const fresh = await this.d.client.call<{ items: V1PersistentVolumeClaim[] }>(
      'GET',
      `/api/v1/namespaces/${ns}/persistentvolumeclaims?labelSelector=${encodeURIComponent(MANAGED)}`,
    );
    return userHomeClaimName(session, fresh.items);
  }

  /**
   * When to look again without an event: at the start deadline of a session still starting;
   * otherwise not at all (events and the periodic resync cover the rest; TURN credentials are
   * minted on request by the TURN REST endpoint, so nothing here rotates).
   */
  private nextWake(session: VDISession, status: VDISessionStatus, now: Date): number | undefined {
    const wakes: number[] = [];
    if (status.phase === 'Scheduling' || status.phase === 'Starting' || status.phase === 'Pending') {
      // From creation, or from the last resume (status.resumedAt).
      const since = (startClock({ ...session, status }) ?? now).getTime();
      const deadline = since + this.d.config.startDeadlineSeconds * 1000 - now.getTime() + 500;
      wakes.push(Math.max(1000, deadline));
    }
    // The end of its idle timeout (the reconcile then asks the desktop once more).
    if (status.idleUntil)
      wakes.push(Math.max(100, new Date(status.idleUntil).getTime() - now.getTime() + 100));
    // The end of its lifetime (just after, so the reconcile then sees it due).
    if (status.expiresAt)
      wakes.push(Math.max(100, new Date(status.expiresAt).getTime() - now.getTime() + 100));
    // At most an hour ahead: timers cannot hold a 30-day lifetime, and resyncs come anyway.
    return wakes.length > 0 ? Math.min(...wakes, 3_600_000) : undefined;
  }

  private async applyChildren(
    key: string,
    session: VDISession,
    r: RenderedSession,
    pod: V1Pod | undefined,
  ): Promise<void> {
    const objects = renderedObjects(r).filter((o) => o !== r.pod) as KubeObject[];
    const desired = JSON.stringify(objects);
    const hash = createHmac('sha256', 'vdi').update(desired).digest('base64');
    if (this.applied.get(key) !== hash) {
      for (const obj of objects) {
        // A per-user home (no owner reference) is shared by all of the owner's sessions, and its
        // size is fixed when it is made: templates with another homeSize must not try to resize it
        // (local-path and most provisioners refuse, which would fail every later session). Whose
        // it is was checked against its annotations before rendering (userHomeClaimName).
        if (obj === r.home?.claim && !(r.home.claim.metadata?.ownerReferences ?? []).length) {
          if (await this.d.client.get<KubeObject>(obj)) continue;
        }
        await this.d.client.apply(obj, FIELD_MANAGER);
      }
      this.applied.set(key, hash);
      this.d.log.debug({ key, uid: session.metadata.uid, objects: objects.length }, 'children applied');
    }
    // Pods are immutable where it matters (image, env, resources, affinity): create once, and
    // record the encoder decision on the pod so every later reconcile renders the same one.
    if (!pod) {
      const desiredPod = structuredClone(r.pod);
      desiredPod.metadata!.annotations = {
        ...desiredPod.metadata!.annotations,
        [ANNOTATION_ENCODER_PLAN]: JSON.stringify(r.encoderPlan),
      };
      const existing = await this.d.client.get<KubeObject>(desiredPod as KubeObject);
      if (!existing) {
        await this.d.client.apply(desiredPod as KubeObject, FIELD_MANAGER);
        this.d.events.record(
          session,
          'Normal',
          'DesktopCreated',
          `created desktop pod with encoder ${r.encoderPlan.encoder}`,
        );
      }
    }
  }

  private async reconcileDelete(key: string, session: VDISession): Promise<Result> {
    const { config } = this.d;
    if (!(session.metadata.finalizers ?? []).includes(FINALIZER)) return {};
    const status = computeStatus({
      session,
      now: this.now(),
      deleting: true,
      startDeadlineSeconds: config.startDeadlineSeconds,
    });
    await this.writeStatus(session, status).catch(() => undefined);
    const name = session.metadata.name!;
    const namespace = session.metadata.namespace!;
    if (await this.deleteChildren(key, namespace, name, session.metadata.uid!)) {
      // Wait for the pod to be gone, so no desktop outlives its session.
      return { requeueAfterMs: 500 };
    }
    await this.removeFinalizer(session);
    this.d.log.debug({ key, uid: session.metadata.uid }, 'finalizer removed');
    this.applied.delete(key);
    this.owners.delete(key);
    this.d.events.record(session, 'Normal', 'Deleted', 'desktop and its objects removed');
    return {};
  }

  /**
   * Deletes what session `uid` owns under its children's names (explicitly: cleanup must not
   * depend on the garbage collector being quick, or on). Only objects owned by that uid: never
   * another object that happens to have the name, such as a newer session's. True while its pod
   * still exists.
   */
  private async deleteChildren(key: string, namespace: string, name: string, uid: string): Promise<boolean> {
    const { client, caches } = this.d;
    const n = childNames(name);
    const ns = (kind: string, apiVersion: string, objName: string): KubeObject => ({
      apiVersion,
      kind,
      metadata: { name: objName, namespace },
    });
    const children = [
      ns('Pod', 'v1', n.pod),
      ns('Service', 'v1', n.service),
      // The RTC configuration Secret of sessions made before the TURN REST endpoint (0.1.x).
      ns('Secret', 'v1', `${name}-turn`),
      ns('Secret', 'v1', n.authSecret),
      ns('NetworkPolicy', 'networking.k8s.io/v1', n.networkPolicy),
      ns('IngressRoute', 'traefik.io/v1alpha1', n.ingressRoute),
      ns('Middleware', 'traefik.io/v1alpha1', n.forwardAuthMiddleware),
      // A session-owned home (persistence `session`); a per-user home is never deleted here.
      ns('PersistentVolumeClaim', 'v1', n.sessionHome),
    ];
    let podLeft = false;
    for (const child of children) {
      const existing = await client.get<
        KubeObject & { metadata: { ownerReferences?: { uid: string }[]; uid: string } }
      >(child);
      if (!existing || !existing.metadata.ownerReferences?.some((o) => o.uid === uid)) continue;
      await client.delete(child, { uid: existing.metadata.uid });
      if (child === children[0]) podLeft = true;
      this.d.log.debug({ key, uid, child: `${child.kind}/${child.metadata!.name}` }, 'child deleted');
    }
    const pod = caches.pods.get(n.pod, namespace);
    return podLeft || Boolean(pod?.metadata?.ownerReferences?.some((o) => o.uid === uid));
  }

  /** Removes what a session that vanished without our deletion path owned (see `owners`). */
  private async removeOrphans(key: string, namespace: string, name: string, uid: string): Promise<void> {
    this.d.log.warn(
      { key, uid },
      "session gone while it still had the operator's finalizer (a DELETE racing the finalizer, kubernetes/kubernetes#77988, or the finalizer removed by hand): removing its objects",
    );
    await this.deleteChildren(key, namespace, name, uid);
    this.owners.delete(key);
    this.applied.delete(key);
  }

  /**
   * The cached session, or the copy our own last write returned while the cache is not past it.
   * The same resourceVersion counts as not past: removing the last finalizer of a deleted session
   * deletes it instead of storing a new version, and the answer carries the version the cache
   * already has, which still shows the finalizer.
   */
  private freshest(key: string, cached: VDISession): VDISession {
    const w = this.written.get(key);
    const rv = cached.metadata.resourceVersion!;
    if (w && w.uid === cached.metadata.uid && (w.behind.has(rv) || w.session.metadata.resourceVersion === rv))
      return w.session;
    this.written.delete(key);
    return cached;
  }

  /** Adds our finalizer; false when the session was deleted before it could get one. */
  private async addFinalizer(session: VDISession): Promise<boolean> {
    const finalizers = session.metadata.finalizers;
    // JSON patch with a test on resourceVersion: a concurrent change makes it fail (and retry)
    // instead of overwriting another controller's finalizer list.
    const ops = [
      { op: 'test', path: '/metadata/resourceVersion', value: session.metadata.resourceVersion },
      finalizers
        ? { op: 'add', path: '/metadata/finalizers/-', value: FINALIZER }
        : { op: 'add', path: '/metadata/finalizers', value: [FINALIZER] },
    ];
    try {
      await this.patchSession(session, 'application/json-patch+json', ops);
      return true;
    } catch (err) {
      // Deleted before it got our finalizer: it never had children, so nothing to clean up.
      if (err instanceof KubeApiError && err.notFound) return false;
      throw err;
    }
  }

  private async removeFinalizer(session: VDISession): Promise<void> {
    const index = (session.metadata.finalizers ?? []).indexOf(FINALIZER);
    if (index < 0) return;
    try {
      await this.patchSession(session, 'application/json-patch+json', [
        // This session, not a newer one of the same name.
        { op: 'test', path: '/metadata/uid', value: session.metadata.uid },
        { op: 'test', path: `/metadata/finalizers/${index}`, value: FINALIZER },
        { op: 'remove', path: `/metadata/finalizers/${index}` },
      ]);
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound) return;
      throw err;
    }
  }

  private async writeStatus(session: VDISession, status: VDISessionStatus): Promise<void> {
    const prev = session.status;
    if (!statusChanged(prev, status)) return;
    try {
      // The whole status, conditional on the uid: a reconcile that read an earlier session of the
      // same name (just deleted and made again) must not write that one's status onto the new
      // one. (The status subresource ignores metadata in a merge patch; a JSON patch's test
      // operation is checked against the stored object: a mismatch is refused, 422, and retried.)
      await this.patchSession(
        session,
        'application/json-patch+json',
        [
          { op: 'test', path: '/metadata/uid', value: session.metadata.uid },
          { op: 'add', path: '/status', value: status },
        ],
        'status',
      );
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound) return;
      // The uid test failed: the name now holds a newer session, which its own event reconciles.
      if (err instanceof KubeApiError && err.status === 422) {
        const current = await this.d.client.get<VDISession>(sessionRef(session));
        if (current?.metadata.uid !== session.metadata.uid) return;
      }
      throw err;
    }
    if (prev?.phase !== status.phase) {
      const warn =
        status.phase === 'Failed' ||
        status.reason === 'WaitingForGPU' ||
        status.reason === 'TemplateNotFound';
      this.d.events.record(
        session,
        warn ? 'Warning' : 'Normal',
        status.reason ?? status.phase ?? 'Updated',
        `${status.phase}: ${status.message ?? ''}`,
      );
      this.d.log.info(
        {
          key: `${session.metadata.namespace}/${session.metadata.name}`,
          phase: status.phase,
          reason: status.reason,
        },
        'session phase changed',
      );
    }
  }

  /**
   * A patch of the session (or its status) recorded under the operator's field manager. The
   * client's patch helpers send none, and the API server then records the writer as "unknown" in
   * managedFields, so nobody could tell the operator's writes (finalizer, status) from others'.
   */
  private async patchSession(
    session: VDISession,
    contentType: 'application/json-patch+json' | 'application/merge-patch+json',
    body: unknown,
    subresource?: 'status',
  ): Promise<void> {
    const path = `${await this.d.client.path(sessionRef(session))}${subresource ? `/${subresource}` : ''}`;
    const updated = await this.d.client.call<VDISession>(
      'PATCH',
      `${path}?fieldManager=${encodeURIComponent(FIELD_MANAGER)}`,
      body,
      contentType,
    );
    // Remember the result until the cache has it (see `written`).
    const key = `${session.metadata.namespace}/${session.metadata.name}`;
    const prev = this.written.get(key);
    const behind = prev && prev.uid === session.metadata.uid ? prev.behind : new Set<string>();
    behind.add(session.metadata.resourceVersion!);
    if (updated.metadata?.uid === session.metadata.uid)
      this.written.set(key, { uid: session.metadata.uid!, behind, session: updated });
  }

  /** The session's desktop password: the API derives the same one for forward-auth (see secrets.ts). */
  private sessionPassword(session: VDISession): string {
    return sessionPassword(this.d.config.sessionKey, session.metadata.uid!);
  }
}

function sessionRef(s: VDISession): KubeObject {
  return {
    apiVersion: API_VERSION,
    kind: KIND_SESSION,
    metadata: { name: s.metadata.name!, namespace: s.metadata.namespace! },
  };
}

function planOf(pod: V1Pod | undefined): EncoderPlan | undefined {
  return parseEncoderPlan(pod?.metadata?.annotations?.[ANNOTATION_ENCODER_PLAN]);
}

export { LABEL_SESSION };
