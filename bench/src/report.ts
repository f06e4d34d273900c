/**
 * The benchmark report: everything measured (the JSON file), the targets judged from it, the
 * Markdown report and its chart. Pure: the measured data in, text out.
 */
import type { ApiQueryResult, ApiResult } from './api.js';
import type { BurstResult } from './burst.js';
import type { OperatorPhaseResult } from './bursts.js';
import type { ChaosResult } from './chaos.js';
import { renderChart, type Panel } from './chart.js';
import { memoryRows } from './heap.js';
import { problemCount } from './invariants.js';
import type { MachineInfo, MachineLoad } from './machine.js';
import type { BenchOptions } from './options.js';
import type { ProfileSummary } from './profile.js';
import { requestTotals } from './requests.js';
import {
  desktopTargets,
  renderDesktopSection,
  type DesktopResult,
  type DesktopTarget,
} from './desktop-report.js';
import { percentile, ratio } from './stats.js';
import type { SteadyResult } from './steady.js';

export interface WhatIf {
  label: string;
  workers: number;
  result: OperatorPhaseResult;
}

export interface BenchReport {
  name: string;
  version: string;
  /** ISO time the run started. */
  date: string;
  commit: string;
  command: string;
  machine: MachineInfo;
  versions: Record<string, string>;
  options: BenchOptions;
  durationMs: number;
  /** The fastest of `floors`. */
  floor?: BurstResult;
  /** The floor runs, one per client parallelism. */
  floors?: BurstResult[];
  /** The fastest of `operators`. */
  operator?: OperatorPhaseResult;
  /** The operator bursts, interleaved with the floor runs. */
  operators?: OperatorPhaseResult[];
  whatif?: WhatIf[];
  profile?: { variant: string; result: OperatorPhaseResult };
  steady?: SteadyResult;
  api?: ApiResult;
  chaos?: ChaosResult;
  desktop?: DesktopResult;
  /** How busy the machine was during each phase (all processes, not only ours). */
  load: Record<string, MachineLoad>;
  failures: { phase: string; error: string }[];
}

/**
 * Issue #16's acceptance targets, each judged from the run's own data: the operator against the
 * floor measured in the same run, the steady state, the API at the steady state's size, chaos.
 */
export const TARGETS = {
  /** Operator time until all Running ÷ the floor's. */
  allRunningRatio: 1.15,
  /** Operator create → pod p99 ÷ the floor's. */
  podP99Ratio: 2,
  /** Operator create → Running p99 ÷ the floor's. */
  runningP99Ratio: 1.5,
  operatorPeakRssBytes: 200 * 1e6,
  resyncCpuMs: 5000,
  resyncRequestsPerSession: 0.1,
  /** The operator's default VDI_START_DEADLINE_SECONDS (apps/operator/src/config.ts). */
  startDeadlineSeconds: 300,
  sessionsP99Ms: 20,
  capacityP99Ms: 20,
  allSessionsFirstPageP99Ms: 100,
  apiCreateRssBytes: 400 * 1e6,
} as const;

export type TargetId =
  | 'burstAllRunning'
  | 'burstPodP99'
  | 'burstRunningP99'
  | 'steadyPeakRss'
  | 'resyncCpu'
  | 'resyncRequests'
  | 'rampNoneFailed'
  | 'apiSessionsP99'
  | 'apiCapacityP99'
  | 'apiAllSessionsP99'
  | 'apiCreateRss'
  | 'chaos';

export interface TargetResult {
  id: TargetId | DesktopTarget['id'];
  target: string;
  /** The measured value, or `not measured`. */
  value: string;
  /** undefined: not measured (the phase did not run, failed, or its data lacks the field). */
  met: boolean | undefined;
  /** Numbers from the run next to a target that is not met or not measured; empty when met. */
  facts: string;
}

/** The value of a target without data. */
export const NOT_MEASURED = 'not measured';

const s1 = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '–');
const ms0 = (ms: number) => (Number.isFinite(ms) ? `${Math.round(ms)} ms` : '–');
const mb = (b: number) => (Number.isFinite(b) ? `${Math.round(b / 1e6)} MB` : '–');
const pct = (x: number) => (Number.isFinite(x) ? `${Math.round(x * 100)} %` : '–');
const num = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const times = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '–');

/** Requests of the operator per session by `VERB resource`, largest first. */
export function requestsPerSession(b: BurstResult): [string, number][] {
  const r = b.operator?.requests ?? {};
  return Object.entries(r)
    .filter(([k]) => !k.startsWith('WATCH '))
    .map(([k, n]): [string, number] => [k, n / b.sessions])
    .filter(([, n]) => n >= 0.05)
    .sort((a, b) => b[1] - a[1]);
}

/** Share of the profile's busy time charged to categories starting with `prefix`. */
export function profileShare(p: ProfileSummary | undefined, prefix: string): number {
  if (!p) return NaN;
  return p.byCategory.filter((c) => c.category.startsWith(prefix)).reduce((a, c) => a + c.share, 0);
}

function sumCpu(cpu: Record<string, number>): number {
  return Object.values(cpu).reduce((a, b) => a + b, 0);
}

/** The write kind the API server took longest for, against the median of the other writes. */
export function slowestWrite(b: BurstResult): { kind: string; meanMs: number; othersMs: number } | undefined {
  const writes = Object.entries(b.serverLatency ?? {}).filter(([k]) =>
    /^(APPLY|POST|PATCH|PUT|CREATE|DELETE) /.test(k),
  );
  if (writes.length < 2) return undefined;
  const sorted = [...writes].sort((a, c) => c[1].meanMs - a[1].meanMs);
  const [kind, slowest] = sorted[0]!;
  const others = sorted
    .slice(1)
    .map(([, l]) => l.meanMs)
    .sort((a, c) => a - c);
  return { kind, meanMs: slowest.meanMs, othersMs: percentile(others, 50) };
}

