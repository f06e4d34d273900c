/**
 * The sessions on their way to Running that the platform is working on now: created or resumed,
 * not yet Running, and not waiting for something outside the operator's hands (a free GPU
 * time-slice, its home's node, a fix of the template or spec). Deferrable writes (Events, GPU-hour
 * ledger rounds) wait while a burst of them is starting, so they follow the writes users wait for
 * instead of competing with them on the API server.
 *
 * A session counts for `windowMs` from when it was first seen starting or its start last moved on
 * (its status's phase or reason changed): one stuck in a slow start (a large image, a hung desktop)
 * does not hold deferred writes back for ever, while a burst that takes minutes — a larger morning,
 * a slower cluster — is still a burst as long as its starts move. Kept by the session cache's
 * events (caches.ts), like the owner index.
 */
import { isStopped, SessionReason, type VDISession, type VDISessionStatus } from '@vdi/crd-types';
import { TRANSIENT_PHASES } from './session-writes.js';

const keyOf = (s: VDISession) => `${s.metadata.namespace}/${s.metadata.name}`;

/** Reasons of a session that waits for something the operator cannot speed up. */
const HELD: ReadonlySet<string> = new Set<string>([
  SessionReason.WaitingForGPU,
  SessionReason.WaitingForHomeNode,
  SessionReason.Unschedulable,
  SessionReason.TemplateNotFound,
  SessionReason.TemplateInvalid,
  SessionReason.ResourcesOutOfBounds,
  SessionReason.InvalidSpec,
  SessionReason.InvalidPlatformOptions,
  SessionReason.HomeNotOwned,
  SessionReason.ApplyFailed,
  // The desktop's own trouble: its image, or the desktop failing to start.
  SessionReason.ImagePullFailed,
  SessionReason.CrashLooping,
  SessionReason.PodFailed,
]);

/** Reasons of a start that moves on by itself: the scheduler's own queue, containers starting. */
const MOVING: ReadonlySet<string> = new Set<string>([
  SessionReason.WaitingForScheduler,
  SessionReason.ContainersStarting,
]);

/**
 * Whether a status only tells that a start is moving on (Scheduling or Starting, each condition
 * met or moving on by itself): nothing for its owner to act on or to wait out, no queue for a GPU
 * or a node, no failure. The next step of such a start comes as a pod event (placed, started,
 * ready or failed).
 */
export function onlyProgress(status: VDISessionStatus): boolean {
  return (
    (status.phase === 'Scheduling' || status.phase === 'Starting') &&
    (status.conditions ?? []).every((c) => c.status === 'True' || MOVING.has(c.reason ?? ''))
  );
}

/** Where a session's start is: it moved on when this changed. */
const stepOf = (s: VDISession) => `${s.status?.phase ?? ''}/${s.status?.reason ?? ''}`;

/** Whether the platform is starting this session's desktop now (see the module comment). */
export function isStarting(s: VDISession): boolean {
  if (s.metadata.deletionTimestamp || isStopped(s)) return false;
  const phase = s.status?.phase;
  if (!phase) return true;
  return TRANSIENT_PHASES.has(phase) && !HELD.has(s.status?.reason ?? '');
}

export class StartingSessions {
  /**
   * Keys starting, with when each was first seen starting or last moved on, and the step it was at
   * then (in insertion order: oldest first).
   */
  private readonly since = new Map<string, { at: number; step: string }>();
  /** Keys that did not move on for `windowMs`, with their step then: not counted until it changes. */
  private readonly overdue = new Map<string, string>();
  private inBurst = false;

  constructor(
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** A session was added or updated in the cache. */
  set(s: VDISession): void {
    const key = keyOf(s);
    if (!isStarting(s)) return this.delete(s);
    const step = stepOf(s);
    const was = this.since.get(key)?.step ?? this.overdue.get(key);
    if (was === step) return;
    // New, or moved on: counted for a window from now (last in the order).
    this.since.delete(key);
    this.overdue.delete(key);
    this.since.set(key, { at: this.now(), step });
  }

  /** A session left the cache. */
  delete(s: VDISession): void {
    const key = keyOf(s);
    this.since.delete(key);
    this.overdue.delete(key);
  }

  /**
   * A burst: from when at least `threshold` sessions are starting until none is. Held to the end,
   * so what waited for the burst does not land on its last few starts all at once.
   */
  burst(threshold: number): boolean {
    const n = this.count();
    if (n >= threshold) this.inBurst = true;
    else if (n === 0) this.inBurst = false;
    return this.inBurst;
  }

  /** Sessions starting whose start moved on within `windowMs`. */
  count(): number {
    const cutoff = this.now() - this.windowMs;
    // Oldest first: stop at the first one still within its window.
    for (const [key, { at, step }] of this.since) {
      if (at > cutoff) break;
      this.since.delete(key);
      this.overdue.set(key, step);
    }
    return this.since.size;
  }
}
