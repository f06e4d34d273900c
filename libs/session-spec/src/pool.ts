/**
 * Warm pools (VDIPool) as pure functions: which templates can be pooled, the warm desktop pod of a
 * pool (and its Secret and NetworkPolicy), which warm pod a new session may claim, the one patch
 * that claims it, and the pool's counts.
 *
 * A warm pod is rendered exactly as a session's desktop pod would be (pod.ts), for a stand-in
 * session named after the pod, with no user identity: no session or owner label, no user
 * annotation, and a password derived from the pod's own random name under the platform's session
 * key (poolPodPassword), never from a session uid. A claim adds the session's identity to the pod
 * (labels, owner reference); the pod's password stays its own, so the claiming session records the
 * pod's name (status.desktopPod) and forward-auth derives the same password from it.
 */
import { createHash } from 'node:crypto';
import type { V1OwnerReference, V1Pod, V1Secret } from '@kubernetes/client-node';
import {
  API_VERSION,
  KIND_POOL,
  KIND_SESSION,
  PoolConditionType,
  PoolReason,
  PoolScheduleReason,
  isRetired,
  templateSpecErrors,
  type Condition,
  type VDIPool,
  type VDIPoolStatus,
  type VDISession,
  type VDITemplate,
} from '@vdi/crd-types';
import type { EncoderPlan } from './encoder.js';
import { ANNOTATION_ENCODER_PLAN } from './desired.js';
import { PRODUCT_LABEL } from './gpu-capacity.js';
import {
  ANNOTATION_CLAIMED_AT,
  ANNOTATION_USER,
  LABEL_SESSION,
  LABEL_USER_HASH,
  ownerReference,
} from './labels.js';
import { sessionNetworkPolicy, type NetworkPolicyJson } from './network-policy.js';
import type { PlatformOptions } from './options.js';
import { sessionOwnerHash } from './owner.js';
import { cpuMillis, parseQuantity } from './quantity.js';
import { renderSession } from './render.js';
import { resolveSession, type EffectiveSession } from './resolve.js';
import { DESKTOP_BASIC_AUTH_USER, sessionPassword } from './secrets.js';

/** On every pod of a pool (claimed or not): the pool's name. */
export const LABEL_POOL = 'vdi.kasm.io/pool';
/** On a claimed pool pod: the uid of the session that claimed it (it is that session's now). */
export const LABEL_CLAIMED_BY = 'vdi.kasm.io/claimed-by';
/** On a pool pod: what it was started with (fitOf), so a claim takes only a pod that fits. */
export const ANNOTATION_POOL_FIT = 'vdi.kasm.io/pool-fit';

/** Whether a template can be pooled, and if not why and what to do. */
export interface Poolability {
  poolable: boolean;
  reason: PoolReason;
  message: string;
}

/**
 * A started pod cannot gain a volume, so a per-user or per-session home cannot be attached at
 * claim; a WebRTC desktop's TURN credentials are minted for its session (its name is the TURN
 * REST user name), so a pod started before its session exists has none. Only templates with
 * `persistence: none` and `streaming.mode: websockets` (the default) are pooled.
 */
export function poolability(template: VDITemplate | undefined, templateName: string): Poolability {
  if (!template) {
    return {
      poolable: false,
      reason: PoolReason.TemplateNotFound,
      message: `template '${templateName}' does not exist; create it or point the pool at another template`,
    };
  }
  const errors = templateSpecErrors(template.spec);
  if (errors.length > 0) {
    return {
      poolable: false,
      reason: PoolReason.TemplateInvalid,
      message: `template '${templateName}' is not valid (${errors.join('; ')}); fix the template`,
    };
  }
  if (isRetired(template)) {
    return {
      poolable: false,
      reason: PoolReason.TemplateRetired,
      message: `template '${templateName}' is retired and takes no new sessions; restore it or delete the pool`,
    };
  }
  if (template.spec.persistence !== 'none') {
    return {
      poolable: false,
      reason: PoolReason.PersistentHome,
      message: `template '${templateName}' has persistence '${template.spec.persistence}': a started pod cannot gain a home volume, so its desktops cannot be pre-started; use a template with persistence none for the pool, or no pool (its sessions start cold)`,
    };
  }
  if ((template.spec.streaming?.mode ?? 'websockets') !== 'websockets') {
    return {
      poolable: false,
      reason: PoolReason.WebRTC,
      message: `template '${templateName}' streams over WebRTC: its TURN credentials are minted per session, so a desktop started before its session cannot have them; pool a websockets template, or no pool (its sessions start cold)`,
    };
  }
  return { poolable: true, reason: PoolReason.Poolable, message: `template '${templateName}' can be pooled` };
}

