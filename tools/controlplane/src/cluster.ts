/**
 * The local control plane's lifecycle: `up` (build if needed → PKI → etcd → kube-apiserver →
 * kube-controller-manager → kube-scheduler → kwok → simulated nodes), `down` and `status`.
 *
 * Every component is the real upstream binary built by scripts/build.sh; kwok stands in for the
 * kubelets of the GPU nodes (node heartbeats and pod lifecycles), so pods are scheduled by the real
 * scheduler and garbage-collected by the real controller manager, but no container runs there.
 * Beside them, when run as root, one real node (`@vdi/node`: kubelet + containerd) runs the pods
 * that tolerate its taint, e.g. CPU desktops.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { controlplaneDir, loadConfig, readVersions, statePaths, type ClusterConfig } from './config.js';
import { defaultNodes } from '@vdi/sim-nodes';
import {
  NODE_NAME,
  runningNodeOwner,
  nodeStatus,
  nodeUnsupportedReason,
  startNode,
  stopNode,
  tryLockNode,
  type NodeOptions,
  type NodeStatus,
} from '@vdi/node';
import { ensurePki, kubeconfigYaml, CLIENT_IDENTITIES } from './pki.js';
import {
  isAlive,
  killGroup,
  parseProcList,
  portInUse,
  readState,
  startDetached,
  stopProcess,
  waitHealthy,
  writeState,
  type ManagedProcess,
} from './processes.js';

export type Logger = (msg: string) => void;
const defaultLog: Logger = (msg) => process.stderr.write(`[cluster] ${msg}\n`);

type Component = 'kubernetes' | 'etcd' | 'kwok' | 'traefik-crds';
/** Components of the real node only (kubelet comes with `kubernetes`); built by `npm run setup`. */
type NodeComponent = 'containerd' | 'cri-tools';

function componentDir(c: Component | NodeComponent): string {
  return execFileSync('bash', [path.join(controlplaneDir, 'scripts', 'build.sh'), '--print-dir', c], {
    encoding: 'utf8',
  }).trim();
}

/** Makes sure the binaries exist, building the missing ones (progress goes to stderr). */
export function ensureBinaries(log: Logger = defaultLog): Record<Component, string> {
  const dirs = {
    kubernetes: componentDir('kubernetes'),
    etcd: componentDir('etcd'),
    kwok: componentDir('kwok'),
    'traefik-crds': componentDir('traefik-crds'),
  };
  const missing = (Object.keys(dirs) as Component[]).filter(
    (c) => !existsSync(path.join(dirs[c], '.complete')),
  );
  if (missing.length > 0) {
    log(
      `building ${missing.join(', ')} from the Go module proxy (first time only; cached under ${path.dirname(dirs.etcd)})`,
    );
    execFileSync('bash', [path.join(controlplaneDir, 'scripts', 'build.sh'), ...missing], {
      stdio: 'inherit',
    });
  }
  return dirs;
}

