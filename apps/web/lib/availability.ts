/**
 * Whether a template can be launched now, from the template and the cluster's capacity. A GPU
 * template launched while every time-slice is taken is queued: the session waits (reason
 * WaitingForGPU) and starts by itself when a slice frees; `queued` says so in words. The
 * scheduler has the last word: a launch that loses the race for the last slice is queued too.
 */
import type { Capacity, Template } from './api/types';
import { sentence } from './errors';

export type Availability =
  | {
      available: true;
      /** Set when a launch now waits in the queue for a time-slice: why, in words. */ queued?: string;
    }
  | { available: false; reason: string };

/** A GPU template is one whose sessions get a GPU time-slice unless they ask otherwise. */
export const isGpuTemplate = (t: Pick<Template, 'defaultGPU'>) => t.defaultGPU > 0;

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export function templateAvailability(
  t: Pick<Template, 'usable' | 'message' | 'defaultGPU'>,
  capacity: Pick<Capacity, 'gpuSlicesTotal' | 'gpuSlicesFree' | 'sessionsWaiting'> | undefined,
): Availability {
  if (!t.usable) {
    return {
      available: false,
      reason: t.message
        ? `This template cannot be used. ${sentence(t.message)}`
        : 'This template cannot be used right now; an admin has to fix it.',
    };
  }
  // Without capacity figures (not loaded yet, or the query failed) the API decides on launch.
  if (!isGpuTemplate(t) || !capacity) return { available: true };
  if (capacity.gpuSlicesTotal === 0) {
    return { available: false, reason: 'This platform has no GPU node ready, so GPU desktops cannot start.' };
  }
  if (capacity.gpuSlicesFree <= 0) {
    const waiting = capacity.sessionsWaiting
      ? ` ${plural(capacity.sessionsWaiting, 'session is', 'sessions are')} already waiting.`
      : '';
    return {
      available: true,
      queued: `No GPU time-slice is free: all ${capacity.gpuSlicesTotal} are in use.${waiting} Launching queues your desktop: it starts by itself when a time-slice frees up, and its page shows your place in the queue.`,
    };
  }
  return { available: true };
}

/** "3 of 8 GPU time-slices free", for the gallery's summary line. */
export function capacitySummary(c: Pick<Capacity, 'gpuSlicesTotal' | 'gpuSlicesFree'>): string {
  if (c.gpuSlicesTotal === 0) return 'No GPU time-slices on this platform';
  return `${c.gpuSlicesFree} of ${plural(c.gpuSlicesTotal, 'GPU time-slice', 'GPU time-slices')} free`;
}
