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

/** Warning lead times when a template names none: a quarter of an hour, and two minutes. */
export const DEFAULT_WARN_BEFORE = ['15m', '2m'];

/**
 * Where a session with a lifetime stands against its warning lead times: `stage`, the smallest
 * lead already reached (undefined: none yet), and `nextInMs`, when the next one is reached.
 */
export function expiryStage(
  endsAtMs: number,
  nowMs: number,
  leadsSeconds: number[],
): { stage?: number; nextInMs?: number } {
  const leftMs = endsAtMs - nowMs;
  const reached = leadsSeconds.filter((l) => leftMs <= l * 1000);
  const ahead = leadsSeconds.filter((l) => leftMs > l * 1000).map((l) => leftMs - l * 1000);
  return {
    ...(reached.length > 0 ? { stage: Math.min(...reached) } : {}),
    ...(ahead.length > 0 ? { nextInMs: Math.min(...ahead) } : {}),
  };
}
