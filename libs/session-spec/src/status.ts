/**
 * computeStatus: what a session's status says, from what the operator observed in one reconcile.
 * Pure: the time comes in as an argument, and a condition keeps its lastTransitionTime while its
 * status does not change, so writing the result again is a no-op.
 *
 * Phases come from the conditions: Pending (no desktop yet: template missing or invalid, or the
 * children not applied) → Scheduling (pod waits for a node; the message says when it waits for a
 * GPU time-slice) → Starting (placed, not ready) → Running (ready, URL set); Failed (image pull
 * errors, crash loops, a failed pod, or a start past the deadline); Stopped (the owner stopped it:
 * no desktop, home and name kept); Terminating (being deleted). The start deadline counts from
 * creation, or from the last time the session left Stopped (status.resumedAt).
 */
import type { V1Pod } from '@kubernetes/client-node';
import {
  isStopped,
  SessionConditionType as T,
  SessionReason as R,
  type Condition,
  type SessionPhase,
  type VDISession,
  type VDISessionStatus,
} from '@vdi/crd-types';
import type { EncoderPlan } from './encoder.js';
import type { SessionSpecError } from './errors.js';

export interface Observation {
  session: VDISession;
  now: Date;
  deleting?: boolean;
  /** The template could not be found (by name). */
  templateMissing?: boolean;
  /** The template exists but this session cannot be rendered from it (invalid template, bounds, …). */
  specError?: SessionSpecError;
  /** Writing the children failed (the message of the API error). */
  applyError?: string;
  encoderPlan?: EncoderPlan;
  url?: string;
  homeClaim?: string;
  /** The desktop pod as last seen (undefined: not created yet). */
  pod?: V1Pod;
  /**
   * The node the session's home volume is on, when its claim says so (the scheduler's
   * `volume.kubernetes.io/selected-node` annotation of a claim provisioned on first use, e.g.
   * local-path): named in the message while the desktop waits for that node.
   */
  homeNode?: string;
  /** Free and total GPU time-slices of the cluster (for the message while a GPU session waits). */
  gpuSlices?: { free: number; total: number };
  /** Seconds after creation the session ends (its effective maxLifetime), when it has one. */
  maxLifetimeSeconds?: number;
  /** The warning lead time the session's end is within now (e.g. `15m`), when it is within one. */
  warnedBefore?: string;
  /**
   * Pages streaming the desktop, as its Selkies reported them at `at` (the operator's last look);
   * undefined when it was not asked (or did not answer): the status keeps what it said before.
   */
  viewers?: { count: number; at: Date };
  /** Seconds a running desktop may have no viewer before it is culled (its effective idleTimeout). */
  idleTimeoutSeconds?: number;
  startDeadlineSeconds: number;
}

/** When a session with a lifetime ends: creation + maxLifetime, as RFC 3339 seconds. */
export function expiresAt(o: Pick<Observation, 'session' | 'maxLifetimeSeconds'>): string | undefined {
  const created = o.session.metadata.creationTimestamp;
  if (o.maxLifetimeSeconds === undefined || !created) return undefined;
  return new Date(new Date(created).getTime() + o.maxLifetimeSeconds * 1000)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z');
}

interface Cond {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

const IMAGE_PULL_REASONS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
]);

function podCondition(pod: V1Pod | undefined, type: string) {
  return pod?.status?.conditions?.find((c) => c.type === type);
}