/** The password of a pool pod: derived from its own name, so no session's uid is involved. */
export function poolPodPassword(sessionKey: string, podName: string): string {
  return sessionPassword(sessionKey, `pool-pod/${podName}`);
}

/**
 * On a warm pod: which session key its password was derived from (`poolKeyId`). Only a pod made
 * with this operator's key can be claimed: one made with another key (the key rotated, or another
 * operator with its own key wrote to the namespace) would open with a password nobody in front of
 * it knows, and its user would be refused by the desktop. Such pods are replaced.
 */
export const ANNOTATION_POOL_KEY_ID = 'vdi.kasm.io/session-key-id';

/** A public fingerprint of a session key (a one-way hash: it says nothing of the key). */
export function poolKeyId(sessionKey: string): string {
  return createHash('sha256').update(`vdi-pool-key-id/${sessionKey}`).digest('hex').slice(0, 16);
}

/** Whether a warm pod was made with the session key whose fingerprint is `keyId`. */
export function madeWithKey(pod: V1Pod, keyId: string): boolean {
  return pod.metadata?.annotations?.[ANNOTATION_POOL_KEY_ID] === keyId;
}

/** The desktop pod of a session: a claimed pool pod (status.desktopPod) or the one named after it. */
export function desktopPodName(session: VDISession): string {
  return session.status?.desktopPod ?? session.metadata.name!;
}

/** The password that opens a session's desktop: its claimed pool pod's, or the session's own. */
export function desktopPasswordOf(sessionKey: string, session: VDISession): string {
  const pod = session.status?.desktopPod;
  return pod ? poolPodPassword(sessionKey, pod) : sessionPassword(sessionKey, session.metadata.uid!);
}

/** The `Authorization` value that opens a session's desktop (pooled or not). */
export function desktopAuthorizationOf(sessionKey: string, session: VDISession): string {
  const pair = `${DESKTOP_BASIC_AUTH_USER}:${desktopPasswordOf(sessionKey, session)}`;
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}

/**
 * A pool pod's name: `warm-<pool>-<suffix>`, a DNS-1035 label of at most 48 characters (it is
 * rendered as a stand-in session's name, which must be one). `suffix`: 6 random [a-z0-9].
 */
export function poolPodName(pool: string, suffix: string): string {
  if (!/^[a-z0-9]{6}$/.test(suffix)) throw new Error(`pool pod suffix '${suffix}' must be 6 of [a-z0-9]`);
  const slug = pool
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 34)
    .replace(/^-+|-+$/g, '');
  return `warm-${slug || 'pool'}-${suffix}`;
}

/** The template as the pool's desktops use it: its placement narrowed by the pool's. */
export function poolTemplate(pool: VDIPool, template: VDITemplate): VDITemplate {
  const t = structuredClone(template);
  const extra = {
    ...(pool.spec.placement?.nodeSelector ?? {}),
    ...(pool.spec.placement?.gpuProduct ? { [PRODUCT_LABEL]: pool.spec.placement.gpuProduct } : {}),
  };
  if (Object.keys(extra).length > 0) t.spec.nodeSelector = { ...(t.spec.nodeSelector ?? {}), ...extra };
  return t;
}

/** The stand-in session a pool pod is rendered for: named after the pod, owned by nobody. */
export function poolStandIn(pool: VDIPool, podName: string, namespace: string): VDISession {
  return {
    apiVersion: API_VERSION,
    kind: KIND_SESSION,
    metadata: { name: podName, namespace, uid: pool.metadata.uid! },
    spec: { user: 'pool', template: pool.spec.template },
  };
}

function poolOwnerReference(pool: VDIPool): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND_POOL,
    name: pool.metadata.name!,
    uid: pool.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** What a warm pod was started with: a session fits it only when it asks for no more. */
