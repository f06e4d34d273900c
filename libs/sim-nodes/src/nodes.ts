/**
 * The simulated nodes of the local cluster, as pure builders. kwok takes care of every node that
 * carries the `kwok.x-k8s.io/node: fake` annotation (heartbeats, pod lifecycles); these builders
 * only decide what a node advertises.
 *
 * GPU nodes look like K3s workers with the NVIDIA GPU Operator and time-slicing applied
 * (see gpu/time-slicing-config.yaml): capacity `nvidia.com/gpu` = GPUs × replicas, the GPU Feature
 * Discovery labels, and the GPU taint that keeps non-GPU pods away. The real kube-scheduler
 * therefore enforces "8 desktops per GPU" exactly as on a real node.
 */
import type { V1Node } from '@kubernetes/client-node';

export const FAKE_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const SIMULATED_LABEL = 'vdi.kasm.io/simulated';
export const GPU_RESOURCE = 'nvidia.com/gpu';
/** The taint on GPU workers; desktop pods tolerate it (key `nvidia.com/gpu`, `Exists`). */
export const GPU_TAINT = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' } as const;

/** Framebuffer size in MiB of common data-centre GPUs, as GFD reports it in `nvidia.com/gpu.memory`. */
const GPU_MEMORY_MIB: Record<string, number> = {
  'Tesla-T4': 15360,
  'NVIDIA-L4': 23034,
  'NVIDIA-A10': 23028,
  'NVIDIA-A16': 15356,
  'NVIDIA-A40': 46068,
  'NVIDIA-L40S': 46068,
  'NVIDIA-A100-SXM4-40GB': 40960,
  'NVIDIA-A100-SXM4-80GB': 81920,
  'NVIDIA-H100-80GB-HBM3': 81559,
};

export interface NodeShape {
  cpu: string;
  memory: string;
  pods: string;
}

const DEFAULT_SHAPE: NodeShape = { cpu: '32', memory: '128Gi', pods: '110' };

/** DNS-1123 label made from a GPU product name: `NVIDIA-H100-80GB-HBM3` → `nvidia-h100-80gb-hbm3`. */
export function productSlug(product: string): string {
  return product
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
}

function baseNode(name: string, podCIDR: string, shape: NodeShape, extra: Record<string, string>): V1Node {
  const capacity = { cpu: shape.cpu, memory: shape.memory, pods: shape.pods, 'ephemeral-storage': '500Gi' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        type: 'kwok',
        [SIMULATED_LABEL]: 'true',
        ...extra,
      },
      annotations: { [FAKE_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: { podCIDR, podCIDRs: [podCIDR] },
    status: { capacity: { ...capacity }, allocatable: { ...capacity } },
  };
}

/** The control node (K3s server): schedulable for platform pods, no GPU. */
export function controlNode(name: string, podCIDR: string, shape: NodeShape = DEFAULT_SHAPE): V1Node {
  return baseNode(name, podCIDR, shape, { 'node-role.kubernetes.io/control-plane': 'true' });
}

export interface GpuNodeOptions {
  name: string;
  product: string;
  gpus: number;
  /** Time-slices per GPU (the device plugin's `replicas`). */
  replicas: number;
  podCIDR: string;
  shape?: NodeShape;
  /** Extra labels, e.g. a per-test label to pin pods to this node. */
  labels?: Record<string, string>;
  /** Extra taints beyond the GPU taint. */
  taints?: { key: string; value?: string; effect: string }[];
}

/** A time-sliced GPU worker as the GPU Operator (device plugin + GFD) would present it. */
export function gpuNode(o: GpuNodeOptions): V1Node {
  const node = baseNode(o.name, o.podCIDR, o.shape ?? DEFAULT_SHAPE, {
    'nvidia.com/gpu.present': 'true',
    // Time-sliced and not renamed: GFD appends -SHARED to the product (CONTRACTS.md).
    'nvidia.com/gpu.product': `${o.product}-SHARED`,
    'nvidia.com/gpu.count': String(o.gpus),
    'nvidia.com/gpu.replicas': String(o.replicas),
    'nvidia.com/gpu.sharing-strategy': 'time-slicing',
    'nvidia.com/gpu.memory': String(GPU_MEMORY_MIB[o.product] ?? 16384),
    'nvidia.com/device-plugin.config': 'any',
    ...o.labels,
  });
  node.spec!.taints = [{ ...GPU_TAINT }, ...(o.taints ?? [])];
  const slices = String(o.gpus * o.replicas);
  node.status!.capacity![GPU_RESOURCE] = slices;
  node.status!.allocatable![GPU_RESOURCE] = slices;
  return node;
}

/** The `index`-th /24 of a pod range such as 198.18.0.0/16 (one per node, as kube-controller-manager would). */
export function nodePodCidr(podCidr: string, index: number): string {
  const m = /^(\d+)\.(\d+)\.(\d+)\.0\/(\d+)$/.exec(podCidr);
  if (!m || Number(m[4]) > 24)
    throw new Error(`pod range ${podCidr} must be an IPv4 range of /24 or larger, e.g. 198.18.0.0/16`);
  const size = 2 ** (24 - Number(m[4]));
  if (index >= size) throw new Error(`pod range ${podCidr} has room for ${size} nodes, not ${index + 1}`);
  return `${m[1]}.${m[2]}.${Number(m[3]) + index}.0/24`;
}

/**
 * The default node set: one control node and one GPU node per entry of the GPU node spec, each
 * with its own /24 of `podCidr` (kwok gives pods addresses from their node's range).
 */
export function defaultNodes(
  gpuNodes: { product: string; gpus: number }[],
  replicas: number,
  podCidr = '198.18.0.0/16',
): V1Node[] {
  const nodes = [controlNode('vdi-control', nodePodCidr(podCidr, 0))];
  const seen = new Map<string, number>();
  gpuNodes.forEach((g, i) => {
    const slug = productSlug(g.product);
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    nodes.push(
      gpuNode({
        name: `vdi-gpu-${slug}-${n}`,
        product: g.product,
        gpus: g.gpus,
        replicas,
        podCIDR: nodePodCidr(podCidr, i + 1),
      }),
    );
  });
  return nodes;
}
