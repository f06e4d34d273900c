import { FORWARD_AUTH_READ_BUDGET, ReadBudget } from './read-budget.js';

describe('ReadBudget', () => {
  const at = (t: { ms: number }) => () => t.ms;

  it('allows a burst, then refuses with a Retry-After in whole seconds', () => {
    const clock = { ms: 1_000_000 };
    const b = new ReadBudget({ ...FORWARD_AUTH_READ_BUDGET, now: at(clock) });
    for (let i = 0; i < 50; i++) expect(b.take()).toEqual({ ok: true });
    expect(b.take()).toEqual({ ok: false, retryAfterSeconds: 1 });
  });

  it('refills at the steady rate (20 a second), never above the burst', () => {
    const clock = { ms: 0 };
    const b = new ReadBudget({ burst: 50, perSecond: 20, now: at(clock) });
    for (let i = 0; i < 50; i++) b.take();
    clock.ms += 500; // 10 reads' worth
    const granted = Array.from({ length: 15 }, () => b.take()).filter((t) => t.ok).length;
    expect(granted).toBe(10);
    clock.ms += 3_600_000; // an hour of quiet: still only the burst
    const after = Array.from({ length: 60 }, () => b.take()).filter((t) => t.ok).length;
    expect(after).toBe(50);
  });

  it('holds 20 reads a second over a long run of requests', () => {
    const clock = { ms: 0 };
    const b = new ReadBudget({ burst: 50, perSecond: 20, now: at(clock) });
    let granted = 0;
    for (let ms = 0; ms < 10_000; ms += 5) {
      clock.ms = ms;
      if (b.take().ok) granted += 1;
    }
    // 50 at once, then 20 a second for ~10 s.
    expect(granted).toBeGreaterThanOrEqual(50 + 199);
    expect(granted).toBeLessThanOrEqual(50 + 200);
  });

  it('says how long until the next read for a slow budget', () => {
    const clock = { ms: 0 };
    const b = new ReadBudget({ burst: 1, perSecond: 0.25, now: at(clock) });
    expect(b.take().ok).toBe(true);
    expect(b.take()).toEqual({ ok: false, retryAfterSeconds: 4 });
    clock.ms = 4000;
    expect(b.take().ok).toBe(true);
  });

  it('does not refill when the clock goes back', () => {
    const clock = { ms: 10_000 };
    const b = new ReadBudget({ burst: 1, perSecond: 1, now: at(clock) });
    b.take();
    clock.ms = 0;
    expect(b.take().ok).toBe(false);
  });

  it('refuses nonsense settings', () => {
    expect(() => new ReadBudget({ burst: 0, perSecond: 1 })).toThrow(/burst >= 1/);
    expect(() => new ReadBudget({ burst: 1, perSecond: 0 })).toThrow(/perSecond > 0/);
  });
});
