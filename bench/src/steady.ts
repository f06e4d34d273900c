/**
 * Steady state: `sessions` sessions Running and cached by the operator. The sessions are brought
 * up by a ramp operator (the fastest variant available: it is set-up, not a measurement); then
 * the operator as shipped is started on them and measured:
 *   - start: process start → caches synced (lists of every session, pod, claim, node);
 *   - resync: the reconcile of every cached session that follows. It is the periodic resync's
 *     work exactly (a fresh process has applied nothing, as after `forgetApplied()`; every key is
 *     queued once), timed until the queue is empty;
 *   - idle: CPU over a quiet window, and RSS now and at its peak (VmHWM) with everything cached;
 *     V8's heap by space from the probe inside the process, and the RSS outside it.
 * The measured operator keeps running for the API phase, which then has `sessions` in the cluster.
 */
import { API_VERSION } from '@vdi/crd-types';
import type { Builds } from './build.js';
import { runBurst, type BurstResult } from './burst.js';
import { processMemory, type ProcessMemory } from './heap.js';
import type { BenchCluster } from './cluster.js';
import { operatorEnv, type Persistence } from './kube.js';
import { startOperator, waitLeader, type OperatorProcess } from './operator.js';
import { metricSum } from './prom.js';
import { sampleProcess } from './proc.js';
import { countsDelta, requestTotals } from './requests.js';
import { phaseWorld, type PhaseWorld } from './setup.js';

type Log = (msg: string) => void;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SteadyResult {
  sessions: number;
  nodes: number;
  ramp: Pick<BurstResult, 'allRunningMs' | 'createsIssuedMs' | 'cpuMs' | 'apiserverRequests'> & {
    variant: string;
    peakRssBytes: number;
    startDeadlineSeconds: number;
  };
  start: { readyMs: number; cpuMs: number };
  resync: {
    ms: number;
    cpuMs: number;
    reconciles: number;
    requests: Record<string, number>;
    requestsPerSession: number;
    apiserverCpuMs: number;
    completed: boolean;
  };
  idle: { windowMs: number; cpuMs: number; cpuShare: number };
  rssBytes: number;
  peakRssBytes: number;
  heapUsedBytes: number;
  /** The measured operator's memory with everything cached: V8's heap by space, and the RSS beside it. */
  memory?: ProcessMemory;
  /** Mean JSON size of the objects the operator caches per session, and without managedFields. */
  objectBytes: Record<string, { json: number; withoutManagedFields: number }>;
}

/** Mean JSON size of up to 200 objects of each cached kind, with and without managedFields. */
async function objectSizes(
  client: PhaseWorld['client'],
  namespace: string,
): Promise<SteadyResult['objectBytes']> {
  const out: SteadyResult['objectBytes'] = {};
  const kinds: [string, string][] = [
    ['sessions', `/apis/${API_VERSION}/namespaces/${namespace}/vdisessions?limit=200`],
    ['pods', `/api/v1/namespaces/${namespace}/pods?limit=200`],
    ['claims', `/api/v1/namespaces/${namespace}/persistentvolumeclaims?limit=200`],
  ];
  for (const [kind, url] of kinds) {
    const items = (await client.call<{ items: { metadata: Record<string, unknown> }[] }>('GET', url)).items;
    if (items.length === 0) continue;
    const json = items.reduce((a, o) => a + JSON.stringify(o).length, 0) / items.length;
    const without =
      items.reduce(
        (a, o) => a + JSON.stringify({ ...o, metadata: { ...o.metadata, managedFields: undefined } }).length,
        0,
      ) / items.length;
    out[kind] = { json: Math.round(json), withoutManagedFields: Math.round(without) };
  }
  return out;
}

export interface SteadyPhase {
  result: SteadyResult;
  world: PhaseWorld;
  operator: OperatorProcess;
  /** Stops the operator and removes the phase's namespace, nodes and template. */
  teardown(): Promise<void>;
}

const SLICES_PER_NODE = 64; // 8 GPUs × 8 time-slices
/**
 * VDI_START_DEADLINE_SECONDS of the ramp operator: the operator's default, set explicitly so the
 * report states it. The ramp is a burst far larger than the operator works through in that time;
 * no session may fail for waiting (the deadline counts from when a desktop's pod is made and
 * placed), and one that does fails the phase.
 */
const RAMP_START_DEADLINE_SECONDS = 300;

