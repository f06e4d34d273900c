/**
 * Free GPU time-slices per GPU product, from the node and pod caches: a node's allocatable
 * `nvidia.com/gpu` minus what the pods placed on it ask for. The scheduler has the final say;
 * these numbers choose the encoder and explain a wait to the user.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { GpuFacts } from '@vdi/session-spec';

function slicesOf(pod: V1Pod, resource: string): number {
  return (pod.spec?.containers ?? []).reduce(
    (n, c) => n + Number(c.resources?.limits?.[resource] ?? c.resources?.requests?.[resource] ?? 0),
    0,
  );
}

function podHoldsSlices(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

/** What a desktop pod asks of a node: labels it must carry and taints it tolerates. */
export interface Placement {
  nodeSelector?: Record<string, string>;
  tolerations?: { key?: string; operator?: string; value?: string; effect?: string }[];
  gpuProducts?: string[];
}

/** True when the scheduler could put a pod with this placement on the node (labels, products, taints). */
export function eligible(node: V1Node, p: Placement): boolean {
  const labels = node.metadata?.labels ?? {};
  if (Object.entries(p.nodeSelector ?? {}).some(([k, v]) => labels[k] !== v)) return false;
  if (p.gpuProducts && !p.gpuProducts.includes(labels['nvidia.com/gpu.product'] ?? '')) return false;
  const tolerated = (t: { key: string; value?: string; effect: string }) =>
    (p.tolerations ?? []).some(
      (tol) =>
        (tol.effect === undefined || tol.effect === t.effect) &&
        (tol.operator === 'Exists'
          ? tol.key === undefined || tol.key === t.key
          : tol.key === t.key && (tol.value ?? '') === (t.value ?? '')),
    );
  return (node.spec?.taints ?? [])
    .filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')
    .every(tolerated);
}

/**
 * Free and total slices per product on the nodes a placement allows (all GPU nodes without one).
 * A session waiting for a GPU is told about the slices it could use, not the whole cluster's.
 */
export function gpuFacts(
  nodes: readonly V1Node[],
  pods: readonly V1Pod[],
  resource: string,
  placement?: Placement,
): GpuFacts & { free: number; total: number } {
  if (placement) nodes = nodes.filter((n) => eligible(n, placement));
  const usedByNode = new Map<string, number>();
  for (const pod of pods) {
    const node = pod.spec?.nodeName;
    if (!node || !podHoldsSlices(pod)) continue;
    usedByNode.set(node, (usedByNode.get(node) ?? 0) + slicesOf(pod, resource));
  }
  const byProduct = new Map<string, { product: string; free: number; total: number }>();
  let free = 0;
  let total = 0;
  for (const node of nodes) {
    const product = node.metadata?.labels?.['nvidia.com/gpu.product'];
    const allocatable = Number(node.status?.allocatable?.[resource] ?? 0);
    if (!product || allocatable <= 0 || node.spec?.unschedulable) continue;
    const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    const nodeFree = ready ? Math.max(0, allocatable - (usedByNode.get(node.metadata!.name!) ?? 0)) : 0;
    const entry = byProduct.get(product) ?? { product, free: 0, total: 0 };
    entry.free += nodeFree;
    entry.total += allocatable;
    byProduct.set(product, entry);
    free += nodeFree;
    total += allocatable;
  }
  return {
    products: [...byProduct.values()].sort((a, b) => a.product.localeCompare(b.product)),
    free,
    total,
  };
}
