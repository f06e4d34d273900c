/**
 * The whole benchmark, phase by phase, into one BenchReport. A phase that fails is recorded and
 * the others still run; the benchmark's own clusters are removed at the end.
 */
import { DESKTOP_DEFAULTS, desktopPhase } from './desktop.js';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, status } from '@vdi/controlplane';
import { apiPhase } from './api.js';
import { buildAll, cacheDir, repoRoot } from './build.js';
import { floorPhase, operatorPhase, type BurstPhaseOptions } from './bursts.js';
import { cpuNow } from './burst.js';
import { runChaos } from './chaos.js';
import { defaultStateDir, startOwnCluster, useSharedCluster, type BenchCluster } from './cluster.js';
import { machineInfo, machineLoad, machineSnapshot } from './machine.js';
import type { BenchOptions } from './options.js';
import type { BenchReport, WhatIf } from './report.js';
import { steadyPhase } from './steady.js';

type Log = (msg: string) => void;

export function platformVersion(): string {
  return (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string })
    .version;
}

function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: repoRoot,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: repoRoot,
      encoding: 'utf8',
    }).trim();
    return dirty ? `${sha} (with uncommitted changes)` : sha;
  } catch {
    return 'unknown';
  }
}

/** Seconds the chaos churn lasts: long enough for many kills at the given size. */
export const churnSeconds = (sessions: number) => Math.max(20, Math.round(sessions * 0.3));

