import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { gpuNode } from '@vdi/sim-nodes';
import { testKubeConfig } from './cluster.js';
import { waitFor } from './namespace.js';

export interface IsolatedNode {
  name: string;
  /** Put this on a pod (nodeSelector) to land on this node only. */
  nodeSelector: Record<string, string>;
  /** Put these on a pod to tolerate this node's taints (the GPU taint and the test's own). */
  tolerations: k8s.V1Toleration[];
  remove(): Promise<void>;
}

/**
 * A simulated GPU node that only one test uses: it carries a unique label and a unique taint,
 * so tests running in parallel never see each other's capacity.
 */
export async function createIsolatedGpuNode(
  opts: { product?: string; gpus?: number; replicas?: number; pods?: number } = {},
): Promise<IsolatedNode> {
  const kc = testKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const id = randomBytes(3).toString('hex');
  const name = `test-gpu-${id}`;
  const node = gpuNode({
    name,
    product: opts.product ?? 'NVIDIA-L4',
    gpus: opts.gpus ?? 1,
    replicas: opts.replicas ?? 8,
    podCIDR: `198.18.${200 + (parseInt(id, 16) % 50)}.0/24`,
    labels: { 'vdi.kasm.io/test-node': id },
    shape: { cpu: '512', memory: '4Ti', pods: String(opts.pods ?? 110) },
    taints: [{ key: 'vdi.kasm.io/test-node', value: id, effect: 'NoSchedule' }],
  });
  // A Node create keeps its status, so the advertised capacity is there from the start.
  await core.createNode({ body: node });
  await waitFor(`node ${name} Ready`, async () => {
    const n = await core.readNode({ name });
    return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  });
  return {
    name,
    nodeSelector: { 'vdi.kasm.io/test-node': id },
    tolerations: [
      { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'vdi.kasm.io/test-node', operator: 'Equal', value: id, effect: 'NoSchedule' },
    ],
    async remove() {
      try {
        await core.deleteNode({ name });
      } catch (err) {
        if ((err as { code?: number }).code !== 404) throw err;
      }
    },
  };
}