export interface PoolFit {
  gpu: number;
  cpu: string;
  memory: string;
  width: number;
  height: number;
  framerate: number;
}

export function fitOf(eff: EffectiveSession): PoolFit {
  return {
    gpu: eff.gpu,
    cpu: eff.cpu,
    memory: eff.memory,
    width: eff.display.width,
    height: eff.display.height,
    framerate: eff.display.framerate,
  };
}

/** Labels of a warm pod without identity: the session's minus session, owner and user. */
function anonymous(labels: Record<string, string> | undefined, pool: string): Record<string, string> {
  const {
    [LABEL_SESSION]: _s,
    [LABEL_USER_HASH]: _u,
    'app.kubernetes.io/instance': _i,
    ...rest
  } = labels ?? {};
  return { ...rest, 'app.kubernetes.io/instance': pool, [LABEL_POOL]: pool };
}

export interface RenderedPoolPod {
  pod: V1Pod;
  /** Its Secret (the password); owned by the pod once its uid is known (poolPodSecret). */
  secret: V1Secret;
  effective: EffectiveSession;
}

/**
 * A warm desktop of `pool`: the pod a session of the pool's template would get (with the pool's
 * placement), with no user identity, owned by the pool, and its password Secret.
 */
export function renderPoolPod(
  pool: VDIPool,
  template: VDITemplate,
  options: PlatformOptions,
  input: { podName: string; encoderPlan: EncoderPlan; sessionKey: string },
): RenderedPoolPod {
  const standIn = poolStandIn(pool, input.podName, options.namespace);
  const t = poolTemplate(pool, template);
  const rendered = renderSession(standIn, t, options, {
    encoderPlan: input.encoderPlan,
    sessionPassword: poolPodPassword(input.sessionKey, input.podName),
    turnRestKey: '',
  });
  const poolName = pool.metadata.name!;
  const pod = rendered.pod;
  const { [ANNOTATION_USER]: _user, ...podAnnotations } = pod.metadata!.annotations ?? {};
  pod.metadata = {
    ...pod.metadata,
    labels: anonymous(pod.metadata!.labels, poolName),
    annotations: {
      ...podAnnotations,
      [ANNOTATION_ENCODER_PLAN]: JSON.stringify(input.encoderPlan),
      [ANNOTATION_POOL_FIT]: JSON.stringify(fitOf(rendered.effective)),
      [ANNOTATION_POOL_KEY_ID]: poolKeyId(input.sessionKey),
    },
    ownerReferences: [poolOwnerReference(pool)],
  };
  const secret = rendered.authSecret;
  const { [ANNOTATION_USER]: _u2, ...secretAnnotations } = secret.metadata!.annotations ?? {};
  secret.metadata = {
    ...secret.metadata,
    labels: anonymous(secret.metadata!.labels, poolName),
    annotations: secretAnnotations,
    ownerReferences: [poolOwnerReference(pool)],
  };
  return { pod, secret, effective: rendered.effective };
}

/** The warm pod's Secret, owned by the created pod: it goes with the pod, claimed or not. */
export function poolPodSecret(secret: V1Secret, pod: { metadata: { name: string; uid: string } }): V1Secret {
  return {
    ...secret,
    metadata: {
      ...secret.metadata,
      ownerReferences: [
        { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid, controller: true },
      ],
    },
  };
}

/** The name of the NetworkPolicy isolating a pool's warm pods. */
export function poolNetworkPolicyName(pool: string): string {
  return `vdipool-${pool}`.slice(0, 253).replace(/[-.]+$/g, '');
}

/**
 * A pool's warm pods are isolated as a session's desktop is (network-policy.ts), before anyone
 * claims them: the same policy, selecting the pool's pods. A claimed pod is also selected by its
 * session's own policy, which allows the same.
 */
