import { cumulative, percentile, ratio, summarize } from './stats.js';

describe('percentile', () => {
  it.each([
    [[1, 2], 50, 1.5],
    [[1, 2, 3, 4], 50, 2.5],
    [[10], 99, 10],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9.1],
    [[1, 2, 3], 0, 1],
    [[1, 2, 3], 100, 3],
  ])('of %p at p%p is %p', (values, p, want) => {
    expect(percentile(values, p)).toBeCloseTo(want, 10);
  });

  it('is NaN without samples', () => {
    expect(percentile([], 50)).toBeNaN();
  });

  it('p99 of 1..100 sits between the two largest samples', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 99)).toBeCloseTo(99.01, 10);
  });
});

describe('summarize', () => {
  it('sorts a copy and reports every field', () => {
    const input = [5, 1, 3, 2, 4];
    expect(summarize(input)).toEqual({ n: 5, min: 1, mean: 3, p50: 3, p95: 4.8, p99: 4.96, max: 5 });
    expect(input).toEqual([5, 1, 3, 2, 4]);
  });

  it('has NaN fields and n 0 when empty', () => {
    const s = summarize([]);
    expect(s.n).toBe(0);
    expect(s.p50).toBeNaN();
    expect(s.mean).toBeNaN();
  });
});

describe('cumulative', () => {
  it('counts events that happened by each step, ending at the last event', () => {
    expect(cumulative([250, 0, 900, 1000], 500)).toEqual([
      [0, 1],
      [500, 2],
      [1000, 4],
    ]);
  });

  it('is one point at zero without events', () => {
    expect(cumulative([], 100)).toEqual([[0, 0]]);
  });
});

describe('ratio', () => {
  it('divides, and is NaN for a missing or zero denominator', () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(3, 0)).toBeNaN();
    expect(ratio(NaN, 2)).toBeNaN();
  });
});
