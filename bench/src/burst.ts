/**
 * A burst of session creations, measured the same way for the floor and for the operator.
 *
 * - floor: the benchmark plays an ideal controller: `writers` lanes take each session as soon as
 *   its creation is answered, in creation order, and write the children the operator would
 *   (rendered by libs/session-spec with the operator's options, server-side applied in the
 *   operator's order under its field manager); kwok makes the pods Running. No finalizer, no
 *   status, no watch delay: the least any controller could do.
 * - operator: the operator (its own process) does the rest and reports Running in the session's
 *   status.
 *
 * Both get the same arrivals: the sessions are created by the same `concurrency` creation lanes,
 * so a floor session waits for a writer just as an operator session waits in the work queue.
 * Each creation is stamped just before its request; the pod and Running are watched from the
 * same process.
 */
import type * as k8s from '@kubernetes/client-node';
import type { VDISession, VDITemplate } from '@vdi/crd-types';
import type { KubeJsonClient, KubeObject } from '@vdi/kube-client';
import { FIELD_MANAGER, MANAGED_SELECTOR, desiredSession, type PlatformOptions } from '@vdi/session-spec';
import type { BenchCluster } from './cluster.js';
import { TEST_SESSION_KEY } from '@vdi/testing';
import { CHILD_KINDS, createSession } from './kube.js';
import type { OperatorProcess } from './operator.js';
import { metricSum, serverLatencies, type RequestLatency } from './prom.js';
import { delta, sampleProcess } from './proc.js';
import { countsDelta, requestTotals } from './requests.js';
import { cumulative, summarize, type Summary } from './stats.js';
import { Timeline } from './timeline.js';

export type BurstMode = 'floor' | 'operator';

export interface BurstResult {
  mode: BurstMode;
  /** Wall-clock ms of the first creation and of the last session seen Running. */
  startedAt: number;
  endedAt: number;
  sessions: number;
  /** Session creations in flight. */
  concurrency: number;
  /** floor: parallel writers of the children (absent in reports before arrivals were shared). */
  writers?: number;
  /** First creation → last creation answered, ms. */
  createsIssuedMs: number;
  /** First creation → last session seen Running, ms. */
  allRunningMs: number;
  createToPod: Summary;
  createToRunning: Summary;
  /**
   * Create → the desktop pod Running and Ready, and the first creation → the last pod Ready, ms
   * (absent in reports from before it was measured). In a floor run this is Running; in an
   * operator run what follows it is the operator's report of it.
   */
  createToPodReady?: Summary;
  lastPodReadyMs?: number;
  /** Operator runs: the pod Ready → the session's status Running, ms. */
  podReadyToRunning?: Summary;
  /** [ms after the first creation, sessions Running]. */
  curve: [number, number][];
  /** CPU time per process over the burst (control plane components, operator, benchmark), ms. */
  cpuMs: Record<string, number>;
  /** Requests the API server served during the burst (all clients), from its own metrics. */
  apiserverRequests: number;
  /** Server-side mean duration by request kind (kinds served at least sessions/2 times). */
  serverLatency: Record<string, RequestLatency>;
  /** Objects written per session (floor) or found per session afterwards (operator). */
  objectsPerSession: number;
  operator?: OperatorBurstStats;
}

export interface OperatorBurstStats {
  cpuMs: number;
  peakRssBytes: number;
  /** Requests to the API server by `VERB resource` during the burst. */
  requests: Record<string, number>;
  requestsPerSession: number;
  reconciles: number;
  reconcileErrors: number;
  /** Time spent inside reconciles (sum over all workers), ms. */
  reconcileMs: number;
}

export interface BurstContext {
  cluster: BenchCluster;
  client: KubeJsonClient;
  namespace: string;
  template: VDITemplate;
  log: (msg: string) => void;
}

/** Runs `fn` over 0..n-1 with at most `limit` calls in flight. */
export async function inLanes(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, lane));
}

/** Created sessions in the order their creation was answered, taken one at a time by writers. */
class Arrivals<T> {
  private readonly items: T[] = [];
  private readonly waiting: ((t: T) => void)[] = [];
  push(t: T): void {
    const w = this.waiting.shift();
    if (w) w(t);
    else this.items.push(t);
  }
  next(): Promise<T> {
    const t = this.items.shift();
    return t !== undefined ? Promise.resolve(t) : new Promise((resolve) => this.waiting.push(resolve));
  }
}

/** Session names of a burst: `s-00001`, … (sortable, DNS-1035). */
export const sessionName = (prefix: string, i: number) => `${prefix}-${String(i).padStart(5, '0')}`;
/** Each session its own user, as in a real burst of logins. */
export const userOf = (name: string) => `${name}@bench.example.com`;
/** The issuer of the burst's users' identities. */
export const BENCH_ISSUER = 'https://id.bench.example.com/realms/vdi';
/** The owner the API would write for that user (issuer + subject), so the operator sees what it sees in production. */
export const ownerOf = (name: string) => ({ issuer: BENCH_ISSUER, subject: `${name}-sub` });

