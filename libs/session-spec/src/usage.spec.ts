import type { V1Pod } from '@kubernetes/client-node';
import type { VDIUsageStatus } from '@vdi/crd-types';
import { ANNOTATION_CLAIMED_AT } from './labels.js';
import { budgetMessage, budgetState, countUsage, gpuHours, heldSlices, periodBounds } from './usage.js';

const t = (s: string) => new Date(s);
const held = (pod: string, since: string, slices = 1) => ({
  pod,
  session: `s-${pod}`,
  slices,
  since: t(since),
});

describe('countUsage', () => {
  it('counts a new desktop from when it was scheduled, and moves its checkpoint to now', () => {
    const out = countUsage(undefined, [held('p1', '2026-12-04T10:00:00Z')], t('2026-12-04T10:01:30Z'));
    expect(out.totalGpuSeconds).toBe(90);
    expect(out.days).toEqual([{ day: '2026-12-04', gpuSeconds: 90 }]);
    expect(out.holding).toEqual([
      {
        pod: 'p1',
        session: 's-p1',
        slices: 1,
        since: '2026-12-04T10:00:00Z',
        countedUntil: '2026-12-04T10:01:30.000Z',
      },
    ]);
  });

  it('goes on from the checkpoint, so a count replayed at the same time adds nothing', () => {
    const first = countUsage(undefined, [held('p1', '2026-12-04T10:00:00Z')], t('2026-12-04T10:01:00Z'));
    const again = countUsage(first, [held('p1', '2026-12-04T10:00:00Z')], t('2026-12-04T10:01:00Z'));
    expect(again.totalGpuSeconds).toBe(60);
    const later = countUsage(first, [held('p1', '2026-12-04T10:00:00Z')], t('2026-12-04T10:02:00Z'));
    expect(later.totalGpuSeconds).toBe(120);
    expect(later.days).toEqual([{ day: '2026-12-04', gpuSeconds: 120 }]);
  });

  it('counts sub-second stretches once: the checkpoint keeps its milliseconds', () => {
    let status = countUsage(undefined, [held('p1', '2026-12-04T10:00:00Z')], t('2026-12-04T10:00:01.900Z'));
    status = countUsage(status, [held('p1', '2026-12-04T10:00:00Z')], t('2026-12-04T10:00:03.900Z'));
    status = countUsage(status, [held('p1', '2026-12-04T10:00:00Z')], t('2026-12-04T10:00:05.900Z'));
    expect(status.totalGpuSeconds).toBe(5.9);
  });

  it('a count that never landed is redone from the old checkpoint: nothing lost, nothing twice', () => {
    const landed = countUsage(undefined, [held('p1', '2026-12-04T10:00:00Z')], t('2026-12-04T10:01:00Z'));
    // The write at 10:02 was lost (crash); the next leader counts at 10:03 from what landed.
    const next = countUsage(landed, [held('p1', '2026-12-04T10:00:00Z')], t('2026-12-04T10:03:00Z'));
    expect(next.totalGpuSeconds).toBe(180);
  });

  it('multiplies by the slices held and splits a span at UTC midnight', () => {
    const out = countUsage(undefined, [held('p1', '2026-12-04T23:59:00Z', 2)], t('2026-12-05T00:00:30Z'));
    expect(out.days).toEqual([
      { day: '2026-12-04', gpuSeconds: 120 },
      { day: '2026-12-05', gpuSeconds: 60 },
    ]);
    expect(out.totalGpuSeconds).toBe(180);
  });

  it('drops the checkpoint of a desktop that ended and does not count the gap before its successor', () => {
    const first = countUsage(undefined, [held('old', '2026-12-04T10:00:00Z')], t('2026-12-04T10:01:00Z'));
    // Stopped, resumed: a new pod scheduled at 10:30.
    const out = countUsage(first, [held('new', '2026-12-04T10:30:00Z')], t('2026-12-04T10:31:00Z'));
    expect(out.totalGpuSeconds).toBe(120);
    expect(out.holding?.map((h) => h.pod)).toEqual(['new']);
  });

  it('counts a desktop that ended up to when it was last seen holding its slice, then drops it', () => {
    const first = countUsage(
      undefined,
      [held('gone', '2026-12-04T10:00:00Z'), held('on', '2026-12-04T10:00:00Z')],
      t('2026-12-04T10:01:00Z'),
    );
    // Checkpoints at 10:01; 'gone' was last seen at 10:05 and the count runs at 10:06.
    const out = countUsage(
      first,
      [
        { ...held('gone', '2026-12-04T10:00:00Z'), until: t('2026-12-04T10:05:00Z') },
        held('on', '2026-12-04T10:00:00Z'),
      ],
      t('2026-12-04T10:06:00Z'),
    );
    expect(out.totalGpuSeconds).toBe(120 + 240 + 300);
    expect(out.holding?.map((h) => h.pod)).toEqual(['on']);
    // Seen last before its checkpoint (already counted that far): nothing more, and dropped.
    const early = countUsage(
      first,
      [{ ...held('gone', '2026-12-04T10:00:00Z'), until: t('2026-12-04T10:00:30Z') }],
      t('2026-12-04T10:06:00Z'),
    );
    expect(early.totalGpuSeconds).toBe(120);
    expect(early.holding).toEqual([]);
  });

  it('keeps only the last 400 days', () => {
    const prev: VDIUsageStatus = {
      days: [
        { day: '2025-01-01', gpuSeconds: 5 },
        { day: '2026-12-01', gpuSeconds: 7 },
      ],
      totalGpuSeconds: 12,
    };
    const out = countUsage(prev, [], t('2026-12-04T00:00:00Z'));
    expect(out.days).toEqual([{ day: '2026-12-01', gpuSeconds: 7 }]);
    expect(out.totalGpuSeconds).toBe(12);
    expect(out.holding).toEqual([]);
  });
});

