/**
 * Informer transforms: what a cache keeps of each object. A watch delivers whole objects, and a
 * cache that keeps them whole holds every pod's full spec and every object's managedFields (half
 * of a session's JSON) for its lifetime — 57 KB of heap per session in the reference benchmark.
 * The transforms below run once per object as it arrives (list or watch event), before the cache
 * stores it, and keep only what the operator and the API read.
 *
 * Adding a reader of a field that a transform drops means adding the field here; the unit tests
 * pin the kept fields of each kind.
 */
import * as k8s from '@kubernetes/client-node';
import { KubeApiError, type KubeJsonClient } from './client.js';

/** What a cache stores instead of the object the API server sent. Must not keep references to shared state. */
export type Transform<T extends k8s.KubernetesObject> = (obj: T) => T;

/** kubectl's copy of the last applied object, as large as the object itself. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Metadata without managedFields and kubectl's last-applied copy: nothing in the platform reads
 * either from a cache (tests that check field ownership read from the API server).
 */
function slimMeta(meta: k8s.V1ObjectMeta | undefined): k8s.V1ObjectMeta | undefined {
  if (!meta) return meta;
  const { managedFields: _managed, ...rest } = meta;
  if (rest.annotations && LAST_APPLIED in rest.annotations) {
    const { [LAST_APPLIED]: _last, ...annotations } = rest.annotations;
    rest.annotations = annotations;
  }
  return rest;
}

/** Any object without managedFields (sessions, templates, ledgers, claims). */
export function withoutManagedFields<T extends k8s.KubernetesObject>(obj: T): T {
  const metadata = slimMeta(obj.metadata);
  if (!metadata) return obj;
  // A copy by stores in the object's own key order, not `{ ...obj, metadata }` (see pick).
  const out = {} as T;
  for (const k of Object.keys(obj) as (keyof T)[])
    out[k] = k === 'metadata' ? (metadata as T[keyof T]) : obj[k];
  return out;
}

/**
 * A desktop pod as the platform reads it: where it runs, what it asks for (GPU time-slices are
 * container limits), the home claim it mounts, and its status (conditions without probe times,
 * container statuses as containerStatus keeps them). Env, probes, security contexts, the other
 * volumes and container commands are dropped — they are the bulk of a pod and are written by the
 * operator, never read back.
 */
export function slimPod(pod: k8s.V1Pod): k8s.V1Pod {
  const out = pick(pod, ['apiVersion', 'kind']) as k8s.V1Pod;
  out.metadata = slimMeta(pod.metadata)!;
  const spec = pod.spec;
  if (spec) {
    const s: k8s.V1PodSpec = { containers: spec.containers.map(slimContainer) };
    if (spec.initContainers) s.initContainers = spec.initContainers.map(slimContainer);
    if (spec.nodeName) s.nodeName = spec.nodeName;
    if (spec.nodeSelector) s.nodeSelector = spec.nodeSelector;
    if (spec.priority !== undefined) s.priority = spec.priority;
    if (spec.volumes)
      s.volumes = spec.volumes
        .filter((v) => v.persistentVolumeClaim)
        .map((v) => ({ name: v.name, persistentVolumeClaim: v.persistentVolumeClaim }));
    out.spec = s;
  }
  const status = pod.status;
  if (status) {
    const s: k8s.V1PodStatus = pick(status, [
      'phase',
      'reason',
      'message',
      'podIP',
      'startTime',
      'nominatedNodeName',
    ]);
    if (status.conditions) s.conditions = status.conditions.map(slimCondition);
    if (status.containerStatuses) s.containerStatuses = status.containerStatuses.map(containerStatus);
    if (status.initContainerStatuses)
      s.initContainerStatuses = status.initContainerStatuses.map(containerStatus);
    out.status = s;
  }
  return out;
}

/** A container as a pod's cached copy keeps it: its name, image and resources. */
function slimContainer(c: k8s.V1Container): k8s.V1Container {
  const out: k8s.V1Container = { name: c.name };
  if (c.image !== undefined) out.image = c.image;
  if (c.resources) out.resources = c.resources;
  return out;
}

/** A condition without its probe time (pods and nodes). */
function slimCondition<C extends { type: string; status: string }>(c: C): C {
  return pick(c as C & { reason?: string; message?: string; lastTransitionTime?: unknown }, [
    'type',
    'status',
    'reason',
    'message',
    'lastTransitionTime',
  ]) as C;
}

/**
 * A container's status as the session status reads it: whether and since when it runs, why it
 * waits or ended, how often it restarted. Image and container ids, mounts, resources and the
 * user it runs as go.
 */
function containerStatus(c: k8s.V1ContainerStatus): k8s.V1ContainerStatus {
  return pick(c, [
    'name',
    'image',
    'ready',
    'started',
    'restartCount',
    'state',
    'lastState',
  ]) as k8s.V1ContainerStatus;
}

/**
 * A node as placement reads it: labels, taints, schedulability, allocatable/capacity and
 * conditions. The image list (up to 50 entries with every digest) and the rest of the status go.
 */
export function slimNode(node: k8s.V1Node): k8s.V1Node {
  const out = pick(node, ['apiVersion', 'kind']) as k8s.V1Node;
  out.metadata = slimMeta(node.metadata)!;
  if (node.spec) out.spec = pick(node.spec, ['taints', 'unschedulable', 'providerID']);
  const status = node.status;
  if (status) {
    const s: k8s.V1NodeStatus = pick(status, ['allocatable', 'capacity']);
    if (status.conditions) s.conditions = status.conditions.map(slimCondition);
    out.status = s;
  }
  return out;
}

