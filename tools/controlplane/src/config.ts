/**
 * Where the local control plane keeps its state, which ports it uses and which simulated nodes
 * it creates. Every value has a default and an environment override, so `npm run cluster:up`
 * works with no arguments and CI can move things out of the way.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The repository root (tools/controlplane/src → ../../..). */
export const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
export const controlplaneDir = path.resolve(import.meta.dirname, '..');

export interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
  kwok: number;
}

/** One simulated GPU node: a GPU Feature Discovery product name and how many physical GPUs it has. */
export interface GpuNodeSpec {
  product: string;
  gpus: number;
}

export interface ClusterConfig {
  stateDir: string;
  cacheDir: string;
  ports: Ports;
  /** Time-slices per physical GPU, as in gpu/time-slicing-config.yaml. */
  replicas: number;
  gpuNodes: GpuNodeSpec[];
  /** The pod address range kwok hands out (RFC 2544 benchmarking range, never routable for real). */
  podCidr: string;
  serviceCidr: string;
}

function intEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) {
    throw new Error(`${name}=${raw} is not a valid port/number; unset it or give an integer`);
  }
  return n;
}

/**
 * Parses `PRODUCT:GPUS[,PRODUCT:GPUS...]`, e.g. `NVIDIA-L4:1,NVIDIA-H100-80GB-HBM3:1`: one node per
 * entry. Products are GFD `nvidia.com/gpu.product` values (without the `-SHARED` suffix).
 */
export function parseGpuNodes(spec: string): GpuNodeSpec[] {
  const trimmed = spec.trim();
  if (trimmed === '' || trimmed === 'none') return [];
  return trimmed.split(',').map((entry) => {
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(?::(\d+))?$/.exec(entry.trim());
    if (!m) {
      throw new Error(
        `invalid GPU node entry '${entry}': expected PRODUCT[:GPUS], e.g. NVIDIA-L4:1 (products are GFD nvidia.com/gpu.product values)`,
      );
    }
    const gpus = m[2] === undefined ? 1 : Number(m[2]);
    if (gpus < 1 || gpus > 16) throw new Error(`invalid GPU count in '${entry}': 1 to 16 GPUs per node`);
    return { product: m[1]!, gpus };
  });
}

export const DEFAULT_GPU_NODES = 'NVIDIA-L4:1,NVIDIA-H100-80GB-HBM3:1';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ClusterConfig {
  const stateDir = path.resolve(env.VDI_STATE_DIR ?? path.join(repoRoot, '.vdi'), 'cluster');
  const cacheDir = path.resolve(env.VDI_CACHE ?? path.join(os.homedir(), '.cache', 'vdi-platform'));
  const replicas = intEnv(env, 'VDI_GPU_REPLICAS', 8);
  return {
    stateDir,
    cacheDir,
    ports: {
      etcdClient: intEnv(env, 'VDI_ETCD_PORT', 12379),
      etcdPeer: intEnv(env, 'VDI_ETCD_PEER_PORT', 12380),
      apiserver: intEnv(env, 'VDI_APISERVER_PORT', 6443),
      controllerManager: intEnv(env, 'VDI_KCM_PORT', 10257),
      scheduler: intEnv(env, 'VDI_SCHEDULER_PORT', 10259),
      kwok: intEnv(env, 'VDI_KWOK_PORT', 10247),
    },
    replicas,
    gpuNodes: parseGpuNodes(env.VDI_GPU_NODES ?? DEFAULT_GPU_NODES),
    podCidr: '198.18.0.0/16',
    serviceCidr: '10.96.0.0/16',
  };
}

/** Component versions, read from the same versions.env the Go build uses. */
export function readVersions(): Record<string, string> {
  const text = readFileSync(path.join(controlplaneDir, 'versions.env'), 'utf8');
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(\S+)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** Files of a running cluster, all under the state directory. */
export function statePaths(cfg: ClusterConfig) {
  const d = cfg.stateDir;
  return {
    dir: d,
    pki: path.join(d, 'pki'),
    logs: path.join(d, 'logs'),
    etcdData: path.join(d, 'etcd-data'),
    state: path.join(d, 'state.json'),
    adminKubeconfig: path.join(d, 'admin.kubeconfig'),
    kubeconfig: (component: string) => path.join(d, `${component}.kubeconfig`),
    kwokConfig: path.join(d, 'kwok.yaml'),
  };
}