/** CPU time of every control-plane process, the operator and this process, ms. */
export function cpuNow(cluster: BenchCluster, operator?: OperatorProcess): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of cluster.processes()) {
    const s = sampleProcess(p.pid);
    if (s) out[p.name] = s.cpuMs;
  }
  if (operator) {
    const s = operator.sample();
    if (s) out.operator = s.cpuMs;
  }
  const self = process.cpuUsage();
  out['benchmark client'] = (self.user + self.system) / 1000;
  return out;
}

/** The API server's own /metrics. */
export async function apiserverMetrics(client: KubeJsonClient): Promise<string> {
  return (await client.request('GET', '/metrics')).text;
}

/**
 * What the operator would write for `session`, in its apply order (the pod right after what it
 * mounts and its network policy, with the encoder decision recorded on it): libs/session-spec's desiredSession, which the operator itself calls,
 * with the operator's session key and the run's GPU nodes (no desktop pods yet: a burst starts on
 * empty nodes).
 */
export function operatorObjects(
  session: VDISession,
  template: VDITemplate,
  options: PlatformOptions,
  nodes: readonly k8s.V1Node[],
): KubeObject[] {
  return desiredSession(session, template, options, { nodes, pods: [], sessionKey: TEST_SESSION_KEY })
    .objects as KubeObject[];
}

/** The floor's writer: every child of a created session, in the operator's order and field manager. */
export function floorWriter(ctx: BurstContext, nodes: k8s.V1Node[], options: PlatformOptions) {
  return async (session: VDISession): Promise<number> => {
    const objects = operatorObjects(session, ctx.template, options, nodes);
    for (const obj of objects) await ctx.client.apply(obj, FIELD_MANAGER);
    return objects.length;
  };
}

/** Counts the children the operator wrote (objects with the session label) per session. */
async function childrenPerSession(
  client: KubeJsonClient,
  namespace: string,
  sessions: number,
): Promise<number> {
  let n = 0;
  for (const [base, plural] of CHILD_KINDS) {
    const r = await client.call<{ items: unknown[] }>(
      'GET',
      `${base}/namespaces/${namespace}/${plural}?labelSelector=${encodeURIComponent(MANAGED_SELECTOR)}`,
    );
    n += r.items.length;
  }
  return n / sessions;
}

export interface BurstOptions {
  mode: BurstMode;
  sessions: number;
  /** Session creations in flight (the arrivals, the same for floor and operator). */
  concurrency: number;
  /** floor: parallel writers of the children (the ideal controller's workers). */
  writers?: number;
  prefix: string;
  timeoutMs: number;
  /** floor: writes one created session's children, returns the objects written. */
  writeFloor?: (session: VDISession) => Promise<number>;
  operator?: OperatorProcess;
}

/**
 * When the pods were Ready, as seen in `timeline`, for the sessions whose pod was seen Ready
 * (an operator run ends when the last status says Running, and a pod's own event can come after
 * that); `reported`: an operator run, whose Running is the session's status written after it.
 */
export function podReadyFacts(
  names: readonly string[],
  t0: number,
  timeline: Pick<Timeline, 'created' | 'podReady' | 'running'>,
  reported: boolean,
): Pick<BurstResult, 'createToPodReady' | 'lastPodReadyMs' | 'podReadyToRunning'> {
  const seen = names.filter((n) => timeline.podReady.has(n));
  if (seen.length === 0) return {};
  const ready = (n: string) => timeline.podReady.get(n)!;
  const running = seen.filter((n) => timeline.running.has(n));
  return {
    createToPodReady: summarize(seen.map((n) => ready(n) - timeline.created.get(n)!)),
    lastPodReadyMs: Math.max(...seen.map(ready)) - t0,
    // Two watches: the status can be seen a moment before the pod's own event.
    ...(reported
      ? { podReadyToRunning: summarize(running.map((n) => Math.max(0, timeline.running.get(n)! - ready(n)))) }
      : {}),
  };
}

