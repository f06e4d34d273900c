import { parse as parseToml } from 'smol-toml';
import YAML from 'yaml';
import {
  cniConfig,
  containerdConfig,
  kubeletArgs,
  kubeletConfig,
  kubeletKubeconfig,
  nodePaths,
} from './config.js';
import { NODE_IP, NODE_TAINT, PAUSE_IMAGE, POD_CIDR, RUN_DIR } from './constants.js';

const p = nodePaths('/state/cluster');

describe('node paths', () => {
  it('keeps everything in the cluster state folder, sockets in the short run folder', () => {
    for (const k of [
      'containerdRoot',
      'kubeletRoot',
      'podLogs',
      'cniConfDir',
      'cniNetworks',
      'pki',
      'hostState',
    ] as const)
      expect(p[k].startsWith('/state/cluster/node/')).toBe(true);
    expect(p.storage).toBe('/state/cluster/storage');
    expect(p.containerdSocket.startsWith(`${RUN_DIR}/`)).toBe(true);
    // Shim sockets live under <state>/s/<64 hex>: must stay below the 108-byte unix socket limit.
    expect(`${RUN_DIR}/s/${'f'.repeat(64)}`.length).toBeLessThan(108);
  });
});

describe('containerd config', () => {
  const cfg = parseToml(containerdConfig(p, { runcPath: '/usr/sbin/runc', cniBinDir: '/usr/lib/cni' }));

  it('is version 4 with the addresses under the server plugins and no host drop-ins', () => {
    expect(cfg).toMatchObject({
      version: 4,
      imports: [],
      root: p.containerdRoot,
      state: p.containerdState,
      plugins: {
        'io.containerd.server.v1.grpc': { address: p.containerdSocket },
        'io.containerd.server.v1.ttrpc': { address: `${p.containerdSocket}.ttrpc` },
      },
    });
    // A top-level [grpc] table would be ignored by version 4.
    expect(cfg.grpc).toBeUndefined();
  });

  it('pins the local sandbox image, restricts oom_score_adj and points CNI at the node folder', () => {
    expect(cfg).toMatchObject({
      plugins: {
        'io.containerd.cri.v1.images': { pinned_images: { sandbox: PAUSE_IMAGE } },
        'io.containerd.cri.v1.runtime': {
          restrict_oom_score_adj: true,
          netns_mounts_under_state_dir: true,
          cni: { bin_dirs: ['/usr/lib/cni'], conf_dir: p.cniConfDir, max_conf_num: 1 },
          containerd: {
            runtimes: { runc: { options: { BinaryName: '/usr/sbin/runc', SystemdCgroup: false } } },
          },
        },
      },
    });
  });
});

describe('CNI config', () => {
  it('is a bridge with the node IP as gateway, host-local IPAM in the node folder, no masquerade', () => {
    const c = JSON.parse(cniConfig(p));
    const bridge = c.plugins[0];
    expect(bridge).toMatchObject({ type: 'bridge', bridge: 'vdi-cni0', isGateway: true, ipMasq: false });
    expect(bridge.ipam.dataDir).toBe(p.cniNetworks);
    expect(bridge.ipam.ranges).toEqual([[{ subnet: POD_CIDR, gateway: NODE_IP }]]);
  });
});

describe('kubelet config', () => {
  const k = YAML.parse(kubeletConfig(p, { clientCaFile: '/pki/ca.crt', port: 10250, healthzPort: 10248 }));

  it('runs on cgroup v1 with cgroupfs under its own cgroup root, registering tainted', () => {
    expect(k).toMatchObject({
      kind: 'KubeletConfiguration',
      cgroupDriver: 'cgroupfs',
      failCgroupV1: false,
      failSwapOn: false,
      cgroupRoot: '/vdi-node',
      makeIPTablesUtilChains: false,
      address: NODE_IP,
      containerRuntimeEndpoint: `unix://${p.containerdSocket}`,
      podLogsDir: p.podLogs,
    });
    expect(k.registerWithTaints).toEqual([{ ...NODE_TAINT }]);
  });

  it('lets in only clients of the cluster CA', () => {
    expect(k.authentication).toEqual({
      anonymous: { enabled: false },
      webhook: { enabled: false },
      x509: { clientCAFile: '/pki/ca.crt' },
    });
    expect(k.readOnlyPort).toBe(0);
  });

  it('never garbage-collects imported images', () => {
    expect(k.imageGCHighThresholdPercent).toBe(100);
  });
});

describe('kubelet command line and kubeconfig', () => {
  it('names the node and its IP; sets only labels the kubelet may set', () => {
    const args = kubeletArgs(p, 'vdi-worker-1');
    expect(args).toContain('--hostname-override=vdi-worker-1');
    expect(args).toContain(`--node-ip=${NODE_IP}`);
    expect(args).toContain(`--root-dir=${p.kubeletRoot}`);
    const labels = args.find((a) => a.startsWith('--node-labels='))!;
    expect(labels).not.toContain('node-role.kubernetes.io');
  });

  it('uses the client certificate files', () => {
    const kc = YAML.parse(kubeletKubeconfig('https://127.0.0.1:6443', '/ca.crt', '/k.crt', '/k.key'));
    expect(kc.clusters[0].cluster).toEqual({
      server: 'https://127.0.0.1:6443',
      'certificate-authority': '/ca.crt',
    });
    expect(kc.users[0].user).toEqual({ 'client-certificate': '/k.crt', 'client-key': '/k.key' });
  });
});
