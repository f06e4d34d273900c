/**
 * The benchmark report: everything measured (the JSON file), the targets judged from it, the
 * Markdown report and its chart. Pure: the measured data in, text out.
 */
import type { ApiResult } from './api.js';
import type { BurstResult } from './burst.js';
import type { OperatorPhaseResult } from './bursts.js';
import type { ChaosResult } from './chaos.js';
import { renderChart, type Panel } from './chart.js';
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
  operator?: OperatorPhaseResult;
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

/** The operator's VDI_WORKERS default (apps/operator/src/config.ts). */
export const DEFAULT_WORKERS = 4;

export const TARGETS = {
  ratio: 1.5,
  podP99Ms: 250,
  rssBytes: 300 * 1e6,
  apiP99Ms: 50,
} as const;

export interface TargetResult {
  id: keyof typeof TARGETS | DesktopTarget['id'];
  target: string;
  value: string;
  met: boolean | undefined;
  /** Why not, and what would fix it (empty when met). */
  why: string;
}

const s1 = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const ms0 = (ms: number) => (Number.isFinite(ms) ? `${Math.round(ms)} ms` : '–');
const mb = (b: number) => (Number.isFinite(b) ? `${Math.round(b / 1e6)} MB` : '–');
const pct = (x: number) => (Number.isFinite(x) ? `${Math.round(x * 100)} %` : '–');
const num = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');

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

/**
 * What some of the operator's functions do, for the profile's hot spots: per-event or
 * per-reconcile work that scans a whole cache grows with the cluster (O(N²) over a burst).
 */
export const HOTSPOTS: Record<string, string> = {
  claim:
    'the home-claim event handler (apps/operator/src/main.ts) hashes the owner of every cached session for each claim event ' +
    '(identityHash, SHA-256): O(sessions) per event, O(N²) over a burst. An index of sessions by user hash removes it.',
  identityHash:
    'SHA-256 of a user identity, called per cached session by the claim event handler (see `claim`).',
  slices:
    'every reconcile recounts the free GPU time-slices over every cached node and pod (gpuCapacity): O(pods) per reconcile, ' +
    'O(N²) over a burst. A count kept up to date by the pod and node events removes it.',
  gpuCapacity: 'the time-slice count behind `slices`, over every cached pod.',
};

