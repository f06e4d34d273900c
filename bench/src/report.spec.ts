import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BurstResult } from './burst.js';
import { parseOptions } from './options.js';
import {
  computedFacts,
  evaluateTargets,
  NOT_MEASURED,
  renderMarkdown,
  renderSvg,
  requestsPerSession,
  slowestWrite,
  type BenchReport,
  type TargetResult,
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

const query = (name: string, user: string, p99: number) => ({
  name,
  user,
  query: '{ x }',
  clients: 50,
  durationSeconds: 10,
  requests: 20_000,
  perSecond: 2000,
  latencyMs: { p50: p99 / 4, p90: p99 / 2, p99, max: p99 * 2, mean: p99 / 3 },
  errors: 0,
  non2xx: 0,
  sampleOk: true,
});

/** A run that meets every target of #16: the operator as fast as the floor, everything lean. */
function good(): BenchReport {
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
    operator: { readyMs: 500, burst: burst('operator', 1100, [150, 250, 350, 450]) },
    steady: {
      sessions: 100,
      nodes: 2,
      ramp: {
        variant: '16 workers',
        allRunningMs: 60_000,
        createsIssuedMs: 1,
        cpuMs: {},
        apiserverRequests: 1,
        peakRssBytes: 1,
        startDeadlineSeconds: 300,
      },
      start: { readyMs: 1000, cpuMs: 900 },
      resync: {
        ms: 2000,
        cpuMs: 500,
        reconciles: 100,
        requests: { 'GET leases': 2, 'PUT leases': 2, 'APPLY secrets': 1, 'WATCH pods': 40 },
        requestsPerSession: 0.05,
        apiserverCpuMs: 900,
        completed: true,
      },
      idle: { windowMs: 30_000, cpuMs: 300, cpuShare: 0.01 },
      rssBytes: 120e6,
      peakRssBytes: 150e6,
      heapUsedBytes: 50e6,
      memory: {
        rssBytes: 120e6,
        heapSpaces: [
          { name: 'old_space', sizeBytes: 60e6, usedBytes: 45e6, physicalBytes: 55e6 },
          { name: 'new_space', sizeBytes: 8e6, usedBytes: 1e6, physicalBytes: 4e6 },
        ],
        heap: { totalBytes: 68e6, physicalBytes: 59e6, usedBytes: 46e6, mallocedBytes: 1e6 },
        externalBytes: 3e6,
      },
      objectBytes: {
        pods: { json: 9000, withoutManagedFields: 6000 },
        sessions: { json: 5000, withoutManagedFields: 3000 },
      },
    },
    api: {
      sessionsInCluster: 100,
      queries: [
        query('sessions', 'alice', 12),
        query('templates', 'alice', 8),
        query('capacity', 'alice', 15),
        query('sessions(all: true)', 'admin', 80),
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
        // The field the lead adds to ApiResult['create'].
        ...{ peakRssBytes: 350e6 },
      },
      apiRssBytes: 300e6,
      memory: {
        rssBytes: 300e6,
        heapSpaces: [{ name: 'old_space', sizeBytes: 200e6, usedBytes: 150e6, physicalBytes: 190e6 }],
        heap: { totalBytes: 200e6, physicalBytes: 190e6, usedBytes: 150e6, mallocedBytes: 2e6 },
        externalBytes: 5e6,
      },
      apiCpuMs: 1000,
    },
    chaos: {
      sessions: 20,
      deleted: 6,
      recreated: 2,
      live: 16,
      kills: 5,
      operatorStarts: 6,
      apiserverDownMs: 3000,
      churnMs: 30_000,
      converged: true,
      convergeMs: 10_000,
      invariants: {
        leakedChildren: [],
        duplicatePods: [],
        stuckFinalizers: [],
        notRunning: [],
        unexpected: [],
      },
      clientRetries: 10,
      drain: { ms: 5000, sessionsLeft: 0, childrenLeft: 0, stuckFinalizers: [] },
      operatorLogTail: [],
    },
    load: { floor: { wallMs: 1000, busyCores: 1.5, cpuPressure: 0.4 } },
    failures: [],
  };
}

const byId = (r: BenchReport) =>
  Object.fromEntries(evaluateTargets(r).map((t) => [t.id, t])) as Record<string, TargetResult>;

