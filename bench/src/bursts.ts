/**
 * The floor and operator phases: the same burst on fresh nodes, one without any operator and one
 * with the operator as its own process (optionally profiled with --cpu-prof).
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import type { Builds } from './build.js';
import { floorWriter, runBurst, type BurstResult } from './burst.js';
import type { BenchCluster } from './cluster.js';
import { operatorEnv, platformOptions, RUN_LABEL, waitPrepulled, type Persistence } from './kube.js';
import { startOperator, waitLeader } from './operator.js';
import { summarizeProfile, type CpuProfile, type ProfileSummary } from './profile.js';
import { phaseWorld } from './setup.js';

export interface BurstPhaseOptions {
  sessions: number;
  nodes: number;
  gpusPerNode: number;
  slices: number;
  /** Session creations in flight. */
  concurrency: number;
  persistence: Persistence;
}

type Log = (msg: string) => void;

const timeoutFor = (sessions: number) => Math.max(120_000, sessions * 1_000);

export async function floorPhase(
  cluster: BenchCluster,
  o: BurstPhaseOptions & { writers: number },
  log: Log,
): Promise<BurstResult> {
  const world = await phaseWorld(
    cluster,
    'floor',
    { count: o.nodes, gpus: o.gpusPerNode, slices: o.slices },
    o.persistence,
    log,
  );
  try {
    const nodes = (
      await world.client.call<{ items: k8s.V1Node[] }>(
        'GET',
        `/api/v1/nodes?labelSelector=${encodeURIComponent(`${RUN_LABEL}=${world.runId}`)}`,
      )
    ).items;
    const ctx = { cluster, client: world.client, namespace: world.namespace, template: world.template, log };
    return await runBurst(ctx, {
      mode: 'floor',
      sessions: o.sessions,
      concurrency: o.concurrency,
      writers: o.writers,
      prefix: 'fl',
      timeoutMs: timeoutFor(o.sessions),
      writeFloor: floorWriter(ctx, nodes, platformOptions(world.namespace)),
    });
  } finally {
    await world.teardown();
  }
}

export interface OperatorPhaseResult {
  burst: BurstResult;
  /** Operator start → caches synced, ms. */
  readyMs: number;
  /** Leader → the template's image pullers Ready on every node of the run (waited before the burst), ms. */
  prepullMs?: number;
  profile?: ProfileSummary;
  profileFile?: string;
}

export async function operatorPhase(
  cluster: BenchCluster,
  builds: Builds,
  o: BurstPhaseOptions & {
    profileDir?: string;
    phase: string;
    bundle?: string;
    env?: Record<string, string>;
  },
  log: Log,
): Promise<OperatorPhaseResult> {
  const phase = o.phase;
  const world = await phaseWorld(
    cluster,
    phase,
    { count: o.nodes, gpus: o.gpusPerNode, slices: o.slices },
    o.persistence,
    log,
  );
  if (o.profileDir) mkdirSync(o.profileDir, { recursive: true });
  const started = Date.now();
  const op = await startOperator({
    builds: { ...builds, operator: o.bundle ?? builds.operator },
    kubeconfig: cluster.kubeconfig,
    apiserverHost: cluster.apiserverHost,
    env: { ...operatorEnv(world.namespace), ...o.env },
    identity: `bench-${world.runId}`,
    ...(o.profileDir ? { cpuProfDir: o.profileDir } : {}),
  });
  const readyMs = op.readyAt - started;
  try {
    await waitLeader(op);
    const prepullMs = await waitPrepulled(
      world.client,
      world.template.metadata.name!,
      world.nodes.names.length,
    );
    log(
      `${phase}: the template's image pullers Ready on ${world.nodes.names.length} nodes after ${(prepullMs / 1000).toFixed(1)} s`,
    );
    // Ties the profile's monotonic clock to the wall clock, to cut the profile to the burst.
    const clock = await op.probe();
    const burst = await runBurst(
      { cluster, client: world.client, namespace: world.namespace, template: world.template, log },
      {
        mode: 'operator',
        sessions: o.sessions,
        concurrency: o.concurrency,
        prefix: phase.slice(0, 2),
        timeoutMs: timeoutFor(o.sessions),
        operator: op,
      },
    );
    const before = o.profileDir ? new Set(readdirSync(o.profileDir)) : undefined;
    // SIGTERM: the operator drains and exits, and Node writes the profile on the way out.
    await op.stop('SIGTERM');
    const result: OperatorPhaseResult = { burst, readyMs, prepullMs };
    if (o.profileDir && before) {
      const file = readdirSync(o.profileDir).find((f) => f.endsWith('.cpuprofile') && !before.has(f));
      if (file) {
        const full = path.join(o.profileDir, file);
        result.profileFile = full;
        const bundle = o.bundle ?? builds.operator;
        const at = (wall: number) => clock.monotonicUs + (wall - clock.wallMs) * 1000;
        result.profile = summarizeProfile(JSON.parse(readFileSync(full, 'utf8')) as CpuProfile, {
          bundleUrl: bundle,
          bundleText: readFileSync(bundle, 'utf8'),
          window: [at(burst.startedAt), at(burst.endedAt)],
        });
      } else log('profile: the operator wrote no .cpuprofile');
    }
    return result;
  } finally {
    if (op.alive()) await op.stop('SIGKILL');
    await world.teardown();
  }
}
