/**
 * A session's phase timings as a short timeline (launched or resumed → queued → placed → image
 * ready → started → ready), and its place in the GPU queue in words. The times are what the
 * operator recorded in the session's status, the same facts `kubectl get -o wide` and the
 * benchmark read. Pure: the page renders what this returns.
 */
import type { Session } from './api/types';

export interface TimelineEntry {
  id: 'start' | 'queued' | 'scheduled' | 'imageReady' | 'started' | 'ready';
  label: string;
  /** ISO time of the step. */
  at: string;
  /** Seconds after the start of this launch (or resume). */
  after: number;
}

type Timed = Pick<
  Session,
  'createdAt' | 'resumedAt' | 'queuedAt' | 'scheduledAt' | 'imageReadyAt' | 'startedAt' | 'readyAt'
>;

/** The recorded steps of the current start, in order; steps not reached (or not recorded) are left out. */
export function sessionTimeline(s: Timed): TimelineEntry[] {
  const start = s.resumedAt ?? s.createdAt;
  if (!start) return [];
  const t0 = Date.parse(start);
  const steps: [TimelineEntry['id'], string, string | null | undefined][] = [
    ['start', s.resumedAt ? 'Resumed' : 'Launched', start],
    ['queued', 'Queued for a GPU time-slice', s.queuedAt],
    ['scheduled', 'Placed on a node', s.scheduledAt],
    ['imageReady', 'Desktop image ready', s.imageReadyAt],
    ['started', 'Desktop started', s.startedAt],
    ['ready', 'Ready', s.readyAt],
  ];
  return steps
    .filter((e): e is [TimelineEntry['id'], string, string] => !!e[2] && !Number.isNaN(Date.parse(e[2])))
    .map(([id, label, at]) => ({
      id,
      label,
      at,
      after: Math.max(0, Math.round((Date.parse(at) - t0) / 1000)),
    }));
}

/** "+0 s", "+42 s", "+3 min 5 s": how long after the start a step came. */
export function formatAfter(seconds: number): string {
  if (seconds < 60) return `+${seconds} s`;
  const m = Math.floor(seconds / 60);
  const rest = seconds % 60;
  if (m < 60) return rest ? `+${m} min ${rest} s` : `+${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `+${h} h ${m % 60} min` : `+${h} h`;
}

/**
 * The place in the queue in words, or undefined when the session does not wait. No time is
 * promised: the API cannot know when a running desktop ends (lifetimes can be extended, a viewer
 * coming back keeps an idle desktop alive, and a freed slice may be on a node this one cannot use).
 */
export function queueWords(position: number | null | undefined): string | undefined {
  if (!position || position < 1) return undefined;
  if (position === 1)
    return 'You are next in the queue: your desktop gets the next GPU time-slice that frees up.';
  const ahead = position - 1;
  return `You are number ${position} in the queue: ${ahead === 1 ? '1 desktop is' : `${ahead} desktops are`} ahead of you.`;
}
