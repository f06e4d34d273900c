import { durationSeconds, expiryStage, formatDuration } from './duration.js';
import { resolveSession } from './resolve.js';
import { sampleSession, sampleTemplate } from './testing.js';

describe('durationSeconds', () => {
  it.each([
    ['8h', 28_800],
    ['90m', 5_400],
    ['1h30m', 5_400],
    ['45s', 45],
    ['1h1m1s', 3_661],
  ])('reads %s as %d s', (d, s) => expect(durationSeconds(d)).toBe(s));

  it.each(['', '8', 'h', '1d', '1.5h', '-1h', '1h 30m'])('refuses %p, naming the field', (d) => {
    expect(() => durationSeconds(d, 'spec.maxLifetime')).toThrow(/spec.maxLifetime.*not a duration/);
  });

  it('spells durations the short way', () => {
    expect(formatDuration(5_400)).toBe('1h30m');
    expect(formatDuration(28_800)).toBe('8h');
    expect(formatDuration(61)).toBe('1m1s');
  });
});

describe("a session's lifetime", () => {
  const life = (session: string | undefined, lifetime?: { default?: string; max?: string }) =>
    resolveSession(
      sampleSession('a', session ? { maxLifetime: session } : {}).spec,
      sampleTemplate('t', lifetime ? { lifetime } : {}).spec,
    ).maxLifetimeSeconds;

  it('is unbounded when neither the session nor its template sets one', () => {
    expect(life(undefined)).toBeUndefined();
  });

  it("is the session's own, the template's default, or else the template's max", () => {
    expect(life('2h', { default: '8h', max: '24h' })).toBe(7_200);
    expect(life(undefined, { default: '8h', max: '24h' })).toBe(28_800);
    expect(life(undefined, { max: '24h' })).toBe(86_400);
    expect(life('30m')).toBe(1_800);
  });

  it('may not be longer than the template allows, and says what is allowed', () => {
    expect(() => life('48h', { max: '24h' })).toThrow(
      /48h is longer than the template allows \(lifetime.max 24h\)/,
    );
  });
});

describe('expiryStage', () => {
  const leads = [900, 120];
  const end = 10_000_000;
  it('is no stage before the first lead, and says when the first comes', () => {
    expect(expiryStage(end, end - 1_000_000, leads)).toEqual({ nextInMs: 100_000 });
  });
  it('is the smallest lead reached, with the next one ahead', () => {
    expect(expiryStage(end, end - 600_000, leads)).toEqual({ stage: 900, nextInMs: 480_000 });
    expect(expiryStage(end, end - 60_000, leads)).toEqual({ stage: 120 });
  });
});
