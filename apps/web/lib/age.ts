/**
 * How long ago something happened, short enough for a table cell ("5 min", "3 h 20 min",
 * "2 days"), from an ISO time and "now" passed in (no clock here, so it is testable).
 */
export function formatAge(since: string | null | undefined, now: Date | number): string {
  if (!since) return '—';
  const start = Date.parse(since);
  if (Number.isNaN(start)) return '—';
  const seconds = Math.max(0, Math.floor(((typeof now === 'number' ? now : now.getTime()) - start) / 1000));
  if (seconds < 60) return 'under a minute';
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    const rest = minutes % 60;
    return rest ? `${hours} h ${rest} min` : `${hours} h`;
  }
  const days = Math.floor(hours / 24);
  const restHours = hours % 24;
  const d = days === 1 ? '1 day' : `${days} days`;
  return restHours ? `${d} ${restHours} h` : d;
}

/**
 * How long until something ends, for a table cell ("in 7 h 52 min", "in under a minute"), or
 * "ending" once the time has come; "—" without a time.
 */
export function formatTimeLeft(until: string | null | undefined, now: Date | number): string {
  if (!until) return '—';
  const end = Date.parse(until);
  if (Number.isNaN(end)) return '—';
  const nowMs = typeof now === 'number' ? now : now.getTime();
  if (end <= nowMs) return 'ending';
  // The same words as an age, counted the other way.
  return `in ${formatAge(new Date(nowMs).toISOString(), end)}`;
}
