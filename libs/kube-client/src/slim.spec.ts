import type * as k8s from '@kubernetes/client-node';
import { KubeApiError, type KubeJsonClient } from './client.js';
import { childMetadata, pagedList, slimNode, slimPod, withoutManagedFields } from './slim.js';

const managedFields = [{ manager: 'vdi-operator', operation: 'Apply', fieldsV1: { 'f:spec': {} } }];

describe('withoutManagedFields', () => {
  it("drops managedFields and kubectl's last-applied copy, keeping every other field", () => {
    const obj = {
      apiVersion: 'vdi.kasm.io/v1alpha1',
      kind: 'VDISession',
      metadata: {
        name: 's',
        uid: 'u1',
        resourceVersion: '7',
        finalizers: ['vdi.kasm.io/session-cleanup'],
        managedFields,
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{…}', keep: 'me' },
      },
      spec: { user: 'a@example.com', template: 't' },
      status: { phase: 'Running' },
    };
    const slim = withoutManagedFields(obj);
    expect(slim).toEqual({
      ...obj,
      metadata: {
        name: 's',
        uid: 'u1',
        resourceVersion: '7',
        finalizers: ['vdi.kasm.io/session-cleanup'],
        annotations: { keep: 'me' },
      },
    });
    // The input is not modified (the list it came from may be shared).
    expect(obj.metadata.managedFields).toBe(managedFields);
  });
});

describe('slimPod', () => {
  const pod: k8s.V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'desktop-s',
      namespace: 'vdi-sessions',
      uid: 'p1',
      labels: { 'vdi.kasm.io/session': 's' },
      annotations: { 'vdi.kasm.io/encoder-plan': '{}' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'VDISession', name: 's', uid: 'u1' }],
      deletionTimestamp: new Date('2026-12-04T10:00:00Z'),
      managedFields,
    },
    spec: {
      nodeName: 'gpu-1',
      priority: 0,
      containers: [
        {
          name: 'desktop',
          image: 'img',
          env: [{ name: 'X', value: 'y' }],
          args: ['--a'],
          resources: { limits: { 'nvidia.com/gpu': '1' } },
          readinessProbe: { httpGet: { path: '/api/health', port: 8080 } },
        },
      ],
      initContainers: [{ name: 'init', image: 'img', command: ['true'] }],
      volumes: [
        { name: 'home', persistentVolumeClaim: { claimName: 'home-u' } },
        { name: 'tmp', emptyDir: {} },
        { name: 'secret', secret: { secretName: 's' } },
      ],
      securityContext: { runAsNonRoot: true },
    },
    status: {
      phase: 'Running',
      podIP: '10.0.0.5',
      message: 'm',
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          lastProbeTime: 'p' as unknown as Date,
          lastTransitionTime: new Date(0),
        },
        { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes' },
      ],
      containerStatuses: [
        {
          name: 'desktop',
          ready: true,
          started: true,
          restartCount: 2,
          image: 'img',
          imageID: 'x',
          containerID: 'containerd://1',
          state: { running: { startedAt: new Date(0) } },
          lastState: { terminated: { exitCode: 1, startedAt: new Date(0) } },
          volumeMounts: [{ name: 'home', mountPath: '/home' }],
          resources: { limits: { cpu: '1' } },
          user: { linux: { uid: 1000, gid: 1000 } },
        },
      ],
      initContainerStatuses: [
        {
          name: 'init',
          ready: true,
          restartCount: 0,
          image: 'img',
          imageID: 'x',
          state: { waiting: { reason: 'r' } },
        },
      ],
      hostIP: '192.168.0.1',
      qosClass: 'Burstable',
    },
  };

  it('keeps what placement, status, usage and viewers read', () => {
    const slim = slimPod(pod);
    expect(slim.metadata).toEqual({
      name: 'desktop-s',
      namespace: 'vdi-sessions',
      uid: 'p1',
      labels: { 'vdi.kasm.io/session': 's' },
      annotations: { 'vdi.kasm.io/encoder-plan': '{}' },
      ownerReferences: pod.metadata!.ownerReferences,
      deletionTimestamp: pod.metadata!.deletionTimestamp,
    });
    expect(slim.spec).toEqual({
      nodeName: 'gpu-1',
      priority: 0,
      containers: [{ name: 'desktop', image: 'img', resources: { limits: { 'nvidia.com/gpu': '1' } } }],
      initContainers: [{ name: 'init', image: 'img' }],
      volumes: [{ name: 'home', persistentVolumeClaim: { claimName: 'home-u' } }],
    });
    expect(slim.status).toEqual({
      phase: 'Running',
      podIP: '10.0.0.5',
      message: 'm',
      conditions: [
        { type: 'Ready', status: 'True', lastTransitionTime: new Date(0) },
        { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes' },
      ],
      containerStatuses: [
        {
          name: 'desktop',
          ready: true,
          started: true,
          restartCount: 2,
          image: 'img',
          state: { running: { startedAt: new Date(0) } },
          lastState: { terminated: { exitCode: 1, startedAt: new Date(0) } },
        },
      ],
      initContainerStatuses: [
        { name: 'init', ready: true, restartCount: 0, image: 'img', state: { waiting: { reason: 'r' } } },
      ],
    });
  });

  it('is smaller than the pod by what nobody reads', () => {
    expect(JSON.stringify(slimPod(pod)).length).toBeLessThan(JSON.stringify(pod).length * 0.75);
  });

  it('copes with a pod that has no status yet', () => {
    const { status: _status, ...fresh } = pod;
    expect(slimPod(fresh).status).toBeUndefined();
  });
});

