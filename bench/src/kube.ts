/**
 * What a benchmark phase needs in the cluster: a namespace with the TURN secret, GPU nodes that
 * only this run may use (a run label and a run taint, like createIsolatedGpuNode), the template
 * that sends sessions there, and the platform options the operator derives from its environment.
 */
import {
  API_VERSION,
  KIND_TEMPLATE,
  PLURAL_TEMPLATE,
  type SessionOwner,
  type VDITemplate,
} from '@vdi/crd-types';
import { KubeApiError, type KubeJsonClient } from '@vdi/kube-client';
import {
  apiBasePath,
  CHILD_KINDS as SESSION_CHILD_KINDS,
  newSession,
  platformOptionsFromEnv,
  type PlatformOptions,
} from '@vdi/session-spec';
import { localOperatorEnv } from '@vdi/session-spec/testing';
import { gpuNode } from '@vdi/sim-nodes';
import { TEST_SESSION_KEY, waitFor } from '@vdi/testing';

/** The kinds of a session's children (libs/session-spec's list), as [API base path, plural]. */
export const CHILD_KINDS: readonly (readonly [string, string])[] = SESSION_CHILD_KINDS.map(
  (k) => [apiBasePath(k.apiVersion), k.plural] as const,
);
/** Label and taint key that tie nodes and templates to one run. */
export const RUN_LABEL = 'vdi.kasm.io/bench-run';
export const TURN_SECRET_VALUE = 'bench-turn-shared-secret-5d2a9c7e1b3f6a8d0c4e';
export type Persistence = 'user' | 'session' | 'none';

export async function createNamespace(client: KubeJsonClient, name: string): Promise<void> {
  await client.call('POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'vdi.kasm.io/bench': 'true' } },
  });
  // Pods are refused until the controller manager has made the default ServiceAccount.
  await waitFor(`ServiceAccount default in ${name}`, async () =>
    client.get({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } }),
  );
  await client.apply(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'vdi-turn', namespace: name },
      stringData: { 'static-auth-secret': TURN_SECRET_VALUE },
    },
    'vdi-bench',
  );
}