/** The burst's throughput in sessions Running per second. */
const rate = (b: BurstResult) => (b.sessions / b.allRunningMs) * 1000;

/** The peak RSS of the API process during the createSession phase, when the run recorded it. */
export function apiCreatePeakRss(a: ApiResult | undefined): number | undefined {
  const create = a?.create as (ApiResult['create'] & { peakRssBytes?: number }) | undefined;
  const v = create?.peakRssBytes;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The admin's query over every session (`sessions(all: true)`, or its paginated first page). */
export function allSessionsQuery(a: ApiResult | undefined): ApiQueryResult | undefined {
  return a?.queries.find((q) => q.name.startsWith('sessions(all'));
}

/** A steady-phase failure caused by sessions that Failed (timeline.ts' FailedSessions). */
function failedSessions(r: BenchReport): string | undefined {
  const f = (r.failures ?? []).find(
    (x) => x.phase === 'steady' && /FailedSessions|sessions Failed|Failed sessions/i.test(x.error),
  );
  return f?.error.split('\n')[0];
}

/** Why a phase has no data: it failed (its error's first line), or it did not run. */
function absent(r: BenchReport, ...phases: string[]): string {
  const failed = (r.failures ?? []).find((f) => phases.includes(f.phase));
  if (failed) return `phase ${failed.phase} failed: ${failed.error.split('\n')[0]}`;
  const run = r.options?.phases as readonly string[] | undefined;
  const missing = phases.filter((p) => run && !run.includes(p));
  return missing.length ? `phase ${missing.join(', ')} not run` : 'not in the run’s data';
}

const notMeasured = (id: TargetId, target: string, facts: string): TargetResult => ({
  id,
  target,
  value: NOT_MEASURED,
  met: undefined,
  facts,
});

function burstTargets(r: BenchReport): TargetResult[] {
  const T = TARGETS;
  const floor = r.floor;
  const op = r.operator?.burst;
  const n = op?.sessions ?? floor?.sessions ?? r.options?.sessions;
  const what = `${n}-session burst`;
  const targets: [TargetId, string][] = [
    ['burstAllRunning', `${what}: operator time until all Running ≤ ${T.allRunningRatio}× the floor`],
    ['burstPodP99', `${what}: operator create → pod p99 ≤ ${T.podP99Ratio}× the floor’s p99`],
    ['burstRunningP99', `${what}: operator create → Running p99 ≤ ${T.runningP99Ratio}× the floor’s p99`],
  ];
  if (!floor || !op) {
    const why =
      !floor && !op ? absent(r, 'floor', 'operator') : !floor ? absent(r, 'floor') : absent(r, 'operator');
    return targets.map(([id, target]) => notMeasured(id, target, why));
  }
  const o = op.operator;
  const passes = o ? `reconciles per session ${num(o.reconciles / op.sessions, 1)}` : '';
  const requests =
    `API requests per session: operator ${num(o?.requestsPerSession ?? NaN, 1)}, ` +
    `floor ${num(floor.objectsPerSession + 1, 0)}`;
  const join = (...xs: string[]) => xs.filter(Boolean).join('; ');
  const out: TargetResult[] = [];

  const q = ratio(op.allRunningMs, floor.allRunningMs);
  const allMet = q <= T.allRunningRatio;
  out.push({
    id: 'burstAllRunning',
    target: targets[0]![1],
    value: `${times(q)} (operator ${s1(op.allRunningMs)}, floor ${s1(floor.allRunningMs)})`,
    met: Number.isFinite(q) ? allMet : undefined,
    facts: allMet
      ? ''
      : join(
          requests,
          passes,
          `sessions Running per second: operator ${num(rate(op), 1)}, floor ${num(rate(floor), 1)}`,
        ),
  });

  const pq = ratio(op.createToPod.p99, floor.createToPod.p99);
  const podMet = pq <= T.podP99Ratio;
  out.push({
    id: 'burstPodP99',
    target: targets[1]![1],
    value: `${times(pq)} (operator ${ms0(op.createToPod.p99)}, floor ${ms0(floor.createToPod.p99)})`,
    met: Number.isFinite(pq) ? podMet : undefined,
    facts: podMet
      ? ''
      : join(
          `create → pod p50: operator ${ms0(op.createToPod.p50)}, floor ${ms0(floor.createToPod.p50)}`,
          passes,
          `creations issued in ${s1(op.createsIssuedMs)}`,
        ),
  });

  const rq = ratio(op.createToRunning.p99, floor.createToRunning.p99);
  const runMet = rq <= T.runningP99Ratio;
  out.push({
    id: 'burstRunningP99',
    target: targets[2]![1],
    value: `${times(rq)} (operator ${ms0(op.createToRunning.p99)}, floor ${ms0(floor.createToRunning.p99)})`,
    met: Number.isFinite(rq) ? runMet : undefined,
    facts: runMet
      ? ''
      : join(
          `create → Running p50: operator ${ms0(op.createToRunning.p50)}, floor ${ms0(floor.createToRunning.p50)}`,
          `create → pod p99: operator ${ms0(op.createToPod.p99)}, floor ${ms0(floor.createToPod.p99)}`,
          passes,
        ),
  });
  return out;
}

function steadyTargets(r: BenchReport): TargetResult[] {
  const T = TARGETS;
  const st = r.steady;
  const n = st?.sessions ?? r.options?.steadySessions;
  const targets: [TargetId, string][] = [
    ['steadyPeakRss', `${n} sessions: operator peak RSS ≤ ${mb(T.operatorPeakRssBytes)}`],
    ['resyncCpu', `resync of ${n} unchanged sessions: ≤ ${s1(T.resyncCpuMs)} operator CPU`],
    [
      'resyncRequests',
      `resync of ${n} unchanged sessions: ≤ ${T.resyncRequestsPerSession} API requests per session`,
    ],
    [
      'rampNoneFailed',
      `ramp of ${n} sessions with the default start deadline (${T.startDeadlineSeconds} s): no session failed for waiting`,
    ],
  ];
  const label = (id: TargetId) => targets.find(([x]) => x === id)![1];
  const out: TargetResult[] = [];
  if (!st) {
    for (const [id, target] of targets)
      if (id !== 'rampNoneFailed') out.push(notMeasured(id, target, absent(r, 'steady')));
  } else {
    const peak = st.peakRssBytes;
    const rssMet = peak <= T.operatorPeakRssBytes;
    const sizes = Object.values(st.objectBytes ?? {});
    const json = sizes.reduce((a, x) => a + x.json, 0);
    const lean = sizes.reduce((a, x) => a + x.withoutManagedFields, 0);
    out.push(
      Number.isFinite(peak)
        ? {
            id: 'steadyPeakRss',
            target: label('steadyPeakRss'),
            value: `${mb(peak)} peak (VmHWM), ${mb(st.rssBytes)} after the resync`,
            met: rssMet,
            facts: rssMet
              ? ''
              : [
                  `V8 heap used ${mb(st.heapUsedBytes)} (${num(st.heapUsedBytes / st.sessions / 1000, 0)} KB per session)`,
                  json > 0
                    ? `cached objects ${num(json / 1000, 1)} KB of JSON per session, managedFields ${pct(1 - lean / json)} of it`
                    : '',
                ]
                  .filter(Boolean)
                  .join('; '),
          }
        : notMeasured('steadyPeakRss', label('steadyPeakRss'), 'no peak RSS in the data'),
    );

    const rs = st.resync;
    const unfinished = rs.completed === false ? `not finished after ${s1(rs.ms)}` : '';
    const cpuMet = rs.completed !== false && rs.cpuMs <= T.resyncCpuMs;
    out.push(
      Number.isFinite(rs.cpuMs)
        ? {
            id: 'resyncCpu',
            target: label('resyncCpu'),
            value: `${s1(rs.cpuMs)} operator CPU (${s1(rs.ms)} wall)${unfinished ? `, ${unfinished}` : ''}`,
            met: cpuMet,
            facts: cpuMet
              ? ''
              : `${rs.reconciles} reconciles; API-server CPU ${s1(rs.apiserverCpuMs)}; ` +
                `${num(rs.cpuMs / Math.max(1, rs.reconciles), 1)} ms operator CPU per reconcile`,
          }
        : notMeasured('resyncCpu', label('resyncCpu'), 'no resync CPU in the data'),
    );

    const nonWatch = rs.requests ? requestTotals(rs.requests).nonWatch : NaN;
    const perSession = Number.isFinite(nonWatch) ? nonWatch / st.sessions : rs.requestsPerSession;
    const reqMet = rs.completed !== false && perSession <= T.resyncRequestsPerSession;
    const top = Object.entries(rs.requests ?? {})
      .filter(([k]) => !k.startsWith('WATCH '))
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6)
      .map(([k, v]) => `${k} ${num(v / st.sessions, 2)}`);
    out.push(
      Number.isFinite(perSession)
        ? {
            id: 'resyncRequests',
            target: label('resyncRequests'),
            value: `${num(perSession, 2)} per session (${Number.isFinite(nonWatch) ? nonWatch : '–'} requests, watches not counted)`,
            met: reqMet,
            facts: reqMet
              ? ''
              : [
                  unfinished,
                  top.length ? `per session: ${top.join(', ')}` : '',
                  `${rs.reconciles} reconciles`,
                ]
                  .filter(Boolean)
                  .join('; '),
          }
        : notMeasured('resyncRequests', label('resyncRequests'), 'no resync requests in the data'),
    );
  }

  // The ramp: a failed session fails the steady phase (FailedSessions).
  const failed = failedSessions(r);
  const deadline = st?.ramp.startDeadlineSeconds;
  if (failed)
    out.push({
      id: 'rampNoneFailed',
      target: label('rampNoneFailed'),
      value: 'sessions failed',
      met: false,
      facts: failed,
    });
  else if (st && deadline !== undefined && deadline <= T.startDeadlineSeconds)
    out.push({
      id: 'rampNoneFailed',
      target: label('rampNoneFailed'),
      value: `none failed: all ${st.sessions} Running after ${s1(st.ramp.allRunningMs)} with VDI_START_DEADLINE_SECONDS=${deadline}`,
      met: true,
      facts: '',
    });
  else
    out.push(
      notMeasured(
        'rampNoneFailed',
        label('rampNoneFailed'),
        st
          ? deadline === undefined
            ? 'the ramp’s start deadline is not in the data'
            : `the ramp ran with VDI_START_DEADLINE_SECONDS=${deadline}, not ≤ ${T.startDeadlineSeconds}`
          : absent(r, 'steady'),
      ),
    );
  return out;
}

