/**
 * GPU-hour budgets in words, from the API's `usage` (no clock here: dates come formatted from
 * the answer, so it is testable). Hours are shown to one decimal; the renewal as a UTC date.
 */
import type { GpuUsage } from './api/types';

const PERIOD: Record<string, string> = { Day: 'today', Week: 'this week', Month: 'this month' };

/** "3.2 hours", "1 hour", "0 hours". */
export function hours(h: number): string {
  const r = Math.round(h * 10) / 10;
  return `${r} ${r === 1 ? 'hour' : 'hours'}`;
}

/** "1 Jan 2027" (UTC), from an RFC 3339 time. */
export function renewalDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
}

/** One line for the gallery: what is used this period, of what, and when it renews. */
export function usageSummary(u: GpuUsage): string {
  const period = PERIOD[u.period] ?? 'this period';
  if (u.gpuHoursBudget == null) return `GPU time ${period}: ${hours(u.gpuHoursUsed)} (no budget).`;
  if (u.exhausted) {
    return `Your GPU budget is used up: ${hours(u.gpuHoursUsed)} of ${hours(u.gpuHoursBudget)} ${period}. GPU desktops cannot start until it renews on ${renewalDate(u.renewsAt)}; desktops without a GPU still can.`;
  }
  return `GPU time ${period}: ${hours(u.gpuHoursUsed)} of ${hours(u.gpuHoursBudget)} used, ${hours(u.gpuHoursLeft ?? 0)} left; renews on ${renewalDate(u.renewsAt)}.`;
}
