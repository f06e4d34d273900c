/**
 * GPU time-slices of the cluster, for the operator (encoder choice, the message of a waiting
 * session) and the API (`capacity`): a GPU node's allocatable GPU resource minus what the
 * desktop pods placed on it ask for. A node that is not Ready or is cordoned offers no free
 * slice. The scheduler has the final say; these numbers explain a wait and grey out GPU
 * templates in the portal.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { SessionPhase, VDISession } from '@vdi/crd-types';
import { hasNvenc } from './encoder.js';

export const PRODUCT_LABEL = 'nvidia.com/gpu.product';

export interface NodeSlices {
  name: string;
  product: string;
  nvenc: boolean;
  total: number;
  free: number;
  ready: boolean;
  schedulable: boolean;
}

export interface ProductSlices {
  product: string;
  nvenc: boolean;
  total: number;
  free: number;
}

export interface GpuCapacity {
  total: number;
  free: number;
  nvencFree: number;
  products: ProductSlices[];
  nodes: NodeSlices[];
}

/** GPU time-slices a pod's containers ask for. */
export function slicesOf(pod: V1Pod, resource: string): number {
  return (pod.spec?.containers ?? []).reduce((n, c) => {
    const v = Number(c.resources?.limits?.[resource] ?? c.resources?.requests?.[resource] ?? 0);
    return n + (Number.isFinite(v) ? v : 0);
  }, 0);
}

/** Pods that finished no longer hold their slices. */
export function holdsSlices(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

export function gpuCapacity(nodes: readonly V1Node[], pods: readonly V1Pod[], resource: string): GpuCapacity {
  const used = new Map<string, number>();
  for (const pod of pods) {
    const node = pod.spec?.nodeName;
    if (!node || !holdsSlices(pod)) continue;
    used.set(node, (used.get(node) ?? 0) + slicesOf(pod, resource));
  }
  return capacityOf(nodes, used, resource);
}

/** The capacity of these nodes, given the slices placed pods hold per node name. */
export function capacityOf(
  nodes: readonly V1Node[],
  used: ReadonlyMap<string, number>,
  resource: string,
): GpuCapacity {
  const rows: NodeSlices[] = [];
  for (const node of nodes) {
    const product = node.metadata?.labels?.[PRODUCT_LABEL];
    const total = Number(node.status?.allocatable?.[resource] ?? 0);
    if (!product || !Number.isFinite(total) || total <= 0) continue;
    const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    const schedulable = !node.spec?.unschedulable;
    const name = node.metadata!.name!;
    const free = ready && schedulable ? Math.max(0, total - (used.get(name) ?? 0)) : 0;
    rows.push({ name, product, nvenc: hasNvenc(product), total, free, ready, schedulable });
  }
  rows.sort((a, b) => a.name.localeCompare(b.name));
  const byProduct = new Map<string, ProductSlices>();
  for (const r of rows) {
    const p = byProduct.get(r.product) ?? { product: r.product, nvenc: r.nvenc, total: 0, free: 0 };
    p.total += r.total;
    p.free += r.free;
    byProduct.set(r.product, p);
  }
  const sum = (f: (r: NodeSlices) => number) => rows.reduce((n, r) => n + f(r), 0);
  return {
    total: sum((r) => r.total),
    free: sum((r) => r.free),
    nvencFree: sum((r) => (r.nvenc ? r.free : 0)),
    products: [...byProduct.values()].sort((a, b) => a.product.localeCompare(b.product)),
    nodes: rows,
  };
}

/**
 * The slices placed pods hold per node, kept up to date from pod events instead of recounted
 * over every pod per question: `capacity(nodes)` then costs the number of nodes, not of pods
 * (a reconcile of each of 5000 sessions would otherwise walk 5000 pods). Feed it every pod
 * add/update (`pod`) and delete (`gone`) of the cache it mirrors; a relist replays them.
 * `capacity(nodes)` equals `gpuCapacity(nodes, pods)` over the same pods.
 */
export class SliceLedger {
  /** Per pod (namespace/name): the node and slices it counts for. */
  private readonly counted = new Map<string, { node: string; slices: number }>();
  private readonly used = new Map<string, number>();

  constructor(private readonly resource: string) {}

  /** A pod was added or changed; true when what it holds changed. */
  pod(pod: V1Pod): boolean {
    const key = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
    const node = pod.spec?.nodeName;
    const slices = node && holdsSlices(pod) ? slicesOf(pod, this.resource) : 0;
    const before = this.counted.get(key);
    if (before?.node === node && before?.slices === slices) return false;
    if (!before && slices <= 0) return false;
    this.uncount(key);
    if (!node || slices <= 0) return true;
    this.counted.set(key, { node, slices });
    this.used.set(node, (this.used.get(node) ?? 0) + slices);
    return true;
  }

  /** A pod was deleted; true when it held slices. */
  gone(pod: V1Pod): boolean {
    return this.uncount(`${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`);
  }

  /** Slices held on a node. */
  usedOn(node: string): number {
    return this.used.get(node) ?? 0;
  }

  capacity(nodes: readonly V1Node[]): GpuCapacity {
    return capacityOf(nodes, this.used, this.resource);
  }

  private uncount(key: string): boolean {
    const before = this.counted.get(key);
    if (!before) return false;
    this.counted.delete(key);
    const left = (this.used.get(before.node) ?? 0) - before.slices;
    if (left > 0) this.used.set(before.node, left);
    else this.used.delete(before.node);
    return true;
  }
}

/** Phases of a session that waits for a place to run (not yet given to a node). */
export const WAITING_PHASES: readonly SessionPhase[] = ['Pending', 'Scheduling'];

/** Sessions waiting for a place: Pending (or no status yet) or Scheduling, not being deleted. */
export function waitingSessions(sessions: readonly VDISession[]): number {
  return sessions.filter(
    (s) => !s.metadata.deletionTimestamp && WAITING_PHASES.includes(s.status?.phase ?? 'Pending'),
  ).length;
}

/** What a desktop pod asks of a node: labels it must carry, taints it tolerates, GPU products. */
export interface Placement {
  nodeSelector?: Record<string, string>;
  tolerations?: { key?: string; operator?: string; value?: string; effect?: string }[];
  gpuProducts?: string[];
}

/** True when the scheduler could put a pod with this placement on the node (labels, products, taints). */
export function eligible(node: V1Node, p: Placement): boolean {
  const labels = node.metadata?.labels ?? {};
  if (Object.entries(p.nodeSelector ?? {}).some(([k, v]) => labels[k] !== v)) return false;
  if (p.gpuProducts && !p.gpuProducts.includes(labels[PRODUCT_LABEL] ?? '')) return false;
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
