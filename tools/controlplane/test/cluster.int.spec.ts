/**
 * The local control plane behaves like a real cluster where the platform depends on it:
 * GPU time-slices are scheduled by the real kube-scheduler, kwok runs the pods, Pod Security
 * admission enforces `restricted`, and the garbage collector removes owned objects.
 */
import * as k8s from '@kubernetes/client-node';
import {
  createIsolatedGpuNode,
  createTestNamespace,
  ensureCluster,
  testKubeConfig,
  waitFor,
  type IsolatedNode,
  type TestNamespace,
} from '@vdi/testing';
import { up } from '../src/cluster.js';
import { loadConfig, readVersions } from '../src/config.js';

function gpuPod(name: string, node: IsolatedNode): k8s.V1Pod {
  return {
    metadata: { name, labels: { app: 'gpu-test' } },
    spec: {
      nodeSelector: node.nodeSelector,
      tolerations: node.tolerations,
      containers: [
        {
          name: 'desktop',
          image: 'ghcr.io/selkies-project/nvidia-egl-desktop:latest',
          resources: { limits: { 'nvidia.com/gpu': '1' } },
        },
      ],
    },
  };
}

const phaseOf = async (core: k8s.CoreV1Api, ns: string, name: string) =>
  (await core.readNamespacedPod({ name, namespace: ns })).status;