/** Why the pod cannot start, when it is a failure no waiting will fix. */
function podFailure(pod: V1Pod): Cond | undefined {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const cs of statuses) {
    const waiting = cs.state?.waiting;
    if (waiting?.reason && IMAGE_PULL_REASONS.has(waiting.reason)) {
      return {
        type: T.Ready,
        status: 'False',
        reason: R.ImagePullFailed,
        message: `the desktop image ${cs.image} cannot be pulled (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}); check the template's image and the registry`,
      };
    }
    if (waiting?.reason === 'CrashLoopBackOff') {
      return {
        type: T.Ready,
        status: 'False',
        reason: R.CrashLooping,
        message: `the desktop keeps crashing (restarted ${cs.restartCount} times); see the pod's logs`,
      };
    }
  }
  if (pod.status?.phase === 'Failed') {
    const term = statuses.map((cs) => cs.state?.terminated).find((t) => t);
    const detail = term
      ? `container exited with code ${term.exitCode}${term.reason ? ` (${term.reason})` : ''}`
      : (pod.status.reason ?? 'pod failed');
    return {
      type: T.Ready,
      status: 'False',
      reason: R.PodFailed,
      message: `the desktop stopped: ${detail}${pod.status.message ? `: ${pod.status.message}` : ''}`,
    };
  }
  return undefined;
}

const waitingForScheduler: Cond = {
  type: T.Scheduled,
  status: 'False',
  reason: R.WaitingForScheduler,
  message:
    "waiting for the scheduler to place the desktop (time in the scheduler's queue does not count against its start deadline)",
};

/**
 * The scheduler's words for a node rejected because a volume of the pod is bound to another node
 * (a PersistentVolume with node affinity: node-local storage such as local-path): "didn't match
 * PersistentVolume's node affinity" (kube-scheduler 1.3x), "volume node affinity conflict" (older).
 */
const VOLUME_NODE_CONFLICT = /didn't match PersistentVolume's node affinity|volume node affinity conflict/;

function scheduling(o: Observation, pod: V1Pod): Cond {
  const sched = podCondition(pod, 'PodScheduled');
  const msg = sched?.message ?? '';
  // Some node could have been considered but for the home's place: the home pins the desktop to
  // its node, and that node cannot take it now (no free slice, not ready, cordoned).
  if (sched?.status === 'False' && VOLUME_NODE_CONFLICT.test(msg)) {
    const node = o.homeNode ? `node ${o.homeNode}` : 'the node of its home';
    return {
      type: T.Scheduled,
      status: 'False',
      reason: R.WaitingForHomeNode,
      message: `waiting for ${node}: the session's home is on node-local storage there, and that node cannot take the desktop now (${msg}); it starts by itself when the node has room. To start elsewhere, an admin can move homes to shared storage (ReadWriteMany or network block storage), or delete the home volume (its files are lost)`,
    };
  }
  // The home claim the operator has just made is not in the scheduler's cache yet (it reads its
  // own watch of claims, which lags behind in a burst): a wait in the scheduler's queue, not a
  // verdict; its retry comes when its cache has the claim, at the latest when it flushes its
  // unschedulable pods (5 min), so the start deadline must not run meanwhile.
  if (
    sched?.status === 'False' &&
    o.homeClaim &&
    msg.includes(`persistentvolumeclaim "${o.homeClaim}" not found`)
  ) {
    return {
      ...waitingForScheduler,
      message: `waiting for the scheduler to see the desktop's home volume claim ${o.homeClaim} (made moments ago; time in the scheduler's queue does not count against its start deadline)`,
    };
  }
  if (sched?.status === 'False' && /Insufficient nvidia\.com\/gpu/.test(msg)) {
    const slices = o.gpuSlices
      ? `${o.gpuSlices.free} of ${o.gpuSlices.total} time-slices free`
      : 'no time-slice free';
    return {
      type: T.Scheduled,
      status: 'False',
      reason: R.WaitingForGPU,
      message: `waiting for a GPU: ${slices}; the desktop starts by itself when one frees up (time in this queue does not count against its start deadline)`,
    };
  }
  if (sched?.status === 'False') {
    return {
      type: T.Scheduled,
      status: 'False',
      reason: R.Unschedulable,
      message: `no node can run the desktop yet: ${msg}`,
    };
  }
  return waitingForScheduler;
}

const stoppedCondition: Cond = {
  type: T.Ready,
  status: 'False',
  reason: R.Stopped,
  message:
    'the session is stopped: no desktop runs and no GPU time-slice is held; its home and name are kept. Resume it (resumeSession, or spec.state: Running) to start a new desktop',
};

