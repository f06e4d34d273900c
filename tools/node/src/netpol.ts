/**
 * NetworkPolicy enforcement on the real node, the way K3s does it: kube-router's network-policy
 * controller (tools/node/go/netpol, built from the Go module proxy by scripts/build-netpol.sh)
 * with the host's iptables and ipset. It runs beside the kubelet as `vdi-node-netpol`, with an
 * identity of its own (a client certificate of the cluster CA, read-only RBAC), and keeps for each
 * pod of this node a KUBE-POD-FW-* chain fed from KUBE-ROUTER-{INPUT,FORWARD,OUTPUT}.
 *
 * What it means here (kube-router v2.1, `pkg/controllers/netpol`):
 * - pod ↔ pod on the bridge is filtered in FORWARD (the bridge's traffic passes iptables:
 *   `net.bridge.bridge-nf-call-iptables=1`, which the node sets and restores);
 * - pod → any address of this host (the node IP, the host's other addresses) goes through INPUT
 *   and the pod's egress rules like any other destination — except TCP/UDP to a port of the
 *   NodePort range (30000–32767) on a local address, and a local address inside the Service range,
 *   which kube-router lets through before the pod's rules (kube-proxy's NodePorts and IPVS
 *   ClusterIPs). A host process listening on all addresses on a port in that range is reachable
 *   from every pod;
 * - host → pod (a source address of this host: Traefik and coturn as host processes, the kubelet's
 *   probes) is always accepted, whatever the pod's ingress rules say.
 *
 * The pure parts (arguments, RBAC objects, readiness, ipset clean-up) are tested beside.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { RUN_DIR } from './constants.js';
import type { NodePaths } from './config.js';

/** The controller's program (and process) name. */
export const NETPOL_BINARY = 'vdi-node-netpol';
/** The user name of its client certificate, and of its ClusterRole(Binding). */
export const NETPOL_USER = 'vdi:node-netpol';
export const NETPOL_RBAC_NAME = 'vdi-node-netpol';
/** The local control plane's `--service-cluster-ip-range` (tools/controlplane). */
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/16';
/** The API server's default `--service-node-port-range`. */
export const DEFAULT_NODE_PORT_RANGE = '30000-32767';
/** Where the controller writes the start time of its last sync (also marks its command line with RUN_DIR). */
export const NETPOL_HEARTBEAT = path.join(RUN_DIR, 'netpol.heartbeat');
/** The sysctl that sends bridged (same-node pod ↔ pod) traffic through iptables. */
export const BRIDGE_NF_SYSCTL = 'net.bridge.bridge-nf-call-iptables';

/** kube-router's top-level chains; each of the built-in INPUT, FORWARD and OUTPUT jumps to one. */
export const NETPOL_TOP_CHAINS = ['KUBE-ROUTER-INPUT', 'KUBE-ROUTER-FORWARD', 'KUBE-ROUTER-OUTPUT'] as const;

/**
 * ipsets the controller makes: per policy and rule (KUBE-SRC-*, KUBE-DST-*) and the temporary
 * sets of its atomic swaps (TMP-*, normally destroyed at once).
 */
export const OWNED_IPSET = /^(KUBE-SRC-|KUBE-DST-|TMP-)/;

const SCRIPT = path.resolve(import.meta.dirname, '..', 'scripts', 'build-netpol.sh');

export interface NetpolArgs {
  kubeconfig: string;
  nodeName: string;
  serviceCidr?: string;
  nodePortRange?: string;
}

/** The controller's command line. */
export function netpolArgs(a: NetpolArgs): string[] {
  return [
    `--kubeconfig=${a.kubeconfig}`,
    `--node-name=${a.nodeName}`,
    `--service-cluster-ip-range=${a.serviceCidr ?? DEFAULT_SERVICE_CIDR}`,
    `--service-node-port-range=${a.nodePortRange ?? DEFAULT_NODE_PORT_RANGE}`,
    `--heartbeat-file=${NETPOL_HEARTBEAT}`,
    '--v=0',
  ];
}

/** Read-only access to what the controller watches, and its own Node (for the node's InternalIP). */
export function netpolClusterRole() {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: NETPOL_RBAC_NAME, labels: { 'app.kubernetes.io/part-of': 'vdi-node' } },
    rules: [
      { apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['get'] },
      { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list', 'watch'] },
    ],
  };
}

export function netpolClusterRoleBinding() {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: NETPOL_RBAC_NAME, labels: { 'app.kubernetes.io/part-of': 'vdi-node' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NETPOL_RBAC_NAME },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: NETPOL_USER }],
  };
}

/**
 * Whether the controller has finished a full sync, from `iptables -S KUBE-ROUTER-FORWARD`: the
 * rule accepting policy-compliant traffic (mark 0x20000) is written only by a sync's restore,
 * after every pod chain of that sync.
 */
