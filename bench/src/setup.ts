/**
 * One phase's world: a namespace, GPU nodes and a template of its own (names carry a random run
 * id), and the teardown that removes them — sessions released first, so a finalizer whose
 * operator is gone never holds the namespace.
 */
import { randomBytes } from 'node:crypto';
import { API_VERSION, type VDITemplate } from '@vdi/crd-types';
import type { KubeJsonClient } from '@vdi/kube-client';
import type { BenchCluster } from './cluster.js';
import { inLanes } from './burst.js';
import {
  applyTemplate,
  createNamespace,
  createRunNodes,
  deleteNamespace,
  deleteRunNodes,
  deleteTemplate,
  type Persistence,
  type RunNodes,
} from './kube.js';

export interface PhaseWorld {
  runId: string;
  namespace: string;
  client: KubeJsonClient;
  nodes: RunNodes;
  template: VDITemplate;
  teardown(): Promise<void>;
}

export async function phaseWorld(
  cluster: BenchCluster,
  phase: string,
  nodes: { count: number; gpus: number; slices: number },
  persistence: Persistence,
  log: (msg: string) => void,
): Promise<PhaseWorld> {
  const runId = randomBytes(3).toString('hex');
  const namespace = `bench-${phase}-${runId}`;
  const client = cluster.client(64);
  await createNamespace(client, namespace);
  const t = Date.now();
  const created = await createRunNodes(client, runId, nodes.count, nodes.gpus, nodes.slices);
  log(
    `${phase}: namespace ${namespace}, ${nodes.count} GPU nodes (${created.slices} time-slices) Ready in ${((Date.now() - t) / 1000).toFixed(1)} s`,
  );
  const template = await applyTemplate(client, `bench-${runId}`, runId, persistence);
  return {
    runId,
    namespace,
    client,
    nodes: created,
    template,
    async teardown() {
      const t0 = Date.now();
      const list = await client.call<{ items: { metadata: { name: string } }[] }>(
        'GET',
        `/apis/${API_VERSION}/namespaces/${namespace}/vdisessions`,
      );
      await inLanes(list.items.length, 32, async (i) => {
        await client
          .mergePatch(
            {
              apiVersion: API_VERSION,
              kind: 'VDISession',
              metadata: { name: list.items[i]!.metadata.name, namespace },
            },
            { metadata: { finalizers: null } },
          )
          .catch(() => undefined);
      });
      await deleteNamespace(client, namespace, 600_000).catch((err: unknown) =>
        log(`${phase}: ${String(err)}`),
      );
      await deleteRunNodes(client, runId);
      await deleteTemplate(client, template.metadata.name!).catch(() => undefined);
      log(`${phase}: cleaned up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      client.close();
    },
  };
}
