/**
 * The real node's lifecycle: `startNode` (record the host → bridge → credentials → containerd →
 * sandbox image → NetworkPolicy controller → kubelet → Ready → policies synced), `stopNode` (remove
 * every pod sandbox through CRI, stop the processes, sweep what is left, put the host back:
 * iptables chains and ipsets included) and `nodeStatus`.
 *
 * A node that crashed (its processes killed) leaves its host-state record behind; the next
 * `startNode` (or `stopNode`) finds it and tears the remains down first, from that record.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import {
  containerdConfig,
  cniConfig,
  kubeletArgs,
  kubeletConfig,
  kubeletKubeconfig,
  nodePaths,
  type NodePaths,
} from './config.js';
import {
  BRIDGE,
  CGROUP_ROOT,
  K8S_NAMESPACE,
  NODE_IP,
  NODE_LABELS,
  NODE_NAME,
  PAUSE_IMAGE,
  POD_CIDR,
  RUN_DIR,
} from './constants.js';
import {
  BRIDGE_NF_SYSCTL,
  chainRules,
  destroyIpsets,
  ensureNetpolBinary,
  ipsetsToDestroy,
  lastNetpolSync,
  listIpsets,
  missingNetpolTools,
  NETPOL_BINARY,
  NETPOL_HEARTBEAT,
  NETPOL_RBAC_NAME,
  NETPOL_USER,
  netpolArgs,
  netpolClusterRole,
  netpolClusterRoleBinding,
  netpolPaths,
  netpolSynced,
  withoutNetpolChains,
} from './netpol.js';
import {
  FIXED_HOST_DIRS,
  iptablesRestoreCommands,
  iptablesInstalled,
  iptablesSave,
  linkExists,
  mountsUnder,
  readSysctls,
  recordHostState,
  runIptables,
  sysctlRestores,
  writeSysctl,
  type HostState,
} from './host-state.js';
import {
  buildStaticGo,
  importArchive,
  listImages,
  writeBinaryImage,
  type CtrContext,
  type ImportProgress,
  type ImportResult,
} from './images.js';
import {
  cgroupDirs,
  cgroupHierarchies,
  cgroupPids,
  isRecordedAlive,
  killNow,
  pidsWithCmdline,
  startDetached,
  stopPid,
  type NodeProcess,
} from './processes.js';

export type Logger = (msg: string) => void;
const defaultLog: Logger = (msg) => process.stderr.write(`[node] ${msg}\n`);

export const RUNC = '/usr/sbin/runc';
export const CNI_BIN_DIR = '/usr/lib/cni';

export interface NodeOptions {
  /** The cluster's state directory; the node lives in `<stateDir>/node`. */
  stateDir: string;
  /** e.g. https://127.0.0.1:6443 */
  apiserverUrl: string;
  /** The cluster's PKI folder (ca.crt, ca.key): the kubelet's client certificate is signed here. */
  pkiDir: string;
  /** The admin kubeconfig: waits for Ready, sets the labels the kubelet may not set, deletes the Node on stop. */
  adminKubeconfig: string;
  /** Folder with kubelet (the kubernetes build component). */
  kubernetesBinDir: string;
  /** Folder with containerd, containerd-shim-runc-v2 and ctr. */
  containerdBinDir: string;
  /** Folder with crictl. */
  criToolsBinDir: string;
  /** Where built helper binaries and the sandbox image are cached (…/vdi-platform). */
  cacheDir: string;
  kubeletPort?: number;
  kubeletHealthzPort?: number;
  /** The API server's `--service-cluster-ip-range` (default 10.96.0.0/16, the local control plane's). */
  serviceCidr?: string;
  log?: Logger;
}

/** What `stopNode`/`nodeStatus` need; kept in `<stateDir>/node/options.json` by `startNode`. */
type SavedOptions = Omit<NodeOptions, 'log'>;

/** Names the cluster state folder whose node runs on this machine (one node per machine). */
export const OWNER_FILE = '/run/vdi-node.owner.json';

/** The real node already belongs to another cluster of this machine (another state folder). */
export class NodeBusyError extends Error {
  constructor(readonly ownerStateDir: string) {
    super(
      `real node ${NODE_NAME} already belongs to the cluster in ${ownerStateDir} (one real node per machine); stop that cluster first`,
    );
    this.name = 'NodeBusyError';
  }
}

/** The state folder of the cluster whose node runs (or crashed and was not cleaned) here, if any. */
export function nodeOwner(): string | undefined {
  const owner = readJson<{ stateDir: string }>(OWNER_FILE);
  return owner && existsSync(nodePaths(owner.stateDir).hostState) ? owner.stateDir : undefined;
}

/**
 * The state folder of the cluster whose node has a process running here, if any. An owner whose
 * node is dead (killed with its session, or a machine snapshot restored with the record but not
 * the processes) holds nothing: the next `startNode` of any cluster sweeps its remains and takes over.
 */