const IDS = [
  'burstAllRunning',
  'burstPodP99',
  'burstRunningP99',
  'steadyPeakRss',
  'resyncCpu',
  'resyncRequests',
  'rampNoneFailed',
  'apiSessionsP99',
  'apiCapacityP99',
  'apiAllSessionsP99',
  'apiCreateRss',
  'chaos',
];

describe('evaluateTargets: #16 acceptance', () => {
  it('judges every target met from a run that meets them, with no facts beside them', () => {
    const t = evaluateTargets(good());
    expect(t.map((x) => [x.id, x.met])).toEqual(IDS.map((id) => [id, true]));
    expect(t.every((x) => x.facts === '')).toBe(true);
    const m = byId(good());
    expect(m.burstAllRunning!.target).toBe(
      '4-session burst: operator time until all Running ≤ 1.15× the floor',
    );
    expect(m.burstAllRunning!.value).toBe('1.10× (operator 1.1 s, floor 1.0 s)');
    expect(m.resyncRequests!.value).toBe('0.05 per session (5 requests, watches not counted)');
    expect(m.rampNoneFailed!.value).toMatch(
      /^none failed: all 100 Running after 60\.0 s with VDI_START_DEADLINE_SECONDS=300/,
    );
    expect(m.apiCreateRss!.value).toMatch(/^350 MB peak/);
    expect(m.chaos!.value).toBe('0 leaked children, 0 duplicate pods, 0 stuck finalizers');
  });

  it('judges the burst against the floor of the same run, with computed facts when missed', () => {
    const r = good();
    r.operator!.burst = burst('operator', 3000, [1000, 2000, 3000, 4000]);
    const m = byId(r);
    expect(m.burstAllRunning).toMatchObject({ met: false, value: '3.00× (operator 3.0 s, floor 1.0 s)' });
    expect(m.burstAllRunning!.facts).toBe(
      'API requests per session: operator 6.0, floor 9; reconciles per session 3.0; ' +
        'sessions Running per second: operator 1.3, floor 4.0',
    );
    // p99 of [1000..4000] is 3970 ms, the floor's 397 ms: 10×.
    expect(m.burstPodP99).toMatchObject({ met: false, value: '10.00× (operator 3970 ms, floor 397 ms)' });
    expect(m.burstPodP99!.facts).toContain('create → pod p50: operator 2500 ms, floor 250 ms');
    expect(m.burstRunningP99!.met).toBe(false);
    // Exactly at the limits: met.
    r.operator!.burst = burst('operator', 1150, [200, 400, 600, 800]);
    const edge = byId(r);
    expect(edge.burstAllRunning!.met).toBe(true);
    expect(edge.burstPodP99!.met).toBe(true);
    expect(edge.burstRunningP99!.met).toBe(false); // (794 + 100) / (397 + 100) = 1.8×
  });

  it('judges the steady state: peak RSS, the resync’s CPU and its requests without watches', () => {
    const r = good();
    r.steady!.peakRssBytes = 650e6;
    r.steady!.resync.cpuMs = 60_000;
    r.steady!.resync.requests = { 'APPLY secrets': 200, 'APPLY services': 100, 'WATCH pods': 1000 };
    const m = byId(r);
    expect(m.steadyPeakRss).toMatchObject({
      met: false,
      value: '650 MB peak (VmHWM), 120 MB after the resync',
    });
    expect(m.steadyPeakRss!.facts).toBe(
      'V8 heap used 50 MB (500 KB per session); cached objects 14.0 KB of JSON per session, managedFields 36 % of it',
    );
    expect(m.resyncCpu).toMatchObject({ met: false, value: '60.0 s operator CPU (2.0 s wall)' });
    expect(m.resyncRequests).toMatchObject({
      met: false,
      value: '3.00 per session (300 requests, watches not counted)',
    });
    expect(m.resyncRequests!.facts).toContain('per session: APPLY secrets 2.00, APPLY services 1.00');
    expect(m.resyncRequests!.facts).not.toContain('WATCH');
  });

  it('does not count an unfinished resync as met', () => {
    const r = good();
    r.steady!.resync.completed = false;
    const m = byId(r);
    expect(m.resyncCpu!.met).toBe(false);
    expect(m.resyncCpu!.value).toContain('not finished after 2.0 s');
    expect(m.resyncRequests!.met).toBe(false);
  });

  it('judges the ramp: met under the default deadline, not met on failed sessions, not measured otherwise', () => {
    const failed = good();
    delete failed.steady;
    failed.failures.push({
      phase: 'steady',
      error: 'FailedSessions: 12 sessions Failed, e.g. st-1: StartDeadlineExceeded: x\n    at y',
    });
    expect(byId(failed).rampNoneFailed).toMatchObject({
      met: false,
      facts: 'FailedSessions: 12 sessions Failed, e.g. st-1: StartDeadlineExceeded: x',
    });
    const long = good();
    long.steady!.ramp.startDeadlineSeconds = 86_400;
    expect(byId(long).rampNoneFailed).toMatchObject({
      met: undefined,
      value: NOT_MEASURED,
      facts: 'the ramp ran with VDI_START_DEADLINE_SECONDS=86400, not ≤ 300',
    });
    const timedOut = good();
    delete timedOut.steady;
    timedOut.failures.push({
      phase: 'steady',
      error: 'Error: timed out after 600000 ms: 80 of 100 sessions Running',
    });
    expect(byId(timedOut).rampNoneFailed).toMatchObject({
      met: undefined,
      facts: 'phase steady failed: Error: timed out after 600000 ms: 80 of 100 sessions Running',
    });
  });

  it('judges the API queries, the admin’s first page by its name, and wrong answers', () => {
    const r = good();
    r.api!.queries = [
      query('sessions', 'alice', 49),
      query('capacity', 'alice', 20),
      query('sessions(all: true, first: 50)', 'admin', 120),
    ];
    r.api!.queries[1]!.non2xx = 3;
    const m = byId(r);
    expect(m.apiSessionsP99).toMatchObject({ met: false, value: '49 ms (`sessions`, 2000 req/s)' });
    expect(m.apiSessionsP99!.facts).toBe('p50 12 ms, p90 25 ms, max 98 ms');
    expect(m.apiCapacityP99!.met).toBe(false);
    expect(m.apiCapacityP99!.facts).toContain('0 errors, 3 non-2xx');
    expect(m.apiAllSessionsP99).toMatchObject({
      met: false,
      value: '120 ms (`sessions(all: true, first: 50)`, 2000 req/s)',
    });
    r.api!.queries = [query('sessions', 'alice', 10)];
    expect(byId(r).apiAllSessionsP99).toMatchObject({ met: undefined, value: NOT_MEASURED });
  });

  it('judges the API’s RSS during createSession from api.create.peakRssBytes, not measured without it', () => {
    const r = good();
    (r.api!.create as { peakRssBytes?: number }).peakRssBytes = 1445e6;
    expect(byId(r).apiCreateRss).toMatchObject({
      met: false,
      value: '1445 MB peak (10 calls, 50 in flight)',
    });
    delete (r.api!.create as { peakRssBytes?: number }).peakRssBytes;
    expect(byId(r).apiCreateRss).toMatchObject({
      met: undefined,
      value: NOT_MEASURED,
      facts:
        'no peak RSS of the createSession phase in the data (api.create.peakRssBytes); RSS after it 300 MB',
    });
  });

  it('judges chaos by leaked children, duplicate pods and stuck finalizers, after the churn and the drain', () => {
    const r = good();
    r.chaos!.invariants.leakedChildren.push('pods/x: session x does not exist');
    expect(byId(r).chaos).toMatchObject({
      met: false,
      value: '1 leaked children, 0 duplicate pods, 0 stuck finalizers',
    });
    const d = good();
    d.chaos!.drain!.stuckFinalizers.push('a');
    d.chaos!.invariants.duplicatePods.push('b: p1, p2');
    expect(byId(d).chaos).toMatchObject({
      met: false,
      value: '0 leaked children, 1 duplicate pods, 1 stuck finalizers',
    });
    expect(byId(d).chaos!.facts).toContain('after deleting everything: 0 children, 1 stuck finalizers left');
    // Sessions not Running are not one of the three.
    const n = good();
    n.chaos!.invariants.notRunning.push('c: Pending');
    expect(byId(n).chaos!.met).toBe(true);
  });

  it('shows every target as not measured when its phase did not run', () => {
    const r = good();
    delete r.floor;
    delete r.operator;
    delete r.steady;
    delete r.api;
    delete r.chaos;
    r.options = { ...r.options, phases: ['desktop'] };
    const t = evaluateTargets(r);
    expect(t.map((x) => x.id)).toEqual(IDS);
    expect(t.every((x) => x.met === undefined && x.value === NOT_MEASURED)).toBe(true);
    const m = byId(r);
    expect(m.burstAllRunning!.facts).toBe('phase floor, operator not run');
    expect(m.steadyPeakRss!.facts).toBe('phase steady not run');
    expect(m.chaos!.facts).toBe('phase chaos not run');
    expect(m.burstAllRunning!.target).toBe(
      '20-session burst: operator time until all Running ≤ 1.15× the floor',
    );
  });

  it('names a failed phase next to its targets', () => {
    const r = good();
    delete r.operator;
    r.failures.push({ phase: 'operator', error: 'Error: boom\n  at x' });
    expect(byId(r).burstPodP99).toMatchObject({
      met: undefined,
      facts: 'phase operator failed: Error: boom',
    });
  });
});