describe('periodBounds', () => {
  it.each([
    ['Day', '2026-12-04T15:00:00Z', '2026-12-04T00:00:00.000Z', '2026-12-05T00:00:00.000Z'],
    ['Week', '2026-12-04T15:00:00Z', '2026-11-30T00:00:00.000Z', '2026-12-07T00:00:00.000Z'],
    ['Week', '2026-12-06T23:00:00Z', '2026-11-30T00:00:00.000Z', '2026-12-07T00:00:00.000Z'],
    ['Month', '2026-12-31T23:59:59Z', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
  ] as const)('%s of %s', (period, now, start, end) => {
    const b = periodBounds(period, t(now));
    expect([b.start.toISOString(), b.end.toISOString()]).toEqual([start, end]);
  });
});

describe('budgetState', () => {
  const ledger = {
    spec: { budget: { gpuHours: 1, period: 'Week' as const, rule: 'default' } },
    status: {
      days: [
        { day: '2026-11-29', gpuSeconds: 9999 }, // last week
        { day: '2026-11-30', gpuSeconds: 1800 },
        { day: '2026-12-04', gpuSeconds: 1200 },
      ],
      holding: [
        {
          pod: 'p',
          session: 's',
          slices: 1,
          since: '2026-12-04T09:00:00Z',
          countedUntil: '2026-12-04T10:00:00Z',
        },
      ],
    },
  };

  it("sums the period's days and the holding desktops' time since their last count", () => {
    const s = budgetState(ledger, t('2026-12-04T10:05:00Z'));
    expect(s.usedSeconds).toBe(1800 + 1200 + 300);
    expect(s.leftSeconds).toBe(300);
    expect(s.exhausted).toBe(false);
    expect(s.renewsAt.toISOString()).toBe('2026-12-07T00:00:00.000Z');
    expect(budgetState(ledger, t('2026-12-04T10:10:00Z')).exhausted).toBe(true);
  });

  it('gives the total up to now: counted, plus the holding desktops since their checkpoints', () => {
    const withTotal = { ...ledger, status: { ...ledger.status, totalGpuSeconds: 12_999 } };
    expect(budgetState(withTotal, t('2026-12-04T10:05:00Z')).totalSeconds).toBe(12_999 + 300);
    expect(budgetState(undefined, t('2026-12-04T10:05:00Z')).totalSeconds).toBe(0);
  });

  it('says what is spent, the budget, the rule and the renewal', () => {
    expect(budgetMessage(budgetState(ledger, t('2026-12-04T10:10:00Z')))).toBe(
      'you have used 1 GPU-hour of your 1 GPU-hour this week (budget rule default); it renews at 2026-12-07T00:00:00Z',
    );
  });

  it('without a budget: the month, never exhausted', () => {
    const s = budgetState({ status: ledger.status }, t('2026-12-04T10:00:00Z'));
    expect(s.period).toBe('Month');
    expect(s.exhausted).toBe(false);
    expect(s.budgetSeconds).toBeUndefined();
  });
});

describe('heldSlices', () => {
  const pod = (over: Partial<V1Pod['status']> = {}, nodeName: string | null = 'gpu-1'): V1Pod => ({
    metadata: {
      uid: 'u1',
      labels: { 'vdi.kasm.io/session': 'alice-1' },
      creationTimestamp: t('2026-12-04T10:00:00Z'),
    },
    spec: {
      ...(nodeName ? { nodeName } : {}),
      containers: [{ name: 'desktop', resources: { limits: { 'nvidia.com/gpu': '1' } } }],
    },
    status: {
      phase: 'Running',
      conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: t('2026-12-04T10:00:05Z') }],
      ...over,
    },
  });

  it('a scheduled GPU desktop holds its slice from when it was scheduled', () => {
    expect(heldSlices(pod(), 'nvidia.com/gpu')).toEqual({
      pod: 'u1',
      session: 'alice-1',
      slices: 1,
      since: t('2026-12-04T10:00:05Z'),
    });
  });

  it("a claimed pool pod holds its owner's slice from the claim, not from when the pool warmed it", () => {
    const warm = pod();
    warm.metadata!.annotations = { [ANNOTATION_CLAIMED_AT]: '2026-12-04T10:20:00Z' };
    expect(heldSlices(warm, 'nvidia.com/gpu')?.since).toEqual(t('2026-12-04T10:20:00Z'));
    // A claim time before the pod was scheduled (a clock behind) or unreadable changes nothing.
    warm.metadata!.annotations = { [ANNOTATION_CLAIMED_AT]: '2026-12-04T09:00:00Z' };
    expect(heldSlices(warm, 'nvidia.com/gpu')?.since).toEqual(t('2026-12-04T10:00:05Z'));
    warm.metadata!.annotations = { [ANNOTATION_CLAIMED_AT]: 'soon' };
    expect(heldSlices(warm, 'nvidia.com/gpu')?.since).toEqual(t('2026-12-04T10:00:05Z'));
  });

  it('a pending, finished or CPU-only pod holds none', () => {
    expect(heldSlices(pod({}, null), 'nvidia.com/gpu')).toBeUndefined();
    expect(heldSlices(pod({ phase: 'Failed' }), 'nvidia.com/gpu')).toBeUndefined();
    expect(heldSlices(pod(), 'nvidia.com/gpu.shared')).toBeUndefined();
  });
});

describe('gpuHours', () => {
  it.each([
    [36_000, '10 GPU-hours'],
    [3600, '1 GPU-hour'],
    [5400, '1.5 GPU-hours'],
    [720, '12 GPU-minutes'],
    [18, '18 GPU-seconds'],
  ])('%s s → %s', (s, text) => expect(gpuHours(s)).toBe(text));
});