export function runningNodeOwner(): string | undefined {
  const owner = nodeOwner();
  if (!owner) return undefined;
  const record = readJson<ProcessRecord>(nodePaths(owner).processes);
  return record?.processes.some(isRecordedAlive) ? owner : undefined;
}

export interface StartResult {
  reused: boolean;
  startedInMs: number;
  /** Whether a crashed node's remains were torn down first. */
  recoveredFromCrash: boolean;
}

interface ProcessRecord {
  processes: NodeProcess[];
}

const tail = (file: string, n = 15) =>
  existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n') : '(no log)';

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Why the node cannot run on this machine (not root, a binary missing), or undefined when it can. */
export function nodeUnsupportedReason(
  o: Pick<NodeOptions, 'kubernetesBinDir' | 'containerdBinDir' | 'criToolsBinDir'>,
): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (it runs containerd and a kubelet)';
  const need = [
    path.join(o.kubernetesBinDir, 'kubelet'),
    path.join(o.containerdBinDir, 'containerd'),
    path.join(o.containerdBinDir, 'containerd-shim-runc-v2'),
    path.join(o.containerdBinDir, 'ctr'),
    path.join(o.criToolsBinDir, 'crictl'),
    RUNC,
    path.join(CNI_BIN_DIR, 'bridge'),
    path.join(CNI_BIN_DIR, 'host-local'),
    path.join(CNI_BIN_DIR, 'loopback'),
  ];
  const missing = need.filter((f) => !existsSync(f));
  if (missing.length > 0)
    return `missing ${missing.join(', ')} (run \`npm run setup\`: it builds kubelet/containerd/crictl and installs the Debian packages runc and containernetworking-plugins)`;
  const tools = missingNetpolTools();
  if (tools.length > 0)
    return `missing ${tools.join(', ')}, which enforce NetworkPolicies on the node (run \`npm run setup\`: it installs the Debian packages iptables and ipset)`;
  return undefined;
}

/** The node's processes, in start order; a node is reused only when all of them run. */
const NODE_PROCESSES = ['containerd', 'netpol', 'kubelet'] as const;

function ctx(o: SavedOptions): CtrContext {
  return {
    ctr: path.join(o.containerdBinDir, 'ctr'),
    socket: nodePaths(o.stateDir).containerdSocket,
    namespace: K8S_NAMESPACE,
  };
}

function crictl(o: SavedOptions, args: string[], timeoutMs = 60_000): string {
  const sock = `unix://${nodePaths(o.stateDir).containerdSocket}`;
  return execFileSync(
    path.join(o.criToolsBinDir, 'crictl'),
    ['--runtime-endpoint', sock, '--image-endpoint', sock, '--timeout', '30s', ...args],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    },
  );
}

function containerdAnswers(o: SavedOptions): boolean {
  try {
    execFileSync(ctx(o).ctr, ['--address', ctx(o).socket, '--timeout', '2s', 'version'], {
      stdio: 'ignore',
      timeout: 5000,
    });
    return true;
  } catch {
    return false;
  }
}