describe('requestsPerSession', () => {
  it('lists non-watch requests per session, largest first', () => {
    expect(requestsPerSession(burst('operator', 1, [1]))).toEqual([
      ['CREATE events', 3],
      ['MERGE vdisessions/status', 2],
      ['APPLY pods', 1],
    ]);
  });
});

describe('slowestWrite', () => {
  it('names the write kind the API server took longest for', () => {
    expect(slowestWrite(burst('operator', 1, [1]))).toEqual({
      kind: 'APPLY services',
      meanMs: 900,
      othersMs: 35,
    });
  });
});

describe('computedFacts', () => {
  it('states numbers from the burst and the profile, without explanations', () => {
    const r = good();
    r.operator!.burst = burst('operator', 3000, [1000, 2000, 3000, 4000]);
    r.profile = {
      variant: 'as shipped',
      result: {
        readyMs: 1,
        burst: r.operator!.burst,
        profile: {
          durationMs: 10_000,
          busyMs: 4000,
          byCategory: [
            { category: 'GC', ms: 2000, share: 0.5 },
            { category: 'apps/operator', ms: 1200, share: 0.3 },
          ],
          topSelf: [],
          topInclusive: [{ fn: 'claim', where: 'apps/operator/src/main.ts', ms: 600, share: 0.15 }],
        },
      },
    };
    const text = computedFacts(r).join('\n');
    expect(text).toContain(
      'Slowest write on the API server during the operator burst: `APPLY services`, 900 ms mean',
    );
    expect(text).toContain('against a median of 35 ms for the other writes (floor: 900 ms)');
    expect(text).toContain('Operator reconciles: 12 (3.0 per session, 0 errors), 100 ms mean');
    expect(text).toContain('the platform’s own code (apps/, libs/) 30 % of self time (apps/operator 30 %)');
    expect(text).toContain('`claim` 15 %');
    expect(text).not.toMatch(/O\(N²\)|Fix|would|bottleneck|index of/i);
  });
});