export function poolNetworkPolicy(
  pool: VDIPool,
  template: VDITemplate,
  options: PlatformOptions,
): NetworkPolicyJson {
  const poolName = pool.metadata.name!;
  const standIn = poolStandIn(pool, 'warm', options.namespace);
  const eff = resolveSession(standIn.spec, structuredClone(template.spec));
  const np = sessionNetworkPolicy(standIn, options, eff.egress, eff.streamMode);
  np.metadata = {
    name: poolNetworkPolicyName(poolName),
    namespace: options.namespace,
    labels: anonymous(np.metadata?.labels, poolName),
    ownerReferences: [poolOwnerReference(pool)],
  };
  np.spec = { ...np.spec, podSelector: { matchLabels: { [LABEL_POOL]: poolName } } };
  return np;
}

const isReady = (p: V1Pod) =>
  p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** Whether a pod of `pool` belongs to nobody yet (not claimed, not going). */
export function isUnclaimed(p: V1Pod): boolean {
  return !p.metadata?.labels?.[LABEL_CLAIMED_BY] && !p.metadata?.deletionTimestamp;
}

/** Whether a warm pod can take a session resolved to `eff` (as much or more of everything, same display). */
export function podFits(pod: V1Pod, eff: EffectiveSession): boolean {
  let fit: PoolFit;
  try {
    fit = JSON.parse(pod.metadata?.annotations?.[ANNOTATION_POOL_FIT] ?? '') as PoolFit;
  } catch {
    return false;
  }
  return (
    fit.gpu === eff.gpu &&
    fit.width === eff.display.width &&
    fit.height === eff.display.height &&
    fit.framerate === eff.display.framerate &&
    cpuMillis(fit.cpu) >= cpuMillis(eff.cpu) &&
    parseQuantity(fit.memory) >= parseQuantity(eff.memory)
  );
}

/**
 * The warm pods a session may claim, in the order to try them: unclaimed, Ready, not failed, of
 * its template, fitting its resources. Ordered by name and then rotated by a hash of the session
 * uid, so many sessions claiming at once start at different pods instead of all racing for the
 * first (a lost race costs a 409 and a try of the next).
 */
export function claimCandidates(
  pods: readonly V1Pod[],
  template: string,
  eff: EffectiveSession,
  sessionUid: string,
  keyId: string,
): V1Pod[] {
  const fit = pods
    .filter(
      (p) =>
        p.metadata?.labels?.[LABEL_POOL] !== undefined &&
        madeWithKey(p, keyId) &&
        p.metadata.labels['vdi.kasm.io/template'] === template &&
        isUnclaimed(p) &&
        isReady(p) &&
        p.status?.phase !== 'Failed' &&
        podFits(p, eff),
    )
    .sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
  if (fit.length === 0) return fit;
  const start = parseInt(createHash('sha256').update(sessionUid).digest('hex').slice(0, 8), 16) % fit.length;
  return [...fit.slice(start), ...fit.slice(0, start)];
}

/**
 * The one patch that claims a warm pod for a session (a JSON merge patch): the session's labels
 * (so its Service and NetworkPolicy select the pod), `claimed-by`, the user annotation, when it was
 * claimed (`now`: the owner's GPU time counts from there, not from when the pool warmed it) and
 * the session as the pod's only owner (the pool no longer is). Its resourceVersion is the
 * precondition: a pod changed since it was read (someone else claimed it) answers 409.
 */