/** Which labels and annotations a child's cached copy keeps (the ones its readers look up). */
export interface ChildKeys {
  labels: readonly string[];
  annotations: readonly string[];
}

function only(
  from: Record<string, string> | undefined,
  keys: readonly string[],
): Record<string, string> | undefined {
  if (!from) return undefined;
  let out: Record<string, string> | undefined;
  for (const k of keys) if (from[k] !== undefined) (out ??= {})[k] = from[k];
  return out;
}

/**
 * An object the operator wrote for a session (Service, Secret, NetworkPolicy, Traefik route…)
 * as the few facts its readers use: name and version, the labels and annotations named in
 * `keep` (which session it is for, which desired state was applied), the uids of its owners and
 * whether it is being deleted. Enough to know the child exists, whether it is what was applied
 * and whose it is — never its data (a Secret's values do not stay in memory), and none of the
 * rest of its metadata: 25000 children of 5000 sessions are most of the operator's cache.
 */
export function childMetadata<T extends k8s.KubernetesObject>(obj: T, keep: ChildKeys): T {
  const m = obj.metadata ?? {};
  const labels = only(m.labels, keep.labels);
  const annotations = only(m.annotations, keep.annotations);
  const metadata = pick(m, ['name', 'namespace', 'resourceVersion', 'deletionTimestamp']) as k8s.V1ObjectMeta;
  if (labels) metadata.labels = labels;
  if (annotations) metadata.annotations = annotations;
  // Whose it is: the owners' uids (an owner reference without its kind, name and flags).
  if (m.ownerReferences?.length)
    metadata.ownerReferences = m.ownerReferences.map((o) => ({ uid: o.uid }) as k8s.V1OwnerReference);
  return { apiVersion: obj.apiVersion, kind: obj.kind, metadata } as T;
}

/**
 * The defined values of `keys`, stored one by one in `keys` order. Cached copies are built this
 * way (and by plain literals), never by conditional spreads (`...(x ? { x } : {})`): once such a
 * spread has seen a few shapes, V8 gives every object it makes a hidden class of its own. 10000
 * cached children held 10000 hidden classes that way (~240 bytes each, in a heap snapshot of the
 * operator at 2000 sessions); objects built by stores in a fixed order share one.
 */
function pick<T extends object, K extends keyof T>(obj: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

/**
 * Objects per page of an informer's list. A page arrives whole (its JSON text, then every object
 * parsed in full) before the transform keeps the slim copy, and the caches list at once: with
 * pages of 500 (client-go's size; its decoder streams) 500 desktop pods are ~5 MB of JSON and
 * several times that parsed, and the operator's peak RSS at start was ~45 MB above its steady
 * RSS. Pages of 100 cost a few more requests (50 for 5000 objects) and took that peak from
 * 211–214 MiB to 164–168 MiB with 2000 sessions (bench, `--steady 2000 --keep-cluster`).
 */
export const LIST_PAGE_SIZE = 100;

/**
 * Lists a collection page by page (`limit`/`continue`), as plain JSON (no typed models), and keeps
 * `transform(item)` of each item as its page arrives: the list of 5000 desktop pods is never in
 * memory whole, only the slim copies and one page. All pages come from one snapshot of the
 * collection; its resourceVersion is the list's. A continue token that expired (410) while
 * paging starts the list over, once.
 */
export async function pagedList<T extends k8s.KubernetesObject>(
  client: KubeJsonClient,
  collectionPath: string,
  transform: Transform<T>,
  labelSelector?: string,
  pageSize = LIST_PAGE_SIZE,
): Promise<k8s.KubernetesListObject<T>> {
  for (let attempt = 0; ; attempt++) {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    try {
      do {
        const q = new URLSearchParams({ limit: String(pageSize) });
        if (labelSelector) q.set('labelSelector', labelSelector);
        if (cont) q.set('continue', cont);
        const page = await client.call<{
          metadata?: { resourceVersion?: string; continue?: string };
          items?: T[];
        }>('GET', `${collectionPath}?${q.toString()}`);
        for (const item of page.items ?? []) items.push(transform(item));
        resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
        cont = page.metadata?.continue || undefined;
      } while (cont);
      return { metadata: { resourceVersion }, items } as k8s.KubernetesListObject<T>;
    } catch (err) {
      if (attempt === 0 && cont && err instanceof KubeApiError && err.status === 410) continue;
      throw err;
    }
  }
}

/**
 * An informer whose cache holds `transform(obj)` for every listed or watched object: client-node's
 * ListWatch with the list (pagedList, through `lister`) and the watch wrapped. Events
 * (add/update/delete) carry the transformed object too. Watch errors (Status objects) and
 * bookmarks pass through untouched. Listed and watched objects alike are plain JSON (timestamps
 * are strings).
 */
export function makeTransformingInformer<T extends k8s.KubernetesObject>(
  kc: k8s.KubeConfig,
  lister: KubeJsonClient,
  path: string,
  transform: Transform<T>,
  labelSelector?: string,
): k8s.Informer<T> & k8s.ObjectCache<T> {
  const watch = new k8s.Watch(kc);
  const transforming = {
    watch: (
      p: string,
      params: Record<string, string | number | boolean | undefined>,
      callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
      done: (err: unknown) => void,
    ) =>
      watch.watch(
        p,
        params,
        (phase, obj, raw) =>
          callback(phase, phase === 'ERROR' || phase === 'BOOKMARK' ? obj : transform(obj as T), raw),
        done,
      ),
  } as unknown as k8s.Watch;
  return new k8s.ListWatch<T>(
    path,
    transforming,
    () => pagedList(lister, path, transform, labelSelector),
    false,
    labelSelector,
  );
}