/** Our functions from the profile with an explanation in HOTSPOTS and at least `minShare` inclusive time. */
export function hotspots(p: ProfileSummary, minShare = 0.03): { fn: string; share: number; what: string }[] {
  const seen = new Set<string>();
  return p.topInclusive
    .filter((f) => HOTSPOTS[f.fn] && f.share >= minShare && !seen.has(f.fn) && seen.add(f.fn))
    .map((f) => ({ fn: f.fn, share: f.share, what: HOTSPOTS[f.fn]! }));
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

export function evaluateTargets(r: BenchReport): TargetResult[] {
  const out: TargetResult[] = [];
  const floor = r.floor;
  const op = r.operator?.burst;
  const whatifs = (r.whatif ?? []).map((w) => ({
    ...w,
    ratio: floor ? ratio(w.result.burst.allRunningMs, floor.allRunningMs) : NaN,
  }));

  if (floor && op) {
    const q = ratio(op.allRunningMs, floor.allRunningMs);
    const met = q <= TARGETS.ratio;
    const o = op.operator;
    const added = o ? requestsPerSession(op).filter(([k]) => /vdisessions|events/.test(k)) : [];
    out.push({
      id: 'ratio',
      target: `operator end-to-end ≤ ${TARGETS.ratio}× the floor (${op.sessions} sessions)`,
      value: `${num(q, 2)}× (${s1(op.allRunningMs)} vs ${s1(floor.allRunningMs)})`,
      met,
      why: met
        ? ''
        : `The operator sends ${num(o?.requestsPerSession ?? NaN)} API requests per session where the floor sends ${num(floor.objectsPerSession + 1, 0)} ` +
          `(it adds ${added.map(([k, n]) => `${num(n, 1)} ${k}`).join(', ') || 'status and Event writes'}), and each of its ${DEFAULT_WORKERS} workers ` +
          `sends a session's requests one after another, while the floor writes with ${floor.concurrency} clients at once` +
          (o ? ` (a reconcile took ${ms0(o.reconcileMs / Math.max(1, o.reconciles))} on average)` : '') +
          '. Fix: more workers' +
          (whatifs.length
            ? ` (measured: ${whatifs.map((w) => `${w.label} ${num(w.ratio, 2)}×`).join(', ')})`
            : '') +
          ', applying a session’s independent children in parallel, and fewer writes per session (status and Events).',
    });
  }
  if (op) {
    const p99 = op.createToPod.p99;
    const met = p99 <= TARGETS.podP99Ms;
    const passes = op.operator ? op.operator.reconciles / op.sessions : NaN;
    out.push({
      id: 'podP99Ms',
      target: `p99 create → pod created ≤ ${TARGETS.podP99Ms} ms (${op.sessions}-session burst)`,
      value: `${ms0(p99)}` + (floor ? ` (floor: ${ms0(floor.createToPod.p99)})` : ''),
      met,
      why: met
        ? ''
        : `All ${op.sessions} sessions arrive within ${s1(op.createsIssuedMs)} and wait in one FIFO queue. A session takes ` +
          `${num(passes, 1)} reconciles: the first only adds the finalizer and returns (its own update event puts the session at ` +
          `the back of the queue), the second applies the children and creates the pod, the later ones write status. So a pod ` +
          `is created about two passes over the whole burst after its session (p50 ${ms0(op.createToPod.p50)}), at the ` +
          `${num(rate(op), 1)} sessions/s the API server allows here` +
          (floor
            ? ` (the floor, writing each session's objects at once, has p99 ${ms0(floor.createToPod.p99)})`
            : '') +
          '. Fix: carry on after adding the finalizer in the same reconcile (one pass instead of two), and create the pod ' +
          'before the objects it does not need to start; beyond that the API server’s write rate bounds it — at this ' +
          `machine's rate a 250 ms p99 holds for bursts spread over ≥ ${s1(op.allRunningMs)}, not ${op.sessions} sessions at once.`,
    });
  }
  if (r.steady) {
    const st = r.steady;
    const peak = st.peakRssBytes;
    const met = peak <= TARGETS.rssBytes;
    const sizes = Object.values(st.objectBytes ?? {});
    const json = sizes.reduce((a, x) => a + x.json, 0);
    const lean = sizes.reduce((a, x) => a + x.withoutManagedFields, 0);
    out.push({
      id: 'rssBytes',
      target: `operator peak RSS ≤ 300 MB with ${st.sessions} sessions`,
      value: `${mb(peak)} peak, ${mb(st.rssBytes)} steady`,
      met,
      why: met
        ? ''
        : `The caches hold every session, desktop pod and home claim whole: ${mb(st.heapUsedBytes)} of V8 heap ` +
          `(≈ ${num(st.heapUsedBytes / st.sessions / 1000, 0)} KB per session)` +
          (json > 0
            ? `, for ${num(json / 1000, 1)} KB of JSON per session of which managedFields are ${pct(1 - lean / json)}`
            : '') +
          `; the process starts at ~150 MB (Node and @kubernetes/client-node). Fix: strip managedFields and fields reconcile ` +
          `never reads before caching (an informer transform), keep pods as the few fields reconcile uses, and cap the ` +
          `heap (--max-old-space-size) so V8 collects sooner.`,
    });
  }
  const sessionsQuery = r.api?.queries.find((q) => q.name === 'sessions');
  if (sessionsQuery && r.api) {
    const p99 = sessionsQuery.latencyMs.p99;
    const met = p99 <= TARGETS.apiP99Ms && sessionsQuery.sampleOk && sessionsQuery.non2xx === 0;
    out.push({
      id: 'apiP99Ms',
      target: `API p99 ≤ ${TARGETS.apiP99Ms} ms for \`sessions\` at ${sessionsQuery.clients} clients`,
      value: `${ms0(p99)} (${num(sessionsQuery.perSecond, 0)} req/s, ${r.api.sessionsInCluster} sessions in the cluster)`,
      met,
      why: met
        ? ''
        : !sessionsQuery.sampleOk || sessionsQuery.non2xx > 0
          ? 'The query did not answer correctly (see the API section).'
          : `At ${num(sessionsQuery.perSecond, 0)} req/s one Node process answers with 50 requests queued: latency ≈ queue length × service time ` +
            `(${ms0(sessionsQuery.latencyMs.p50)} p50). Every request verifies the JWT and filters all cached sessions by owner. ` +
            `Fix: an index of sessions by owner in the cache, a cheaper per-request path, or more API replicas/cores.`,
    });
  }
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

/** What the data says dominates the cost, as sentences. */
export function analysis(r: BenchReport): string[] {
  const out: string[] = [];
  const op = r.operator?.burst;
  const floor = r.floor;
  if (op) {
    const total = sumCpu(op.cpuMs);
    const api = op.cpuMs['kube-apiserver'] ?? NaN;
    const etcd = op.cpuMs.etcd ?? NaN;
    const opCpu = op.cpuMs.operator ?? NaN;
    out.push(
      `**The API server is the bottleneck of every burst.** In the operator burst it used ${s1(api)} of CPU ` +
        `(${pct(api / total)} of all CPU the cluster, the operator and the benchmark used; etcd ${s1(etcd)}, the operator ${s1(opCpu)}). ` +
        `It served ${num(op.apiserverRequests / op.sessions, 1)} requests per session from all clients ` +
        `(the operator ${num(op.operator?.requestsPerSession ?? NaN, 1)}, the rest the controller manager, scheduler, kwok, ` +
        `the storage provisioner and the benchmark's watches)` +
        (floor
          ? `; the floor needed ${num(floor.apiserverRequests / floor.sessions, 1)} and ${s1(floor.cpuMs['kube-apiserver'] ?? NaN)} of API-server CPU.`
          : '.') +
        ` That is ${num(api / op.apiserverRequests, 1)} ms of API-server CPU per request on this machine: server-side apply ` +
        `computes managed fields over whole objects, the Traefik objects are validated against their CRD schemas, and every ` +
        `write goes out to every watcher.`,
    );
    const slow = slowestWrite(op);
    if (slow) {
      out.push(
        `**The slowest write is \`${slow.kind}\`:** ${ms0(slow.meanMs)} on average on the API server during the operator burst, ` +
          `against a median of ${ms0(slow.othersMs)} for the other writes` +
          (floor?.serverLatency[slow.kind]
            ? ` (the floor's: ${ms0(floor.serverLatency[slow.kind]!.meanMs)})`
            : '') +
          '.' +
          (slow.kind === 'APPLY services'
            ? ' Creating a Service allocates its ClusterIP (an IPAddress object per Service), and the allocations of concurrent ' +
              'creations wait for each other: the rate at which the cluster creates Services bounds the rate of new desktops. ' +
              'A headless desktop Service (`clusterIP: None`; Traefik routes to the endpoints, not the ClusterIP) would skip it.'
            : ''),
      );
    }
    const reqs = requestsPerSession(op);
    if (reqs.length) {
      const writes = reqs.filter(([k]) => !k.startsWith('GET ') && !k.startsWith('LIST '));
      const extra = reqs
        .filter(([k]) => /vdisessions|events/.test(k))
        .map(([k, n]) => `${num(n, 1)} ${k}`)
        .join(', ');
      out.push(
        `**The operator's requests per session:** ${reqs.map(([k, n]) => `${k} ${num(n, 2)}`).join(', ')}. ` +
          `${num(
            writes.reduce((a, [, n]) => a + n, 0),
            1,
          )} of them are writes; beyond the children the floor also writes, ` +
          `the operator adds ${extra || 'nothing'} (finalizer, phase changes and their Events).`,
      );
    }
    const o = op.operator;
    if (o) {
      const mean = o.reconcileMs / Math.max(1, o.reconciles);
      out.push(
        `**Queueing, not work, makes the latency.** A reconcile took ${ms0(mean)} on average, nearly all of it waiting for ` +
          `the API server (the operator used ${s1(o.cpuMs)} of CPU for ${s1(o.reconcileMs)} spent in reconciles); ` +
          `${num(o.reconciles / op.sessions, 1)} reconciles per session with ${DEFAULT_WORKERS} workers allow at most ` +
          `${num((DEFAULT_WORKERS * 1000) / (mean * (o.reconciles / op.sessions)), 1)} sessions/s (measured ${num(rate(op), 1)}). ` +
          `New sessions and the status updates of sessions whose pods already run share one FIFO queue, so a session is ` +
          `reported Running only after the creation work queued ahead of it (create → pod p50 ${ms0(op.createToPod.p50)}, ` +
          `create → Running p50 ${ms0(op.createToRunning.p50)}).`,
      );
    }
  }
  const prof = r.profile?.result.profile;
  if (prof) {
    const ours = prof.byCategory.filter((c) => /^(apps|libs)\//.test(c.category));
    const oursShare = ours.reduce((a, c) => a + c.share, 0);
    out.push(
      `**The operator's CPU profile** during the burst (${r.profile!.variant}, ${s1(prof.busyMs)} of CPU in ${s1(prof.durationMs)}): ` +
        prof.byCategory
          .slice(0, 8)
          .map((c) => `${c.category} ${pct(c.share)}`)
          .join(', ') +
        `. The platform's own code is ${pct(oursShare)} (${ours.map((c) => `${c.category} ${pct(c.share)}`).join(', ') || 'none'}); ` +
        `the rest is HTTP/TLS, JSON, the client library and GC, i.e. the cost of talking to the API server. ` +
        `Top functions by self time: ${prof.topSelf
          .slice(0, 6)
          .map((f) => `${f.fn} (${f.where || f.category}) ${pct(f.share)}`)
          .join('; ')}.`,
    );
    const hot = hotspots(prof);
    if (hot.length)
      out.push(
        '**Hot spots in the operator’s own code** (inclusive share of its CPU): ' +
          hot.map((h) => `\`${h.fn}\` ${pct(h.share)} — ${h.what}`).join(' '),
      );
  }
  for (const w of r.whatif ?? []) {
    const b = w.result.burst;
    if (!floor || !op) break;
    const mine = r.load[`whatif: ${w.label}`]?.cpuPressure ?? NaN;
    const theirs = r.load.operator?.cpuPressure ?? NaN;
    out.push(
      `**What-if — ${w.label}:** all Running after ${s1(b.allRunningMs)} (${num(ratio(b.allRunningMs, floor.allRunningMs), 2)}× the floor, ` +
        `as shipped ${num(ratio(op.allRunningMs, floor.allRunningMs), 2)}×), operator CPU ${s1(b.operator?.cpuMs ?? NaN)} ` +
        `(as shipped ${s1(op.operator?.cpuMs ?? NaN)}), API-server CPU ${s1(b.cpuMs['kube-apiserver'] ?? NaN)} ` +
        `(as shipped ${s1(op.cpuMs['kube-apiserver'] ?? NaN)}); \`${slowestWrite(b)?.kind ?? '–'}\` took ` +
        `${ms0(slowestWrite(b)?.meanMs ?? NaN)} on the API server. More workers put more requests in flight on an API server ` +
        'that is already the bottleneck, so they do not help here' +
        (Math.abs(mine - theirs) > 0.15
          ? ` — though the machine was not the same: CPU pressure ${pct(mine)} in this run, ${pct(theirs)} in the operator run.`
          : '.'),
    );
  }
  if (r.api) {
    const a = r.api;
    const q = (name: string) => a.queries.find((x) => x.name === name);
    const row = (name: string) => {
      const x = q(name);
      return x ? `\`${name}\` ${num(x.perSecond, 0)} req/s, p99 ${ms0(x.latencyMs.p99)}` : undefined;
    };
    out.push(
      `**The API** answered ${[row('templates'), row('sessions'), row('capacity'), row('sessions(all: true)')].filter(Boolean).join('; ')} ` +
        `with ${a.sessionsInCluster} sessions in the cluster. Every request verifies its JWT; \`sessions\` then copies and filters ` +
        `the whole session cache by owner, and \`capacity\` recounts the free time-slices from every cached desktop pod — ` +
        `per request work that grows with the cluster, where \`templates\` does not. An index of sessions by owner and a ` +
        `capacity count kept up to date by the pod informer's events would make both independent of the cluster's size; ` +
        `the rest is one Node process on a shared 2-core machine (the API used ${s1(a.apiCpuMs)} of CPU in the phase, and ` +
        `reached ${mb(a.apiRssBytes)} RSS answering everyone's sessions to 50 admins at once). ` +
        `\`createSession\` made ${num(a.create.perSecond, 1)} sessions/s (p50 ${ms0(a.create.latencyMs.p50)}): each takes the ` +
        `user's Lease, counts the user's sessions with a live LIST and creates the session, so one user's creations queue ` +
        `behind each other — the throughput scales with the number of distinct users, not with clients.`,
    );
  }
  if (r.steady) {
    const st = r.steady;
    out.push(
      `**Resync:** reconciling all ${st.sessions} cached sessions took ${s1(st.resync.ms)} and ${s1(st.resync.cpuMs)} of operator CPU ` +
        `(${s1(st.resync.apiserverCpuMs)} of API-server CPU): after \`forgetApplied()\` every session's ${num(st.resync.requestsPerSession, 1)} ` +
        `requests are sent again although nothing changed. A resync that compares with the cached children (or only re-applies ` +
        `the TURN secret when its window turns) would cost a fraction of that.`,
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
      target: { value: TARGETS.apiP99Ms, label: `target p99 ${TARGETS.apiP99Ms} ms (sessions)` },
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
        ['target', 'measured', 'met', 'why not, and what would fix it'],
        targets.map((t) => [
          t.target,
          t.value,
          t.met === undefined ? '–' : t.met ? '✅ yes' : '❌ no',
          t.why || '',
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
        'The floor is the benchmark writing the same objects itself (session, then the children the operator would write, rendered by ' +
        'libs/session-spec, in the operator’s order, server-side applied, over kept-alive connections); Running = pod Running and Ready. ' +
        'For the operator, Running = the session’s status.',
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
    if ((r.floors?.length ?? 0) > 1) {
      push(
        '### Floor runs (the fastest is the floor above)',
        '',
        table(
          [
            'parallel writers',
            'time until all Running',
            'creations issued in',
            'create → pod p99',
            'create → Running p99',
          ],
          r.floors!.map((f) => [
            String(f.concurrency),
            s1(f.allRunningMs),
            s1(f.createsIssuedMs),
            ms0(f.createToPod.p99),
            ms0(f.createToRunning.p99),
          ]),
        ),
        '',
      );
    }
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
        `${s1(st.ramp.allRunningMs)}, with \`VDI_START_DEADLINE_SECONDS=${st.ramp.startDeadlineSeconds}\`: with the default 300 s, ` +
        'every session still queued five minutes into the ramp is failed for good (StartDeadlineExceeded is final), although its ' +
        'pod runs — a burst larger than the operator works through in five minutes loses sessions. ' +
        'Then the operator as shipped was started on them and measured.',
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
      'The API as `npm start` runs it, its own process, real Keycloak tokens; autocannon, 2 s warm-up then the measurement. ' +
        '`sessions` and `capacity` as alice (3 sessions of her own), `sessions(all: true)` as admin (every session).',
      '',
      table(
        ['query', 'clients', 'req/s', 'p50', 'p90', 'p99', 'max', 'errors / non-2xx', 'answer ok'],
        a.queries.map((q) => [
          `\`${q.name}\``,
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
        `. API process: ${mb(a.apiRssBytes)} RSS, ${s1(a.apiCpuMs)} CPU over the phase.`,
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

  const why = analysis(r);
  if (why.length) push('## What dominates the cost', '', ...why.flatMap((w) => [w, '']));
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
