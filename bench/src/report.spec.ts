import type { BurstResult } from './burst.js';
import { parseOptions } from './options.js';
import {
  analysis,
  evaluateTargets,
  renderMarkdown,
  renderSvg,
  requestsPerSession,
  slowestWrite,
  hotspots,
  type BenchReport,
} from './report.js';
import { summarize } from './stats.js';

function burst(
  mode: 'floor' | 'operator',
  allRunningMs: number,
  podMs: number[],
  over: Partial<BurstResult> = {},
): BurstResult {
  return {
    mode,
    startedAt: 0,
    endedAt: allRunningMs,
    sessions: 4,
    concurrency: 50,
    createsIssuedMs: 100,
    allRunningMs,
    createToPod: summarize(podMs),
    createToRunning: summarize(podMs.map((x) => x + 100)),
    curve: [
      [0, 0],
      [allRunningMs, 4],
    ],
    cpuMs: { 'kube-apiserver': 2000, etcd: 500, ...(mode === 'operator' ? { operator: 800 } : {}) },
    apiserverRequests: 120,
    serverLatency: {
      'APPLY services': { count: 4, meanMs: 900 },
      'APPLY secrets': { count: 8, meanMs: 40 },
      'CREATE vdisessions': { count: 4, meanMs: 30 },
    },
    objectsPerSession: 8,
    ...(mode === 'operator'
      ? {
          operator: {
            cpuMs: 800,
            peakRssBytes: 150e6,
            requests: {
              'APPLY pods': 4,
              'CREATE events': 12,
              'MERGE vdisessions/status': 8,
              'WATCH pods': 1,
            },
            requestsPerSession: 6,
            reconciles: 12,
            reconcileErrors: 0,
            reconcileMs: 1200,
          },
        }
      : {}),
    ...over,
  };
}

function report(opRunningMs: number, podMs: number[]): BenchReport {
  return {
    name: 'test',
    version: '0.1.0',
    date: '2026-01-01T00:00:00.000Z',
    commit: 'abc1234',
    command: 'npm run bench',
    machine: { cpus: 2, model: 'cpu', memoryGiB: 24, node: 'v20', kernel: '6', loadAverage: [1, 1, 1] },
    versions: { KUBERNETES_VERSION: 'v1.37.2' },
    options: parseOptions(['--size', 'tiny'], '/out'),
    durationMs: 60_000,
    floor: burst('floor', 1000, [100, 200, 300, 400]),
    operator: { readyMs: 500, burst: burst('operator', opRunningMs, podMs) },
    steady: {
      sessions: 100,
      nodes: 2,
      ramp: {
        variant: '16 workers',
        allRunningMs: 1,
        createsIssuedMs: 1,
        cpuMs: {},
        apiserverRequests: 1,
        peakRssBytes: 1,
        startDeadlineSeconds: 86_400,
      },
      start: { readyMs: 1000, cpuMs: 900 },
      resync: {
        ms: 2000,
        cpuMs: 500,
        reconciles: 100,
        requests: {},
        requestsPerSession: 7,
        apiserverCpuMs: 900,
        completed: true,
      },
      idle: { windowMs: 30_000, cpuMs: 300, cpuShare: 0.01 },
      rssBytes: 200e6,
      peakRssBytes: 320e6,
      heapUsedBytes: 50e6,
      objectBytes: {
        pods: { json: 9000, withoutManagedFields: 6000 },
        sessions: { json: 5000, withoutManagedFields: 3000 },
      },
    },
    api: {
      sessionsInCluster: 100,
      queries: [
        {
          name: 'sessions',
          user: 'alice',
          query: '{ sessions { name } }',
          clients: 50,
          durationSeconds: 10,
          requests: 20_000,
          perSecond: 2000,
          latencyMs: { p50: 10, p90: 20, p99: 40, max: 90, mean: 12 },
          errors: 0,
          non2xx: 0,
          sampleOk: true,
        },
      ],
      create: {
        calls: 10,
        ok: 10,
        failed: 0,
        failures: {},
        clients: 50,
        ms: 1000,
        perSecond: 10,
        latencyMs: summarize([1, 2]),
      },
      apiRssBytes: 300e6,
      apiCpuMs: 1000,
    },
    load: { floor: { wallMs: 1000, busyCores: 1.5, cpuPressure: 0.4 } },
    failures: [],
  };
}

