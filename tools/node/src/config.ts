/**
 * The real node's configuration files, rendered by pure functions from its paths: containerd's
 * config (TOML, version 4), the kubelet's KubeletConfiguration and the CNI network list. Every
 * path a component would otherwise put on the host (/var/lib/…, /etc/…, /opt/…) points into the
 * node's own folder under the cluster's state directory, or into RUN_DIR.
 */
import path from 'node:path';
import { stringify as toToml } from 'smol-toml';
import YAML from 'yaml';
import { BRIDGE, CGROUP_ROOT, NODE_IP, NODE_TAINT, PAUSE_IMAGE, POD_CIDR, RUN_DIR } from './constants.js';

/** Everything a node needs on disk, derived from the cluster's state directory (see `nodePaths`). */
export interface NodePaths {
  /** `<stateDir>/node` */
  dir: string;
  containerdRoot: string;
  containerdState: string;
  containerdSocket: string;
  containerdConfig: string;
  kubeletRoot: string;
  kubeletConfig: string;
  kubeletKubeconfig: string;
  podLogs: string;
  cniConfDir: string;
  cniNetworks: string;
  pki: string;
  logs: string;
  images: string;
  /** The host-state record of a running (or crashed) node, restored on teardown. */
  hostState: string;
  /** Pid record of the node's processes. */
  processes: string;
  /** The cluster's storage folder for local-path volumes on this node. */
  storage: string;
}

export function nodePaths(stateDir: string): NodePaths {
  const dir = path.join(stateDir, 'node');
  return {
    dir,
    containerdRoot: path.join(dir, 'containerd'),
    containerdState: path.join(RUN_DIR, 'containerd'),
    containerdSocket: path.join(RUN_DIR, 'containerd.sock'),
    containerdConfig: path.join(dir, 'containerd.toml'),
    kubeletRoot: path.join(dir, 'kubelet'),
    kubeletConfig: path.join(dir, 'kubelet.yaml'),
    kubeletKubeconfig: path.join(dir, 'kubelet.kubeconfig'),
    podLogs: path.join(dir, 'pod-logs'),
    cniConfDir: path.join(dir, 'cni', 'net.d'),
    cniNetworks: path.join(dir, 'cni', 'networks'),
    pki: path.join(dir, 'pki'),
    logs: path.join(dir, 'logs'),
    images: path.join(dir, 'images'),
    hostState: path.join(dir, 'host-state.json'),
    processes: path.join(dir, 'processes.json'),
    storage: path.join(stateDir, 'storage'),
  };
}

/** containerd's configuration (version 4: addresses under `io.containerd.server.v1.*`). */
export function containerdConfig(p: NodePaths, opts: { runcPath: string; cniBinDir: string }): string {
  const runtime = 'io.containerd.cri.v1.runtime';
  const config = {
    version: 4,
    root: p.containerdRoot,
    state: p.containerdState,
    // No drop-ins from /etc: this containerd is the node's own, not the host's.
    imports: [] as string[],
    // NRI and the image verifier would open sockets and read plugin folders on the host.
    disabled_plugins: ['io.containerd.nri.v1.nri', 'io.containerd.image-verifier.v1.bindir'],
    plugins: {
      'io.containerd.server.v1.grpc': { address: p.containerdSocket },
      'io.containerd.server.v1.ttrpc': { address: `${p.containerdSocket}.ttrpc` },
      'io.containerd.server.v1.debug': { address: '' },
      'io.containerd.server.v1.metrics': { address: '' },
      'io.containerd.internal.v1.opt': { path: path.join(p.containerdRoot, 'opt') },
      'io.containerd.shim.v1.manager': { socket_dir: path.join(RUN_DIR, 's') },
      'io.containerd.cri.v1.images': {
        snapshotter: 'overlayfs',
        // Images are imported (`importImage`), never pulled: the sandbox image is local too.
        pinned_images: { sandbox: PAUSE_IMAGE },
      },
      [runtime]: {
        // The VM lacks CAP_SYS_RESOURCE: without this runc fails ("can't get final child's PID from pipe").
        restrict_oom_score_adj: true,
        // Pod network namespaces under RUN_DIR rather than /var/run/netns.
        netns_mounts_under_state_dir: true,
        cdi_spec_dirs: [] as string[],
        containerd: {
          default_runtime_name: 'runc',
          runtimes: {
            runc: {
              runtime_type: 'io.containerd.runc.v2',
              options: { BinaryName: opts.runcPath, SystemdCgroup: false },
            },
          },
        },
        cni: { bin_dirs: [opts.cniBinDir], conf_dir: p.cniConfDir, max_conf_num: 1 },
      },
      'io.containerd.grpc.v1.cri': { stream_server_address: '127.0.0.1', stream_server_port: '0' },
    },
  };
  return toToml(config) + '\n';
}

