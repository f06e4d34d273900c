/**
 * The cluster a benchmark runs on. By default a throw-away local control plane of its own (own
 * state directory and ports, no default GPU nodes), built from the same cached binaries as the
 * shared one: the benchmark's 5000 sessions then never load other people's tests, the numbers are
 * not disturbed by theirs, and the API server can be restarted for the chaos run. `--cluster
 * shared` uses the shared local cluster instead (phases still get their own namespace and nodes).
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import {
  down,
  loadConfig,
  readState,
  restartComponent,
  statePaths,
  up,
  type ClusterConfig,
} from '@vdi/controlplane';
import { KubeJsonClient } from '@vdi/kube-client';
import { freePort, installCrds } from '@vdi/testing';

export interface BenchCluster {
  cfg: ClusterConfig;
  kubeconfig: string;
  kc: k8s.KubeConfig;
  /** True when this run started the cluster (and removes it at the end). */
  own: boolean;
  /** `host:port` of the API server, as clients send it in the Host header. */
  apiserverHost: string;
  /** A JSON client of the cluster's admin with `maxSockets` connections kept open. */
  client(maxSockets?: number): KubeJsonClient;
  /** The control plane's processes now (pids change when a component restarts), with their log files. */
  processes(): { name: string; pid: number; log: string }[];
  /** Kills kube-apiserver and starts it again; resolves when it is ready, with how long it was away. */
  restartApiserver(): Promise<number>;
  /** Stops and deletes an own cluster; leaves the shared one alone. */
  close(): Promise<void>;
}

type Log = (msg: string) => void;

function kubeConfigOf(file: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

function wrap(cfg: ClusterConfig, kubeconfig: string, own: boolean, log: Log): BenchCluster {
  return {
    cfg,
    kubeconfig,
    kc: kubeConfigOf(kubeconfig),
    own,
    apiserverHost: `127.0.0.1:${cfg.ports.apiserver}`,
    client(maxSockets = 64) {
      return new KubeJsonClient(kubeConfigOf(kubeconfig), maxSockets);
    },
    processes: () =>
      readState(statePaths(cfg).state).processes.map((p) => ({ name: p.name, pid: p.pid, log: p.log })),
    async restartApiserver() {
      if (!own) throw new Error('the API server is only restarted on a cluster of the benchmark’s own');
      return (await restartComponent(cfg, 'kube-apiserver', { signal: 'SIGKILL', log })).downMs;
    },
    async close() {
      if (own) await down(cfg, () => undefined, true);
    },
  };
}

/**
 * Starts a throw-away cluster under `stateDir` on free ports, with the platform's CRDs, from
 * nothing: whatever an earlier run left there (a killed run's processes, its etcd data) is
 * stopped and deleted first. Reused etcd data brought back thousands of old sessions and pods,
 * and the new run's sessions waited behind them in the scheduler's queue.
 */
export async function startOwnCluster(stateDir: string, log: Log): Promise<BenchCluster> {
  const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
  const cfg = loadConfig({
    ...process.env,
    VDI_STATE_DIR: stateDir,
    VDI_GPU_NODES: 'none',
    VDI_APISERVER_PORT: String(ports[0]),
    VDI_ETCD_PORT: String(ports[1]),
    VDI_ETCD_PEER_PORT: String(ports[2]),
    VDI_KCM_PORT: String(ports[3]),
    VDI_SCHEDULER_PORT: String(ports[4]),
    VDI_KWOK_PORT: String(ports[5]),
  });
  await purgeOwnCluster(cfg, log);
  const r = await up(cfg, (m) => log(`cluster: ${m}`));
  const cluster = wrap(cfg, r.kubeconfig, true, log);
  await installCrds(cluster.kc);
  return cluster;
}

/**
 * Stops what an earlier cluster in `cfg.stateDir` left running (by the pids of its state file) and
 * deletes its state — etcd data, PKI, logs. Only ever the benchmark's own directory.
 */
export async function purgeOwnCluster(cfg: ClusterConfig, log: Log): Promise<void> {
  const p = statePaths(cfg);
  if (!existsSync(p.dir) || readdirSync(p.dir).length === 0) return;
  const left = readState(p.state).processes.map((x) => `${x.name} (pid ${x.pid})`);
  log(
    `cluster: purging the previous cluster state in ${p.dir}` +
      (left.length ? `; stopping what it left: ${left.join(', ')}` : ''),
  );
  await down(cfg, (m) => log(`cluster: ${m}`), true);
}

/** The shared local cluster (started when it is not running), with the platform's CRDs. */
export async function useSharedCluster(log: Log): Promise<BenchCluster> {
  const cfg = loadConfig();
  const r = await up(cfg, (m) => log(`cluster: ${m}`));
  const cluster = wrap(cfg, r.kubeconfig, false, log);
  await installCrds(cluster.kc);
  return cluster;
}

export const defaultStateDir = (root: string, name: string) => path.join(root, '.vdi', 'bench', name);