function apiTargets(r: BenchReport): TargetResult[] {
  const T = TARGETS;
  const a = r.api;
  const n = a?.sessionsInCluster ?? r.options?.steadySessions;
  const clients = a?.queries[0]?.clients ?? r.options?.apiClients;
  const where = `API at ${n} sessions, ${clients} clients`;
  const query = (
    id: TargetId,
    q: ApiQueryResult | undefined,
    name: string,
    limitMs: number,
    target = `${where}: \`${name}\` p99 ≤ ${limitMs} ms`,
  ): TargetResult => {
    if (!a) return notMeasured(id, target, absent(r, 'api', 'steady'));
    if (!q) return notMeasured(id, target, `no query named ${name} in the data`);
    const p99 = q.latencyMs.p99;
    const answered = q.sampleOk && q.non2xx === 0 && q.errors === 0;
    const met = p99 <= limitMs && answered;
    return {
      id,
      target,
      value: `${ms0(p99)} (\`${q.name}\`, ${num(q.perSecond, 0)} req/s)`,
      met: Number.isFinite(p99) ? met : undefined,
      facts: met
        ? ''
        : [
            `p50 ${ms0(q.latencyMs.p50)}, p90 ${ms0(q.latencyMs.p90)}, max ${ms0(q.latencyMs.max)}`,
            q.errors || q.non2xx ? `${q.errors} errors, ${q.non2xx} non-2xx` : '',
            q.sampleOk ? '' : 'the sample answer had GraphQL errors or no data',
          ]
            .filter(Boolean)
            .join('; '),
    };
  };
  const out = [
    query(
      'apiSessionsP99',
      a?.queries.find((q) => q.name === 'sessions'),
      'sessions',
      T.sessionsP99Ms,
    ),
    query(
      'apiCapacityP99',
      a?.queries.find((q) => q.name === 'capacity'),
      'capacity',
      T.capacityP99Ms,
    ),
    query(
      'apiAllSessionsP99',
      allSessionsQuery(a),
      'sessions(all:)',
      T.allSessionsFirstPageP99Ms,
      `${where}: an admin’s first page of \`sessions(all:)\` p99 ≤ ${T.allSessionsFirstPageP99Ms} ms`,
    ),
  ];
  const rssTarget = `${where}: API RSS ≤ ${mb(T.apiCreateRssBytes)} during \`createSession\``;
  const peak = apiCreatePeakRss(a);
  if (!a) out.push(notMeasured('apiCreateRss', rssTarget, absent(r, 'api', 'steady')));
  else if (peak === undefined)
    out.push(
      notMeasured(
        'apiCreateRss',
        rssTarget,
        `no peak RSS of the createSession phase in the data (api.create.peakRssBytes); RSS after it ${mb(a.apiRssBytes)}`,
      ),
    );
  else {
    const met = peak <= T.apiCreateRssBytes;
    out.push({
      id: 'apiCreateRss',
      target: rssTarget,
      value: `${mb(peak)} peak (${a.create.calls} calls, ${a.create.clients} in flight)`,
      met,
      facts: met
        ? ''
        : `RSS after the phase ${mb(a.apiRssBytes)}; ${num(a.create.perSecond, 1)} sessions/s created`,
    });
  }
  return out;
}

