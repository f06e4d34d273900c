import { API_VERSION, KIND_POOL, type VDIPool } from '@vdi/crd-types';
import { poolScheduleErrors, poolStatus, poolTargetAt } from './pool.js';

type Spec = Pick<VDIPool['spec'], 'size' | 'schedule'>;
const at = (iso: string) => new Date(iso);
const iso = (d: Date | undefined) => d?.toISOString();
// 2026-12-07 is a Monday.
const workHours = (timeZone?: string): Spec => ({
  size: 1,
  schedule: {
    ...(timeZone ? { timeZone } : {}),
    windows: [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], start: '09:00', end: '17:00', size: 5 }],
  },
});

describe('poolTargetAt', () => {
  it('keeps spec.size with no schedule or no windows, and never changes', () => {
    expect(poolTargetAt({ size: 3 }, at('2026-12-07T10:00:00Z'))).toEqual({ size: 3 });
    expect(poolTargetAt({ size: 3, schedule: { windows: [] } }, at('2026-12-07T10:00:00Z'))).toEqual({
      size: 3,
    });
  });

  it('follows a UTC window: its size inside, spec.size outside, and the next boundary', () => {
    const inside = poolTargetAt(workHours(), at('2026-12-07T10:00:30Z'));
    expect(inside.size).toBe(5);
    expect(iso(inside.nextChange)).toBe('2026-12-07T17:00:00.000Z');
    const before = poolTargetAt(workHours(), at('2026-12-07T08:59:59Z'));
    expect(before).toMatchObject({ size: 1 });
    expect(iso(before.nextChange)).toBe('2026-12-07T09:00:00.000Z');
    // start inclusive, end exclusive
    expect(poolTargetAt(workHours(), at('2026-12-07T09:00:00Z')).size).toBe(5);
    expect(poolTargetAt(workHours(), at('2026-12-07T17:00:00Z')).size).toBe(1);
    // the weekend: next change is Monday morning
    const saturday = poolTargetAt(workHours(), at('2026-12-12T10:00:00Z'));
    expect(saturday.size).toBe(1);
    expect(iso(saturday.nextChange)).toBe('2026-12-14T09:00:00.000Z');
  });

  it('reads windows in the schedule time zone', () => {
    // Berlin is UTC+1 in December: 09:00-17:00 local is 08:00-16:00 UTC.
    const t = poolTargetAt(workHours('Europe/Berlin'), at('2026-12-07T08:30:00Z'));
    expect(t.size).toBe(5);
    expect(iso(t.nextChange)).toBe('2026-12-07T16:00:00.000Z');
    // Tokyo (UTC+9): Monday 02:00 UTC is Monday 11:00 local; Sunday 23:00 UTC is Monday 08:00 local.
    expect(poolTargetAt(workHours('Asia/Tokyo'), at('2026-12-07T02:00:00Z')).size).toBe(5);
    const early = poolTargetAt(workHours('Asia/Tokyo'), at('2026-12-06T23:00:00Z'));
    expect(early.size).toBe(1);
    expect(iso(early.nextChange)).toBe('2026-12-07T00:00:00.000Z');
  });

  it('follows the local clock across spring forward (a window starting in the skipped hour opens at the jump)', () => {
    // New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
    const spec: Spec = {
      size: 0,
      schedule: {
        timeZone: 'America/New_York',
        windows: [{ days: ['Sun'], start: '02:30', end: '04:00', size: 3 }],
      },
    };
    const before = poolTargetAt(spec, at('2026-03-08T06:00:00Z'));
    expect(before.size).toBe(0);
    expect(iso(before.nextChange)).toBe('2026-03-08T07:00:00.000Z');
    const inside = poolTargetAt(spec, at('2026-03-08T07:00:00Z'));
    expect(inside.size).toBe(3);
    expect(iso(inside.nextChange)).toBe('2026-03-08T08:00:00.000Z'); // 04:00 EDT
  });

  it('follows the local clock across fall back (the repeated hour is inside the window twice)', () => {
    // New York, 2026-11-01: 02:00 EDT falls back to 01:00 EST (06:00 UTC).
    const spec: Spec = {
      size: 0,
      schedule: {
        timeZone: 'America/New_York',
        windows: [{ days: ['Sun'], start: '01:00', end: '01:30', size: 2 }],
      },
    };
    expect(iso(poolTargetAt(spec, at('2026-11-01T04:00:00Z')).nextChange)).toBe('2026-11-01T05:00:00.000Z');
    const first = poolTargetAt(spec, at('2026-11-01T05:10:00Z'));
    expect(first.size).toBe(2);
    expect(iso(first.nextChange)).toBe('2026-11-01T05:30:00.000Z');
    const gap = poolTargetAt(spec, at('2026-11-01T05:40:00Z'));
    expect(gap.size).toBe(0);
    expect(iso(gap.nextChange)).toBe('2026-11-01T06:00:00.000Z'); // 01:00 EST
    expect(poolTargetAt(spec, at('2026-11-01T06:10:00Z')).size).toBe(2);
  });

  it('runs an overnight window into the next day, across the end of the week too', () => {
    const spec: Spec = {
      size: 1,
      schedule: { windows: [{ days: ['Fri', 'Sun'], start: '22:00', end: '06:00', size: 4 }] },
    };
    const saturday = poolTargetAt(spec, at('2026-12-12T03:00:00Z'));
    expect(saturday.size).toBe(4);
    expect(iso(saturday.nextChange)).toBe('2026-12-12T06:00:00.000Z');
    expect(poolTargetAt(spec, at('2026-12-11T21:59:00Z')).size).toBe(1);
    // Sunday 22:00 to Monday 06:00
    const monday = poolTargetAt(spec, at('2026-12-07T01:00:00Z'));
    expect(monday.size).toBe(4);
    expect(iso(monday.nextChange)).toBe('2026-12-07T06:00:00.000Z');
    // not on Thursday night
    expect(poolTargetAt(spec, at('2026-12-11T03:00:00Z')).size).toBe(1);
  });

  it('takes the largest size of overlapping windows', () => {
    const spec: Spec = {
      size: 1,
      schedule: {
        windows: [
          { days: ['Mon'], start: '09:00', end: '17:00', size: 5 },
          { days: ['Mon'], start: '12:00', end: '13:00', size: 8 },
          { days: ['Mon'], start: '14:00', end: '15:00', size: 2 },
        ],
      },
    };
    const morning = poolTargetAt(spec, at('2026-12-07T10:00:00Z'));
    expect(morning.size).toBe(5);
    expect(iso(morning.nextChange)).toBe('2026-12-07T12:00:00.000Z');
    const lunch = poolTargetAt(spec, at('2026-12-07T12:30:00Z'));
    expect(lunch.size).toBe(8);
    expect(iso(lunch.nextChange)).toBe('2026-12-07T13:00:00.000Z');
    // the smaller window inside changes nothing: the next change is the end of the day
    expect(iso(poolTargetAt(spec, at('2026-12-07T13:30:00Z')).nextChange)).toBe('2026-12-07T17:00:00.000Z');
  });

  it('has no next change when the target never changes, and knows 24:00 as the end of the day', () => {
    const always: Spec = {
      size: 1,
      schedule: {
        windows: [
          { days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'], start: '00:00', end: '24:00', size: 6 },
        ],
      },
    };
    expect(poolTargetAt(always, at('2026-12-07T10:00:00Z'))).toEqual({ size: 6 });
    const same: Spec = {
      size: 2,
      schedule: { windows: [{ days: ['Mon'], start: '09:00', end: '10:00', size: 2 }] },
    };
    expect(poolTargetAt(same, at('2026-12-07T08:00:00Z'))).toEqual({ size: 2 });
    const evening: Spec = {
      size: 0,
      schedule: { windows: [{ days: ['Mon'], start: '18:00', end: '24:00', size: 2 }] },
    };
    expect(iso(poolTargetAt(evening, at('2026-12-07T19:00:00Z')).nextChange)).toBe(
      '2026-12-08T00:00:00.000Z',
    );
  });

  it('refuses an unknown time zone and a window that starts where it ends, keeping spec.size', () => {
    const badZone = poolTargetAt(workHours('Mars/Olympus_Mons'), at('2026-12-07T10:00:00Z'));
    expect(badZone).toMatchObject({ size: 1, error: { reason: 'InvalidTimeZone' } });
    expect(badZone.error!.message).toMatch(/Mars\/Olympus_Mons.*IANA/);
    expect(badZone.nextChange).toBeUndefined();
    const empty: Spec = {
      size: 1,
      schedule: { windows: [{ days: ['Mon'], start: '09:00', end: '09:00', size: 3 }] },
    };
    expect(poolTargetAt(empty, at('2026-12-07T10:00:00Z'))).toMatchObject({
      size: 1,
      error: { reason: 'InvalidWindow' },
    });
    expect(poolScheduleErrors(workHours('Europe/Berlin').schedule)).toEqual([]);
    expect(poolScheduleErrors(undefined)).toEqual([]);
  });
});

describe('poolStatus with a schedule', () => {
  const pool = (spec: Spec): VDIPool => ({
    apiVersion: API_VERSION,
    kind: KIND_POOL,
    metadata: { name: 'p', namespace: 'vdi-sessions', uid: 'u', generation: 1 },
    spec: { template: 'cpu', ...spec },
  });
  const ok = { poolable: true, reason: 'Poolable', message: 'ok' } as const;
  const counts = { warm: 1, starting: 0, claimed: 0 };

  it('reports the target, the next change and ScheduleValid', () => {
    const s = poolStatus(pool(workHours()), counts, ok, at('2026-12-07T10:00:00Z'));
    expect(s).toMatchObject({ targetSize: 5, nextChange: '2026-12-07T17:00:00Z' });
    expect(s.conditions?.find((c) => c.type === 'ScheduleValid')).toMatchObject({ status: 'True' });
  });

  it('says why a schedule cannot be followed, and has no ScheduleValid without a schedule', () => {
    const s = poolStatus(pool(workHours('Nowhere/Land')), counts, ok, at('2026-12-07T10:00:00Z'));
    expect(s.targetSize).toBe(1);
    expect(s.nextChange).toBeUndefined();
    expect(s.conditions?.find((c) => c.type === 'ScheduleValid')).toMatchObject({
      status: 'False',
      reason: 'InvalidTimeZone',
    });
    const plain = poolStatus(pool({ size: 2 }), counts, ok, at('2026-12-07T10:00:00Z'));
    expect(plain.targetSize).toBe(2);
    expect(plain.conditions?.map((c) => c.type)).toEqual(['Poolable']);
  });
});
