/**
 * GPU-hour accounting: the pure part of the ledger (VDIUsage) the operator keeps per owner.
 *
 * Each count takes the desktop pods of one owner that hold GPU time-slices now, and adds to the
 * ledger the time each held since its checkpoint (`holding[].countedUntil`; a pod new to the
 * ledger counts from when it was scheduled). The counted seconds and the new checkpoints are
 * one object, written in one conditional update: a count either lands whole or not at all, so a
 * crash or a leader change mid-write neither loses time (the next count starts from the old
 * checkpoints) nor counts it twice (the checkpoints move with the seconds).
 *
 * The ledger need not be written at every count: a holding's checkpoint says how far it is
 * counted, so the time since is known from the ledger alone (`budgetState` adds it). A desktop
 * that ended is counted up to when it was last seen holding its slices (`until`) and dropped.
 * What is not counted: the stretch between the last time a desktop was seen and its end (at most
 * one accounting interval), and a desktop that started and ended while no operator was counting.
 * Periods are UTC calendar days, ISO weeks (from Monday) and months; seconds are kept per UTC
 * day, so any period's total is a sum of days.
 */
import type { V1Pod } from '@kubernetes/client-node';
import {
  USAGE_DAYS_KEPT,
  type BudgetPeriod,
  type UsageDay,
  type UsageHolding,
  type VDIUsageSpec,
  type VDIUsageStatus,
} from '@vdi/crd-types';
import { holdsSlices, slicesOf } from './gpu-capacity.js';
import { ANNOTATION_CLAIMED_AT, LABEL_SESSION } from './labels.js';

const DAY_MS = 86_400_000;

/** A desktop pod holding GPU time-slices now. */
export interface HeldSlices {
  pod: string;
  session: string;
  slices: number;
  /** When it got them (scheduled onto a node). */
  since: Date;
  /**
   * It holds them no more: counted up to here (when it was last seen holding them), then dropped
   * from the ledger.
   */
  until?: Date;
}

/** The GPU time-slices a desktop pod holds now, or undefined when it holds none. */
export function heldSlices(pod: V1Pod, resource: string): HeldSlices | undefined {
  const slices = slicesOf(pod, resource);
  const session = pod.metadata?.labels?.[LABEL_SESSION];
  if (slices <= 0 || !session || !pod.spec?.nodeName || !holdsSlices(pod) || !pod.metadata?.uid)
    return undefined;
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'True');
  const since = new Date(
    (scheduled?.lastTransitionTime as unknown as string | Date | undefined) ??
      pod.metadata.creationTimestamp ??
      0,
  );
  // A warm pool pod held its slice for the pool until a session claimed it: the owner's time
  // starts at the claim.
  const claimed = Date.parse(pod.metadata.annotations?.[ANNOTATION_CLAIMED_AT] ?? '');
  if (claimed > since.getTime()) since.setTime(claimed);
  return { pod: pod.metadata.uid, session, slices, since };
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const round = (s: number) => Math.round(s * 1000) / 1000;

/** Adds `slices` × [from, to) to per-day seconds, split at UTC midnights. */
function addSpan(days: Map<string, number>, from: number, to: number, slices: number): number {
  let added = 0;
  for (let t = from; t < to;) {
    const midnight = Math.floor(t / DAY_MS) * DAY_MS + DAY_MS;
    const end = Math.min(to, midnight);
    const s = ((end - t) / 1000) * slices;
    days.set(dayOf(t), (days.get(dayOf(t)) ?? 0) + s);
    added += s;
    t = end;
  }
  return added;
}

/**
 * The ledger after counting `held` up to `now`. Pure: the same previous status, pods and time
 * give the same result, and counting again at the same `now` adds nothing.
 */
export function countUsage(
  prev: VDIUsageStatus | undefined,
  held: readonly HeldSlices[],
  now: Date,
): VDIUsageStatus {
  const at = now.getTime();
  const checkpoints = new Map((prev?.holding ?? []).map((h) => [h.pod, h]));
  const days = new Map((prev?.days ?? []).map((d) => [d.day, d.gpuSeconds]));
  let added = 0;
  const holding: UsageHolding[] = [];
  for (const h of held) {
    const since = h.since.getTime();
    const counted = checkpoints.get(h.pod)?.countedUntil;
    const from = Math.max(since, counted ? Date.parse(counted) : since);
    const to = h.until ? Math.min(at, h.until.getTime()) : at;
    if (from < to) added += addSpan(days, from, to, h.slices);
    if (h.until) continue;
    holding.push({
      pod: h.pod,
      session: h.session,
      slices: h.slices,
      since: iso(h.since),
      // Milliseconds kept: the next count starts exactly where this one ended.
      countedUntil: new Date(Math.max(from, at)).toISOString(),
    });
  }
  const oldest = dayOf(at - (USAGE_DAYS_KEPT - 1) * DAY_MS);
  const kept: UsageDay[] = [...days]
    .filter(([day]) => day >= oldest)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([day, s]) => ({ day, gpuSeconds: round(s) }));
  return {
    ...(prev?.warnedFor ? { warnedFor: prev.warnedFor } : {}),
    days: kept,
    totalGpuSeconds: round((prev?.totalGpuSeconds ?? 0) + added),
    holding: holding.sort((a, b) => a.pod.localeCompare(b.pod)),
    countedAt: iso(now),
  };
}