/** Scheduled and Ready, from the pod. */
function podConditions(o: Observation, pod: V1Pod): Cond[] {
  if (!pod.spec?.nodeName) return [scheduling(o, pod)];
  const out: Cond[] = [
    {
      type: T.Scheduled,
      status: 'True',
      reason: R.PodScheduled,
      message: `running on node ${pod.spec.nodeName}`,
    },
  ];
  const failure = podFailure(pod);
  if (failure) {
    out.push(failure);
  } else if (podCondition(pod, 'Ready')?.status === 'True') {
    out.push({ type: T.Ready, status: 'True', reason: R.DesktopReady, message: 'the desktop is ready' });
  } else {
    out.push({
      type: T.Ready,
      status: 'False',
      reason: R.ContainersStarting,
      message: 'the desktop is starting',
    });
  }
  return out;
}

/** The conditions the observation implies, in a fixed order. */
function conditions(o: Observation): Cond[] {
  if (o.templateMissing) {
    const missing: Cond = {
      type: T.TemplateResolved,
      status: 'False',
      reason: R.TemplateNotFound,
      message: o.pod
        ? `template '${o.session.spec.template}' was deleted; this desktop keeps running but cannot be re-created`
        : `template '${o.session.spec.template}' does not exist; create it or pick another template`,
    };
    if (isStopped(o.session)) return [missing, stoppedCondition];
    // A template deleted under a running desktop does not stop it: keep reporting the pod.
    return o.pod ? [missing, ...podConditions(o, o.pod)] : [missing];
  }
  if (o.specError) {
    const reason = o.specError.reason === 'InvalidSpec' ? R.TemplateInvalid : o.specError.reason;
    return [{ type: T.TemplateResolved, status: 'False', reason, message: o.specError.message }];
  }
  const out: Cond[] = [
    {
      type: T.TemplateResolved,
      status: 'True',
      reason: R.TemplateFound,
      message: `template '${o.session.spec.template}' resolved`,
    },
  ];
  if (o.applyError) {
    out.push({
      type: T.ResourcesApplied,
      status: 'False',
      reason: R.ApplyFailed,
      message: `writing the desktop's objects failed: ${o.applyError}`,
    });
    return out;
  }
  // The desktop is gone (or going); what a resume needs stays: name, route, secrets, home.
  if (isStopped(o.session)) return [...out, stoppedCondition];
  out.push({
    type: T.ResourcesApplied,
    status: 'True',
    reason: R.Applied,
    message: 'pod, service, route, secrets and network policy are in place',
  });
  // Applied but the pod not seen yet: it is on its way to the scheduler.
  return [...out, ...(o.pod ? podConditions(o, o.pod) : [waitingForScheduler])];
}

/** The phase the conditions imply. */
export function phaseOf(
  conds: Pick<Condition, 'type' | 'status' | 'reason'>[],
  deleting = false,
): SessionPhase {
  if (deleting) return 'Terminating';
  const get = (t: string) => conds.find((c) => c.type === t);
  const ready = get(T.Ready);
  if (ready?.status === 'True') return 'Running';
  if (ready?.reason === R.Stopped) return 'Stopped';
  if (ready && ready.reason !== R.ContainersStarting) return 'Failed';
  if (get(T.Scheduled)?.status === 'True') return 'Starting';
  if (get(T.Scheduled)) return 'Scheduling';
  if (get(T.ResourcesApplied)?.status === 'True') return 'Scheduling';
  return 'Pending';
}