/** Deletes a namespace; with `wait`, until it is gone (its pods removed by kwok). */
export async function deleteNamespace(client: KubeJsonClient, name: string, waitMs = 0): Promise<void> {
  await client.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  if (waitMs > 0)
    await waitFor(
      `namespace ${name} deleted`,
      async () => !(await client.get({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
      waitMs,
      500,
    );
}

/** A /24 pod range per node inside the benchmarking range 198.18.0.0/15, clear of the defaults. */
export function podCidr(index: number): string {
  const n = 16 + index;
  return `198.${18 + Math.floor(n / 256)}.${n % 256}.0/24`;
}

export interface RunNodes {
  names: string[];
  slices: number;
}

/**
 * `count` GPU nodes of `gpus` GPUs × `replicas` time-slices, labelled and tainted for run `runId`
 * only; resolves when kwok has made them Ready.
 */
export async function createRunNodes(
  client: KubeJsonClient,
  runId: string,
  count: number,
  gpus: number,
  replicas = 8,
  product = 'NVIDIA-L4',
): Promise<RunNodes> {
  const names: string[] = [];
  const lanes = 8;
  const indexes = Array.from({ length: count }, (_, i) => i);
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (const i of indexes.filter((x) => x % lanes === lane)) {
        const name = `bench-${runId}-${String(i).padStart(4, '0')}`;
        const node = gpuNode({
          name,
          product,
          gpus,
          replicas,
          podCIDR: podCidr(i),
          labels: { [RUN_LABEL]: runId },
          shape: { cpu: '512', memory: '4Ti', pods: String(Math.max(110, gpus * replicas + 10)) },
          taints: [{ key: RUN_LABEL, value: runId, effect: 'NoSchedule' }],
        });
        // A Node create keeps its status: the capacity is advertised from the start.
        await client.call('POST', '/api/v1/nodes', node);
        names.push(name);
      }
    }),
  );
  await waitFor(
    `${count} nodes of run ${runId} Ready`,
    async () => {
      const list = await client.call<{
        items: { status?: { conditions?: { type: string; status: string }[] } }[];
      }>('GET', `/api/v1/nodes?labelSelector=${encodeURIComponent(`${RUN_LABEL}=${runId}`)}`);
      const ready = list.items.filter((n) =>
        n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      return ready.length === count;
    },
    120_000,
    250,
  );
  return { names: names.sort(), slices: count * gpus * replicas };
}

/** Deletes the nodes of run `runId`. */
export async function deleteRunNodes(client: KubeJsonClient, runId: string): Promise<void> {
  await client
    .call('DELETE', `/api/v1/nodes?labelSelector=${encodeURIComponent(`${RUN_LABEL}=${runId}`)}`)
    .catch((err: unknown) => {
      if (!(err instanceof KubeApiError && err.notFound)) throw err;
    });
}

/** The run's template: one GPU time-slice, placed on the run's nodes only. */
export async function applyTemplate(
  client: KubeJsonClient,
  name: string,
  runId: string,
  persistence: Persistence,
): Promise<VDITemplate> {
  return (await client.apply(
    {
      apiVersion: API_VERSION,
      kind: KIND_TEMPLATE,
      metadata: { name, labels: { [RUN_LABEL]: runId } },
      spec: {
        displayName: `Benchmark ${runId}`,
        image: 'ghcr.io/selkies-project/nvidia-egl-desktop:24.04',
        resources: { defaultGPU: 1, defaultMemory: '4Gi' },
        persistence,
        nodeSelector: { [RUN_LABEL]: runId },
        tolerations: [{ key: RUN_LABEL, operator: 'Equal', value: runId, effect: 'NoSchedule' }],
      },
    },
    'vdi-bench',
  )) as unknown as VDITemplate;
}

/**
 * Waits until the operator's image pullers for `template` run on all `nodes` of the run
 * (status.prepull ready = desired = nodes); returns the milliseconds waited. A template and its
 * GPU nodes exist long before a morning's burst, so their pre-pull is over by then: a burst
 * measured while the DaemonSet still places pods on fresh nodes would count that work too.
 */
export async function waitPrepulled(
  client: KubeJsonClient,
  template: string,
  nodes: number,
  timeoutMs = 120_000,
): Promise<number> {
  const t0 = Date.now();
  await waitFor(
    `the image pullers of template ${template} Ready on its ${nodes} nodes`,
    async () => {
      const t = await client.call<VDITemplate>('GET', `/apis/${API_VERSION}/${PLURAL_TEMPLATE}/${template}`);
      const p = t.status?.prepull;
      return p !== undefined && p.desired === nodes && p.ready === nodes;
    },
    timeoutMs,
    250,
  );
  return Date.now() - t0;
}

export async function deleteTemplate(client: KubeJsonClient, name: string): Promise<void> {
  await client.delete({ apiVersion: API_VERSION, kind: KIND_TEMPLATE, metadata: { name } });
}

/** The operator's environment for a namespace (what tests and `npm start` give it, too). */
export function operatorEnv(namespace: string): Record<string, string> {
  return localOperatorEnv(namespace, TEST_SESSION_KEY);
}

/**
 * The platform options the operator renders with given `operatorEnv(namespace)`: the same
 * mapping of its environment (platformOptionsFromEnv), so the floor writes the objects the
 * operator would.
 */
export function platformOptions(namespace: string): PlatformOptions {
  return platformOptionsFromEnv(operatorEnv(namespace));
}

/** Creates a session as the API does (POST of libs/session-spec newSession); `user` owns it. */
export async function createSession(
  client: KubeJsonClient,
  namespace: string,
  name: string,
  template: string,
  user: string,
  owner?: SessionOwner,
): Promise<{ metadata: { name: string; uid: string; namespace: string; creationTimestamp: string } }> {
  return client.call(
    'POST',
    `/apis/${API_VERSION}/namespaces/${namespace}/vdisessions`,
    newSession(name, namespace, { user, template, ...(owner ? { owner } : {}) }),
  );
}
