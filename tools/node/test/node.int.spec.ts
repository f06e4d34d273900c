/**
 * The real node of the shared local cluster (runs as root): it is Ready beside the kwok nodes; a
 * restricted pod (uid 1000, read-only root, no capabilities, RuntimeDefault seccomp) with a locally
 * built image runs, answers HTTP from the host on its pod IP, writes its local-path volume, and
 * shows its logs; NetworkPolicies are enforced (a pod another pod may not reach is unreachable from
 * it, and reachable again with enforcement off); `stopNode` leaves nothing behind and restores the
 * host (iptables chains and ipsets included); after a crash (kubelet, containerd and the policy
 * controller killed) the next start cleans up and the pod comes back.
 *
 * The test holds the machine-wide real-node lock, so no other jest worker restarts the node
 * meanwhile, and leaves the node running as it found it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import http from 'node:http';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import {
  BRIDGE,
  CGROUP_ROOT,
  NETPOL_CHAIN,
  OWNED_IPSET,
  NODE_IP,
  NODE_NAME,
  NODE_TOLERATION,
  OWNER_FILE,
  OWNED_CHAIN,
  POD_CIDR,
  REAL_NODE_LABEL,
  RUN_DIR,
  bridgePorts,
  buildStaticGo,
  cgroupDirs,
  importImage,
  lockNode,
  savedNodeOptions,
  iptablesSave,
  listIpsets,
  mountsUnder,
  nodeImages,
  nodeOwner,
  nodePaths,
  nodeStatus,
  parseIptablesSave,
  pidsWithCmdline,
  readSysctls,
  runningNodeOwner,
  setNetworkPolicyEnforcement,
  startNode,
  stopNode,
  writeBinaryImage,
  type NodeOptions,
} from '../src/index.js';

const log = (m: string) => process.stderr.write(`[node test] ${m}\n`);

// This project sits below @vdi/testing and @vdi/controlplane (they depend on it), so the few
// helpers it needs are here: the cluster comes from jest's global setup (VDI_TEST_KUBECONFIG).
async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? ` (last error: ${String(lastErr)})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

interface TestNamespace {
  name: string;
  core: k8s.CoreV1Api;
  cleanup(): Promise<void>;
}

async function createTestNamespace(
  kubeconfig: string,
  prefix: string,
  labels: Record<string, string>,
): Promise<TestNamespace> {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({
    body: { metadata: { name, labels: { 'vdi.kasm.io/test': 'true', ...labels } } },
  });
  await waitFor(`ServiceAccount default in ${name}`, () =>
    core.readNamespacedServiceAccount({ name: 'default', namespace: name }),
  );
  return {
    name,
    core,
    cleanup: () =>
      core.deleteNamespace({ name }).then(
        () => undefined,
        () => undefined,
      ),
  };
}

function get(url: string, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

function restrictedPod(name: string, image: string, claim?: string): k8s.V1Pod {
  return {
    metadata: { name, labels: { app: 'node-test', 'node-test/pod': name } },
    spec: {
      nodeSelector: { [REAL_NODE_LABEL]: 'true' },
      tolerations: [{ ...NODE_TOLERATION }],
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 5,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: 'httpd',
          image,
          imagePullPolicy: 'Never',
          ports: [{ containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
          resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
          volumeMounts: [
            { name: 'scratch', mountPath: '/scratch' },
            ...(claim ? [{ name: 'data', mountPath: '/data' }] : []),
          ],
        },
      ],
      volumes: [
        { name: 'scratch', emptyDir: { sizeLimit: '16Mi' } },
        ...(claim ? [{ name: 'data', persistentVolumeClaim: { claimName: claim } }] : []),
      ],
    },
  };
}

async function readyPod(
  core: k8s.CoreV1Api,
  ns: string,
  name: string,
  timeoutMs = 120_000,
): Promise<k8s.V1Pod> {
  return waitFor(
    `pod ${ns}/${name} Ready on ${NODE_NAME}`,
    async () => {
      const p = await core.readNamespacedPod({ name, namespace: ns });
      const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      return ready && p.status?.podIP ? p : undefined;
    },
    timeoutMs,
    200,
  );
}

/** Everything a node leaves on the host that teardown must remove. */
function leftovers(stateDir: string) {
  const p = nodePaths(stateDir);
  return {
    processes: pidsWithCmdline(RUN_DIR),
    mounts: mountsUnder(readFileSync('/proc/self/mountinfo', 'utf8'), [p.dir, RUN_DIR]),
    bridge: existsSync(`/sys/class/net/${BRIDGE}`),
    veths: bridgePorts(),
    cgroups: cgroupDirs(CGROUP_ROOT),
    runDir: existsSync(RUN_DIR),
  };
}