export async function steadyPhase(
  cluster: BenchCluster,
  builds: Builds,
  o: { sessions: number; concurrency: number; persistence: Persistence; resyncTimeoutMs?: number },
  log: Log,
): Promise<SteadyPhase> {
  const nodeCount = Math.ceil((o.sessions * 1.02) / SLICES_PER_NODE);
  const world = await phaseWorld(
    cluster,
    'steady',
    { count: nodeCount, gpus: 8, slices: 8 },
    o.persistence,
    log,
  );
  const env = operatorEnv(world.namespace);
  let measured: OperatorProcess | undefined;
  try {
    // The ramp is set-up, not a measurement: more workers bring the sessions up sooner.
    const variant = '16 workers';
    const ramp = await startOperator({
      builds,
      kubeconfig: cluster.kubeconfig,
      apiserverHost: cluster.apiserverHost,
      env: { ...env, VDI_WORKERS: '16', VDI_START_DEADLINE_SECONDS: String(RAMP_START_DEADLINE_SECONDS) },
      identity: `bench-${world.runId}-ramp`,
    });
    let burst: BurstResult;
    try {
      await waitLeader(ramp);
      log(`steady: ramping up ${o.sessions} sessions (operator ${variant})`);
      burst = await runBurst(
        { cluster, client: world.client, namespace: world.namespace, template: world.template, log },
        {
          mode: 'operator',
          sessions: o.sessions,
          concurrency: o.concurrency,
          prefix: 'st',
          timeoutMs: Math.max(600_000, o.sessions * 2_000),
          operator: ramp,
        },
      );
    } finally {
      // SIGTERM releases the Lease, so the measured operator takes over at once.
      await ramp.stop('SIGTERM');
    }
    log(`steady: ${o.sessions} sessions Running after ${(burst.allRunningMs / 1000).toFixed(0)} s`);

    // The operator as shipped, on everything that is now there.
    const t0 = Date.now();
    const op = await startOperator({
      builds,
      kubeconfig: cluster.kubeconfig,
      apiserverHost: cluster.apiserverHost,
      env,
      identity: `bench-${world.runId}`,
      readyTimeoutMs: 300_000,
    });
    measured = op;
    const readyMs = op.readyAt - t0;
    const atReady = op.sample()!;
    const probeBefore = await op.probe();
    const apiserverCpu = () => {
      const pid = cluster.processes().find((p) => p.name === 'kube-apiserver')?.pid;
      return pid ? (sampleProcess(pid)?.cpuMs ?? NaN) : NaN;
    };
    const apiCpu0 = apiserverCpu();
    await waitLeader(op, 120_000);
    // The wave starts when the caches synced: a process that is leader at once (the ramp released
    // the Lease) reconciles from then on, and a small wave can be over before waitLeader returns.
    const waveStart = op.readyAt;
    log(
      `steady: measured operator ready in ${(readyMs / 1000).toFixed(1)} s; timing the reconcile of every session`,
    );
    // The wave is over when every session was reconciled and the queue stayed empty for 2 s.
    let completed = false;
    let quietSince = 0;
    let lastLog = Date.now();
    const deadline = Date.now() + (o.resyncTimeoutMs ?? 1_800_000);
    let reconciles = 0;
    while (Date.now() < deadline) {
      const m = await op.metrics();
      reconciles = metricSum(m, 'vdi_operator_reconcile_duration_seconds_count');
      const depth = metricSum(m, 'vdi_operator_queue_depth');
      if (reconciles >= o.sessions && depth === 0) {
        quietSince ||= Date.now();
        if (Date.now() - quietSince >= 2_000) {
          completed = true;
          break;
        }
      } else quietSince = 0;
      if (Date.now() - lastLog > 15_000) {
        lastLog = Date.now();
        log(`steady: resync ${reconciles}/${o.sessions} reconciled, queue ${depth}`);
      }
      await sleep(100);
    }
    // The first moment every session was reconciled and the queue was empty (at the latest the
    // first poll that saw it, so a wave already over is timed to that poll: an upper bound).
    const waveEnd = quietSince || Date.now();
    const afterWave = op.sample()!;
    const probeAfter = await op.probe();
    const requests = countsDelta(probeBefore.requests, probeAfter.requests);
    const apiCpu1 = apiserverCpu();

    // Idle: nothing happens but watches and the Lease.
    await sleep(5_000);
    const idleWindow = 30_000;
    const idle0 = op.sample()!;
    await sleep(idleWindow);
    const idle1 = op.sample()!;
    const probe = await op.probe();
    const result: SteadyResult = {
      sessions: o.sessions,
      nodes: nodeCount,
      ramp: {
        variant,
        allRunningMs: burst.allRunningMs,
        createsIssuedMs: burst.createsIssuedMs,
        cpuMs: burst.cpuMs,
        apiserverRequests: burst.apiserverRequests,
        peakRssBytes: burst.operator?.peakRssBytes ?? NaN,
        startDeadlineSeconds: RAMP_START_DEADLINE_SECONDS,
      },
      start: { readyMs, cpuMs: atReady.cpuMs },
      resync: {
        ms: waveEnd - waveStart,
        cpuMs: afterWave.cpuMs - atReady.cpuMs,
        reconciles,
        requests,
        requestsPerSession: requestTotals(requests).nonWatch / o.sessions,
        apiserverCpuMs: apiCpu1 - apiCpu0,
        completed,
      },
      idle: {
        windowMs: idleWindow,
        cpuMs: idle1.cpuMs - idle0.cpuMs,
        cpuShare: (idle1.cpuMs - idle0.cpuMs) / idleWindow,
      },
      rssBytes: idle1.rssBytes,
      peakRssBytes: idle1.peakRssBytes,
      heapUsedBytes: probe.memory.heapUsed,
      memory: processMemory(probe),
      objectBytes: await objectSizes(world.client, world.namespace),
    };
    log(
      `steady: resync ${(result.resync.ms / 1000).toFixed(1)} s, RSS ${(result.rssBytes / 2 ** 20).toFixed(0)} MiB (peak ${(result.peakRssBytes / 2 ** 20).toFixed(0)} MiB)`,
    );
    return {
      result,
      world,
      operator: op,
      async teardown() {
        await op.stop('SIGTERM');
        await world.teardown();
      },
    };
  } catch (err) {
    if (measured?.alive()) await measured.stop('SIGKILL');
    await world.teardown();
    throw err;
  }
}
