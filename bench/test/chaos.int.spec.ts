/**
 * The benchmark's chaos run, small, on a throw-away cluster of its own (the API server is
 * restarted, which the shared cluster's other users must never see): a churn of 60 sessions while
 * the operator is SIGKILLed 2–4 s after each start (at least 4 times) and kube-apiserver is killed
 * and restarted once. At the end: no leaked child, no duplicate pod, no stuck finalizer, every live
 * session Running; and deleting everything leaves nothing behind. Also checks that the floor writes what the operator
 * writes, so the benchmark's ratio compares like with like.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { FIELD_MANAGER } from '@vdi/session-spec';
import type { VDISession } from '@vdi/crd-types';
import { waitFor } from '@vdi/testing';
import { buildAll, type Builds } from '../src/build.js';
import { operatorObjects } from '../src/burst.js';
import { runChaos } from '../src/chaos.js';
import { startOwnCluster, type BenchCluster } from '../src/cluster.js';
import { createSession, operatorEnv, platformOptions, RUN_LABEL } from '../src/kube.js';
import { startOperator, waitLeader } from '../src/operator.js';
import { phaseWorld } from '../src/setup.js';

const log = (m: string) => process.stderr.write(`[chaos] ${m}\n`);

/**
 * The part of a rendered object the API server stores as it is: secrets are stored as `data`, and
 * a pod's quantities are canonicalised (2000m → 2) and admission adds tolerations, so of a pod
 * the fields that make the desktop are compared.
 */
function comparable(obj: Record<string, unknown>): Record<string, unknown> {
  const { stringData: _stringData, ...rest } = obj;
  if (obj.kind !== 'Pod') return rest;
  const pod = obj as unknown as k8s.V1Pod;
  return {
    metadata: {
      name: pod.metadata!.name,
      labels: pod.metadata!.labels,
      annotations: pod.metadata!.annotations,
    },
    spec: {
      affinity: pod.spec!.affinity,
      runtimeClassName: pod.spec!.runtimeClassName,
      volumes: pod.spec!.volumes,
      containers: pod.spec!.containers.map((c) => ({
        name: c.name,
        image: c.image,
        env: c.env,
        ports: c.ports,
        volumeMounts: c.volumeMounts,
      })),
    },
  };
}

describe('chaos on a cluster of its own', () => {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'vdi-bench-chaos-'));
  let cluster: BenchCluster;
  let builds: Builds;

  beforeAll(async () => {
    builds = await buildAll();
    cluster = await startOwnCluster(stateDir, log);
  }, 180_000);

  afterAll(async () => {
    await cluster?.close();
    rmSync(stateDir, { recursive: true, force: true });
  }, 60_000);

  it('the floor renders exactly what the operator writes', async () => {
    const world = await phaseWorld(cluster, 'fidelity', { count: 1, gpus: 1, slices: 8 }, 'session', log);
    const op = await startOperator({
      builds,
      kubeconfig: cluster.kubeconfig,
      apiserverHost: cluster.apiserverHost,
      env: operatorEnv(world.namespace),
      identity: `fidelity-${world.runId}`,
    });
    try {
      await waitLeader(op);
      await createSession(
        world.client,
        world.namespace,
        'same-1',
        world.template.metadata.name!,
        'same@example.com',
      );
      const session = await waitFor(
        'session same-1 Running',
        async () => {
          const s = await world.client.get<VDISession>({
            apiVersion: 'vdi.kasm.io/v1alpha1',
            kind: 'VDISession',
            metadata: { name: 'same-1', namespace: world.namespace },
          });
          return s?.status?.phase === 'Running' ? s : undefined;
        },
        60_000,
      );
      const nodes = (
        await world.client.call<{ items: k8s.V1Node[] }>(
          'GET',
          `/api/v1/nodes?labelSelector=${encodeURIComponent(`${RUN_LABEL}=${world.runId}`)}`,
        )
      ).items;
      const rendered = operatorObjects(session, world.template, platformOptions(world.namespace), nodes);
      expect(rendered.map((o) => o.kind)).toEqual([
        'Secret',
        'PersistentVolumeClaim',
        'NetworkPolicy',
        'Pod',
        'Service',
        'Middleware',
        'IngressRoute',
      ]);
      for (const obj of rendered) {
        const stored = await world.client.get<Record<string, unknown>>(obj);
        expect(stored).toBeDefined();
        expect({ kind: obj.kind, ...stored }).toMatchObject({ kind: obj.kind, ...comparable(obj) });
        const managers = (stored!.metadata as { managedFields: { manager: string }[] }).managedFields.map(
          (m) => m.manager,
        );
        expect(managers).toContain(FIELD_MANAGER);
      }
    } finally {
      await op.stop('SIGTERM');
      await world.teardown();
    }
  }, 180_000);

  it('churns 60 sessions through SIGKILLs and an API server restart and leaves nothing wrong', async () => {
    const r = await runChaos(
      cluster,
      builds,
      {
        sessions: 60,
        churnSeconds: 30,
        killEveryMs: [2_000, 4_000],
        minKills: 4,
        restartApiserver: true,
        deleteShare: 0.3,
        recreateShare: 0.3,
        persistence: 'session',
        convergeTimeoutMs: 120_000,
        drain: true,
      },
      log,
    );
    log(JSON.stringify({ ...r, operatorLogTail: undefined }));
    if (!r.converged) log(r.operatorLogTail.join('\n'));
    expect(r.kills).toBeGreaterThanOrEqual(4);
    expect(r.apiserverDownMs).toBeGreaterThan(0);
    expect(r.deleted).toBeGreaterThan(10);
    expect(r.recreated).toBeGreaterThan(0);
    expect(r.invariants).toEqual({
      leakedChildren: [],
      duplicatePods: [],
      stuckFinalizers: [],
      notRunning: [],
      unexpected: [],
    });
    expect(r.converged).toBe(true);
    expect(r.drain).toEqual(
      expect.objectContaining({ sessionsLeft: 0, childrenLeft: 0, stuckFinalizers: [] }),
    );
  }, 420_000);
});
