/** Durations as the CRDs spell them (Go style, hours/minutes/seconds only): `8h`, `90m`, `1h30m`. */
import { SessionSpecError } from './errors.js';

const WHOLE = /^(\d+[hms])+$/;
const PART = /(\d+)([hms])/g;
const UNIT = { h: 3600, m: 60, s: 1 } as const;

/** Seconds in `d`; a SessionSpecError naming `field` when it is not such a duration. */
export function durationSeconds(d: string, field = 'duration'): number {
  if (!WHOLE.test(d)) throw new SessionSpecError(field, `'${d}' is not a duration such as 8h, 90m or 1h30m`);
  let total = 0;
  for (const [, n, unit] of d.matchAll(PART)) total += Number(n) * UNIT[unit as keyof typeof UNIT];
  return total;
}

/** `5400` → `1h30m`: the shortest spelling, for messages. */
export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const out = `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
  return out || '0s';
}