export async function runBurst(ctx: BurstContext, o: BurstOptions): Promise<BurstResult> {
  const timeline = new Timeline(
    ctx.cluster.kc,
    ctx.namespace,
    o.mode === 'floor' ? 'pod-ready' : 'session-status',
  );
  await timeline.start();
  const names = Array.from({ length: o.sessions }, (_, i) => sessionName(o.prefix, i));
  const cpuBefore = cpuNow(ctx.cluster, o.operator);
  const apiBefore = await apiserverMetrics(ctx.client);
  const probeBefore = o.operator ? await o.operator.probe() : undefined;
  const metricsBefore = o.operator ? await o.operator.metrics() : '';
  let peakRss = 0;
  const rssTimer = setInterval(() => {
    const s = o.operator?.sample();
    if (s) peakRss = Math.max(peakRss, s.rssBytes);
  }, 100);
  let written = 0;
  const t0 = Date.now();
  let issued = 0;
  let cpuAfter: Record<string, number>;
  let apiAfter: string;
  try {
    const arrivals = new Arrivals<VDISession>();
    const writing =
      o.mode === 'floor'
        ? inLanes(o.sessions, o.writers ?? o.concurrency, async () => {
            const n = await o.writeFloor!(await arrivals.next());
            written += n;
          })
        : Promise.resolve();
    await inLanes(o.sessions, o.concurrency, async (i) => {
      const name = names[i]!;
      timeline.created.set(name, Date.now());
      const s = await createSession(
        ctx.client,
        ctx.namespace,
        name,
        ctx.template.metadata.name!,
        userOf(name),
        ownerOf(name),
      );
      arrivals.push(s as unknown as VDISession);
    });
    issued = Date.now() - t0;
    await writing;
    ctx.log(`${o.mode}: ${o.sessions} creations issued in ${(issued / 1000).toFixed(1)} s`);
    let lastReport = 0;
    const op = o.operator;
    await timeline.waitAllRunning(names, o.timeoutMs, (n) => {
      // An operator that died ends the wait at once, with what it said last.
      if (op && !op.alive())
        throw new Error(
          `the operator exited (${op.proc.exitCode ?? op.proc.signalCode}) with ${n} of ${o.sessions} sessions Running; its last lines:\n${op.logs.slice(-15).join('\n')}`,
        );
      if (Date.now() - lastReport > 5_000) {
        lastReport = Date.now();
        ctx.log(`${o.mode}: ${n}/${o.sessions} Running after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      }
    });
    cpuAfter = cpuNow(ctx.cluster, o.operator);
    apiAfter = await apiserverMetrics(ctx.client);
  } finally {
    clearInterval(rssTimer);
    await timeline.stop();
  }
  const end = Math.max(...names.map((n) => timeline.running.get(n)!));

  const cpuMs = delta(cpuBefore, cpuAfter);
  const since = (m: Map<string, number>) => names.map((n) => m.get(n)! - timeline.created.get(n)!);
  const result: BurstResult = {
    mode: o.mode,
    startedAt: t0,
    endedAt: end,
    sessions: o.sessions,
    concurrency: o.concurrency,
    ...(o.mode === 'floor' ? { writers: o.writers ?? o.concurrency } : {}),
    createsIssuedMs: issued,
    allRunningMs: end - t0,
    createToPod: summarize(since(timeline.podCreated)),
    createToRunning: summarize(since(timeline.running)),
    ...podReadyFacts(names, t0, timeline, o.mode === 'operator'),
    curve: cumulative(
      names.map((n) => timeline.running.get(n)! - t0),
      Math.max(100, Math.ceil((end - t0) / 200)),
    ),
    cpuMs,
    apiserverRequests:
      metricSum(apiAfter, 'apiserver_request_total') - metricSum(apiBefore, 'apiserver_request_total'),
    serverLatency: serverLatencies(apiBefore, apiAfter, o.sessions / 2),
    objectsPerSession:
      o.mode === 'floor'
        ? written / o.sessions
        : await childrenPerSession(ctx.client, ctx.namespace, o.sessions),
  };
  if (o.operator && probeBefore) {
    const probeAfter = await o.operator.probe();
    const metricsAfter = await o.operator.metrics();
    const requests = countsDelta(probeBefore.requests, probeAfter.requests);
    const reconciles = (m: string) => metricSum(m, 'vdi_operator_reconcile_duration_seconds_count');
    const errors = (m: string) => metricSum(m, 'vdi_operator_reconcile_errors_total');
    result.operator = {
      cpuMs: cpuMs.operator ?? NaN,
      // VmHWM: the process is fresh for the phase, so its peak since start is the phase's peak
      // (and catches spikes between the 100 ms samples).
      peakRssBytes: Math.max(peakRss, o.operator.sample()?.peakRssBytes ?? 0),
      requests,
      requestsPerSession: requestTotals(requests).nonWatch / o.sessions,
      reconciles: reconciles(metricsAfter) - reconciles(metricsBefore),
      reconcileErrors: errors(metricsAfter) - errors(metricsBefore),
      reconcileMs:
        (metricSum(metricsAfter, 'vdi_operator_reconcile_duration_seconds_sum') -
          metricSum(metricsBefore, 'vdi_operator_reconcile_duration_seconds_sum')) *
        1000,
    };
  }
  return result;
}