/** The CNI network: a bridge whose gateway is the node IP; no masquerade (the host routes pod IPs). */
export function cniConfig(p: NodePaths): string {
  return (
    JSON.stringify(
      {
        cniVersion: '1.0.0',
        name: 'vdi-node',
        plugins: [
          {
            type: 'bridge',
            bridge: BRIDGE,
            isGateway: true,
            ipMasq: false,
            hairpinMode: true,
            ipam: {
              type: 'host-local',
              dataDir: p.cniNetworks,
              ranges: [[{ subnet: POD_CIDR, gateway: NODE_IP }]],
              routes: [{ dst: '0.0.0.0/0' }],
            },
          },
          { type: 'loopback' },
        ],
      },
      null,
      2,
    ) + '\n'
  );
}

export interface KubeletOptions {
  clientCaFile: string;
  port: number;
  healthzPort: number;
}

/** The kubelet's KubeletConfiguration (v1beta1). Host-wide side effects are kept to what it cannot skip. */
export function kubeletConfig(p: NodePaths, o: KubeletOptions): string {
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: NODE_IP,
    port: o.port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: o.healthzPort,
    // Only clients with a certificate of the cluster's CA (the API server's kubelet client) get in.
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: false },
      x509: { clientCAFile: o.clientCaFile },
    },
    authorization: { mode: 'AlwaysAllow' },
    containerRuntimeEndpoint: `unix://${p.containerdSocket}`,
    imageServiceEndpoint: `unix://${p.containerdSocket}`,
    // cgroup v1 and no systemd on this host; every pod cgroup lives under CGROUP_ROOT.
    cgroupDriver: 'cgroupfs',
    cgroupRoot: `/${CGROUP_ROOT}`,
    failCgroupV1: false,
    failSwapOn: false,
    podLogsDir: p.podLogs,
    volumePluginDir: path.join(p.dir, 'volume-plugins'),
    // The KUBE-FIREWALL & co. chains are only needed with kube-proxy; there is none here.
    makeIPTablesUtilChains: false,
    registerNode: true,
    registerWithTaints: [{ ...NODE_TAINT }],
    // Imported images cannot be pulled again: never garbage-collect them.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '2%', 'imagefs.available': '2%' },
    rotateCertificates: false,
    serverTLSBootstrap: false,
    shutdownGracePeriod: '0s',
    maxPods: 110,
    resolvConf: '/etc/resolv.conf',
    enableControllerAttachDetach: true,
    // Short sync periods make pod start/stop prompt on a 2-core machine.
    nodeStatusUpdateFrequency: '10s',
    syncFrequency: '10s',
  };
  return YAML.stringify(config);
}

/**
 * A kubeconfig for a client certificate: the kubelet's (identity system:node:<name>), or another
 * process of the node's (`user` names the entry, e.g. the NetworkPolicy controller's).
 */
export function kubeletKubeconfig(
  server: string,
  caFile: string,
  certFile: string,
  keyFile: string,
  user = 'kubelet',
): string {
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'vdi-local', cluster: { server, 'certificate-authority': caFile } }],
    users: [{ name: user, user: { 'client-certificate': certFile, 'client-key': keyFile } }],
    contexts: [{ name: 'vdi-local', context: { cluster: 'vdi-local', user } }],
    'current-context': 'vdi-local',
  });
}

/** The kubelet's command line. Labels outside the kubelet's allowed prefixes are set by `startNode`. */
export function kubeletArgs(p: NodePaths, nodeName: string): string[] {
  return [
    `--config=${p.kubeletConfig}`,
    `--kubeconfig=${p.kubeletKubeconfig}`,
    `--root-dir=${p.kubeletRoot}`,
    `--cert-dir=${path.join(p.kubeletRoot, 'pki')}`,
    `--hostname-override=${nodeName}`,
    `--node-ip=${NODE_IP}`,
    `--node-labels=vdi.kasm.io/real-node=true`,
    '--v=1',
  ];
}