function chaosTarget(r: BenchReport): TargetResult {
  const c = r.chaos;
  const target = `chaos run${c ? ` of ${c.sessions} sessions` : ''}: 0 leaked, 0 duplicate, 0 stuck`;
  if (!c?.invariants) return notMeasured('chaos', target, absent(r, 'chaos'));
  const inv = c.invariants;
  const leaked = inv.leakedChildren.length + (c.drain?.childrenLeft ?? 0);
  const duplicate = inv.duplicatePods.length;
  const stuck = inv.stuckFinalizers.length + (c.drain?.stuckFinalizers.length ?? 0);
  const met = leaked === 0 && duplicate === 0 && stuck === 0;
  return {
    id: 'chaos',
    target,
    value: `${leaked} leaked children, ${duplicate} duplicate pods, ${stuck} stuck finalizers`,
    met,
    facts: met
      ? ''
      : [
          `after the churn: ${inv.leakedChildren.length} leaked, ${inv.stuckFinalizers.length} stuck`,
          c.drain
            ? `after deleting everything: ${c.drain.childrenLeft} children, ${c.drain.stuckFinalizers.length} stuck finalizers left`
            : '',
          `${c.converged ? 'converged' : 'not converged'} after ${s1(c.convergeMs)}, ${c.kills} operator kills`,
        ]
          .filter(Boolean)
          .join('; '),
  };
}

/** #16's acceptance targets (and the desktop phase's, when it ran), each judged from the run's data. */
export function evaluateTargets(r: BenchReport): TargetResult[] {
  const out: TargetResult[] = [...burstTargets(r), ...steadyTargets(r), ...apiTargets(r), chaosTarget(r)];
  if (r.desktop) out.push(...desktopTargets(r.desktop));
  return out;
}

function burstColumns(r: BenchReport): { label: string; b: BurstResult; profile?: ProfileSummary }[] {
  const cols: { label: string; b: BurstResult; profile?: ProfileSummary }[] = [];
  if (r.floor) cols.push({ label: 'floor', b: r.floor });
  if (r.operator) cols.push({ label: 'operator', b: r.operator.burst });
  for (const w of r.whatif ?? []) cols.push({ label: `what-if: ${w.label}`, b: w.result.burst });
  return cols;
}

/** A Markdown table: the first column left-aligned, the others right-aligned unless `left`. */
function table(header: string[], rows: string[][], left = false): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    line(header),
    line(header.map((_, i) => (i === 0 || left ? '---' : '--:'))),
    ...rows.map(line),
  ].join('\n');
}

/**
 * Facts computed from the operator's burst and its profile that the tables do not show: shares,
 * per-request and per-reconcile figures, the slowest write. Numbers only, no explanations.
 */