const ownedChains = (save: string) =>
  Object.entries(parseIptablesSave(save)).flatMap(([t, x]) =>
    x.chains.filter((c) => OWNED_CHAIN.test(c)).map((c) => `${t}/${c}`),
  );
const netpolChains = () =>
  (parseIptablesSave(iptablesSave('v4')).filter?.chains ?? []).filter((c) => NETPOL_CHAIN.test(c));
const ownedIpsets = () => listIpsets().filter((s) => OWNED_IPSET.test(s));

/** What pod `from` gets when it dials `addr` (its /dial endpoint, asked from the host). */
async function dialFrom(fromIp: string, net: 'tcp' | 'udp', addr: string): Promise<string> {
  const r = await get(`http://${fromIp}:8080/dial?net=${net}&addr=${encodeURIComponent(addr)}`, 10_000);
  return r.body.trim();
}

describe('real node', () => {
  let release: () => Promise<void>;
  let opts: NodeOptions;
  let stateDir: string;
  let ns: TestNamespace;
  let image: string;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    // The same machine-wide lock as @vdi/testing's holdRealNode (which depends on this project).
    release = await lockNode();
    const kubeconfig = process.env.VDI_TEST_KUBECONFIG;
    if (!kubeconfig)
      throw new Error(
        'VDI_TEST_KUBECONFIG is not set: run through jest (its global setup starts the cluster)',
      );
    // `cluster up` (the global setup) started the node as root and kept its options beside the cluster's state.
    stateDir = path.dirname(kubeconfig);
    const saved = savedNodeOptions(stateDir);
    if (!saved)
      throw new Error(
        `the cluster of ${kubeconfig} has not started ${NODE_NAME}: see the "real node" line of \`npm run cluster:up\` (it needs root and \`npm run setup\`)`,
      );
    opts = { ...saved, log };
    const started = await startNode(opts);
    if (!started.reused) timings['node up (ms)'] = started.startedInMs;
    // The test's container: a static Go HTTP server, laid out as an OCI image and imported.
    const bin = buildStaticGo(path.join(import.meta.dirname, 'httpd'), path.join(opts.cacheDir, 'node'));
    image = `localhost/vdi/node-test-httpd:${path.basename(bin).split('-').pop()}`;
    const archive = `${bin}.oci.tar`;
    writeBinaryImage(bin, { ref: image, entrypoint: ['/httpd'], exposedPorts: [8080] }, archive);
    await importImage(archive, { stateDir });
    ns = await createTestNamespace(kubeconfig, 'node', {
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'latest',
    });
  }, 600_000);

  afterAll(async () => {
    try {
      await ns?.cleanup();
      // Leave the node running for everyone else, as the cluster had it.
      if (opts) await startNode(opts);
    } finally {
      await release?.();
      log(`timings: ${JSON.stringify(timings)}`);
    }
  }, 300_000);

  it('is Ready beside the kwok nodes, labelled and tainted, with its InternalIP on the bridge', async () => {
    const node = await ns.core.readNode({ name: NODE_NAME });
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(node.metadata?.labels).toMatchObject({
      [REAL_NODE_LABEL]: 'true',
      'node-role.kubernetes.io/worker': '',
      'kubernetes.io/os': 'linux',
    });
    expect(node.spec?.taints).toEqual(
      expect.arrayContaining([{ key: REAL_NODE_LABEL, value: 'true', effect: 'NoSchedule' }]),
    );
    expect(node.status?.addresses).toEqual(
      expect.arrayContaining([{ type: 'InternalIP', address: NODE_IP }]),
    );
    expect(node.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^containerd:\/\/2\./);
    const kwok = await ns.core.listNode({ labelSelector: 'vdi.kasm.io/simulated=true' });
    expect(kwok.items.length).toBeGreaterThan(0);
    const status = await nodeStatus({ stateDir });
    expect(status).toMatchObject({ running: true, ready: true, crashed: false, podCidr: POD_CIDR });
  });

  it('imports an image once: a second import of the same archive is skipped', async () => {
    expect(nodeImages({ stateDir })).toEqual(expect.arrayContaining([image, 'localhost/vdi/pause:1']));
    // Without a state folder the API finds the cluster whose node runs here.
    expect(nodeImages()).toEqual(nodeImages({ stateDir }));
    const bin = buildStaticGo(path.join(import.meta.dirname, 'httpd'), path.join(opts.cacheDir, 'node'));
    const phases: string[] = [];
    const again = await importImage(`${bin}.oci.tar`, { stateDir, onProgress: (p) => phases.push(p.phase) });
    expect(again).toMatchObject({ skipped: true, refs: [image] });
    expect(phases).toEqual(['skipped']);
  });

  it('runs a restricted pod that answers HTTP from the host on its pod IP, writes its volume as uid 1000, and has logs', async () => {
    await ns.core.createNamespacedPersistentVolumeClaim({
      namespace: ns.name,
      body: {
        metadata: { name: 'data' },
        spec: {
          storageClassName: 'local-path',
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: '64Mi' } },
        },
      },
    });
    const t0 = Date.now();
    await ns.core.createNamespacedPod({ namespace: ns.name, body: restrictedPod('web', image, 'data') });
    const pod = await readyPod(ns.core, ns.name, 'web');
    timings['pod create→Ready (ms)'] = Date.now() - t0;
    expect(pod.spec?.nodeName).toBe(NODE_NAME);
    const ip = pod.status!.podIP!;
    expect(ip.startsWith(POD_CIDR.split('.').slice(0, 3).join('.') + '.')).toBe(true);

    const hello = await get(`http://${ip}:8080/`);
    expect(hello).toMatchObject({ status: 200 });
    expect(hello.body).toContain('uid=1000 gid=1000');
    // The read-only root refuses writes; the emptyDir and the local-path volume take them.
    expect((await get(`http://${ip}:8080/write?path=/root-file`)).status).toBe(500);
    expect((await get(`http://${ip}:8080/write?path=/scratch/x`)).status).toBe(200);
    expect(await get(`http://${ip}:8080/write?path=/data/hello`)).toMatchObject({ status: 200 });

    const claim = await ns.core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: ns.name });
    const pv = await ns.core.readPersistentVolume({ name: claim.spec!.volumeName! });
    const folder = pv.spec!.hostPath!.path;
    expect(folder).toBe(path.join(stateDir, 'storage', pv.metadata!.name!));
    const file = path.join(folder, 'hello');
    expect(readFileSync(file, 'utf8')).toBe('written by uid 1000\n');
    expect(statSync(file).uid).toBe(1000);

    const logs = await waitFor(
      'pod logs through the API server and the kubelet',
      async () => {
        const text = await ns.core.readNamespacedPodLog({
          name: 'web',
          namespace: ns.name,
          container: 'httpd',
        });
        return text.includes('write /data/hello') ? text : undefined;
      },
      30_000,
      500,
    );
    expect(logs).toContain('listening on :8080');

    // Reclaim: deleting the pod and the claim removes the volume and its folder.
    await ns.core.deleteNamespacedPod({ name: 'web', namespace: ns.name });
    await waitFor(
      'pod web gone',
      async () =>
        ns.core.readNamespacedPod({ name: 'web', namespace: ns.name }).then(
          () => false,
          () => true,
        ),
      60_000,
      250,
    );
    await ns.core.deleteNamespacedPersistentVolumeClaim({ name: 'data', namespace: ns.name });
    await waitFor('local-path folder removed on reclaim', async () => !existsSync(folder), 60_000, 250);
  }, 300_000);

  it('enforces NetworkPolicies: a pod under a deny policy is unreachable from another pod, not from the host; with enforcement off it is reachable', async () => {
    expect((await nodeStatus({ stateDir })).networkPolicy.enforced).toBe(true);
    await ns.core.createNamespacedPod({ namespace: ns.name, body: restrictedPod('guarded', image) });
    await ns.core.createNamespacedPod({ namespace: ns.name, body: restrictedPod('other', image) });
    const guarded = (await readyPod(ns.core, ns.name, 'guarded')).status!.podIP!;
    const other = (await readyPod(ns.core, ns.name, 'other')).status!.podIP!;
    expect(await dialFrom(other, 'tcp', `${guarded}:8080`)).toBe('open');

    // Ingress of `guarded` only from pods labelled node-test/pod=nobody: `other` is not one.
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(process.env.VDI_TEST_KUBECONFIG!);
    const net = kc.makeApiClient(k8s.NetworkingV1Api);
    await net.createNamespacedNetworkPolicy({
      namespace: ns.name,
      body: {
        metadata: { name: 'guarded' },
        spec: {
          podSelector: { matchLabels: { 'node-test/pod': 'guarded' } },
          policyTypes: ['Ingress'],
          ingress: [{ _from: [{ podSelector: { matchLabels: { 'node-test/pod': 'nobody' } } }] }],
        },
      },
    });
    const t0 = Date.now();
    await waitFor(
      'the policy enforced between the pods',
      async () => (await dialFrom(other, 'tcp', `${guarded}:8080`)).startsWith('closed'),
      30_000,
      200,
    );
    timings['policy created→enforced (ms)'] = Date.now() - t0;
    // A peer the policy names on another node (a kwok pod labelled nobody) enters its ipset, and
    // leaves it when deleted: the controller follows peers anywhere in the cluster.
    const peer = restrictedPod('peer', image);
    peer.metadata!.labels = { app: 'node-test', 'node-test/pod': 'nobody' };
    peer.spec!.nodeSelector = { 'kubernetes.io/hostname': 'vdi-control' };
    await ns.core.createNamespacedPod({ namespace: ns.name, body: peer });
    const peerIp = await waitFor(
      'the kwok peer pod has an address',
      async () => (await ns.core.readNamespacedPod({ name: 'peer', namespace: ns.name })).status?.podIP,
      30_000,
      200,
    );
    const inSrcSet = () =>
      execFileSync('ipset', ['save'], { encoding: 'utf8' })
        .split('\n')
        .some((l) => /^add KUBE-SRC-\S+ /.test(l) && l.split(' ')[2] === peerIp);
    // Within seconds (a sync takes ~0.2 s): the peer's own events reach the controller, not only
    // the next periodic resync (5 min).
    await waitFor('the peer in the policy ipset', async () => inSrcSet(), 10_000, 200);
    await ns.core.deleteNamespacedPod({ name: 'peer', namespace: ns.name, gracePeriodSeconds: 0 });
    await waitFor('the peer out of the policy ipset', async () => !inSrcSet(), 10_000, 200);

    // TCP and UDP alike; the host (the kubelet's probes, Traefik) still gets in, and `guarded` still gets out.
    expect(await dialFrom(other, 'udp', `${guarded}:8080`)).toMatch(/^closed/);
    expect((await get(`http://${guarded}:8080/`)).status).toBe(200);
    expect(await dialFrom(guarded, 'tcp', `${other}:8080`)).toBe('open');
    const pod = await ns.core.readNamespacedPod({ name: 'guarded', namespace: ns.name });
    expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');

    // The same pods without enforcement: the policy is only stored, `other` gets in.
    await setNetworkPolicyEnforcement(false, { stateDir, log });
    try {
      expect(netpolChains()).toEqual([]);
      expect(ownedIpsets()).toEqual([]);
      expect((await nodeStatus({ stateDir })).networkPolicy.enforced).toBe(false);
      expect(await dialFrom(other, 'tcp', `${guarded}:8080`)).toBe('open');
      expect(await dialFrom(other, 'udp', `${guarded}:8080`)).toBe('open');
    } finally {
      await setNetworkPolicyEnforcement(true, { stateDir, log });
    }
    expect(await dialFrom(other, 'tcp', `${guarded}:8080`)).toMatch(/^closed/);
    expect((await nodeStatus({ stateDir })).networkPolicy.enforced).toBe(true);
    for (const name of ['guarded', 'other'])
      await ns.core.deleteNamespacedPod({ name, namespace: ns.name, gracePeriodSeconds: 0 });
  }, 300_000);

  it('stops without leaving anything behind and restores the recorded host state, even with a pod running', async () => {
    await ns.core.createNamespacedPod({ namespace: ns.name, body: restrictedPod('busy', image) });
    await readyPod(ns.core, ns.name, 'busy');
    const p = nodePaths(stateDir);
    const record = JSON.parse(readFileSync(p.hostState, 'utf8')) as {
      sysctls: Record<string, string>;
      iptables: { v4: string; v6: string };
      dirs: Record<string, boolean>;
      ipsets?: string[];
    };
    const before = leftovers(stateDir);
    expect(before.processes.length).toBeGreaterThan(0);
    expect(before.veths.length).toBeGreaterThan(0);
    expect(before.cgroups.length).toBeGreaterThan(0);
    expect(netpolChains()).toEqual(expect.arrayContaining(['KUBE-ROUTER-INPUT', 'KUBE-ROUTER-FORWARD']));
    expect(netpolChains().some((c) => c.startsWith('KUBE-POD-FW-'))).toBe(true);

    const t0 = Date.now();
    await stopNode({ stateDir, log });
    timings['node stop (ms)'] = Date.now() - t0;

    expect(leftovers(stateDir)).toEqual({
      processes: [],
      mounts: [],
      bridge: false,
      veths: [],
      cgroups: [],
      runDir: false,
    });
    expect(readSysctls(Object.keys(record.sysctls))).toEqual(record.sysctls);
    expect(ownedChains(iptablesSave('v4'))).toEqual(ownedChains(record.iptables.v4));
    expect(netpolChains()).toEqual([]);
    expect(ownedIpsets()).toEqual((record.ipsets ?? []).filter((s) => OWNED_IPSET.test(s)));
    for (const [dir, existed] of Object.entries(record.dirs))
      expect([dir, existsSync(dir)]).toEqual([dir, existed]);
    expect(existsSync(p.hostState)).toBe(false);
    expect((await nodeStatus({ stateDir })).running).toBe(false);
    // The pod's node is gone; remove it now so the node's next start does not run it again.
    await ns.core.deleteNamespacedPod({ name: 'busy', namespace: ns.name, gracePeriodSeconds: 0 });
    await waitFor(
      `Node ${NODE_NAME} deleted`,
      async () =>
        ns.core.readNode({ name: NODE_NAME }).then(
          () => false,
          (e) => (e as { code?: number }).code === 404,
        ),
      30_000,
      250,
    );
  }, 300_000);

  it('cleans up after a crash (kubelet and containerd killed) on the next start, and runs the pod again', async () => {
    const t0 = Date.now();
    await startNode(opts);
    timings['node up after stop (ms)'] = Date.now() - t0;
    await ns.core.createNamespacedPod({ namespace: ns.name, body: restrictedPod('crash', image) });
    const first = await readyPod(ns.core, ns.name, 'crash');

    const { processes } = await nodeStatus({ stateDir });
    for (const proc of processes) process.kill(proc.pid, 'SIGKILL');
    await waitFor('kubelet and containerd dead', async () =>
      processes.every((x) => {
        try {
          process.kill(x.pid, 0);
          return false;
        } catch {
          return true;
        }
      }),
    );
    // The shims and the containers outlive them: a crash leaves them behind.
    const orphans = pidsWithCmdline(RUN_DIR);
    expect(orphans.length).toBeGreaterThan(0);
    expect((await nodeStatus({ stateDir })).crashed).toBe(true);

    const t1 = Date.now();
    const restarted = await startNode(opts);
    timings['node up after crash (ms)'] = Date.now() - t1;
    expect(restarted).toMatchObject({ reused: false, recoveredFromCrash: true });
    // The orphans were killed (the new shims are other processes).
    const now = pidsWithCmdline(RUN_DIR);
    expect(orphans.filter((pid) => now.includes(pid))).toEqual([]);
    // The crashed sandbox is gone; the kubelet runs the pod again in a new one (a new container).
    const sock = `unix://${nodePaths(stateDir).containerdSocket}`;
    const firstContainer = first.status?.containerStatuses?.[0]?.containerID;
    const again = await waitFor(
      'pod crash running again in a new container',
      async () => {
        const p = await ns.core.readNamespacedPod({ name: 'crash', namespace: ns.name });
        const c = p.status?.containerStatuses?.[0];
        return c?.ready && c.containerID && c.containerID !== firstContainer && p.status?.podIP
          ? p
          : undefined;
      },
      120_000,
      250,
    );
    expect(again.metadata?.uid).toBe(first.metadata?.uid);
    const sandboxes = execFileSync(
      path.join(opts.criToolsBinDir, 'crictl'),
      ['--runtime-endpoint', sock, 'pods', '--quiet', '--namespace', ns.name],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    )
      .split('\n')
      .filter(Boolean);
    expect(sandboxes).toHaveLength(1);
    expect((await get(`http://${again.status!.podIP!}:8080/`)).status).toBe(200);
    // The policy controller came back with the node: the pod has a firewall chain again.
    expect((await nodeStatus({ stateDir })).networkPolicy.enforced).toBe(true);
    await waitFor('a pod firewall chain for the restarted pod', async () =>
      netpolChains().some((c) => c.startsWith('KUBE-POD-FW-')),
    );
  }, 300_000);

  it("takes over from another cluster's dead node (a restored snapshot: its record names pids other processes hold now) without killing them", async () => {
    // Another cluster's folder that owned the node when the machine was snapshotted: its record,
    // host state and options are there, its processes are not; the pids it names are held by an
    // unrelated process now.
    const hostState = readFileSync(nodePaths(stateDir).hostState, 'utf8');
    await stopNode({ stateDir, log });
    const other = mkdtempSync(path.join(os.tmpdir(), 'vdi-node-other-'));
    const bystander = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      const op = nodePaths(other);
      mkdirSync(op.dir, { recursive: true });
      writeFileSync(op.hostState, hostState);
      writeFileSync(
        path.join(op.dir, 'options.json'),
        JSON.stringify({ ...savedNodeOptions(stateDir), stateDir: other }),
      );
      const pid = bystander.pid!;
      writeFileSync(
        op.processes,
        JSON.stringify({
          processes: ['containerd', 'netpol', 'kubelet'].map((name) => ({ name, pid, log: '/dev/null' })),
        }),
      );
      writeFileSync(OWNER_FILE, JSON.stringify({ stateDir: other }));
      expect(nodeOwner()).toBe(other);
      expect(runningNodeOwner()).toBeUndefined();

      const lines: string[] = [];
      const started = await startNode({ ...opts, log: (m) => (lines.push(m), log(m)) });
      expect(started.reused).toBe(false);
      expect(lines.join('\n')).toContain(`the cluster in ${other} left a dead node behind`);
      expect(JSON.parse(readFileSync(OWNER_FILE, 'utf8'))).toEqual({ stateDir });
      expect(existsSync(op.hostState)).toBe(false);
      expect(runningNodeOwner()).toBe(stateDir);
      // The process holding the recorded pids was neither taken for the node nor killed.
      expect(bystander.exitCode).toBeNull();
      expect(bystander.signalCode).toBeNull();
      const node = await ns.core.readNode({ name: NODE_NAME });
      expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    } finally {
      bystander.kill('SIGKILL');
      rmSync(other, { recursive: true, force: true });
    }
  }, 300_000);
});