describe('pod Ready beside Running', () => {
  it('shows when the pods were Ready on both sides and how long the operator took to report it', () => {
    const r = good();
    r.floor = burst('floor', 1000, [100, 200, 300, 400], {
      createToPodReady: summarize([500, 600, 700, 900]),
      lastPodReadyMs: 950,
    });
    r.operator!.burst = burst('operator', 1500, [150, 250, 350, 450], {
      createToPodReady: summarize([550, 650, 750, 1000]),
      lastPodReadyMs: 1100,
      podReadyToRunning: summarize([100, 200, 300, 400]),
    });
    expect(computedFacts(r)).toContain(
      'Operator burst: the last pod Ready after 1.1 s (floor 0.9 s, 1.16×), all Running after 1.5 s; ' +
        'pod Ready → session Running p50 250 ms, p99 397 ms.',
    );
    const md = renderMarkdown(r);
    expect(md).toMatch(/\| time until the last pod Ready +\| +0\.9 s \| +1\.1 s \|/);
    expect(md).toMatch(/\| pod Ready → session Running p50 \/ p99 +\| +– \| +250 ms \/ 397 ms \|/);
  });

  it('leaves them out of reports from before they were measured', () => {
    const r = good();
    expect(computedFacts(r).join('\n')).not.toContain('the last pod Ready');
    expect(renderMarkdown(r)).toMatch(/\| time until the last pod Ready +\| +– \|/);
  });
});