export function computedFacts(r: BenchReport): string[] {
  const out: string[] = [];
  const op = r.operator?.burst;
  const floor = r.floor;
  if (op) {
    const total = sumCpu(op.cpuMs);
    const api = op.cpuMs['kube-apiserver'] ?? NaN;
    out.push(
      `Operator burst: kube-apiserver used ${s1(api)} of CPU, ${pct(api / total)} of the CPU of every measured process ` +
        `(etcd ${s1(op.cpuMs.etcd ?? NaN)}, the operator ${s1(op.cpuMs.operator ?? NaN)}); ` +
        `${num(api / op.apiserverRequests, 1)} ms of API-server CPU per request; ` +
        `${num(op.apiserverRequests / op.sessions, 1)} API requests per session from all clients` +
        (floor
          ? ` (floor: ${num(floor.apiserverRequests / floor.sessions, 1)}, ${s1(floor.cpuMs['kube-apiserver'] ?? NaN)} of API-server CPU).`
          : '.'),
    );
    const slow = slowestWrite(op);
    if (slow)
      out.push(
        `Slowest write on the API server during the operator burst: \`${slow.kind}\`, ${ms0(slow.meanMs)} mean, ` +
          `against a median of ${ms0(slow.othersMs)} for the other writes` +
          (floor?.serverLatency?.[slow.kind]
            ? ` (floor: ${ms0(floor.serverLatency[slow.kind]!.meanMs)})`
            : '') +
          '.',
      );
    if (op.lastPodReadyMs !== undefined && op.podReadyToRunning && floor?.lastPodReadyMs !== undefined)
      out.push(
        `Operator burst: the last pod Ready after ${s1(op.lastPodReadyMs)} (floor ${s1(floor.lastPodReadyMs)}, ` +
          `${times(ratio(op.lastPodReadyMs, floor.lastPodReadyMs))}), all Running after ${s1(op.allRunningMs)}; ` +
          `pod Ready → session Running p50 ${ms0(op.podReadyToRunning.p50)}, p99 ${ms0(op.podReadyToRunning.p99)}.`,
      );
    const o = op.operator;
    if (o)
      out.push(
        `Operator reconciles: ${o.reconciles} (${num(o.reconciles / op.sessions, 1)} per session, ${o.reconcileErrors} errors), ` +
          `${ms0(o.reconcileMs / Math.max(1, o.reconciles))} mean; ${s1(o.reconcileMs)} in reconciles for ${s1(o.cpuMs)} of CPU; ` +
          `${num(rate(op), 1)} sessions Running per second` +
          (floor ? ` (floor: ${num(rate(floor), 1)}).` : '.'),
      );
  }
  const floorRuns = (r.floors ?? []).map((f) => f.allRunningMs);
  const opRuns = (r.operators ?? []).map((o) => o.burst.allRunningMs);
  if (floorRuns.length > 1 && opRuns.length > 1) {
    const median = (xs: number[]) =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      );
    const fm = median(floorRuns);
    const om = median(opRuns);
    out.push(
      `Median of the runs, time until all Running: operator ${s1(om)} (${opRuns.length} runs), ` +
        `floor ${s1(fm)} (${floorRuns.length} runs), ${times(ratio(om, fm))}; ` +
        `operator runs ${opRuns.map((x) => s1(x)).join(', ')}; floor runs ${floorRuns.map((x) => s1(x)).join(', ')}.`,
    );
  }
  const prof = r.profile?.result.profile;
  if (prof) {
    const ours = prof.byCategory.filter((c) => /^(apps|libs)\//.test(c.category));
    out.push(
      `Operator profile (${r.profile!.variant}): ${s1(prof.busyMs)} of CPU in ${s1(prof.durationMs)}; ` +
        `the platform’s own code (apps/, libs/) ${pct(ours.reduce((a, c) => a + c.share, 0))} of self time` +
        (ours.length ? ` (${ours.map((c) => `${c.category} ${pct(c.share)}`).join(', ')})` : '') +
        '; largest inclusive shares of our functions: ' +
        (prof.topInclusive
          .slice(0, 3)
          .map((f) => `\`${f.fn}\` ${pct(f.share)}`)
          .join(', ') || '–') +
        '.',
    );
  }
  return out;
}

export function chartPanels(r: BenchReport): Panel[] {
  const panels: Panel[] = [];
  const cols = burstColumns(r);
  if (cols.length) {
    panels.push({
      kind: 'line',
      title: `Sessions Running after a burst of ${cols[0]!.b.sessions}`,
      xLabel: 'seconds after the first creation',
      yLabel: 'sessions Running',
      series: cols.map((c) => ({
        label: c.label,
        points: c.b.curve.map(([t, n]): [number, number] => [t / 1000, n]),
      })),
    });
    panels.push({
      kind: 'bar',
      title: 'create → pod created and create → Running (s)',
      yLabel: 'seconds',
      keys: ['pod p50', 'pod p99', 'Running p50', 'Running p99'],
      groups: cols.map((c) => ({
        label: c.label,
        values: [
          c.b.createToPod.p50,
          c.b.createToPod.p99,
          c.b.createToRunning.p50,
          c.b.createToRunning.p99,
        ].map((v) => v / 1000),
      })),
    });
  }
  if (r.api) {
    panels.push({
      kind: 'bar',
      title: `API latency at ${r.api.queries[0]?.clients ?? ''} clients, ${r.api.sessionsInCluster} sessions in the cluster (ms, log scale)`,
      yLabel: 'ms',
      log: true,
      keys: ['p50', 'p90', 'p99'],
      groups: r.api.queries.map((q) => ({
        label: q.name,
        values: [q.latencyMs.p50, q.latencyMs.p90, q.latencyMs.p99],
      })),
      target: {
        value: TARGETS.sessionsP99Ms,
        label: `target p99 ${TARGETS.sessionsP99Ms} ms (sessions, capacity)`,
      },
    });
  }
  return panels;
}

export function renderSvg(r: BenchReport): string {
  return renderChart(`VDI platform ${r.version} benchmark — ${r.name}`, chartPanels(r));
}