async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  proc?: NodeProcess,
): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (proc && !isRecordedAlive(proc))
      throw new Error(`${proc.name} exited while waiting for ${what}; see ${proc.log}\n${tail(proc.log)}`);
    if (await Promise.resolve(check()).catch(() => false)) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs)
      throw new Error(
        `${what} not reached after ${Math.round(timeoutMs / 1000)}s${proc ? `; see ${proc.log}\n${tail(proc.log)}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

function adminCore(o: SavedOptions): k8s.CoreV1Api {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(o.adminKubeconfig);
  return kc.makeApiClient(k8s.CoreV1Api);
}

/** Whether the Node is Ready, by a heartbeat at or after `since` when given (a crashed node's Ready is stale). */
async function nodeReady(o: SavedOptions, since?: number): Promise<boolean> {
  try {
    const n = await adminCore(o).readNode({ name: NODE_NAME });
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
    if (!ready) return false;
    // Heartbeats have second precision.
    return since === undefined || new Date(ready.lastHeartbeatTime ?? 0).getTime() >= since - 1000;
  } catch {
    return false;
  }
}

/**
 * Signs a client certificate of the node's (`<base>.crt`/`.key` in its pki folder) with the cluster
 * CA: the kubelet's (CN system:node:<name>, O system:nodes), the NetworkPolicy controller's.
 */
function ensureClientCert(o: SavedOptions, p: NodePaths, base: string, subject: string): void {
  mkdirSync(p.pki, { recursive: true });
  const crt = path.join(p.pki, `${base}.crt`);
  // A new cluster PKI (a purge) means a new CA: re-sign when the CA changed.
  const caHash = readFileSync(path.join(o.pkiDir, 'ca.crt')).toString('base64').slice(-64);
  // The kubelet's stamp kept its first name (ca.stamp), so existing nodes keep their certificate.
  const stamp = path.join(p.pki, base === 'kubelet' ? 'ca.stamp' : `${base}.ca.stamp`);
  if (existsSync(crt) && existsSync(stamp) && readFileSync(stamp, 'utf8') === caHash) return;
  const run = (args: string[]) =>
    execFileSync('openssl', args, { cwd: p.pki, stdio: ['ignore', 'ignore', 'pipe'] });
  run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${base}.key`]);
  run(['req', '-new', '-key', `${base}.key`, '-subj', subject, '-out', `${base}.csr`]);
  writeFileSync(path.join(p.pki, `${base}.ext`), 'extendedKeyUsage=clientAuth\n');
  run([
    'x509',
    '-req',
    '-in',
    `${base}.csr`,
    '-CA',
    path.join(o.pkiDir, 'ca.crt'),
    '-CAkey',
    path.join(o.pkiDir, 'ca.key'),
    '-CAcreateserial',
    '-CAserial',
    path.join(p.pki, 'ca.srl'),
    '-days',
    '3650',
    '-sha256',
    '-extfile',
    `${base}.ext`,
    '-out',
    `${base}.crt`,
  ]);
  writeFileSync(stamp, caHash);
}

/** The controller's ClusterRole and binding, created or replaced through the admin kubeconfig. */
async function ensureNetpolRbac(o: SavedOptions): Promise<void> {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(o.adminKubeconfig);
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  const upsert = async (create: () => Promise<unknown>, replace: () => Promise<unknown>) => {
    try {
      await create();
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
      await replace();
    }
  };
  const role = netpolClusterRole() as k8s.V1ClusterRole;
  const binding = netpolClusterRoleBinding() as k8s.V1ClusterRoleBinding;
  await upsert(
    () => rbac.createClusterRole({ body: role }),
    () => rbac.replaceClusterRole({ name: NETPOL_RBAC_NAME, body: role }),
  );
  await upsert(
    () => rbac.createClusterRoleBinding({ body: binding }),
    () => rbac.replaceClusterRoleBinding({ name: NETPOL_RBAC_NAME, body: binding }),
  );
}

async function deleteNetpolRbac(o: SavedOptions): Promise<void> {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(o.adminKubeconfig);
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  for (const del of [
    () => rbac.deleteClusterRoleBinding({ name: NETPOL_RBAC_NAME }),
    () => rbac.deleteClusterRole({ name: NETPOL_RBAC_NAME }),
  ]) {
    try {
      await del();
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
  }
}

/** Turns on the iptables pass of bridged traffic (pod ↔ pod on the node's bridge), recorded beforehand. */
function ensureBridgeNetfilter(): void {
  const current = readSysctls([BRIDGE_NF_SYSCTL])[BRIDGE_NF_SYSCTL];
  if (current === undefined)
    throw new Error(
      `${BRIDGE_NF_SYSCTL} does not exist: the kernel lacks br_netfilter (modprobe br_netfilter), without which pods on the node's bridge are not isolated from each other`,
    );
  if (current !== '1') writeSysctl(BRIDGE_NF_SYSCTL, '1');
}

/** Starts the NetworkPolicy controller; it waits for the Node by itself, so it may start before the kubelet. */
function startNetpol(o: SavedOptions, p: NodePaths, bin: string, env: NodeJS.ProcessEnv): NodeProcess {
  const np = netpolPaths(p);
  ensureClientCert(o, p, 'netpol', `/CN=${NETPOL_USER}`);
  writeFileSync(
    np.kubeconfig,
    kubeletKubeconfig(o.apiserverUrl, path.join(o.pkiDir, 'ca.crt'), np.cert, np.key, 'netpol'),
  );
  return startDetached(
    'netpol',
    bin,
    netpolArgs({
      kubeconfig: np.kubeconfig,
      nodeName: NODE_NAME,
      ...(o.serviceCidr ? { serviceCidr: o.serviceCidr } : {}),
    }),
    p.logs,
    env,
  );
}

/** Waits until the controller has completed a full sync (every pod of the node has its chain). */
async function waitNetpolSynced(proc: NodeProcess, timeoutMs = 60_000): Promise<number> {
  return waitFor(
    `${NETPOL_BINARY}'s first NetworkPolicy sync`,
    () => netpolSynced(chainRules('KUBE-ROUTER-FORWARD')),
    timeoutMs,
    proc,
  );
}

/** The sandbox image archive: the pause program (tools/node/go/pause), built and laid out once. */
function pauseArchive(o: SavedOptions): string {
  const cache = path.join(o.cacheDir, 'node');
  const bin = buildStaticGo(path.resolve(import.meta.dirname, '..', 'go', 'pause'), cache);
  const archive = `${bin}.oci.tar`;
  if (!existsSync(archive))
    writeBinaryImage(bin, { ref: PAUSE_IMAGE, entrypoint: ['/pause'], user: '65535:65535' }, archive);
  return archive;
}