export async function runBench(
  o: BenchOptions,
  name: string,
  command: string,
  log: Log,
): Promise<BenchReport> {
  const started = Date.now();
  const report: BenchReport = {
    name,
    version: platformVersion(),
    date: new Date(started).toISOString(),
    commit: gitCommit(),
    command,
    machine: machineInfo(),
    versions: (await status(loadConfig())).versions,
    options: o,
    durationMs: 0,
    load: {},
    failures: [],
  };
  const builds = await buildAll();
  const phase = async <T>(phaseName: string, fn: () => Promise<T>): Promise<T | undefined> => {
    const before = machineSnapshot();
    log(`=== ${phaseName}`);
    try {
      return await fn();
    } catch (err) {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      report.failures.push({ phase: phaseName, error: message });
      log(`${phaseName} failed: ${message}`);
      return undefined;
    } finally {
      report.load[phaseName] = machineLoad(before, machineSnapshot());
    }
  };
  const has = (p: BenchOptions['phases'][number]) => o.phases.includes(p);

  const burst: BurstPhaseOptions = {
    sessions: o.sessions,
    nodes: o.nodes,
    gpusPerNode: o.gpusPerNode,
    slices: o.slices,
    concurrency: o.concurrency,
    persistence: o.persistence,
  };
  let cluster: BenchCluster | undefined;
  try {
    if (o.phases.some((p) => p !== 'chaos' && p !== 'desktop')) {
      cluster =
        o.cluster === 'own'
          ? await startOwnCluster(defaultStateDir(repoRoot, 'main'), log)
          : await useSharedCluster(log);
    }
    if (cluster && (has('floor') || has('operator'))) {
      // The floor is the best a client can do: a few degrees of parallelism, the fastest counts.
      // The operator gets as many bursts, interleaved with the floor's (floor, operator, floor,
      // …), and its fastest counts too: on a shared machine each side has the same number of
      // tries, spread over the same minutes.
      const floorRuns = has('floor') ? o.floorConcurrency : [];
      const operatorRuns = has('operator') ? o.operatorRuns : 0;
      if (has('floor')) report.floors = [];
      if (has('operator')) report.operators = [];
      for (let i = 0; i < Math.max(floorRuns.length, operatorRuns); i++) {
        const writers = floorRuns[i];
        if (writers !== undefined) {
          const f = await phase(`floor ×${writers}`, () => floorPhase(cluster!, { ...burst, writers }, log));
          if (f) report.floors!.push(f);
        }
        if (i < operatorRuns) {
          const label = operatorRuns > 1 ? `operator #${i + 1}` : 'operator';
          const r = await phase(label, () =>
            operatorPhase(cluster!, builds, { ...burst, phase: 'operator' }, log),
          );
          if (r) report.operators!.push(r);
        }
      }
      const floor = fastest(report.floors ?? [], (f) => f.allRunningMs);
      if (floor) report.floor = floor;
      const operator = fastest(report.operators ?? [], (r) => r.burst.allRunningMs);
      if (operator) report.operator = operator;
    }
    if (cluster && has('whatif')) {
      // Configuration, not code: the same operator with more workers.
      report.whatif = [];
      for (const workers of o.whatifWorkers) {
        const label = `${workers} workers`;
        const result = await phase(`whatif: ${label}`, () =>
          operatorPhase(
            cluster!,
            builds,
            { ...burst, phase: 'whatif', env: { VDI_WORKERS: String(workers) } },
            log,
          ),
        );
        if (result) report.whatif.push({ label, workers, result } satisfies WhatIf);
      }
    }
    if (cluster && has('profile')) {
      const result = await phase('profile', () =>
        operatorPhase(
          cluster!,
          builds,
          { ...burst, phase: 'profile', profileDir: path.join(cacheDir, 'profiles', name) },
          log,
        ),
      );
      if (result) report.profile = { variant: 'as shipped', result };
    }
    if (cluster && has('steady')) {
      const st = await phase('steady', () =>
        steadyPhase(
          cluster!,
          builds,
          { sessions: o.steadySessions, concurrency: o.concurrency, persistence: o.persistence },
          log,
        ),
      );
      if (st) {
        report.steady = st.result;
        if (has('api'))
          report.api = await phase('api', () =>
            apiPhase(
              {
                kubeconfig: cluster!.kubeconfig,
                namespace: st.world.namespace,
                client: st.world.client,
                template: st.world.template.metadata.name!,
                sessionsInCluster: st.result.sessions,
                clients: o.apiClients,
                durationSeconds: o.apiDurationSeconds,
                creates: o.apiCreates,
                probe: builds.probe,
                cpu: () => cpuNow(cluster!, st.operator),
                operator: st.operator,
              },
              log,
            ),
          );
        // An own cluster is deleted whole: deleting its thousands of sessions one by one first is
        // wasted time. A kept one keeps them, for a look at the steady state (`--keep-cluster`).
        if (cluster.own) await st.operator.stop('SIGTERM');
        else await st.teardown();
      }
    }
  } finally {
    if (cluster?.own && !o.keepCluster) await cluster.close();
  }

  // The desktop: the real image on the real node (the shared local cluster), after the
  // benchmark's own cluster is gone so the real node is free to join the shared one.
  if (has('desktop')) {
    report.desktop = await phase('desktop', () => desktopPhase(DESKTOP_DEFAULTS, log));
  }

  if (has('chaos')) {
    const chaosCluster = await startOwnCluster(defaultStateDir(repoRoot, 'chaos'), log);
    try {
      report.chaos = await phase('chaos', () =>
        runChaos(
          chaosCluster,
          builds,
          {
            sessions: o.chaosSessions,
            churnSeconds: churnSeconds(o.chaosSessions),
            killEveryMs: [o.chaosKillMinSeconds * 1000, o.chaosKillMaxSeconds * 1000],
            minKills: 5,
            restartApiserver: true,
            deleteShare: 0.3,
            recreateShare: 0.3,
            persistence: o.persistence,
            convergeTimeoutMs: 900_000,
            drain: true,
          },
          log,
        ),
      );
    } finally {
      if (!o.keepCluster) await chaosCluster.close();
    }
  }
  report.durationMs = Date.now() - started;
  return report;
}

/** The run that finished soonest, if any ran. */
function fastest<T>(runs: readonly T[], ms: (run: T) => number): T | undefined {
  return [...runs].sort((a, b) => ms(a) - ms(b))[0];
}