export function renderMarkdown(r: BenchReport): string {
  const o = r.options;
  const lines: string[] = [];
  const push = (...l: string[]) => lines.push(...l);
  push(
    `# Benchmark ${r.name} — VDI platform ${r.version}`,
    '',
    `Run ${r.date} at commit \`${r.commit}\` with \`${r.command}\` (${Math.round(r.durationMs / 60000)} min). ` +
      `Machine: ${r.machine.cpus} × ${r.machine.model}, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}, Linux ${r.machine.kernel}; ` +
      `cluster: ${o.cluster === 'own' ? 'a throw-away local control plane of the benchmark’s own' : 'the shared local control plane'} ` +
      `(${Object.entries(r.versions)
        .map(([k, v]) => `${k.replace(/_VERSION$/, '').toLowerCase()} ${v}`)
        .join(', ')}); kwok plays the kubelets (a placed pod is Running at once).`,
    '',
  );
  const loads = Object.entries(r.load);
  if (loads.length)
    push(
      `The machine is shared: during the phases its ${r.machine.cpus} CPUs were busy ` +
        loads
          .map(([p, l]) => `${p} ${num(l.busyCores, 2)} cores (CPU pressure ${pct(l.cpuPressure)})`)
          .join(', ') +
        '. Busy cores include other people’s processes; pressure is the share of time a runnable task waited for a CPU.',
      '',
    );
  push(`![chart](${r.name}.svg)`, '');
  for (const f of r.failures) push(`> **Phase ${f.phase} failed:** ${f.error.split('\n')[0]}`, '');

  const targets = evaluateTargets(r);
  if (targets.length) {
    push('## Targets', '');
    push(
      table(
        ['target', 'measured', 'met', 'facts from the run'],
        targets.map((t) => [
          t.target,
          t.value,
          t.met === undefined ? '–' : t.met ? '✅ yes' : '❌ no',
          t.facts || '',
        ]),
        true,
      ),
      '',
    );
  }

  if (r.desktop) push(...renderDesktopSection(r.desktop));

  const cols = burstColumns(r);
  if (cols.length) {
    const b0 = cols[0]!.b;
    push(
      `## Burst: ${b0.sessions} sessions on ${o.nodes} GPU nodes × ${o.gpusPerNode * o.slices} time-slices`,
      '',
      `Each run on fresh nodes and a fresh namespace; ${b0.concurrency} creations in flight; persistence \`${o.persistence}\`. ` +
        'Latencies from the creation request to the pod appearing / the session Running in a watch of the benchmark. ' +
        'The sessions arrive the same way in every run. The floor is the benchmark as an ideal controller: parallel writers take each ' +
        'session as soon as its creation is answered and write the children the operator would write (rendered by libs/session-spec, ' +
        'in the operator’s order, server-side applied, over kept-alive connections), with no finalizer, status or watch delay; ' +
        'Running = pod Running and Ready. For the operator, Running = the session’s status. ' +
        'An operator burst starts once the operator leads and the template’s image pullers run on every node (a template and its nodes ' +
        'exist long before a morning’s burst). Floor and operator runs alternate (floor, operator, floor, …); the fastest run of each side is the one compared.',
      '',
    );
    const floor = r.floor;
    const row = (label: string, f: (c: (typeof cols)[number]) => string) => [label, ...cols.map(f)];
    push(
      table(
        ['', ...cols.map((c) => c.label)],
        [
          row('time until all Running', (c) => s1(c.b.allRunningMs)),
          row('per session (total / sessions)', (c) => ms0(c.b.allRunningMs / c.b.sessions)),
          row('ratio to the floor', (c) =>
            floor ? `${num(ratio(c.b.allRunningMs, floor.allRunningMs), 2)}×` : '–',
          ),
          row('creations issued in', (c) => s1(c.b.createsIssuedMs)),
          row(
            'create → pod p50 / p95 / p99',
            (c) => `${ms0(c.b.createToPod.p50)} / ${ms0(c.b.createToPod.p95)} / ${ms0(c.b.createToPod.p99)}`,
          ),
          row(
            'create → Running p50 / p95 / p99',
            (c) =>
              `${ms0(c.b.createToRunning.p50)} / ${ms0(c.b.createToRunning.p95)} / ${ms0(c.b.createToRunning.p99)}`,
          ),
          row('create → pod Ready p50 / p99', (c) =>
            c.b.createToPodReady
              ? `${ms0(c.b.createToPodReady.p50)} / ${ms0(c.b.createToPodReady.p99)}`
              : '–',
          ),
          row('time until the last pod Ready', (c) =>
            c.b.lastPodReadyMs !== undefined ? s1(c.b.lastPodReadyMs) : '–',
          ),
          row('pod Ready → session Running p50 / p99', (c) =>
            c.b.podReadyToRunning
              ? `${ms0(c.b.podReadyToRunning.p50)} / ${ms0(c.b.podReadyToRunning.p99)}`
              : '–',
          ),
          row('operator CPU time', (c) => (c.b.operator ? s1(c.b.operator.cpuMs) : '–')),
          row('operator peak RSS', (c) => (c.b.operator ? mb(c.b.operator.peakRssBytes) : '–')),
          row('API requests per session, operator', (c) =>
            c.b.operator
              ? num(c.b.operator.requestsPerSession, 1)
              : `${num(c.b.objectsPerSession + 1, 0)} (client)`,
          ),
          row('API requests per session, all clients', (c) => num(c.b.apiserverRequests / c.b.sessions, 1)),
          row('objects per session', (c) => num(c.b.objectsPerSession, 1)),
          row('reconciles (errors)', (c) =>
            c.b.operator ? `${c.b.operator.reconciles} (${c.b.operator.reconcileErrors})` : '–',
          ),
        ],
      ),
      '',
    );
    const runRow = (b: BurstResult, first: string) => [
      first,
      s1(b.allRunningMs),
      s1(b.createsIssuedMs),
      ms0(b.createToPod.p99),
      ms0(b.createToRunning.p99),
    ];
    const runHeader = [
      'time until all Running',
      'creations issued in',
      'create → pod p99',
      'create → Running p99',
    ];
    /** Every run of one side, when it had more than one (its fastest is the column above). */
    const runsTable = (side: string, first: string, runs: [string, BurstResult][]) => {
      if (runs.length < 2) return;
      push(
        `### ${side} runs (the fastest is the ${side.toLowerCase()} above)`,
        '',
        table(
          [first, ...runHeader],
          runs.map(([label, b]) => runRow(b, label)),
        ),
        '',
      );
    };
    runsTable(
      'Floor',
      'parallel writers',
      (r.floors ?? []).map((f) => [String(f.writers ?? f.concurrency), f]),
    );
    runsTable(
      'Operator',
      'run',
      (r.operators ?? []).map((o, i) => [`#${i + 1}`, o.burst]),
    );
    const kinds = [...new Set(cols.flatMap((c) => Object.keys(c.b.serverLatency ?? {})))]
      .filter((k) => !k.startsWith('WATCH'))
      .sort();
    if (kinds.length) {
      push(
        '### API-server time per request during the burst (mean ms, requests in brackets)',
        '',
        table(
          ['request (all clients)', ...cols.map((c) => c.label)],
          kinds.map((k) => [
            `\`${k}\``,
            ...cols.map((c) => {
              const l = c.b.serverLatency?.[k];
              return l ? `${num(l.meanMs, 0)} (${l.count})` : '–';
            }),
          ]),
        ),
        '',
      );
    }
    const procs = [...new Set(cols.flatMap((c) => Object.keys(c.b.cpuMs)))];
    push(
      '### CPU time per process during the burst (s)',
      '',
      table(
        ['process', ...cols.map((c) => c.label)],
        [
          ...procs.map((p) => [p, ...cols.map((c) => num((c.b.cpuMs[p] ?? NaN) / 1000, 1))]),
          ['**total**', ...cols.map((c) => `**${num(sumCpu(c.b.cpuMs) / 1000, 1)}**`)],
        ],
      ),
      '',
    );
    const opCols = cols.filter((c) => c.b.operator);
    if (opCols.length) {
      const kinds = [...new Set(opCols.flatMap((c) => requestsPerSession(c.b).map(([k]) => k)))];
      push(
        '### The operator’s API requests per session',
        '',
        table(
          ['request', ...opCols.map((c) => c.label)],
          [
            ...kinds.map((k) => [
              `\`${k}\``,
              ...opCols.map((c) => num((c.b.operator!.requests[k] ?? 0) / c.b.sessions, 2)),
            ]),
            [
              '**total (no watches)**',
              ...opCols.map(
                (c) => `**${num(requestTotals(c.b.operator!.requests).nonWatch / c.b.sessions, 1)}**`,
              ),
            ],
          ],
        ),
        '',
      );
    }
  }

  if (r.steady) {
    const st = r.steady;
    push(
      `## Steady state: ${st.sessions} sessions`,
      '',
      `${st.sessions} sessions on ${st.nodes} nodes × 64 time-slices, brought up by the operator (${st.ramp.variant}) in ` +
        `${s1(st.ramp.allRunningMs)}, with \`VDI_START_DEADLINE_SECONDS=${st.ramp.startDeadlineSeconds}\`; none failed for waiting ` +
        '(a failed session fails the phase). Then the operator as shipped was started on them and measured.',
      '',
      table(
        ['', ''],
        [
          ['start → caches synced', `${s1(st.start.readyMs)} (${s1(st.start.cpuMs)} CPU)`],
          [
            'resync: reconcile of every cached session',
            `${s1(st.resync.ms)}${st.resync.completed ? '' : ' (not finished)'}, ${s1(st.resync.cpuMs)} operator CPU, ${s1(st.resync.apiserverCpuMs)} API-server CPU`,
          ],
          ['resync requests per session', num(st.resync.requestsPerSession, 1)],
          ['idle CPU (30 s window)', `${s1(st.idle.cpuMs)} (${pct(st.idle.cpuShare)} of a core)`],
          ['RSS with everything cached', mb(st.rssBytes)],
          ['peak RSS (VmHWM)', mb(st.peakRssBytes)],
          ['V8 heap used', mb(st.heapUsedBytes)],
          ...(st.memory ? memoryRows('operator', st.memory) : []),
          ['ramp operator peak RSS', mb(st.ramp.peakRssBytes)],
          ...Object.entries(st.objectBytes ?? {}).map(([kind, b]) => [
            `cached ${kind}: JSON per object (without managedFields)`,
            `${num(b.json / 1000, 1)} KB (${num(b.withoutManagedFields / 1000, 1)} KB)`,
          ]),
        ],
      ),
      '',
    );
  }

  if (r.api) {
    const a = r.api;
    push(
      `## API: ${a.sessionsInCluster} sessions in the cluster`,
      '',
      'The API as `npm start` runs it, its own process, real Keycloak tokens of the demo users (alice owns 3 of the ' +
        'sessions); once the API process is quiet (under 0.1 of a core over 2 s), autocannon: a 2 s warm-up, then the measurement.',
      '',
      table(
        ['query', 'user', 'clients', 'req/s', 'p50', 'p90', 'p99', 'max', 'errors / non-2xx', 'answer ok'],
        a.queries.map((q) => [
          `\`${q.name}\``,
          q.user,
          String(q.clients),
          num(q.perSecond, 0),
          ms0(q.latencyMs.p50),
          ms0(q.latencyMs.p90),
          ms0(q.latencyMs.p99),
          ms0(q.latencyMs.max),
          `${q.errors} / ${q.non2xx}`,
          q.sampleOk ? 'yes' : 'no',
        ]),
      ),
      '',
      `**createSession:** ${a.create.ok} of ${a.create.calls} created with ${a.create.clients} in flight (alice, bob and admin in turn) in ` +
        `${s1(a.create.ms)}: ${num(a.create.perSecond, 1)}/s, latency p50 ${ms0(a.create.latencyMs.p50)}, p99 ${ms0(a.create.latencyMs.p99)}` +
        (a.create.failed
          ? `; failures: ${Object.entries(a.create.failures)
              .map(([k, n]) => `${k} ×${n}`)
              .join(', ')}`
          : '') +
        `. API process: ` +
        (apiCreatePeakRss(a) !== undefined ? `peak RSS ${mb(apiCreatePeakRss(a)!)} during the phase, ` : '') +
        `${mb(a.apiRssBytes)} RSS after it, ${s1(a.apiCpuMs)} CPU over the phase.`,
      '',
    );
    const measured = a.queries.filter((q) => q.cpuMs);
    if (measured.length) {
      const procs = [...new Set(measured.flatMap((q) => Object.keys(q.cpuMs!)))];
      const cores = (q: ApiQueryResult, ms: number) => num(ms / (q.durationSeconds * 1000), 2);
      push(
        'Cores used by each process while each query was measured (CPU time over the window ÷ its length; ' +
          'autocannon’s clients run in the benchmark client), and the API’s garbage-collection pauses in that window:',
        '',
        table(
          ['process', ...measured.map((q) => `\`${q.name}\``)],
          [
            ...procs.map((p) => [p, ...measured.map((q) => cores(q, q.cpuMs![p] ?? NaN))]),
            ['**total**', ...measured.map((q) => `**${cores(q, sumCpu(q.cpuMs!))}**`)],
            [
              'operator: API requests in the window (most first)',
              ...measured.map((q) =>
                q.operatorRequests
                  ? Object.entries(q.operatorRequests)
                      .sort(([, a], [, b]) => b - a)
                      .slice(0, 3)
                      .map(([k, n]) => `${k} ${n}`)
                      .join(', ') || 'none'
                  : '–',
              ),
            ],
            [
              'API GC pauses: count, ms (major: count, ms)',
              ...measured.map((q) =>
                q.gc
                  ? `${q.gc.count}, ${num(q.gc.ms, 0)} (${q.gc.majorCount}, ${num(q.gc.majorMs, 0)})`
                  : '–',
              ),
            ],
          ],
        ),
        '',
      );
    }
    if (a.memory)
      push(
        'The API process right after the createSession calls (the probe inside it, `v8.getHeapSpaceStatistics()`):',
        '',
        table(['', ''], memoryRows('API', a.memory)),
        '',
      );
  }

  if (r.chaos) {
    const c = r.chaos;
    const inv = c.invariants;
    push(
      `## Chaos: a churn of ${c.sessions} sessions`,
      '',
      `On a throw-away cluster of its own. Sessions were created over ${s1(c.churnMs)}, ${c.deleted} deleted and ${c.recreated} created again ` +
        `under a deleted name, while the operator was SIGKILLed every ${o.chaosKillMinSeconds}–${o.chaosKillMaxSeconds} s ` +
        `(and restarted at once, same identity) and kube-apiserver was killed and restarted once. Then no more faults.`,
      '',
      table(
        ['', ''],
        [
          ['operator SIGKILLs / starts', `${c.kills} / ${c.operatorStarts}`],
          ['API server away', c.apiserverDownMs !== undefined ? s1(c.apiserverDownMs) : '–'],
          ['client calls retried', String(c.clientRetries)],
          [
            'time to converge after the churn',
            `${c.converged ? '' : 'not converged after '}${s1(c.convergeMs)}`,
          ],
          [
            'live sessions, all Running',
            `${c.live}, ${inv.notRunning.length === 0 ? 'yes' : `no: ${inv.notRunning.length} not Running`}`,
          ],
          ['leaked children', String(inv.leakedChildren.length)],
          ['duplicate pods', String(inv.duplicatePods.length)],
          ['stuck finalizers', String(inv.stuckFinalizers.length)],
          ['sessions not as the churn left them', String(inv.unexpected.length)],
          [
            'delete everything afterwards',
            c.drain
              ? `${s1(c.drain.ms)}; ${c.drain.sessionsLeft} sessions, ${c.drain.childrenLeft} children, ${c.drain.stuckFinalizers.length} stuck finalizers left`
              : '–',
          ],
        ],
      ),
      '',
    );
    if (problemCount(inv) > 0)
      push(
        'Problems:',
        '',
        ...[
          ...inv.leakedChildren,
          ...inv.duplicatePods,
          ...inv.stuckFinalizers,
          ...inv.notRunning,
          ...inv.unexpected,
        ]
          .slice(0, 20)
          .map((p) => `- ${p}`),
        '',
      );
  }

  const facts = computedFacts(r);
  if (facts.length) push('## Computed from the run', '', ...facts.map((f) => `- ${f}`), '');
  const prof = r.profile?.result.profile;
  if (prof) {
    push(
      `### Profile of the operator during a burst of ${r.profile!.result.burst.sessions} (\`--cpu-prof\`, ${r.profile!.variant})`,
      '',
      table(
        ['category (self time)', 'ms', 'share'],
        prof.byCategory.slice(0, 14).map((c) => [c.category, num(c.ms, 0), pct(c.share)]),
      ),
      '',
      table(
        ['function (self time)', 'where', 'ms', 'share'],
        prof.topSelf
          .slice(0, 12)
          .map((f) => [`\`${f.fn}\``, f.where || f.category, num(f.ms, 0), pct(f.share)]),
      ),
      '',
      table(
        ['our function (inclusive)', 'where', 'ms', 'share'],
        prof.topInclusive.slice(0, 10).map((f) => [`\`${f.fn}\``, f.where, num(f.ms, 0), pct(f.share)]),
      ),
      '',
    );
  }
  push(
    '## How it was measured',
    '',
    '- `npm run bench` (see bench/README.md): everything from cold — the cluster is started for the run and removed after it.',
    '- The operator runs as its own process from a bundle of its sources (bench/src/build.ts; plain JS as in production, no TypeScript loader). ' +
      'CPU time and RSS from /proc/<pid>; its API requests are counted inside it by a preloaded probe on Node’s ' +
      '`http.client.request.start` diagnostics channel; API-server totals from the API server’s own `apiserver_request_total`.',
    '- Each burst runs on GPU nodes created for it (a run label and taint), in a namespace of its own, removed afterwards.',
    '- Percentiles interpolate between ranks; all times are wall-clock of the benchmark process.',
    '',
  );
  return lines.join('\n');
}