export function claimPatch(pod: V1Pod, session: VDISession, now = new Date()): Record<string, unknown> {
  const name = session.metadata.name!;
  return {
    metadata: {
      resourceVersion: pod.metadata!.resourceVersion,
      labels: {
        [LABEL_SESSION]: name,
        [LABEL_USER_HASH]: sessionOwnerHash(session),
        [LABEL_CLAIMED_BY]: session.metadata.uid!,
        'app.kubernetes.io/instance': name,
      },
      annotations: {
        [ANNOTATION_USER]: session.spec.user,
        [ANNOTATION_CLAIMED_AT]: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
      ownerReferences: [ownerReference(session)],
    },
  };
}

/** Counts of one pool's pods: warm (Ready, unclaimed), starting (unclaimed, not Ready), claimed. */
export function poolCounts(
  pods: readonly V1Pod[],
  pool: string,
): Required<Pick<VDIPoolStatus, 'warm' | 'starting' | 'claimed'>> {
  let warm = 0;
  let starting = 0;
  let claimed = 0;
  for (const p of pods) {
    if (p.metadata?.labels?.[LABEL_POOL] !== pool) continue;
    if (p.metadata.labels[LABEL_CLAIMED_BY]) claimed++;
    else if (p.metadata.deletionTimestamp || p.status?.phase === 'Failed') continue;
    else if (isReady(p)) warm++;
    else starting++;
  }
  return { warm, starting, claimed };
}

/**
 * A pool's status: its counts, its current target (and next change, when scheduled), the Poolable
 * condition and, when the pool has a schedule, ScheduleValid (transition times kept when unchanged).
 */
export function poolStatus(
  pool: VDIPool,
  counts: { warm: number; starting: number; claimed: number },
  p: Poolability,
  now: Date,
  target: PoolTarget = poolTargetAt(pool.spec, now),
): VDIPoolStatus {
  const gen = pool.metadata.generation !== undefined ? { observedGeneration: pool.metadata.generation } : {};
  const condition = (type: string, ok: boolean, reason: string, message: string): Condition => {
    const prev = pool.status?.conditions?.find((c) => c.type === type);
    const status = ok ? 'True' : 'False';
    return {
      type,
      status,
      reason,
      message,
      lastTransitionTime:
        prev && prev.status === status
          ? prev.lastTransitionTime
          : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      ...gen,
    };
  };
  const conditions = [condition(PoolConditionType.Poolable, p.poolable, p.reason, p.message)];
  if (pool.spec.schedule) {
    conditions.push(
      target.error
        ? condition(
            PoolConditionType.ScheduleValid,
            false,
            target.error.reason,
            `${target.error.message}; until then the pool keeps spec.size (${pool.spec.size})`,
          )
        : condition(
            PoolConditionType.ScheduleValid,
            true,
            PoolScheduleReason.ScheduleValid,
            `following ${pool.spec.schedule.windows.length} window(s) in ${pool.spec.schedule.timeZone ?? 'UTC'}`,
          ),
    );
  }
  return {
    ...gen,
    ...counts,
    targetSize: target.size,
    ...(target.nextChange ? { nextChange: target.nextChange.toISOString().replace(/\.\d{3}Z$/, 'Z') } : {}),
    conditions,
  };
}

/**
 * Schedules (spec.schedule): weekly windows in one IANA time zone (UTC when unset). Semantics:
 * - A window opens at `start` (inclusive) on each of its `days` and closes at `end` (exclusive) on
 *   the same day; `end` 24:00 is midnight at the end of that day. An `end` before its `start` is an
 *   overnight window: it closes at `end` on the next day (Fri 22:00-06:00 covers Saturday
 *   morning). `end` equal to `start` is refused (ambiguous: empty or all day).
 * - Times are wall-clock times in the time zone, read at each instant through Intl (no new
 *   dependency): on a daylight-saving day a window follows the local clock, so a window starting in
 *   the skipped hour opens when the clock jumps past its start, and the repeated hour is inside a
 *   window for both of its passes when its local time is.
 * - Inside one or more windows the target is the largest of their sizes; outside every window it
 *   is spec.size. An empty list of windows keeps spec.size.
 */
export interface PoolTarget {
  /** Warm desktops to keep at the instant. */
  size: number;
  /** The next instant the target changes (whole minute), when there is one within 8 days. */
  nextChange?: Date;
  /** Why the schedule cannot be followed (the target is then spec.size). */
  error?: { reason: 'InvalidTimeZone' | 'InvalidWindow'; message: string };
}

type Schedule = NonNullable<VDIPool['spec']['schedule']>;
const DAY_INDEX: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };
const MINUTE = 60_000;
const WEEK_MIN = 7 * 1440;
const HORIZON_MIN = 8 * 1440;
const formatters = new Map<string, Intl.DateTimeFormat>();

const hhmm = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));

/** The formatter of a time zone, or undefined when the zone is not known to this runtime. */
function zoneFormatter(timeZone: string): Intl.DateTimeFormat | undefined {
  let f = formatters.get(timeZone);
  if (f) return f;
  try {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
  } catch {
    return undefined;
  }
  formatters.set(timeZone, f);
  return f;
}