function withTimes(
  next: Cond[],
  prev: Condition[] | undefined,
  now: string,
  generation: number | undefined,
): Condition[] {
  return next.map((c) => {
    const before = prev?.find((p) => p.type === c.type);
    const lastTransitionTime = before && before.status === c.status ? before.lastTransitionTime : now;
    return {
      ...c,
      lastTransitionTime,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
  });
}

/**
 * When the session last left Stopped: now, when the previous status says Stopped and the owner
 * wants it running again; else the time already recorded.
 */
function resumedAt(o: Observation, now: string): string | undefined {
  if (isStopped(o.session)) return o.session.status?.resumedAt;
  return o.session.status?.phase === 'Stopped' ? now : o.session.status?.resumedAt;
}

/**
 * When the session's current start began: its creation, or its last resume (what the phase
 * timings are measured from).
 */
export function startClock(session: VDISession): Date | undefined {
  const since = session.status?.resumedAt ?? session.metadata.creationTimestamp;
  return since ? new Date(since) : undefined;
}

/**
 * Scheduled reasons that mean "in a queue for a place": time there never counts against the start
 * deadline. WaitingForScheduler is the scheduler's own queue (no verdict on the pod yet; also
 * while a new home volume is provisioned for it): a burst larger than the scheduler clears at once
 * must not fail the sessions at its end.
 */
const QUEUED = new Set<string>([R.WaitingForGPU, R.WaitingForHomeNode, R.WaitingForScheduler]);

/**
 * Since when the start deadline runs: the latest of the start (creation or resume), the creation
 * of the current desktop pod (the operator worked on it) and its placement on a node (a slice
 * was free). Undefined — the deadline does not run — before the operator made the pod and while
 * the pod waits in a queue: for a GPU time-slice, for its home's node, or for the scheduler to
 * get to it at all. A session behind a long queue, or behind a burst the operator or the
 * scheduler is still working through, is never failed for it. A pod the scheduler found no node
 * for, for any other reason (no node matches), does run the deadline.
 */
function deadlineClock(
  o: Observation,
  conds: readonly { type: string; status: string; reason?: string }[],
  resumed: string | undefined,
): number | undefined {
  const pod = o.pod;
  if (!pod) return undefined;
  const sched = conds.find((c) => c.type === T.Scheduled);
  if (sched?.status !== 'True' && QUEUED.has(sched?.reason ?? '')) return undefined;
  const placed = podCondition(pod, 'PodScheduled');
  const times = [
    resumed ?? o.session.metadata.creationTimestamp,
    pod.metadata?.creationTimestamp,
    placed?.status === 'True' ? placed.lastTransitionTime : undefined,
  ]
    .filter((t): t is string | Date => t !== undefined)
    .map((t) => new Date(t).getTime())
    .filter((t) => !Number.isNaN(t));
  return times.length > 0 ? Math.max(...times) : undefined;
}

/**
 * True once a session has failed for good (its start deadline passed, or it failed after it):
 * such a session keeps no desktop pod, so it holds no GPU time-slice and no pending pod of it can
 * take a slice that frees later. Stopping and resuming it starts a new attempt (or delete it and
 * create a new one).
 */
export function failedForGood(session: VDISession): boolean {
  return (
    session.status?.conditions?.some((c) => c.type === T.Ready && c.reason === R.StartDeadlineExceeded) ??
    false
  );
}

export function computeStatus(o: Observation): VDISessionStatus {
  const prev = o.session.status;
  const now = o.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const generation = o.session.metadata.generation;
  let conds = conditions(o);
  const resumed = resumedAt(o, now);
  if (o.deleting) {
    conds = [
      ...conds.filter((c) => c.type !== T.Ready),
      { type: T.Ready, status: 'False', reason: R.Deleting, message: 'the session is being deleted' },
    ];
  }
  // A start past the deadline fails for good; so does a failure already reported for it.
  const prevReady = prev?.conditions?.find((c) => c.type === T.Ready);
  // A resume is a new attempt: the failure of the one before it does not carry over.
  // (A stop replaces that failure, so a resume is a new attempt with a whole deadline.)
  const stopped = isStopped(o.session);
  const expired = prevReady?.reason === R.StartDeadlineExceeded && !stopped;
  const notReady = !conds.some((c) => c.type === T.Ready && c.status === 'True');
  const clock = !o.deleting && !stopped && notReady ? deadlineClock(o, conds, resumed) : undefined;
  const deadline = clock === undefined ? undefined : clock + o.startDeadlineSeconds * 1000;
  if (!o.deleting && !stopped && (expired || (deadline !== undefined && o.now.getTime() > deadline))) {
    const node = o.pod?.spec?.nodeName;
    conds = [
      ...conds.filter((c) => c.type !== T.Ready),
      {
        type: T.Ready,
        status: 'False',
        reason: R.StartDeadlineExceeded,
        message: expired
          ? prevReady!.message
          : `the desktop did not become ready within ${o.startDeadlineSeconds}s of ${node ? `being placed on node ${node}` : 'its pod being made'} (time queued for a GPU does not count); its place (and GPU time-slice) was released. Stop and resume the session (or delete it and create a new one) to try again, or ask an admin to check the GPU nodes`,
      },
    ];
  }
  // The summary (status reason/message) comes from the desktop's own conditions; ExpiringSoon
  // is told beside them.
  const summary = [...conds].reverse().find((c) => c.status !== 'True') ?? conds[conds.length - 1]!;
  const ends = expiresAt(o);
  if (ends && o.warnedBefore && !o.deleting) {
    conds = [
      ...conds,
      {
        type: T.ExpiringSoon,
        status: 'True',
        reason: R.LifetimeEnding,
        message: `the session ends at ${ends}, within ${o.warnedBefore}; extend it (extendSession) up to its template's maximum lifetime, or save your work`,
      },
    ];
  }
  const conditionsOut = withTimes(conds, prev?.conditions, now, generation);
  const phase = phaseOf(conditionsOut, o.deleting);
  const pod = o.pod;
  const ready = conditionsOut.find((c) => c.type === T.Ready && c.status === 'True');
  const status: VDISessionStatus = {
    phase,
    reason: summary.reason,
    message: summary.message,
    conditions: conditionsOut,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    ...(o.session.metadata.creationTimestamp
      ? { createdAt: new Date(o.session.metadata.creationTimestamp).toISOString().replace(/\.\d{3}Z$/, 'Z') }
      : {}),
    ...(o.encoderPlan
      ? { encoder: o.encoderPlan.encoder, encoderDevice: o.encoderPlan.device }
      : prev?.encoder
        ? { encoder: prev.encoder, ...(prev.encoderDevice ? { encoderDevice: prev.encoderDevice } : {}) }
        : {}),
    ...(o.homeClaim ? { homeClaim: o.homeClaim } : {}),
    ...(pod?.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    ...phaseTimes(o, conditionsOut, resumed, now),
    ...(ready ? { readyAt: ready.lastTransitionTime } : {}),
    ...(stopped ? { stoppedAt: prev?.phase === 'Stopped' && prev.stoppedAt ? prev.stoppedAt : now } : {}),
    ...(resumed ? { resumedAt: resumed } : {}),
    ...(deadline !== undefined && !expired && phase !== 'Failed'
      ? { startDeadlineAt: rfc3339(new Date(deadline)) }
      : {}),
    ...(phase === 'Running' && o.url ? { url: o.url } : {}),
    ...(ends ? { expiresAt: ends } : {}),
    ...viewing(o, phase),
    ...(ends && o.warnedBefore && !o.deleting ? { warnedBefore: o.warnedBefore } : {}),
  };
  const gpu = pod?.spec?.containers?.[0]?.resources?.limits;
  if (gpu) status.gpu = Object.keys(gpu).some((k) => k.startsWith('nvidia.com/gpu')) ? 1 : 0;
  return status;
}

const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const asTime = (t: Date | string | undefined): string | undefined =>
  t === undefined ? undefined : rfc3339(new Date(t));

/**
 * When each step of the current start happened, for the portal, `kubectl` and the benchmark:
 *
 * - queuedAt: when it began waiting for a GPU time-slice (reason WaitingForGPU, or
 *   WaitingForHomeNode): the time the scheduler first found no place for the pod (its
 *   PodScheduled=False transition), else this look. Unset when it never waited.
 * - scheduledAt: the pod's PodScheduled=True transition (else when the operator saw it placed).
 * - imageReadyAt: when the desktop container was first created, which needs its image on the
 *   node: the start of its first run (the kubelet creates and starts a container back to back,
 *   and its status has no separate creation time). It stays put when the container restarts.
 * - startedAt: when the desktop container's current run started (state.running.startedAt).
 *
 * A value once recorded is kept for the rest of the start (so a later look, or a pod that is
 * gone, does not move it); a stop clears them and a resume starts a new set.
 */
function phaseTimes(
  o: Observation,
  conds: Condition[],
  resumed: string | undefined,
  now: string,
): Pick<VDISessionStatus, 'queuedAt' | 'scheduledAt' | 'imageReadyAt' | 'startedAt'> {
  if (isStopped(o.session)) return {};
  // What an earlier look of this same start recorded (none on the look that resumes it).
  const before = o.session.status;
  const prev = before?.phase !== 'Stopped' && before?.resumedAt === resumed ? before : undefined;
  const pod = o.pod;
  const sched = conds.find((c) => c.type === T.Scheduled);
  const podSched = podCondition(pod, 'PodScheduled');
  const waiting = sched?.reason === R.WaitingForGPU || sched?.reason === R.WaitingForHomeNode;
  const queuedAt =
    prev?.queuedAt ??
    (waiting
      ? (asTime(podSched?.status === 'False' ? podSched.lastTransitionTime : undefined) ?? now)
      : undefined);
  const scheduledAt =
    sched?.status === 'True'
      ? (asTime(podSched?.status === 'True' ? podSched.lastTransitionTime : undefined) ??
        prev?.scheduledAt ??
        sched.lastTransitionTime)
      : pod
        ? undefined // its pod waits for a place (again): not placed
        : prev?.scheduledAt;
  const desktop = pod?.status?.containerStatuses?.find(
    (c) => c.name === (pod.spec?.containers?.[0]?.name ?? 'desktop'),
  );
  const runningSince = asTime(desktop?.state?.running?.startedAt);
  const firstRun = asTime(
    desktop?.lastState?.terminated?.startedAt ??
      desktop?.state?.running?.startedAt ??
      desktop?.state?.terminated?.startedAt,
  );
  const imageReadyAt = prev?.imageReadyAt ?? firstRun;
  const startedAt = runningSince ?? prev?.startedAt;
  return {
    ...(queuedAt ? { queuedAt } : {}),
    ...(scheduledAt ? { scheduledAt } : {}),
    ...(imageReadyAt ? { imageReadyAt } : {}),
    ...(startedAt ? { startedAt } : {}),
  };
}

/**
 * Who watches a running desktop: the viewer count last reported, since when nobody has (kept
 * across looks while it stays at zero), and when idle culling acts if nobody connects.
 */
function viewing(
  o: Observation,
  phase: SessionPhase,
): Pick<VDISessionStatus, 'viewers' | 'idleSince' | 'idleUntil'> {
  if (phase !== 'Running') return {};
  const prev = o.session.status;
  const viewers = o.viewers?.count ?? prev?.viewers;
  if (viewers === undefined) return {};
  const idleSince =
    viewers > 0 ? undefined : (prev?.idleSince ?? (o.viewers ? rfc3339(o.viewers.at) : undefined));
  const idleUntil =
    idleSince && o.idleTimeoutSeconds !== undefined
      ? rfc3339(new Date(new Date(idleSince).getTime() + o.idleTimeoutSeconds * 1000))
      : undefined;
  return {
    viewers,
    ...(idleSince ? { idleSince } : {}),
    ...(idleUntil ? { idleUntil } : {}),
  };
}

/** True when writing `next` would change what is stored (key order aside). */
export function statusChanged(prev: VDISessionStatus | undefined, next: VDISessionStatus): boolean {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v as Record<string, unknown>)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, x]) => [k, canon(x)]),
          )
        : v;
  return JSON.stringify(canon(prev ?? {})) !== JSON.stringify(canon(next));
}