describe('slimNode', () => {
  it('keeps labels, taints, schedulability, resources and conditions; drops images and node info', () => {
    const node: k8s.V1Node = {
      metadata: { name: 'gpu-1', labels: { 'nvidia.com/gpu.product': 'L4' }, managedFields },
      spec: {
        taints: [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }],
        unschedulable: true,
        podCIDR: '10.0.0.0/24',
      },
      status: {
        allocatable: { 'nvidia.com/gpu': '8' },
        capacity: { 'nvidia.com/gpu': '8' },
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'KubeletReady',
            message: 'ok',
            lastHeartbeatTime: new Date(),
            lastTransitionTime: new Date('2026-12-01T00:00:00Z'),
          },
        ],
        images: [{ names: ['a@sha256:1', 'a:1'], sizeBytes: 1 }],
        nodeInfo: {
          architecture: 'amd64',
          bootID: 'b',
          containerRuntimeVersion: 'c',
          kernelVersion: 'k',
          kubeProxyVersion: 'k',
          kubeletVersion: 'k',
          machineID: 'm',
          operatingSystem: 'linux',
          osImage: 'o',
          systemUUID: 's',
        },
      },
    };
    expect(slimNode(node)).toEqual({
      metadata: { name: 'gpu-1', labels: { 'nvidia.com/gpu.product': 'L4' } },
      spec: { taints: node.spec!.taints, unschedulable: true },
      status: {
        allocatable: { 'nvidia.com/gpu': '8' },
        capacity: { 'nvidia.com/gpu': '8' },
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'KubeletReady',
            message: 'ok',
            lastTransitionTime: new Date('2026-12-01T00:00:00Z'),
          },
        ],
      },
    });
  });
});

