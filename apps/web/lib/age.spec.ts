import { formatAge, formatTimeLeft } from './age';

const now = Date.parse('2026-11-29T12:00:00Z');
const ago = (seconds: number) => new Date(now - seconds * 1000).toISOString();

describe('formatAge', () => {
  it.each([
    [0, 'under a minute'],
    [59, 'under a minute'],
    [60, '1 min'],
    [59 * 60 + 59, '59 min'],
    [3600, '1 h'],
    [3600 + 20 * 60, '1 h 20 min'],
    [24 * 3600, '1 day'],
    [24 * 3600 + 3 * 3600 + 59, '1 day 3 h'],
    [3 * 24 * 3600, '3 days'],
  ])('%i s → %s', (seconds, text) => expect(formatAge(ago(seconds), now)).toBe(text));

  it('shows a dash for unknown or unreadable times', () => {
    expect(formatAge(undefined, now)).toBe('—');
    expect(formatAge(null, now)).toBe('—');
    expect(formatAge('yesterday', now)).toBe('—');
  });

  it('treats a time slightly in the future (clock skew) as just now', () => {
    expect(formatAge(ago(-5), new Date(now))).toBe('under a minute');
  });
});

describe('formatTimeLeft', () => {
  const now = Date.parse('2026-12-04T12:00:00Z');
  it.each([
    ['2026-12-04T19:52:30Z', 'in 7 h 52 min'],
    ['2026-12-04T12:00:30Z', 'in under a minute'],
    ['2026-12-04T12:00:00Z', 'ending'],
    ['2026-12-04T11:00:00Z', 'ending'],
  ])('%s → %s', (until, text) => expect(formatTimeLeft(until, now)).toBe(text));
  it('says nothing without a time', () => {
    expect(formatTimeLeft(undefined, now)).toBe('—');
    expect(formatTimeLeft('not a time', now)).toBe('—');
  });
});