function ensureBridge(): void {
  if (linkExists(BRIDGE)) return;
  execFileSync('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  execFileSync('ip', ['addr', 'add', `${NODE_IP}/${POD_CIDR.split('/')[1]}`, 'dev', BRIDGE]);
  execFileSync('ip', ['link', 'set', BRIDGE, 'up']);
}

/** The kubelet expects its cgroup root in every v1 hierarchy; cpuset needs its cpus/mems filled in. */
function ensureCgroupRoot(): void {
  for (const h of cgroupHierarchies()) {
    const dir = path.join(h, CGROUP_ROOT);
    if (!existsSync(dir)) mkdirSync(dir);
    if (path.basename(h) === 'cpuset') {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        if (readFileSync(path.join(dir, f), 'utf8').trim() === '')
          writeFileSync(path.join(dir, f), readFileSync(path.join(h, f), 'utf8'));
      }
    }
  }
}

/** Starts the node, or reuses it when it runs and is Ready. Requires root and the built binaries. */
export async function startNode(opts: NodeOptions): Promise<StartResult> {
  const log = opts.log ?? defaultLog;
  const { log: _ignored, ...o } = opts;
  const t0 = Date.now();
  const p = nodePaths(o.stateDir);
  const why = nodeUnsupportedReason(o);
  if (why) throw new Error(`real node ${NODE_NAME} cannot start: ${why}`);

  const owner = nodeOwner();
  if (owner && owner !== o.stateDir) {
    if (runningNodeOwner() === owner) throw new NodeBusyError(owner);
    log(
      `${NODE_NAME}: the cluster in ${owner} left a dead node behind (no process of it runs); tearing its remains down and taking over`,
    );
    await stopNode({ stateDir: owner, log, deleteNode: false });
  }
  const record = readJson<ProcessRecord>(p.processes);
  if (
    record &&
    NODE_PROCESSES.every((n) => record.processes.some((x) => x.name === n)) &&
    record.processes.every(isRecordedAlive) &&
    (await nodeReady(o))
  ) {
    log(`${NODE_NAME} already running and Ready`);
    return { reused: true, startedInMs: Date.now() - t0, recoveredFromCrash: false };
  }
  const recoveredFromCrash = existsSync(p.hostState);
  if (recoveredFromCrash) {
    log(`${NODE_NAME}: found the remains of an earlier run (crashed or killed); tearing them down first`);
    await teardown(o, p, log, false);
  } else if (foreignRemains()) {
    // A node whose record is gone (its state folder deleted while it ran): sweep it, nothing to restore.
    log(
      `${NODE_NAME}: found a node's remains without a record (its state folder was removed); sweeping them`,
    );
    await teardown(o, p, log, false);
  }

  // Built before anything starts (the first time, from the Go module proxy: a couple of minutes).
  const netpolBin = await ensureNetpolBinary(o.cacheDir, log);

  // The host as it is before the node touches it; teardown restores it from this record.
  mkdirSync(p.dir, { recursive: true });
  writeFileSync(p.hostState, JSON.stringify(recordHostState(BRIDGE, listIpsets()), null, 2));
  writeFileSync(path.join(p.dir, 'options.json'), JSON.stringify(o, null, 2));
  writeFileSync(OWNER_FILE, JSON.stringify({ stateDir: o.stateDir }));
  const procs: NodeProcess[] = [];
  const save = () =>
    writeFileSync(p.processes, JSON.stringify({ processes: procs } satisfies ProcessRecord, null, 2));
  try {
    for (const d of [
      p.logs,
      p.kubeletRoot,
      p.podLogs,
      p.cniConfDir,
      p.cniNetworks,
      p.containerdRoot,
      RUN_DIR,
    ])
      mkdirSync(d, { recursive: true });
    ensureBridge();
    ensureBridgeNetfilter();
    ensureCgroupRoot();
    ensureClientCert(o, p, 'kubelet', `/O=system:nodes/CN=system:node:${NODE_NAME}`);
    writeFileSync(p.containerdConfig, containerdConfig(p, { runcPath: RUNC, cniBinDir: CNI_BIN_DIR }));
    writeFileSync(path.join(p.cniConfDir, '10-vdi-node.conflist'), cniConfig(p));
    writeFileSync(
      p.kubeletConfig,
      kubeletConfig(p, {
        clientCaFile: path.join(o.pkiDir, 'ca.crt'),
        port: o.kubeletPort ?? 10250,
        healthzPort: o.kubeletHealthzPort ?? 10248,
      }),
    );
    writeFileSync(
      p.kubeletKubeconfig,
      kubeletKubeconfig(
        o.apiserverUrl,
        path.join(o.pkiDir, 'ca.crt'),
        path.join(p.pki, 'kubelet.crt'),
        path.join(p.pki, 'kubelet.key'),
      ),
    );
    const env = {
      ...process.env,
      // The sbin folders: iptables and ipset for the NetworkPolicy controller, runc for containerd.
      PATH: `${o.containerdBinDir}:${process.env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`,
    };

    const containerd = startDetached(
      'containerd',
      path.join(o.containerdBinDir, 'containerd'),
      // --state repeats the config so the process can be found by RUN_DIR in its command line.
      ['--config', p.containerdConfig, '--state', p.containerdState],
      p.logs,
      env,
    );
    procs.push(containerd);
    save();
    const cdMs = await waitFor('containerd answering', () => containerdAnswers(o), 30_000, containerd);
    log(`containerd healthy in ${(cdMs / 1000).toFixed(1)}s`);
    // Sandboxes a crashed run left in containerd's metadata: removed through CRI before the kubelet starts.
    removeAllSandboxes(o, log);
    const pause = await importArchive(ctx(o), pauseArchive(o));
    log(`sandbox image ${PAUSE_IMAGE} ${pause.skipped ? 'present' : `imported in ${pause.ms} ms`}`);

    // NetworkPolicies are enforced from the node's first pod on: the controller starts before the
    // kubelet and syncs as soon as the Node registers.
    await ensureNetpolRbac(o);
    const netpol = startNetpol(o, p, netpolBin, env);
    procs.push(netpol);
    save();

    const kubeletStart = Date.now();
    const kubelet = startDetached(
      'kubelet',
      path.join(o.kubernetesBinDir, 'kubelet'),
      kubeletArgs(p, NODE_NAME),
      p.logs,
      env,
    );
    procs.push(kubelet);
    save();
    const readyMs = await waitFor(
      `node ${NODE_NAME} Ready`,
      () => nodeReady(o, kubeletStart),
      120_000,
      kubelet,
    );
    // The kubelet may not set labels under node-role.kubernetes.io (NodeRestriction); the admin does.
    await adminCore(o).patchNode(
      { name: NODE_NAME, body: { metadata: { labels: { ...NODE_LABELS } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    log(
      `kubelet: ${NODE_NAME} Ready in ${(readyMs / 1000).toFixed(1)}s (InternalIP ${NODE_IP}, pods ${POD_CIDR} on ${BRIDGE})`,
    );
    const syncMs = await waitNetpolSynced(netpol);
    log(
      `NetworkPolicies enforced (kube-router's controller, first sync ${(syncMs / 1000).toFixed(1)}s after Ready)`,
    );
  } catch (err) {
    // Leave nothing half-started behind.
    await teardown(o, p, () => undefined, false).catch(() => undefined);
    throw err;
  }
  const ms = Date.now() - t0;
  log(`${NODE_NAME} up in ${(ms / 1000).toFixed(1)}s`);
  return { reused: false, startedInMs: ms, recoveredFromCrash };
}

/** Stops and removes every pod sandbox (and so its containers, network namespace and veth) through CRI. */
function removeAllSandboxes(o: SavedOptions, log: Logger): void {
  const ids = crictl(o, ['pods', '--quiet']).split('\n').filter(Boolean);
  if (ids.length === 0) return;
  crictl(o, ['rmp', '--force', ...ids], 120_000);
  log(`removed ${ids.length} pod sandbox(es) through CRI`);
}

export interface StopOptions {
  /** The cluster state folder; default: the one whose node runs on this machine (OWNER_FILE). */
  stateDir?: string;
  log?: Logger;
  /** Also delete the Node object (default true), so the scheduler and the pod GC forget it. */
  deleteNode?: boolean;
}

/**
 * Stops the node and leaves nothing behind: no container, sandbox, mount, veth, iptables rule,
 * cgroup or process; the recorded sysctls and folders are restored. Does nothing when no node ran.
 */
export async function stopNode(opts: StopOptions = {}): Promise<void> {
  const log = opts.log ?? defaultLog;
  const stateDir = opts.stateDir ?? nodeOwner();
  if (!stateDir) return;
  const p = nodePaths(stateDir);
  const o = readJson<SavedOptions>(path.join(p.dir, 'options.json'));
  if (!o || (!existsSync(p.hostState) && !existsSync(p.processes))) {
    // No node of this cluster runs; mounts may still be left in its folder when another cluster's
    // start swept this node away (a sweep ends its processes, not every mount of a folder it does not know).
    const left = unmountAll([p.dir]);
    if (left.length > 0) throw new Error(`could not unmount ${left.join(', ')}`);
    return;
  }
  await teardown(o, p, log, opts.deleteNode ?? true);
}

/** Unmounts everything at or below `prefixes`, deepest first; returns the mount points that stayed. */
function unmountAll(prefixes: string[]): string[] {
  const left: string[] = [];
  for (const mp of mountsUnder(readFileSync('/proc/self/mountinfo', 'utf8'), prefixes)) {
    try {
      execFileSync('umount', [mp], { stdio: 'ignore' });
    } catch {
      try {
        execFileSync('umount', ['-l', mp], { stdio: 'ignore' });
      } catch {
        left.push(mp);
      }
    }
  }
  return left;
}

async function teardown(o: SavedOptions, p: NodePaths, log: Logger, deleteNode: boolean): Promise<void> {
  const t0 = Date.now();
  const record = readJson<ProcessRecord>(p.processes) ?? { processes: [] };
  const byName = (n: string) => record.processes.find((x) => x.name === n);
  const problems: string[] = [];

  // 1. The kubelet first, so it does not restart what is being removed (also one nobody recorded).
  const kubelet = byName('kubelet');
  if (kubelet && isRecordedAlive(kubelet)) {
    await stopPid(kubelet.pid);
    log(`stopped kubelet (pid ${kubelet.pid})`);
  }
  // The NetworkPolicy controller next: its rules stay as they are until step 7 removes them.
  const netpol = byName('netpol');
  if (netpol && isRecordedAlive(netpol)) {
    await stopPid(netpol.pid);
    log(`stopped ${NETPOL_BINARY} (pid ${netpol.pid})`);
  }
  const foreignDirs: string[] = [];
  for (const pid of pidsWithCmdline(KUBELET_MARKER)) {
    const root = kubeletRootOf(pid);
    if (root && path.dirname(root) !== p.dir) foreignDirs.push(path.dirname(root));
    await stopPid(pid);
    log(`stopped an unrecorded kubelet (pid ${pid})`);
  }
  // 2. Pod sandboxes through CRI while containerd still runs: CNI DEL removes veths and IPs.
  const containerd = byName('containerd');
  if (containerd && isRecordedAlive(containerd) && containerdAnswers(o)) {
    try {
      removeAllSandboxes(o, log);
    } catch (err) {
      log(`removing sandboxes through CRI failed (${String(err).split('\n')[0]}); sweeping instead`);
    }
  }
  // 3. Whatever still runs in the node's cgroups (containers of a crashed node), then containerd and its shims.
  for (let i = 0; i < 50; i++) {
    const pids = cgroupPids(CGROUP_ROOT);
    if (pids.length === 0) break;
    killNow(pids);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (containerd && isRecordedAlive(containerd)) {
    await stopPid(containerd.pid);
    log(`stopped containerd (pid ${containerd.pid})`);
  }
  const strays = pidsWithCmdline(p.containerdSocket).concat(pidsWithCmdline(RUN_DIR));
  if (strays.length > 0) {
    killNow(strays);
    for (const pid of strays) await stopPid(pid, 2000);
    log(`killed ${strays.length} leftover process(es) (shims)`);
  }
  // 4. Mounts (rootfs overlays, sandbox shm, netns, pod volumes, the kubelet's rshared root), deepest
  //    first; also in the folder of an unrecorded kubelet swept in step 1.
  const prefixes = [p.dir, RUN_DIR, ...foreignDirs];
  const mountCount = mountsUnder(readFileSync('/proc/self/mountinfo', 'utf8'), prefixes).length;
  for (const mp of unmountAll(prefixes)) problems.push(`mount ${mp} could not be unmounted`);
  if (mountCount > 0) log(`unmounted ${mountCount} mount(s)`);
  // 5. Network: veths left on the bridge (a crash skips CNI DEL), then the bridge itself.
  const host = readJson<HostState>(p.hostState);
  const veths = bridgePorts();
  for (const v of veths) {
    try {
      execFileSync('ip', ['link', 'del', v], { stdio: 'ignore' });
    } catch {
      // The kernel removes a veth by itself when its peer's network namespace goes (the pod's,
      // unmounted just above): gone meanwhile is not a leftover.
      await new Promise((r) => setTimeout(r, 300));
      if (!bridgePorts().includes(v) && !existsSync(`/sys/class/net/${v}`)) continue;
      problems.push(`veth ${v} could not be deleted`);
    }
  }
  if (!host?.bridgeExisted && linkExists(BRIDGE)) execFileSync('ip', ['link', 'del', BRIDGE]);
  // 6. cgroups, deepest first (a cgroup goes only once its processes are gone).
  for (let attempt = 0; attempt < 20; attempt++) {
    for (const d of cgroupDirs(CGROUP_ROOT)) {
      try {
        rmdirSync(d);
      } catch {
        /* retried below */
      }
    }
    if (cgroupDirs(CGROUP_ROOT).length === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const cgLeft = cgroupDirs(CGROUP_ROOT);
  if (cgLeft.length > 0) problems.push(`cgroups left: ${cgLeft.slice(0, 5).join(', ')}`);
  // 7. The host's tunables, iptables rules and folders, as recorded.
  if (host) {
    for (const [name, value] of sysctlRestores(host.sysctls, readSysctls(Object.keys(host.sysctls)))) {
      try {
        writeSysctl(name, value);
      } catch (err) {
        problems.push(`sysctl ${name}=${value} could not be restored: ${String(err)}`);
      }
    }
    for (const family of ['v4', 'v6'] as const) {
      // An empty record is a host without rules (iptables-save prints nothing then), not a missing tool.
      if (!iptablesInstalled(family)) continue;
      problems.push(
        ...runIptables(family, iptablesRestoreCommands(host.iptables[family], iptablesSave(family))),
      );
    }
    restoreFixedDirs(host, p);
  } else {
    // A node whose record is gone: its NetworkPolicy chains are known by name (kube-router's).
    const now = iptablesSave('v4');
    problems.push(...runIptables('v4', iptablesRestoreCommands(withoutNetpolChains(now), now)));
  }
  // The NetworkPolicy controller's ipsets, once no rule refers to them any more.
  const sets = ipsetsToDestroy(host?.ipsets ?? [], listIpsets());
  problems.push(...destroyIpsets(sets));
  if (sets.length > 0) log(`destroyed ${sets.length} ipset(s) of the NetworkPolicy controller`);
  // 8. The node's own runtime state (images and the metadata store stay, for the next start).
  for (const d of [RUN_DIR, p.kubeletRoot, p.podLogs, p.cniNetworks])
    try {
      rmSync(d, { recursive: true, force: true });
    } catch (err) {
      problems.push(`could not remove ${d}: ${String(err)}`);
    }
  if (deleteNode) {
    try {
      await deleteNetpolRbac(o);
      await adminCore(o).deleteNode({ name: NODE_NAME });
      log(`deleted Node ${NODE_NAME}`);
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code !== 404)
        log(
          `could not delete Node ${NODE_NAME} (${code ?? String(err).split('\n')[0]}); the API server may be down`,
        );
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `teardown of ${NODE_NAME} left something behind:\n  ${problems.join('\n  ')}\n(host record kept in ${p.hostState}; fix and run \`npm run cluster:down\` again)`,
    );
  }
  rmSync(p.processes, { force: true });
  rmSync(p.hostState, { force: true });
  if (readJson<{ stateDir: string }>(OWNER_FILE)?.stateDir === o.stateDir)
    rmSync(OWNER_FILE, { force: true });
  log(`${NODE_NAME} stopped and host state restored in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
}

/** Part of every kubelet command line of this node (see `kubeletArgs`): finds one nobody recorded. */
const KUBELET_MARKER = `--hostname-override=${NODE_NAME}`;

/** The `--root-dir` of a kubelet process, from its command line. */
function kubeletRootOf(pid: number): string | undefined {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.find((a) => a.startsWith('--root-dir='))?.slice('--root-dir='.length);
  } catch {
    return undefined;
  }
}

/** Whether processes, the bridge, cgroups or RUN_DIR of a node are on this machine. */
function foreignRemains(): boolean {
  return (
    pidsWithCmdline(RUN_DIR).length > 0 ||
    pidsWithCmdline(KUBELET_MARKER).length > 0 ||
    linkExists(BRIDGE) ||
    cgroupDirs(CGROUP_ROOT).length > 0 ||
    existsSync(RUN_DIR)
  );
}

/** Interfaces enslaved to the bridge (the pods' veth host ends). */
export function bridgePorts(): string[] {
  const dir = `/sys/class/net/${BRIDGE}/brif`;
  return existsSync(dir) ? readdirSync(dir) : [];
}

function restoreFixedDirs(host: HostState, p: NodePaths): void {
  for (const d of FIXED_HOST_DIRS) {
    if (!existsSync(d)) continue;
    if (!host.dirs[d]) {
      rmSync(d, { recursive: true, force: true });
      continue;
    }
    // The folder was there before: remove only what points into (or was named after) this node.
    if (d === '/var/log/containers') {
      for (const f of readdirSync(d)) {
        const full = path.join(d, f);
        try {
          if (lstatSync(full).isSymbolicLink() && readlinkSync(full).startsWith(p.podLogs)) rmSync(full);
        } catch {
          /* gone */
        }
      }
    } else if (d === '/var/lib/cni') {
      const results = path.join(d, 'results');
      if (existsSync(results))
        for (const f of readdirSync(results))
          if (f.startsWith('vdi-node-')) rmSync(path.join(results, f), { force: true });
    }
  }
}

export interface NodeStatus {
  name: string;
  /** containerd and kubelet alive. */
  running: boolean;
  ready: boolean;
  /** A host-state record without live processes: the node crashed; the next start or stop cleans up. */
  crashed: boolean;
  nodeIp: string;
  podCidr: string;
  processes: (NodeProcess & { alive: boolean; rssMiB?: number })[];
  /** NetworkPolicy enforcement: the controller runs and has synced; when its last sync started. */
  networkPolicy: { enforced: boolean; lastSync?: string };
}

function rssMiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** The node's state; `stateDir` defaults to the cluster whose node runs on this machine. */
export async function nodeStatus(opts: { stateDir?: string } = {}): Promise<NodeStatus> {
  const p = nodePaths(opts.stateDir ?? nodeOwner() ?? '/nonexistent');
  const record = readJson<ProcessRecord>(p.processes) ?? { processes: [] };
  const o = readJson<SavedOptions>(path.join(p.dir, 'options.json'));
  const processes = record.processes.map((x) => {
    const alive = isRecordedAlive(x);
    const rss = alive ? rssMiB(x.pid) : undefined;
    return { ...x, alive, ...(rss !== undefined ? { rssMiB: rss } : {}) };
  });
  const running = processes.length > 0 && processes.every((x) => x.alive);
  const netpolAlive = processes.some((x) => x.name === 'netpol' && x.alive);
  const lastSync = netpolAlive ? lastNetpolSync() : undefined;
  return {
    name: NODE_NAME,
    running,
    ready: running && o !== undefined && (await nodeReady(o)),
    crashed: !running && existsSync(p.hostState),
    nodeIp: NODE_IP,
    podCidr: POD_CIDR,
    processes,
    networkPolicy: {
      enforced: netpolAlive && netpolSynced(chainRules('KUBE-ROUTER-FORWARD')),
      ...(lastSync ? { lastSync } : {}),
    },
  };
}

/**
 * Turns the running node's NetworkPolicy enforcement off — stops the controller and removes its
 * iptables chains and ipsets, so policies are stored but not enforced, as with no controller at all
 * — or back on (starts it and waits for its first sync). For tests that show what enforcement
 * changes, and for diagnosis. A node left with enforcement off is not reused: the next `startNode`
 * (`npm run cluster:up`) restarts it with enforcement. Hold the real-node lock around it.
 */
export async function setNetworkPolicyEnforcement(
  on: boolean,
  opts: { stateDir?: string; log?: Logger } = {},
): Promise<void> {
  const log = opts.log ?? defaultLog;
  const o = runningOptions(opts.stateDir);
  const p = nodePaths(o.stateDir);
  const record = readJson<ProcessRecord>(p.processes) ?? { processes: [] };
  const current = record.processes.find((x) => x.name === 'netpol');
  const save = (processes: NodeProcess[]) =>
    writeFileSync(p.processes, JSON.stringify({ processes } satisfies ProcessRecord, null, 2));
  if (on) {
    if (current && isRecordedAlive(current)) return;
    const bin = await ensureNetpolBinary(o.cacheDir, log);
    await ensureNetpolRbac(o);
    const env = { ...process.env, PATH: `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin` };
    const netpol = startNetpol(o, p, bin, env);
    save([...record.processes.filter((x) => x.name !== 'netpol'), netpol]);
    const ms = await waitNetpolSynced(netpol);
    log(`NetworkPolicy enforcement on (first sync in ${(ms / 1000).toFixed(1)}s)`);
    return;
  }
  if (current && isRecordedAlive(current)) await stopPid(current.pid);
  for (const pid of pidsWithCmdline(NETPOL_HEARTBEAT)) await stopPid(pid);
  save(record.processes.filter((x) => x.name !== 'netpol'));
  const now = iptablesSave('v4');
  const problems = runIptables('v4', iptablesRestoreCommands(withoutNetpolChains(now), now));
  const host = readJson<HostState>(p.hostState);
  problems.push(...destroyIpsets(ipsetsToDestroy(host?.ipsets ?? [], listIpsets())));
  if (problems.length > 0)
    throw new Error(`turning NetworkPolicy enforcement off left rules behind:\n  ${problems.join('\n  ')}`);
  log('NetworkPolicy enforcement off: policies are stored but not enforced on this node');
}

/** The options the node was last started with (kept in `<stateDir>/node/options.json`), if any. */
export function savedNodeOptions(stateDir: string): NodeOptions | undefined {
  return readJson<SavedOptions>(path.join(nodePaths(stateDir).dir, 'options.json'));
}

function runningOptions(given: string | undefined): SavedOptions {
  const stateDir = given ?? nodeOwner();
  if (!stateDir)
    throw new Error(
      `real node ${NODE_NAME} is not running on this machine; start it with \`npm run cluster:up\` as root`,
    );
  const p = nodePaths(stateDir);
  const o = readJson<SavedOptions>(path.join(p.dir, 'options.json'));
  if (!o || !containerdAnswers(o))
    throw new Error(
      `real node ${NODE_NAME} is not running (state ${p.dir}); start it with \`npm run cluster:up\` as root`,
    );
  return o;
}

/**
 * Imports an image archive (OCI layout or `docker save` tar) into the node's containerd (namespace
 * k8s.io, unpacked for overlayfs). Idempotent: skipped when every reference it holds is present.
 * `stateDir` defaults to the cluster whose node runs on this machine.
 */
export function importImage(
  archivePath: string,
  opts: { stateDir?: string; onProgress?: (p: ImportProgress) => void } = {},
): Promise<ImportResult> {
  return importArchive(ctx(runningOptions(opts.stateDir)), archivePath, opts.onProgress);
}

/** Image references present on the node. */
export function nodeImages(opts: { stateDir?: string } = {}): string[] {
  return listImages(ctx(runningOptions(opts.stateDir)));
}