describe('evaluateTargets', () => {
  it('judges each target from the measurements', () => {
    const t = evaluateTargets(report(1400, [50, 100, 150, 200]));
    expect(t.map((x) => [x.id, x.met])).toEqual([
      ['ratio', true],
      ['podP99Ms', true],
      ['rssBytes', false],
      ['apiP99Ms', true],
    ]);
    expect(t.find((x) => x.id === 'rssBytes')!.why).toContain(
      '14.0 KB of JSON per session of which managedFields are 36 %',
    );
    expect(t.filter((x) => x.met).every((x) => x.why === '')).toBe(true);
  });

  it('says why a slow operator misses the ratio and the pod latency', () => {
    const t = evaluateTargets(report(3000, [1000, 2000, 3000, 4000]));
    const ratio = t.find((x) => x.id === 'ratio')!;
    expect(ratio.met).toBe(false);
    expect(ratio.value).toBe('3.00× (3.0 s vs 1.0 s)');
    expect(ratio.why).toContain('6.0 API requests per session where the floor sends 9');
    expect(ratio.why).toContain('3.0 CREATE events');
    const pod = t.find((x) => x.id === 'podP99Ms')!;
    expect(pod.met).toBe(false);
    expect(pod.value).toBe('3970 ms (floor: 397 ms)');
  });

  it('leaves out targets whose phase did not run', () => {
    const r = report(1400, [1]);
    delete r.api;
    delete r.steady;
    expect(evaluateTargets(r).map((x) => x.id)).toEqual(['ratio', 'podP99Ms']);
  });
});

describe('requestsPerSession', () => {
  it('lists non-watch requests per session, largest first', () => {
    expect(requestsPerSession(report(1, [1]).operator!.burst)).toEqual([
      ['CREATE events', 3],
      ['MERGE vdisessions/status', 2],
      ['APPLY pods', 1],
    ]);
  });
});

describe('renderMarkdown', () => {
  const md = renderMarkdown(report(3000, [1000, 2000, 3000, 4000]));
  it('has the targets, the burst table, the steady state, the API and the analysis', () => {
    expect(md).toContain('# Benchmark test — VDI platform 0.1.0');
    expect(md).toContain('![chart](test.svg)');
    expect(md).toMatch(/\| operator end-to-end ≤ 1.5× the floor \(4 sessions\) \| 3.00× .* \| ❌ no \|/);
    expect(md).toContain('| time until all Running | 1.0 s | 3.0 s |');
    expect(md).toContain('| ratio to the floor | 1.00× | 3.00× |');
    expect(md).toContain('| peak RSS (VmHWM) | 320 MB |');
    expect(md).toContain('`VDI_START_DEADLINE_SECONDS=86400`');
    expect(md).toContain('| `sessions` | 50 | 2000 | 10 ms | 20 ms | 40 ms | 90 ms | 0 / 0 | yes |');
    expect(md).toContain('## What dominates the cost');
    expect(md).not.toMatch(/NaN|undefined/);
  });

  it('records a failed phase', () => {
    const r = report(1, [1]);
    r.failures.push({ phase: 'chaos', error: 'Error: boom\n  at x' });
    expect(renderMarkdown(r)).toContain('> **Phase chaos failed:** Error: boom');
  });
});

describe('analysis', () => {
  it('explains the queue from the reconcile time and the workers', () => {
    const text = analysis(report(3000, [1000, 2000, 3000, 4000])).join('\n');
    expect(text).toContain('A reconcile took 100 ms on average');
    expect(text).toContain('3.0 reconciles per session with 4 workers allow at most 13.3 sessions/s');
    expect(text).toContain('The slowest write is `APPLY services`:** 900 ms');
    expect(text).toContain('ClusterIP');
  });
});

describe('slowestWrite', () => {
  it('names the write kind the API server took longest for', () => {
    expect(slowestWrite(report(1, [1]).operator!.burst)).toEqual({
      kind: 'APPLY services',
      meanMs: 900,
      othersMs: 35,
    });
  });
});

describe('hotspots', () => {
  it('explains our functions that take a noticeable share, once each', () => {
    const fn = (name: string, share: number) => ({
      fn: name,
      where: 'apps/operator/src/main.ts',
      ms: 1,
      share,
    });
    const p = {
      durationMs: 1,
      busyMs: 1,
      byCategory: [],
      topSelf: [],
      topInclusive: [fn('claim', 0.15), fn('reconcile', 0.1), fn('claim', 0.05), fn('slices', 0.01)],
    };
    expect(hotspots(p).map((h) => h.fn)).toEqual(['claim']);
    expect(hotspots(p)[0]!.what).toContain('O(N²)');
  });
});

describe('renderSvg', () => {
  it('draws the burst curves, the latency bars and the API panel', () => {
    const svg = renderSvg(report(3000, [1000, 2000, 3000, 4000]));
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain('API latency at 50 clients');
    expect(svg).not.toMatch(/NaN/);
  });
});
