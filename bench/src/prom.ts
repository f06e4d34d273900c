/** Reading Prometheus text expositions (the operator's and the API server's /metrics). Pure. */

/** The sum over every series of `name`, optionally only those whose labels contain `labelFilter`. */
export function metricSum(text: string, name: string, labelFilter?: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (labelFilter && !rest.includes(labelFilter)) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}

/** The series of `name` summed by the values of `labels`, keyed `value1 value2 …` (absent labels are empty). */
export function metricBy(text: string, name: string, labels: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.lastIndexOf('}');
    const body = line.slice(name.length + 1, close);
    const v = Number(line.slice(close + 1).trim());
    if (!Number.isFinite(v)) continue;
    const values = labels.map((l) => new RegExp(`(?:^|,)${l}="([^"]*)"`).exec(body)?.[1] ?? '');
    const key = values.join(' ').trim();
    out[key] = (out[key] ?? 0) + v;
  }
  return out;
}

export interface RequestLatency {
  count: number;
  meanMs: number;
}

/**
 * Requests the API server served between two scrapes, by `VERB resource[/subresource]`, with their
 * mean server-side duration (apiserver_request_duration_seconds). Only kinds served `minCount`
 * times or more.
 */
export function serverLatencies(before: string, after: string, minCount = 1): Record<string, RequestLatency> {
  const labels = ['verb', 'resource', 'subresource'] as const;
  const name = 'apiserver_request_duration_seconds';
  const sum0 = metricBy(before, `${name}_sum`, labels);
  const sum1 = metricBy(after, `${name}_sum`, labels);
  const cnt0 = metricBy(before, `${name}_count`, labels);
  const cnt1 = metricBy(after, `${name}_count`, labels);
  const out: Record<string, RequestLatency> = {};
  for (const [key, c] of Object.entries(cnt1)) {
    const count = c - (cnt0[key] ?? 0);
    if (count < minCount) continue;
    const [verb = '', resource = '', sub = ''] = key.split(' ');
    out[`${verb} ${resource}${sub ? `/${sub}` : ''}`] = {
      count,
      meanMs: (((sum1[key] ?? 0) - (sum0[key] ?? 0)) / count) * 1000,
    };
  }
  return out;
}