describe('local control plane', () => {
  let ns: TestNamespace;
  const nodes: IsolatedNode[] = [];

  beforeAll(async () => {
    ensureCluster();
  });
  beforeEach(async () => {
    ns = await createTestNamespace('cp');
  });
  afterEach(async () => {
    await ns.cleanup();
    await Promise.all(nodes.splice(0).map((n) => n.remove()));
  });

  it('reports the Kubernetes version it was built from', async () => {
    const info = await testKubeConfig().makeApiClient(k8s.VersionApi).getCode();
    expect(info.gitVersion).toBe(readVersions().KUBERNETES_VERSION);
  });

  it('is reused, not restarted, when `up` runs while it is running', async () => {
    const r = await up(loadConfig(), () => undefined);
    expect(r.reused).toBe(true);
  });

  it('advertises GPUs × 8 time-slices with the GPU Feature Discovery labels and the GPU taint', async () => {
    const core = testKubeConfig().makeApiClient(k8s.CoreV1Api);
    const list = await core.listNode({ labelSelector: 'nvidia.com/gpu.sharing-strategy=time-slicing' });
    const defaults = list.items.filter((n) => n.metadata?.name?.startsWith('vdi-gpu-'));
    expect(defaults.length).toBeGreaterThanOrEqual(2);
    for (const n of defaults) {
      const labels = n.metadata!.labels!;
      expect(n.status!.allocatable!['nvidia.com/gpu']).toBe(
        String(Number(labels['nvidia.com/gpu.count']) * 8),
      );
      expect(labels['nvidia.com/gpu.replicas']).toBe('8');
      expect(labels['nvidia.com/gpu.product']).toMatch(/-SHARED$/);
      expect(Number(labels['nvidia.com/gpu.memory'])).toBeGreaterThan(0);
      expect(n.spec!.taints).toEqual(
        expect.arrayContaining([expect.objectContaining({ key: 'nvidia.com/gpu', effect: 'NoSchedule' })]),
      );
      expect(n.status!.conditions!.find((c) => c.type === 'Ready')?.status).toBe('True');
    }
    const products = defaults.map((n) => n.metadata!.labels!['nvidia.com/gpu.product']);
    expect(products).toEqual(expect.arrayContaining(['NVIDIA-L4-SHARED', 'NVIDIA-H100-80GB-HBM3-SHARED']));
  });

  it('places a GPU pod on a GPU node and kwok makes it Running', async () => {
    const node = await createIsolatedGpuNode();
    nodes.push(node);
    await ns.core.createNamespacedPod({ namespace: ns.name, body: gpuPod('desktop-0', node) });
    const st = await waitFor('pod Running', async () => {
      const s = await phaseOf(ns.core, ns.name, 'desktop-0');
      return s?.phase === 'Running' ? s : undefined;
    });
    const pod = await ns.core.readNamespacedPod({ name: 'desktop-0', namespace: ns.name });
    expect(pod.spec!.nodeName).toBe(node.name);
    expect(st.conditions!.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(st.podIP).toMatch(/^198\.18\./);
  });

  it('keeps a GPU pod without the toleration off GPU nodes', async () => {
    const node = await createIsolatedGpuNode();
    nodes.push(node);
    const pod = gpuPod('untolerated', node);
    pod.spec!.tolerations = node.tolerations.filter((t) => t.key !== 'nvidia.com/gpu');
    await ns.core.createNamespacedPod({ namespace: ns.name, body: pod });
    const cond = await waitFor('PodScheduled=False', async () =>
      (await phaseOf(ns.core, ns.name, 'untolerated'))?.conditions?.find(
        (c) => c.type === 'PodScheduled' && c.status === 'False',
      ),
    );
    expect(cond.reason).toBe('Unschedulable');
    expect(cond.message).toMatch(/untolerated taint/);
    expect(
      (await ns.core.readNamespacedPod({ name: 'untolerated', namespace: ns.name })).spec!.nodeName,
    ).toBeUndefined();
  });

  it('runs 8 GPU pods on one GPU × 8 slices and leaves the 9th Pending for Insufficient nvidia.com/gpu', async () => {
    const node = await createIsolatedGpuNode({ gpus: 1, replicas: 8 });
    nodes.push(node);
    for (let i = 0; i < 8; i++) {
      await ns.core.createNamespacedPod({ namespace: ns.name, body: gpuPod(`desktop-${i}`, node) });
    }
    await waitFor('8 pods Running', async () => {
      const pods = await ns.core.listNamespacedPod({ namespace: ns.name });
      return pods.items.filter((p) => p.status?.phase === 'Running').length === 8;
    });
    await ns.core.createNamespacedPod({ namespace: ns.name, body: gpuPod('desktop-8', node) });
    const cond = await waitFor('9th pod unschedulable', async () =>
      (await phaseOf(ns.core, ns.name, 'desktop-8'))?.conditions?.find(
        (c) => c.type === 'PodScheduled' && c.status === 'False',
      ),
    );
    expect(cond.reason).toBe('Unschedulable');
    expect(cond.message).toContain('Insufficient nvidia.com/gpu');
    const ninth = await ns.core.readNamespacedPod({ name: 'desktop-8', namespace: ns.name });
    expect(ninth.status!.phase).toBe('Pending');
    expect(ninth.spec!.nodeName).toBeUndefined();

    // A freed slice is used by the waiting pod without anyone touching it.
    await ns.core.deleteNamespacedPod({ name: 'desktop-0', namespace: ns.name, gracePeriodSeconds: 0 });
    await waitFor(
      '9th pod Running after a slice frees',
      async () => (await phaseOf(ns.core, ns.name, 'desktop-8'))?.phase === 'Running',
      60_000,
    );
  });

  it('rejects a pod that violates Pod Security "restricted" in an enforcing namespace', async () => {
    const restricted = await createTestNamespace('cp-psa', {
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'latest',
    });
    try {
      const bad: k8s.V1Pod = {
        metadata: { name: 'privileged' },
        spec: { containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }] },
      };
      await expect(
        restricted.core.createNamespacedPod({ namespace: restricted.name, body: bad }),
      ).rejects.toMatchObject({
        code: 403,
        body: expect.stringContaining('violates PodSecurity \\"restricted:latest\\": privileged'),
      });
      // No securityContext at all: the usual way a desktop pod would break "restricted".
      const plain: k8s.V1Pod = {
        metadata: { name: 'plain' },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      };
      await expect(
        restricted.core.createNamespacedPod({ namespace: restricted.name, body: plain }),
      ).rejects.toMatchObject({
        code: 403,
        body: expect.stringMatching(
          /allowPrivilegeEscalation != false.*unrestricted capabilities.*runAsNonRoot != true.*seccompProfile/,
        ),
      });
      const good: k8s.V1Pod = {
        metadata: { name: 'compliant' },
        spec: {
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'c',
              image: 'busybox',
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      };
      await expect(
        restricted.core.createNamespacedPod({ namespace: restricted.name, body: good }),
      ).resolves.toBeDefined();
    } finally {
      await restricted.cleanup();
    }
  });

  it('garbage-collects owned objects when their owner is deleted', async () => {
    const owner = await ns.core.createNamespacedConfigMap({
      namespace: ns.name,
      body: { metadata: { name: 'owner' } },
    });
    const ownerRef = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: 'owner',
      uid: owner.metadata!.uid!,
      controller: true,
      blockOwnerDeletion: true,
    };
    for (const name of ['child-a', 'child-b']) {
      await ns.core.createNamespacedConfigMap({
        namespace: ns.name,
        body: { metadata: { name, ownerReferences: [ownerRef] } },
      });
    }
    await ns.core.createNamespacedConfigMap({
      namespace: ns.name,
      body: { metadata: { name: 'unrelated' } },
    });
    await ns.core.deleteNamespacedConfigMap({
      name: 'owner',
      namespace: ns.name,
      propagationPolicy: 'Background',
    });
    await waitFor(
      'owned children deleted',
      async () => {
        const names = (await ns.core.listNamespacedConfigMap({ namespace: ns.name })).items.map(
          (c) => c.metadata!.name,
        );
        return !names.includes('child-a') && !names.includes('child-b');
      },
      60_000,
    );
    const left = (await ns.core.listNamespacedConfigMap({ namespace: ns.name })).items.map(
      (c) => c.metadata!.name,
    );
    expect(left).toContain('unrelated');
  });
});