/** Local wall clock at `ms`: minute of the week (Monday 00:00 = 0) and offset from UTC in minutes. */
function localClock(f: Intl.DateTimeFormat, ms: number): { week: number; offset: number } {
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const localMs = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour! % 24, parts.minute!);
  const day = (new Date(localMs).getUTCDay() + 6) % 7; // Monday 0
  return {
    week: day * 1440 + (parts.hour! % 24) * 60 + parts.minute!,
    offset: Math.round((localMs - Math.floor(ms / MINUTE) * MINUTE) / MINUTE),
  };
}

/** Errors of a schedule that the CRD schema cannot catch (time zone, start equal to end), or []. */
export function poolScheduleErrors(schedule: Schedule | undefined): NonNullable<PoolTarget['error']>[] {
  if (!schedule) return [];
  const errors: NonNullable<PoolTarget['error']>[] = [];
  const tz = schedule.timeZone ?? 'UTC';
  if (!zoneFormatter(tz))
    errors.push({
      reason: 'InvalidTimeZone' as const,
      message: `schedule.timeZone '${tz}' is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC); fix spec.schedule.timeZone`,
    });
  schedule.windows.forEach((w, i) => {
    if (hhmm(w.start) === hhmm(w.end))
      errors.push({
        reason: 'InvalidWindow' as const,
        message: `schedule.windows[${i}] starts and ends at ${w.start}; give an end after the start (or before it for an overnight window)`,
      });
  });
  return errors;
}

/** Open windows' intervals in minutes of the week ([from, to), to may pass the week's end). */
function intervals(schedule: Schedule): { from: number; to: number; size: number }[] {
  const out: { from: number; to: number; size: number }[] = [];
  for (const w of schedule.windows) {
    const start = hhmm(w.start);
    const end = hhmm(w.end);
    const length = end > start ? end - start : end + 1440 - start;
    for (const d of new Set(w.days)) {
      const from = DAY_INDEX[d]! * 1440 + start;
      out.push({ from, to: from + length, size: w.size });
    }
  }
  return out;
}

function sizeAtWeekMinute(
  spans: readonly { from: number; to: number; size: number }[],
  week: number,
): number | undefined {
  let best: number | undefined;
  for (const s of spans) {
    // A span passing the week's end also covers the start of the week.
    const inside = (week >= s.from && week < s.to) || (s.to > WEEK_MIN && week < s.to - WEEK_MIN);
    if (inside && (best === undefined || s.size > best)) best = s.size;
  }
  return best;
}

/**
 * The target size of a pool at instant `t`, and the next instant (a whole minute) it changes.
 * Without a schedule (or with no windows) the target is spec.size and never changes; with a
 * schedule that cannot be followed, spec.size and the error.
 */
export function poolTargetAt(spec: Pick<VDIPool['spec'], 'size' | 'schedule'>, t: Date): PoolTarget {
  const schedule = spec.schedule;
  if (!schedule || schedule.windows.length === 0) return { size: spec.size };
  const [error] = poolScheduleErrors(schedule);
  if (error) return { size: spec.size, error };
  const f = zoneFormatter(schedule.timeZone ?? 'UTC')!;
  const spans = intervals(schedule);
  const boundaries = [...new Set(spans.flatMap((s) => [s.from % WEEK_MIN, s.to % WEEK_MIN]))];
  const at = (ms: number) => sizeAtWeekMinute(spans, localClock(f, ms).week) ?? spec.size;
  const size = at(t.getTime());
  // Walk forward from boundary to boundary of the local clock (at most an hour per step, so a
  // daylight-saving shift is seen); a step across a shift is searched minute by minute.
  let cursor = Math.floor(t.getTime() / MINUTE) * MINUTE;
  const end = cursor + HORIZON_MIN * MINUTE;
  while (cursor < end) {
    const here = localClock(f, cursor);
    let step = 60;
    for (const b of boundaries) {
      const d = (((b - here.week) % WEEK_MIN) + WEEK_MIN) % WEEK_MIN;
      if (d > 0 && d < step) step = d;
    }
    const next = cursor + step * MINUTE;
    if (localClock(f, next).offset !== here.offset) {
      for (let m = cursor + MINUTE; m <= next; m += MINUTE)
        if (at(m) !== size) return { size, nextChange: new Date(m) };
    } else if (at(next) !== size) {
      return { size, nextChange: new Date(next) };
    }
    cursor = next;
  }
  return { size };
}