/** The budget period (UTC) that `now` falls in: [start, end). */
export function periodBounds(period: BudgetPeriod, now: Date): { start: Date; end: Date } {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  if (period === 'Month') return { start: new Date(Date.UTC(y, m, 1)), end: new Date(Date.UTC(y, m + 1, 1)) };
  if (period === 'Week') {
    const back = (now.getUTCDay() + 6) % 7; // days since Monday
    const start = new Date(Date.UTC(y, m, d - back));
    return { start, end: new Date(start.getTime() + 7 * DAY_MS) };
  }
  const start = new Date(Date.UTC(y, m, d));
  return { start, end: new Date(start.getTime() + DAY_MS) };
}

export interface BudgetState {
  period: BudgetPeriod;
  start: Date;
  renewsAt: Date;
  /** Time-slice seconds used in this period: counted, plus what the holding desktops used since their last count. */
  usedSeconds: number;
  budgetSeconds?: number;
  leftSeconds?: number;
  /** The budget's rule (from the ledger's spec). */
  rule?: string;
  /** Time-slices the owner's desktops hold now (at the last count). */
  holdingSlices: number;
  /** Every time-slice second of the owner: counted, plus what the holding desktops used since. */
  totalSeconds: number;
  exhausted: boolean;
}

/**
 * Where an owner stands against a budget at `now` (the ledger's own budget unless one is given;
 * without any, the month is shown and nothing is exhausted).
 */
export function budgetState(
  ledger: { spec?: Pick<VDIUsageSpec, 'budget'>; status?: VDIUsageStatus } | undefined,
  now: Date,
  budget: VDIUsageSpec['budget'] = ledger?.spec?.budget,
): BudgetState {
  const period = budget?.period ?? 'Month';
  const { start, end } = periodBounds(period, now);
  const first = dayOf(start.getTime());
  let used = 0;
  for (const d of ledger?.status?.days ?? [])
    if (d.day >= first && d.day < dayOf(end.getTime())) used += d.gpuSeconds;
  let holdingSlices = 0;
  let total = ledger?.status?.totalGpuSeconds ?? 0;
  for (const h of ledger?.status?.holding ?? []) {
    holdingSlices += h.slices;
    const counted = Date.parse(h.countedUntil);
    if (counted < now.getTime()) total += ((now.getTime() - counted) / 1000) * h.slices;
    const from = Math.max(counted, start.getTime());
    if (from < now.getTime()) used += ((now.getTime() - from) / 1000) * h.slices;
  }
  const budgetSeconds = budget ? budget.gpuHours * 3600 : undefined;
  const usedSeconds = round(used);
  return {
    period,
    start,
    renewsAt: end,
    usedSeconds,
    ...(budgetSeconds !== undefined
      ? { budgetSeconds, leftSeconds: round(Math.max(0, budgetSeconds - usedSeconds)) }
      : {}),
    ...(budget ? { rule: budget.rule } : {}),
    holdingSlices,
    totalSeconds: round(total),
    exhausted: budgetSeconds !== undefined && usedSeconds >= budgetSeconds,
  };
}

/** "3.2 GPU-hours", "40 GPU-hours", "12 GPU-minutes": for messages, in the largest whole unit. */
export function gpuHours(seconds: number): string {
  const unit = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
  if (seconds >= 3600) return unit(Math.round((seconds / 3600) * 10) / 10, 'GPU-hour');
  if (seconds >= 60) return unit(Math.round(seconds / 60), 'GPU-minute');
  return unit(Math.round(seconds), 'GPU-second');
}

const PERIOD_WORDS: Record<BudgetPeriod, string> = { Day: 'today', Week: 'this week', Month: 'this month' };

/** The sentence a refused create or resume (and the operator's Events) give: spent, budget, renewal. */
export function budgetMessage(state: BudgetState): string {
  const budget = state.budgetSeconds !== undefined ? ` of your ${gpuHours(state.budgetSeconds)}` : '';
  return (
    `you have used ${gpuHours(state.usedSeconds)}${budget} ${PERIOD_WORDS[state.period]}` +
    `${state.rule ? ` (budget rule ${state.rule})` : ''}; it renews at ${iso(state.renewsAt)}`
  );
}

/** The ledger name of an owner hash (LABEL_USER_HASH): one VDIUsage per owner. */
export const usageName = (ownerHashValue: string) => `usage-${ownerHashValue}`;
