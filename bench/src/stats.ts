/**
 * Summary statistics of latency samples: percentiles by linear interpolation between the closest
 * ranks (numpy's default, so p50 of [1, 2] is 1.5), and the summary a report row shows.
 */

/** The `p`-th percentile (0–100) of ascending `sorted`; NaN when there are no samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  if (p <= 0) return sorted[0]!;
  if (p >= 100) return sorted[sorted.length - 1]!;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export interface Summary {
  n: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** n, min, mean, p50, p95, p99 and max of `values` (any order; NaN fields when empty). */
export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  return {
    n,
    min: n ? sorted[0]! : NaN,
    mean: n ? sorted.reduce((a, b) => a + b, 0) / n : NaN,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: n ? sorted[n - 1]! : NaN,
  };
}

/**
 * How many of the events at `times` (ms after a common start) have happened by each step of
 * `stepMs`, from 0 to the last event: the "sessions Running over time" curve.
 */
export function cumulative(times: readonly number[], stepMs: number): [number, number][] {
  const sorted = [...times].sort((a, b) => a - b);
  const end = sorted.length ? sorted[sorted.length - 1]! : 0;
  const out: [number, number][] = [];
  let i = 0;
  for (let t = 0; ; t += stepMs) {
    while (i < sorted.length && sorted[i]! <= t) i++;
    out.push([t, i]);
    if (t >= end) break;
  }
  return out;
}

/** a / b, or NaN when either is not a positive finite number. */
export function ratio(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN;
}
