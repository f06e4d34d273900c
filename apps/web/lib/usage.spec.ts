import type { GpuUsage } from './api/types';
import { hours, renewalDate, usageSummary } from './usage';

const usage = (over: Partial<GpuUsage> = {}): GpuUsage => ({
  user: 'alice@example.com',
  period: 'Month',
  periodStart: '2026-12-01T00:00:00Z',
  renewsAt: '2027-01-01T00:00:00Z',
  gpuHoursUsed: 3.24,
  gpuHoursBudget: 40,
  gpuHoursLeft: 36.76,
  rule: 'default',
  exhausted: false,
  slicesHeld: 1,
  ...over,
});

describe('usageSummary', () => {
  it('says what is used of the budget, what is left and when it renews', () => {
    expect(usageSummary(usage())).toBe(
      'GPU time this month: 3.2 hours of 40 hours used, 36.8 hours left; renews on 1 Jan 2027.',
    );
  });

  it('says plainly when the budget is used up, what still works, and when it renews', () => {
    expect(
      usageSummary(
        usage({
          period: 'Week',
          gpuHoursUsed: 10,
          gpuHoursBudget: 10,
          gpuHoursLeft: 0,
          exhausted: true,
          renewsAt: '2026-12-07T00:00:00Z',
        }),
      ),
    ).toBe(
      'Your GPU budget is used up: 10 hours of 10 hours this week. GPU desktops cannot start until it renews on 7 Dec 2026; desktops without a GPU still can.',
    );
  });

  it('without a budget, only what is used', () => {
    expect(usageSummary(usage({ gpuHoursBudget: null, gpuHoursLeft: null, gpuHoursUsed: 1 }))).toBe(
      'GPU time this month: 1 hour (no budget).',
    );
  });

  it('formats hours and dates', () => {
    expect(hours(0)).toBe('0 hours');
    expect(hours(0.04)).toBe('0 hours');
    expect(renewalDate('not a date')).toBe('not a date');
  });
});