function httpGet(url: string, tls?: https.RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { ...tls, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

function adminTls(cfg: ClusterConfig): https.RequestOptions {
  const pki = statePaths(cfg).pki;
  return {
    ca: readFileSync(path.join(pki, 'ca.crt')),
    cert: readFileSync(path.join(pki, 'admin.crt')),
    key: readFileSync(path.join(pki, 'admin.key')),
  };
}

async function apiserverReady(cfg: ClusterConfig): Promise<boolean> {
  const r = await httpGet(`https://127.0.0.1:${cfg.ports.apiserver}/readyz`, adminTls(cfg));
  return r.status === 200;
}

/** A client for the local cluster's admin identity. */
export function adminKubeConfig(cfg: ClusterConfig = loadConfig()): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(statePaths(cfg).adminKubeconfig);
  return kc;
}

/** True when every recorded process is alive and the API server answers /readyz. */
export async function isRunning(cfg: ClusterConfig = loadConfig()): Promise<boolean> {
  const p = statePaths(cfg);
  const state = readState(p.state);
  if (state.processes.length === 0 || !state.processes.every((x) => isAlive(x.pid))) return false;
  return apiserverReady(cfg).catch(() => false);
}

function kwokConfigYaml(cfg: ClusterConfig, stagesDir: string): string {
  // Stage definitions come from kwok's own module (copied next to the binary at build time).
  const stageFiles = [
    'node/fast/node-initialize.yaml',
    'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
    // The fast pod stages: a placed pod is Running and Ready at once, so what a test or a
    // benchmark measures is the control plane and the platform, not simulated container starts.
    'pod/fast/pod-ready.yaml',
    'pod/fast/pod-complete.yaml',
    'pod/fast/pod-delete.yaml',
    'pod/chaos/pod-container-running-failed.yaml',
    'pod/chaos/pod-init-container-running-failed.yaml',
  ];
  const parts = [
    [
      'apiVersion: config.kwok.x-k8s.io/v1alpha1',
      'kind: KwokConfiguration',
      'options:',
      `  cidr: ${cfg.podCidr}`,
      '  nodeIP: 198.19.0.1',
      '  manageAllNodes: false',
      '  manageNodesWithAnnotationSelector: kwok.x-k8s.io/node=fake',
      '  nodeLeaseDurationSeconds: 40',
      // kwok's defaults are applied by kwokctl, not by kwok itself: set the parallelism explicitly.
      '  nodeLeaseParallelism: 8',
      '  podPlayStageParallelism: 16',
      '  nodePlayStageParallelism: 8',
      '  podsOnNodeSyncParallelism: 8',
    ].join('\n'),
    ...stageFiles.map((f) => readFileSync(path.join(stagesDir, f), 'utf8').trim()),
  ];
  return parts.join('\n---\n') + '\n';
}

async function applyNodes(cfg: ClusterConfig, log: Logger): Promise<void> {
  const kc = adminKubeConfig(cfg);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  for (const node of defaultNodes(cfg.gpuNodes, cfg.replicas, cfg.podCidr)) {
    const name = node.metadata!.name!;
    let current: k8s.V1Node | undefined;
    try {
      current = await core.readNode({ name });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
    const want = node.status!.capacity!;
    if (!current) {
      // A Node create keeps its status: capacity is advertised from the start (kwok keeps it).
      await core.createNode({ body: node });
    } else if (Object.entries(want).some(([k, v]) => current.status?.capacity?.[k] !== v)) {
      // An existing node from an earlier run with other options: bring its capacity in line.
      await core.patchNodeStatus(
        { name, body: { status: { capacity: want, allocatable: want } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    }
    const gpu = want['nvidia.com/gpu'];
    log(
      `node ${name}${gpu ? ` (${node.metadata!.labels!['nvidia.com/gpu.product']}, nvidia.com/gpu=${gpu})` : ''}`,
    );
  }
  // Wait until kwok has made every simulated node Ready, so the scheduler will use them.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const nodes = await core.listNode({ labelSelector: 'vdi.kasm.io/simulated=true' });
    const notReady = nodes.items.filter(
      (n) => !n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    if (notReady.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `nodes not Ready after 30s: ${notReady.map((n) => n.metadata?.name).join(', ')}; see the kwok log in ${statePaths(cfg).logs}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Server-side applies every object of a multi-document YAML file as the cluster's own field manager. */
async function applyManifests(cfg: ClusterConfig, file: string): Promise<void> {
  const client = k8s.KubernetesObjectApi.makeApiClient(adminKubeConfig(cfg));
  for (const obj of k8s.loadAllYaml(readFileSync(file, 'utf8')) as k8s.KubernetesObject[]) {
    if (!obj?.kind) continue;
    await client.patch(
      obj,
      undefined,
      undefined,
      'vdi-controlplane',
      true,
      k8s.PatchStrategy.ServerSideApply,
    );
  }
}

export interface UpResult {
  kubeconfig: string;
  reused: boolean;
  startedInMs: number;
}

/** Starts the control plane, or reuses the running one. Safe to call while a cluster runs. */
export async function up(cfg: ClusterConfig = loadConfig(), log: Logger = defaultLog): Promise<UpResult> {
  const t0 = Date.now();
  const p = statePaths(cfg);
  if (await isRunning(cfg)) {
    log(`already running; kubeconfig ${p.adminKubeconfig}`);
    await applyNodes(cfg, () => undefined);
    await ensureRealNode(cfg, log);
    return { kubeconfig: p.adminKubeconfig, reused: true, startedInMs: Date.now() - t0 };
  }
  // Half-running (a crash, a killed component): stop what is left and start clean.
  await down(cfg, () => undefined, false);

  const dirs = ensureBinaries(log);
  for (const d of [p.dir, p.logs, p.etcdData]) mkdirSync(d, { recursive: true });
  ensurePki(p.pki, '10.96.0.1');
  const server = `https://127.0.0.1:${cfg.ports.apiserver}`;
  for (const id of CLIENT_IDENTITIES)
    writeFileSync(p.kubeconfig(id.name), kubeconfigYaml(p.pki, id.name, server));
  writeFileSync(p.adminKubeconfig, kubeconfigYaml(p.pki, 'admin', server));

  for (const [name, port] of Object.entries(cfg.ports)) {
    if (await portInUse(port)) {
      throw new Error(
        `port ${port} (${name}) is already in use: stop what holds it (\`ss -ltnp | grep ${port}\`), ` +
          `run \`npm run cluster:down\`, or move the cluster with VDI_*_PORT variables`,
      );
    }
  }

  const procs: ManagedProcess[] = [];
  const save = () => writeState(p.state, { processes: procs });
  const step = async (proc: ManagedProcess, probe: () => Promise<boolean>, timeoutMs: number) => {
    procs.push(proc);
    save();
    const ms = await waitHealthy(proc, probe, timeoutMs);
    log(`${proc.name} healthy in ${(ms / 1000).toFixed(1)}s`);
  };
  const k8sBin = (b: string) => path.join(dirs.kubernetes, b);
  const pki = (f: string) => path.join(p.pki, f);
  const insecure = { rejectUnauthorized: false };

  try {
    const etcdUrl = `http://127.0.0.1:${cfg.ports.etcdClient}`;
    await step(
      startDetached(
        'etcd',
        path.join(dirs.etcd, 'etcd'),
        [
          '--name=vdi-local',
          `--data-dir=${p.etcdData}`,
          `--listen-client-urls=${etcdUrl}`,
          `--advertise-client-urls=${etcdUrl}`,
          `--listen-peer-urls=http://127.0.0.1:${cfg.ports.etcdPeer}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${cfg.ports.etcdPeer}`,
          `--initial-cluster=vdi-local=http://127.0.0.1:${cfg.ports.etcdPeer}`,
          // A disposable local cluster: skip fsync (tests create thousands of objects).
          '--unsafe-no-fsync',
          '--quota-backend-bytes=4294967296',
          '--log-level=warn',
        ],
        p.logs,
        { port: cfg.ports.etcdClient },
      ),
      async () => (await httpGet(`${etcdUrl}/health`)).body.includes('"health":"true"'),
      30_000,
    );

    await step(
      startDetached(
        'kube-apiserver',
        k8sBin('kube-apiserver'),
        [
          `--etcd-servers=${etcdUrl}`,
          '--bind-address=127.0.0.1',
          '--advertise-address=127.0.0.1',
          `--secure-port=${cfg.ports.apiserver}`,
          `--tls-cert-file=${pki('apiserver.crt')}`,
          `--tls-private-key-file=${pki('apiserver.key')}`,
          `--client-ca-file=${pki('ca.crt')}`,
          `--kubelet-client-certificate=${pki('apiserver-kubelet-client.crt')}`,
          `--kubelet-client-key=${pki('apiserver-kubelet-client.key')}`,
          `--service-account-key-file=${pki('sa.pub')}`,
          `--service-account-signing-key-file=${pki('sa.key')}`,
          '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
          '--api-audiences=https://kubernetes.default.svc.cluster.local',
          `--service-cluster-ip-range=${cfg.serviceCidr}`,
          '--authorization-mode=Node,RBAC',
          // The real node's name resolves nowhere: reach its kubelet (logs, exec) by its InternalIP.
          '--kubelet-preferred-address-types=InternalIP',
          // As on K3s: privileged pods exist (GPU operator, device plugin); Pod Security decides per namespace.
          '--allow-privileged=true',
          // PodSecurity is what makes `restricted` namespaces real; listed explicitly on purpose.
          '--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultStorageClass,DefaultTolerationSeconds,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ResourceQuota,PodSecurity,NodeRestriction',
          // The API server would publish 127.0.0.1 as the `kubernetes` Service endpoint, which it
          // refuses itself (loopback endpoints are invalid); nothing in the cluster calls it.
          '--endpoint-reconciler-type=none',
          // VDI_APISERVER_PROFILING=1: /debug/pprof for `go tool pprof` (where the API server's
          // CPU goes in a benchmark burst); off otherwise, as it should be.
          `--profiling=${process.env.VDI_APISERVER_PROFILING === '1'}`,
          '--v=0',
        ],
        p.logs,
        { port: cfg.ports.apiserver },
      ),
      () => apiserverReady(cfg),
      60_000,
    );

    await step(
      startDetached(
        'kube-controller-manager',
        k8sBin('kube-controller-manager'),
        [
          `--kubeconfig=${p.kubeconfig('kube-controller-manager')}`,
          `--authentication-kubeconfig=${p.kubeconfig('kube-controller-manager')}`,
          `--authorization-kubeconfig=${p.kubeconfig('kube-controller-manager')}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${cfg.ports.controllerManager}`,
          `--service-account-private-key-file=${pki('sa.key')}`,
          `--root-ca-file=${pki('ca.crt')}`,
          `--cluster-signing-cert-file=${pki('ca.crt')}`,
          `--cluster-signing-key-file=${pki('ca.key')}`,
          '--use-service-account-credentials=true',
          `--service-cluster-ip-range=${cfg.serviceCidr}`,
          '--leader-elect=false',
          '--concurrent-gc-syncs=40',
          '--kube-api-qps=200',
          '--kube-api-burst=400',
          '--profiling=false',
        ],
        p.logs,
        { port: cfg.ports.controllerManager },
      ),
      async () =>
        (await httpGet(`https://127.0.0.1:${cfg.ports.controllerManager}/healthz`, insecure)).status === 200,
      60_000,
    );

    await step(
      startDetached(
        'kube-scheduler',
        k8sBin('kube-scheduler'),
        [
          `--kubeconfig=${p.kubeconfig('kube-scheduler')}`,
          `--authentication-kubeconfig=${p.kubeconfig('kube-scheduler')}`,
          `--authorization-kubeconfig=${p.kubeconfig('kube-scheduler')}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${cfg.ports.scheduler}`,
          '--leader-elect=false',
          '--kube-api-qps=200',
          '--kube-api-burst=400',
          '--profiling=false',
        ],
        p.logs,
        { port: cfg.ports.scheduler },
      ),
      async () =>
        (await httpGet(`https://127.0.0.1:${cfg.ports.scheduler}/healthz`, insecure)).status === 200,
      60_000,
    );

    writeFileSync(p.kwokConfig, kwokConfigYaml(cfg, path.join(dirs.kwok, 'stages')));
    await step(
      startDetached(
        'kwok',
        path.join(dirs.kwok, 'kwok'),
        [
          `--kubeconfig=${p.kubeconfig('kwok')}`,
          `--config=${p.kwokConfig}`,
          `--server-address=127.0.0.1:${cfg.ports.kwok}`,
        ],
        p.logs,
        { port: cfg.ports.kwok },
      ),
      async () => (await httpGet(`http://127.0.0.1:${cfg.ports.kwok}/healthz`)).status === 200,
      30_000,
    );

    await applyNodes(cfg, log);
    // The local-path provisioner (as K3s ships one), a Node process of the cluster like the others.
    const provisioner = startDetached(
      'local-path-provisioner',
      process.execPath,
      [
        '--conditions=@vdi/source',
        '--import',
        'tsx',
        path.join(controlplaneDir, 'src', 'local-path-cli.ts'),
        p.adminKubeconfig,
        // Volumes on the real node are real folders here.
        path.join(p.dir, 'storage'),
      ],
      p.logs,
      { cwd: controlplaneDir },
    );
    await step(
      provisioner,
      async () => readFileSync(provisioner.log, 'utf8').includes('local-path provisioner running'),
      30_000,
    );
    await applyManifests(cfg, path.join(dirs['traefik-crds'], 'crds.yaml'));
    await applyManifests(cfg, path.join(controlplaneDir, 'manifests', 'k3s-like.yaml'));
    log(
      `Traefik CRDs (traefik.io/v1alpha1), RuntimeClass nvidia and StorageClass local-path installed, as on K3s`,
    );
    await ensureRealNode(cfg, log);
  } catch (err) {
    // Leave nothing half-started behind; the error already names the failing log.
    await down(cfg, () => undefined, false);
    throw err;
  }
  const ms = Date.now() - t0;
  log(`ready in ${(ms / 1000).toFixed(1)}s; export KUBECONFIG=${p.adminKubeconfig}`);
  return { kubeconfig: p.adminKubeconfig, reused: false, startedInMs: ms };
}

/** Stops every process of the cluster and checks its ports are free. `purge` also deletes all state. */
export async function down(
  cfg: ClusterConfig = loadConfig(),
  log: Logger = defaultLog,
  purge = false,
): Promise<void> {
  const p = statePaths(cfg);
  const state = readState(p.state);
  // The real node first: its teardown deletes its Node object while the API server still answers.
  let nodeError: unknown;
  try {
    await stopNode({ stateDir: p.dir, log });
  } catch (err) {
    nodeError = err;
  }
  for (const proc of [...state.processes].reverse()) {
    if (isAlive(proc.pid)) {
      await stopProcess(proc.pid);
      log(`stopped ${proc.name} (pid ${proc.pid})`);
    }
  }
  if (existsSync(p.state)) rmSync(p.state);
  const busy: string[] = [];
  for (const [name, port] of Object.entries(cfg.ports))
    if (await portInUse(port)) busy.push(`${name}:${port}`);
  if (busy.length > 0 && state.processes.length > 0) {
    throw new Error(
      `ports still in use after stopping the cluster: ${busy.join(', ')} (another process holds them)`,
    );
  }
  if (nodeError) throw nodeError;
  if (purge && existsSync(p.dir)) {
    rmSync(p.dir, { recursive: true, force: true });
    log(`removed ${p.dir}`);
  }
}

/** What `@vdi/node` needs to run the real node for this cluster. */
export function realNodeOptions(cfg: ClusterConfig = loadConfig(), log: Logger = defaultLog): NodeOptions {
  const p = statePaths(cfg);
  return {
    stateDir: p.dir,
    apiserverUrl: `https://127.0.0.1:${cfg.ports.apiserver}`,
    pkiDir: p.pki,
    adminKubeconfig: p.adminKubeconfig,
    kubernetesBinDir: componentDir('kubernetes'),
    containerdBinDir: componentDir('containerd'),
    criToolsBinDir: componentDir('cri-tools'),
    cacheDir: cfg.cacheDir,
    log,
  };
}

/**
 * Starts the real node beside the kwok nodes when it can run here (root, binaries built) and no
 * other cluster of this machine has it; otherwise says in one line why not and carries on: pods
 * meant for it then stay Pending and the platform falls back to stand-ins.
 */
async function ensureRealNode(cfg: ClusterConfig, log: Logger): Promise<void> {
  const opts = realNodeOptions(cfg, log);
  const why = nodeUnsupportedReason(opts);
  if (why) {
    log(`real node skipped: ${why}; desktops on it fall back to stand-ins`);
    return;
  }
  const owner = runningNodeOwner();
  if (owner && owner !== opts.stateDir) {
    log(
      `real node skipped: ${NODE_NAME} runs for the cluster in ${owner} (one per machine); desktops on it fall back to stand-ins`,
    );
    return;
  }
  // A test restarting the node holds the lock; it brings the node back itself.
  const release = await tryLockNode();
  if (!release) {
    log(
      `real node ${NODE_NAME}: being started or restarted by another process (cluster up or a test); left to it`,
    );
    return;
  }
  try {
    await startNode(opts);
  } catch (err) {
    log(
      `real node failed: ${err instanceof Error ? err.message : String(err)}; desktops on it fall back to stand-ins (see ${path.join(opts.stateDir, 'node', 'logs')})`,
    );
  } finally {
    await release();
  }
}

/** Health probes of the components, by the name `up` records them under. */
const componentProbes: Record<string, (cfg: ClusterConfig) => Promise<boolean>> = {
  etcd: async (cfg) =>
    (await httpGet(`http://127.0.0.1:${cfg.ports.etcdClient}/health`)).body.includes('"health":"true"'),
  'kube-apiserver': (cfg) => apiserverReady(cfg),
  'kube-controller-manager': async (cfg) =>
    (await httpGet(`https://127.0.0.1:${cfg.ports.controllerManager}/healthz`, { rejectUnauthorized: false }))
      .status === 200,
  'kube-scheduler': async (cfg) =>
    (await httpGet(`https://127.0.0.1:${cfg.ports.scheduler}/healthz`, { rejectUnauthorized: false }))
      .status === 200,
  kwok: async (cfg) => (await httpGet(`http://127.0.0.1:${cfg.ports.kwok}/healthz`)).status === 200,
};

/**
 * Restarts one component of a running cluster (e.g. `kube-apiserver`, for chaos tests) with the
 * command line, environment and working directory it runs with now, and waits until it is healthy
 * again. `signal` SIGKILL makes it a crash rather than a clean stop. Returns the new pid and how
 * long the component was away.
 */
export async function restartComponent(
  cfg: ClusterConfig,
  name: string,
  opts: { signal?: 'SIGTERM' | 'SIGKILL'; log?: Logger } = {},
): Promise<{ pid: number; downMs: number }> {
  const p = statePaths(cfg);
  const state = readState(p.state);
  const index = state.processes.findIndex((x) => x.name === name);
  const old = state.processes[index];
  if (!old || !isAlive(old.pid)) throw new Error(`${name} is not running in the cluster of ${p.dir}`);
  const [command, ...args] = parseProcList(readFileSync(`/proc/${old.pid}/cmdline`, 'utf8'));
  const env = Object.fromEntries(
    parseProcList(readFileSync(`/proc/${old.pid}/environ`, 'utf8')).map((kv) => {
      const eq = kv.indexOf('=');
      return [kv.slice(0, eq), kv.slice(eq + 1)];
    }),
  );
  const cwd = readlinkSync(`/proc/${old.pid}/cwd`);
  const started = Date.now();
  if (opts.signal === 'SIGKILL') {
    killGroup(old.pid, 'SIGKILL');
    while (isAlive(old.pid)) await new Promise((r) => setTimeout(r, 20));
  } else {
    await stopProcess(old.pid);
  }
  const proc = startDetached(name, command!, args, p.logs, {
    env,
    cwd,
    ...(old.port !== undefined ? { port: old.port } : {}),
  });
  state.processes[index] = proc;
  writeState(p.state, state);
  const probe = componentProbes[name];
  await waitHealthy(proc, probe ? () => probe(cfg) : async () => true, 60_000);
  const downMs = Date.now() - started;
  (opts.log ?? defaultLog)(`${name} restarted (pid ${proc.pid}) in ${(downMs / 1000).toFixed(1)}s`);
  return { pid: proc.pid, downMs };
}

export interface ClusterStatus {
  running: boolean;
  kubeconfig: string;
  processes: (ManagedProcess & { alive: boolean; rssMiB?: number })[];
  versions: Record<string, string>;
  /** The real node, when this cluster has run one. */
  node?: NodeStatus;
}

function rssMiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

export async function status(cfg: ClusterConfig = loadConfig()): Promise<ClusterStatus> {
  const p = statePaths(cfg);
  const state = readState(p.state);
  return {
    running: await isRunning(cfg),
    kubeconfig: p.adminKubeconfig,
    processes: state.processes.map((x) => {
      const alive = isAlive(x.pid);
      const rss = alive ? rssMiB(x.pid) : undefined;
      return { ...x, alive, ...(rss !== undefined ? { rssMiB: rss } : {}) };
    }),
    versions: readVersions(),
    ...(existsSync(path.join(p.dir, 'node', 'options.json'))
      ? { node: await nodeStatus({ stateDir: p.dir }) }
      : {}),
  };
}