describe('interleaved floor and operator runs', () => {
  const runs = () => {
    const r = good();
    r.floors = [
      burst('floor', 1300, [100, 200, 300, 400], { writers: 8 }),
      burst('floor', 1000, [100, 200, 300, 400], { writers: 16 }),
      burst('floor', 1600, [100, 200, 300, 400], { writers: 50 }),
    ];
    r.floor = r.floors[1]!;
    r.operators = [1900, 1100, 1400].map((ms) => ({ readyMs: 1, burst: burst('operator', ms, [150, 250]) }));
    r.operator = r.operators[1]!;
    return r;
  };

  it('states the median of each side’s runs and every run, beside the fastest that is judged', () => {
    const r = runs();
    expect(computedFacts(r)).toContain(
      'Median of the runs, time until all Running: operator 1.4 s (3 runs), floor 1.3 s (3 runs), 1.08×; ' +
        'operator runs 1.9 s, 1.1 s, 1.4 s; floor runs 1.3 s, 1.0 s, 1.6 s.',
    );
    const md = renderMarkdown(r);
    expect(md).toContain('### Operator runs (the fastest is the operator above)');
    expect(md).toMatch(/\| #1 +\| +1\.9 s \|/);
    expect(md).toMatch(/\| #3 +\| +1\.4 s \|/);
    expect(evaluateTargets(r).find((t) => t.id === 'burstAllRunning')!.value).toBe(
      '1.10× (operator 1.1 s, floor 1.0 s)',
    );
  });

  it('states no median for a single run of a side', () => {
    const r = runs();
    r.operators = [r.operator!];
    expect(computedFacts(r).join('\n')).not.toContain('Median of the runs');
    expect(renderMarkdown(r)).not.toContain('### Operator runs');
  });
});

describe('renderMarkdown', () => {
  const slow = () => {
    const r = good();
    r.operator!.burst = burst('operator', 3000, [1000, 2000, 3000, 4000]);
    r.steady!.peakRssBytes = 650e6;
    r.profile = {
      variant: 'as shipped',
      result: {
        readyMs: 1,
        burst: r.operator!.burst,
        profile: {
          durationMs: 10_000,
          busyMs: 4000,
          byCategory: [{ category: 'apps/operator', ms: 1200, share: 0.3 }],
          topSelf: [
            {
              fn: 'identityHash',
              where: 'apps/operator/src/main.ts',
              category: 'apps/operator',
              ms: 500,
              share: 0.12,
            },
          ],
          topInclusive: [
            { fn: 'claim', where: 'apps/operator/src/main.ts', ms: 600, share: 0.15 },
            { fn: 'slices', where: 'apps/operator/src/engine/reconcile.ts', ms: 500, share: 0.12 },
          ],
        },
      },
    };
    return r;
  };
  const md = renderMarkdown(slow());

  it('has the targets with facts, the burst table, the steady state, the API and the computed facts', () => {
    expect(md).toContain('# Benchmark test — VDI platform 0.1.0');
    expect(md).toContain('![chart](test.svg)');
    expect(md).toContain('| target | measured | met | facts from the run |');
    expect(md).toContain(
      '| 4-session burst: operator time until all Running ≤ 1.15× the floor | 3.00× (operator 3.0 s, floor 1.0 s) | ❌ no | ' +
        'API requests per session: operator 6.0, floor 9; reconciles per session 3.0;',
    );
    expect(md).toMatch(/\| 100 sessions: operator peak RSS ≤ 200 MB \| 650 MB peak .* \| ❌ no \|/);
    expect(md).toMatch(
      /\| chaos run of 20 sessions: 0 leaked, 0 duplicate, 0 stuck \| .* \| ✅ yes \| {2}\|$/m,
    );
    expect(md).toContain('| time until all Running | 1.0 s | 3.0 s |');
    expect(md).toContain('| ratio to the floor | 1.00× | 3.00× |');
    expect(md).toContain('| peak RSS (VmHWM) | 650 MB |');
    expect(md).toContain('`VDI_START_DEADLINE_SECONDS=300`');
    expect(md).toContain('| `sessions` | alice | 50 | 2000 | 3 ms | 6 ms | 12 ms | 24 ms | 0 / 0 | yes |');
    expect(md).toContain('API process: peak RSS 350 MB during the phase, 300 MB RSS after it');
    expect(md).toContain(
      '| operator: V8 heap by space (used / resident) | old 45.0 / 55.0 MB, new 1.0 / 4.0 MB |',
    );
    expect(md).toContain('| operator: RSS outside V8’s heap | 61.0 MB of 120.0 MB RSS (51 %) |');
    expect(md).toContain('| API: V8 heap by space (used / resident) | old 150.0 / 190.0 MB |');
    expect(md).toContain('| API: RSS outside V8’s heap | 110.0 MB of 300.0 MB RSS (37 %) |');
    expect(md).toContain('## Computed from the run');
    expect(md).toContain('| `claim` | apps/operator/src/main.ts | 600 | 15 % |');
    expect(md).not.toMatch(/NaN|undefined/);
  });

  it('prints no advice and no explanations that the run did not compute', () => {
    expect(md).not.toMatch(/Fix:/);
    expect(md).not.toContain('What dominates the cost');
    expect(md).not.toContain('why not, and what would fix it');
    // The former HOTSPOTS prose and the analysis' causal sentences.
    expect(md).not.toMatch(
      /O\(N²\)|An index of|removes it|Hot spots|is the bottleneck|would make|warm pool|NVENC/,
    );
  });

  it('shows targets without data as not measured', () => {
    const r = good();
    delete r.api;
    r.options = { ...r.options, phases: ['floor', 'operator', 'steady', 'chaos'] };
    expect(renderMarkdown(r)).toMatch(
      /\| API at 100 sessions, 50 clients: `sessions` p99 ≤ 20 ms \| not measured \| – \| phase api not run \|/,
    );
  });

  it('shows the cores each process used while each API query was measured, and the API’s GC pauses', () => {
    const r = good();
    r.api!.queries[0] = {
      ...r.api!.queries[0]!,
      cpuMs: { API: 9000, Keycloak: 100, 'benchmark client': 6000 },
      gc: { count: 120, ms: 340.4, majorCount: 2, majorMs: 60 },
      operatorRequests: { 'GET pods': 1, 'PATCH vdiusages/status': 40, 'POST events': 2, 'PUT leases': 3 },
    };
    r.api!.queries[2] = { ...r.api!.queries[2]!, cpuMs: { API: 7000, operator: 5000 } };
    const out = renderMarkdown(r);
    expect(out).toContain('| process | `sessions` | `capacity` |');
    expect(out).toContain('| API | 0.90 | 0.70 |');
    expect(out).toContain('| Keycloak | 0.01 | – |');
    expect(out).toContain('| operator | – | 0.50 |');
    expect(out).toContain('| **total** | **1.51** | **1.20** |');
    expect(out).toContain('| API GC pauses: count, ms (major: count, ms) | 120, 340 (2, 60) | – |');
    expect(out).toContain(
      '| operator: API requests in the window (most first) | PATCH vdiusages/status 40, PUT leases 3, POST events 2 | – |',
    );
    delete r.api!.queries[0]!.cpuMs;
    delete r.api!.queries[2]!.cpuMs;
    expect(renderMarkdown(r)).not.toContain('API GC pauses');
  });

  it('records a failed phase', () => {
    const r = good();
    r.failures.push({ phase: 'chaos', error: 'Error: boom\n  at x' });
    expect(renderMarkdown(r)).toContain('> **Phase chaos failed:** Error: boom');
  });

  it('renders every committed report, old ones lacking newer fields included', () => {
    const dir = path.join(import.meta.dirname, '..', 'results');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const r = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as BenchReport;
      const text = renderMarkdown(r);
      expect(text).toContain('## Targets');
      expect(text).not.toMatch(/Fix:|undefined/);
      expect(() => renderSvg(r)).not.toThrow();
      for (const t of evaluateTargets(r)) expect(t.met === undefined || t.value !== NOT_MEASURED).toBe(true);
    }
  });
});

describe('renderSvg', () => {
  it('draws the burst curves, the latency bars and the API panel with the 20 ms target', () => {
    const r = good();
    const svg = renderSvg(r);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain('API latency at 50 clients');
    expect(svg).toContain('target p99 20 ms (sessions, capacity)');
    expect(svg).not.toMatch(/NaN/);
  });
});