export function netpolSynced(forwardChainRules: string): boolean {
  return forwardChainRules
    .split('\n')
    .some((l) => l.startsWith('-A KUBE-ROUTER-FORWARD') && /--mark 0x20000\/0x20000 -j ACCEPT/.test(l));
}

/** Chains kube-router's controller makes (all under OWNED_CHAIN's KUBE- prefix). */
export const NETPOL_CHAIN = /^(KUBE-ROUTER-|KUBE-NWPLCY-|KUBE-POD-FW-)/;

/**
 * `iptables-save` output as it would be without the controller's chains and the rules that jump to
 * them (pure): the "before" of a node whose host record is gone, so that `iptablesRestoreCommands`
 * removes exactly the controller's rules.
 */
export function withoutNetpolChains(save: string): string {
  const isNetpolChain = (c: string | undefined) => c !== undefined && NETPOL_CHAIN.test(c);
  return save
    .split('\n')
    .filter((line) => {
      const l = line.trim();
      if (l.startsWith(':')) return !isNetpolChain(l.slice(1).split(/\s+/)[0]);
      if (!l.startsWith('-A ')) return true;
      const argv = l.split(/\s+/);
      const target = argv[argv.findIndex((x) => x === '-j' || x === '-g') + 1];
      return !isNetpolChain(argv[1]) && !isNetpolChain(target);
    })
    .join('\n');
}

/** The controller's ipsets present now that were not there before the node started. */
export function ipsetsToDestroy(before: readonly string[], now: readonly string[]): string[] {
  const old = new Set(before);
  return now.filter((s) => OWNED_IPSET.test(s) && !old.has(s));
}

/** `ipset list -n`; [] when ipset is not installed. */
export function listIpsets(): string[] {
  try {
    return execFileSync('ipset', ['list', '-n'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  } catch {
    return [];
  }
}

/** Destroys ipsets; returns the ones that could not be (with the reason), for teardown to name. */
export function destroyIpsets(names: string[]): string[] {
  const failed: string[] = [];
  for (const n of names) {
    try {
      execFileSync('ipset', ['destroy', n], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
      if (listIpsets().includes(n)) failed.push(`ipset ${n}: ${stderr || String(err)}`);
    }
  }
  return failed;
}

/** The rules of one filter chain (`iptables -S CHAIN`); '' when it does not exist. */
export function chainRules(chain: string): string {
  try {
    return execFileSync('iptables', ['-w', '-S', chain], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return '';
  }
}

/** Host programs the controller runs (Debian's iptables and ipset); the missing ones. */
export function missingNetpolTools(): string[] {
  const dirs = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  return ['iptables', 'iptables-save', 'iptables-restore', 'ipset'].filter(
    (t) => !dirs.some((d) => existsSync(path.join(d, t))),
  );
}

/** Where the controller's binary lives for the current sources (built or not). */
export function netpolBinDir(env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync('bash', [SCRIPT, '--print-dir'], { encoding: 'utf8', env }).trim();
}

/**
 * The controller's binary, built from the Go module proxy when missing (cached by its inputs under
 * `<cacheDir>/node`; about 700 packages, a couple of minutes cold). Asynchronous, so the real-node
 * lock stays fresh while it builds; progress lines go to `log`.
 */
export async function ensureNetpolBinary(
  cacheDir: string,
  log: (line: string) => void = () => undefined,
): Promise<string> {
  // The script caches under $VDI_CACHE/node; the node's cacheDir is that VDI_CACHE.
  const env = { ...process.env, VDI_CACHE: cacheDir };
  const bin = path.join(netpolBinDir(env), NETPOL_BINARY);
  if (existsSync(bin)) return bin;
  const child = spawn('bash', [SCRIPT], { stdio: ['ignore', 'ignore', 'pipe'], env });
  const tail: string[] = [];
  readline.createInterface({ input: child.stderr! }).on('line', (line) => {
    tail.push(line);
    if (tail.length > 30) tail.shift();
    log(line);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0 || !existsSync(bin))
    throw new Error(`${NETPOL_BINARY} did not build (exit ${code}):\n${tail.join('\n')}`);
  return bin;
}

/** The start time of the controller's last sync, from its heartbeat file. */
export function lastNetpolSync(): string | undefined {
  try {
    return readFileSync(NETPOL_HEARTBEAT, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The controller's kubeconfig and credentials, in the node's folder. */
export function netpolPaths(p: NodePaths) {
  return {
    kubeconfig: path.join(p.dir, 'netpol.kubeconfig'),
    cert: path.join(p.pki, 'netpol.crt'),
    key: path.join(p.pki, 'netpol.key'),
  };
}