describe('childMetadata', () => {
  const keep = { labels: ['vdi.kasm.io/session'], annotations: ['vdi.kasm.io/applied'] };
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 's-auth',
      namespace: 'vdi',
      uid: 'x1',
      resourceVersion: '42',
      generation: 3,
      labels: {
        'vdi.kasm.io/session': 's',
        'vdi.kasm.io/template': 't',
        'app.kubernetes.io/part-of': 'vdi-platform',
      },
      annotations: { 'vdi.kasm.io/applied': 'abc', 'vdi.kasm.io/user': 'alice', 'other.example/note': 'x' },
      ownerReferences: [
        {
          apiVersion: 'vdi.kasm.io/v1alpha1',
          kind: 'VDISession',
          name: 's',
          uid: 'u1',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      managedFields: [
        { manager: 'vdi-operator', operation: 'Apply', fieldsV1: { 'f:data': {} } },
        { manager: 'kubectl-edit', operation: 'Update', fieldsV1: { 'f:data': {} }, subresource: '' },
      ],
    },
    data: { password: 'c2VjcmV0' },
    type: 'Opaque',
  };

  it('keeps name, version, the labels and annotations asked for and the owners’ uids; never data', () => {
    expect(childMetadata(secret, keep)).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 's-auth',
        namespace: 'vdi',
        resourceVersion: '42',
        labels: { 'vdi.kasm.io/session': 's' },
        annotations: { 'vdi.kasm.io/applied': 'abc' },
        ownerReferences: [{ uid: 'u1' }],
      },
    });
    expect(JSON.stringify(childMetadata(secret, keep))).not.toContain('c2VjcmV0');
  });

  it('keeps a deletion in progress and leaves out labels and annotations it does not have', () => {
    const deleting = {
      kind: 'Service',
      metadata: { name: 'svc', namespace: 'vdi', deletionTimestamp: '2026-12-05T00:00:00Z' },
    } as unknown as typeof secret;
    expect(childMetadata(deleting, keep)).toEqual({
      apiVersion: undefined,
      kind: 'Service',
      metadata: { name: 'svc', namespace: 'vdi', deletionTimestamp: '2026-12-05T00:00:00Z' },
    });
  });
});

describe('pagedList', () => {
  /** A collection of `n` objects served `limit` at a time; `expireAt` answers that page's continue with 410 once. */
  function server(n: number, expireAt?: number) {
    const paths: string[] = [];
    let expired = false;
    const client = {
      call: async (_m: string, path: string) => {
        paths.push(path);
        const q = new URL(path, 'https://x').searchParams;
        const from = Number(q.get('continue') ?? 0);
        if (expireAt !== undefined && from === expireAt && !expired) {
          expired = true;
          throw new KubeApiError(410, 'Expired', 'The provided continue parameter is too old', {});
        }
        const limit = Number(q.get('limit'));
        const items = Array.from({ length: Math.min(limit, n - from) }, (_, i) => ({
          metadata: { name: `o${from + i}` },
          spec: { large: 'x' },
        }));
        const next = from + items.length;
        return {
          metadata: { resourceVersion: '42', ...(next < n ? { continue: String(next) } : {}) },
          items,
        };
      },
    } as unknown as KubeJsonClient;
    return { client, paths };
  }
  const slim = (o: k8s.KubernetesObject) => ({ metadata: { name: o.metadata!.name! } });

  it('follows continue tokens to the end, sends the selector on every page and keeps only transformed items', async () => {
    const s = server(5);
    const list = await pagedList(s.client, '/api/v1/configmaps', slim, 'a=b', 2);
    expect(list.items).toEqual([0, 1, 2, 3, 4].map((i) => ({ metadata: { name: `o${i}` } })));
    expect(list.metadata?.resourceVersion).toBe('42');
    expect(s.paths).toEqual([
      '/api/v1/configmaps?limit=2&labelSelector=a%3Db',
      '/api/v1/configmaps?limit=2&labelSelector=a%3Db&continue=2',
      '/api/v1/configmaps?limit=2&labelSelector=a%3Db&continue=4',
    ]);
  });

  it('starts over once when a continue token expired, and never returns a partial list', async () => {
    const s = server(5, 2);
    const list = await pagedList(s.client, '/api/v1/configmaps', slim, undefined, 2);
    expect(list.items.map((o) => o.metadata?.name)).toEqual(['o0', 'o1', 'o2', 'o3', 'o4']);
    expect(s.paths.filter((p) => !p.includes('continue'))).toHaveLength(2);
  });

  it('fails on any other error', async () => {
    const client = {
      call: async () => {
        throw new KubeApiError(403, 'Forbidden', 'no', {});
      },
    } as unknown as KubeJsonClient;
    await expect(pagedList(client, '/api/v1/pods', slim)).rejects.toMatchObject({ status: 403 });
  });
});
