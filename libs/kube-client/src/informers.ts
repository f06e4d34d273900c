/**
 * Watch-backed caches (client-node informers) for the operator and the API: the platform's
 * custom resources and a set that starts, reports `synced` and restarts itself.
 *
 * Two client-node behaviours this covers: `start()` resolves even when the initial list fails
 * (it only emits `error`), so a cache counts as synced once it knows a resourceVersion; and a
 * failed watch is not restarted by the informer itself, so the set restarts it after a jittered
 * delay. Objects in a cache are shared: never modify them (copy first).
 */
import * as k8s from '@kubernetes/client-node';
import {
  GROUP,
  PLURAL_SESSION,
  PLURAL_TEMPLATE,
  PLURAL_USAGE,
  VERSION,
  type VDISession,
  type VDITemplate,
  type VDIUsage,
} from '@vdi/crd-types';
import { KubeJsonClient } from './client.js';
import { cachePool } from './intern.js';
import {
  childMetadata,
  makeTransformingInformer,
  slimNode,
  slimPod,
  withoutManagedFields,
  type ChildKeys,
} from './slim.js';

export type Cache<T extends k8s.KubernetesObject> = k8s.Informer<T> & k8s.ObjectCache<T>;

/**
 * The client an informer lists through (page by page, slim.ts pagedList): `lister` when given
 * (one shared by a process's caches), else one of its own with two sockets (idle keep-alive
 * sockets do not hold the process open).
 */
const listerFor = (kc: k8s.KubeConfig, lister?: KubeJsonClient) => lister ?? new KubeJsonClient(kc, 2);

/**
 * A transform whose result has its repeated strings shared with every other cached object
 * (intern.ts): the namespace, names of templates and users, conditions' reasons and messages.
 */
function pooled<T extends k8s.KubernetesObject>(transform: (obj: T) => T): (obj: T) => T {
  return (obj) => cachePool.internAll(transform(obj));
}

/**
 * A child's copy with the strings it shares with its session and siblings pooled (kind, API
 * version, namespace, the session label, owner uids); its own name, version and applied hash are
 * unique to it.
 */
function pooledChild<T extends k8s.KubernetesObject>(child: T): T {
  const m = child.metadata!;
  if (child.apiVersion) child.apiVersion = cachePool.intern(child.apiVersion);
  if (child.kind) child.kind = cachePool.intern(child.kind);
  if (m.namespace) m.namespace = cachePool.intern(m.namespace);
  for (const k of Object.keys(m.labels ?? {})) m.labels![k] = cachePool.intern(m.labels![k]!);
  for (const o of m.ownerReferences ?? []) o.uid = cachePool.intern(o.uid);
  return child;
}

/** Kubernetes pods of one namespace with a label selector, kept as the platform reads them (slim.ts). */
export function podInformer(
  kc: k8s.KubeConfig,
  namespace: string,
  labelSelector: string,
  lister?: KubeJsonClient,
): Cache<k8s.V1Pod> {
  return makeTransformingInformer<k8s.V1Pod>(
    kc,
    listerFor(kc, lister),
    `/api/v1/namespaces/${namespace}/pods`,
    pooled(slimPod),
    labelSelector,
  );
}

/** PersistentVolumeClaims of one namespace with a label selector, without managedFields. */
export function claimInformer(
  kc: k8s.KubeConfig,
  namespace: string,
  labelSelector: string,
  lister?: KubeJsonClient,
): Cache<k8s.V1PersistentVolumeClaim> {
  return makeTransformingInformer<k8s.V1PersistentVolumeClaim>(
    kc,
    listerFor(kc, lister),
    `/api/v1/namespaces/${namespace}/persistentvolumeclaims`,
    pooled(withoutManagedFields),
    labelSelector,
  );
}

/**
 * Objects of one collection (`/api/v1/namespaces/ns/services`, `/apis/traefik.io/v1alpha1/…`)
 * selected by label, as the few metadata facts `childMetadata` keeps (with the labels and
 * annotations in `keep`): what the operator needs to know about the children it wrote. Listed
 * through `client` (any kind, no typed API class needed).
 */
export function childInformer(
  kc: k8s.KubeConfig,
  client: KubeJsonClient,
  collectionPath: string,
  labelSelector: string,
  keep: ChildKeys,
): Cache<k8s.KubernetesObject> {
  return makeTransformingInformer<k8s.KubernetesObject>(
    kc,
    client,
    collectionPath,
    (obj) => pooledChild(childMetadata(obj, keep)),
    labelSelector,
  );
}

/** The cluster's nodes, kept as placement reads them (slim.ts). */
export function nodeInformer(kc: k8s.KubeConfig, lister?: KubeJsonClient): Cache<k8s.V1Node> {
  return makeTransformingInformer<k8s.V1Node>(kc, listerFor(kc, lister), '/api/v1/nodes', pooled(slimNode));
}

/** The sessions of one namespace. */
export function sessionInformer(
  kc: k8s.KubeConfig,
  namespace: string,
  lister?: KubeJsonClient,
): Cache<VDISession> {
  return makeTransformingInformer<VDISession>(
    kc,
    listerFor(kc, lister),
    `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL_SESSION}`,
    pooled(withoutManagedFields),
  );
}

/** The GPU-hour ledgers (VDIUsage) of one namespace. */
export function usageInformer(
  kc: k8s.KubeConfig,
  namespace: string,
  lister?: KubeJsonClient,
): Cache<VDIUsage> {
  return makeTransformingInformer<VDIUsage>(
    kc,
    listerFor(kc, lister),
    `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL_USAGE}`,
    pooled(withoutManagedFields),
  );
}

/** The cluster's templates. */
export function templateInformer(kc: k8s.KubeConfig, lister?: KubeJsonClient): Cache<VDITemplate> {
  return makeTransformingInformer<VDITemplate>(
    kc,
    listerFor(kc, lister),
    `/apis/${GROUP}/${VERSION}/${PLURAL_TEMPLATE}`,
    pooled(withoutManagedFields),
  );
}

export type WarnFn = (msg: string, fields: Record<string, unknown>) => void;

/** Named caches started together; `synced` once each holds a full list. */
export class InformerSet {
  private readonly caches: [string, Cache<k8s.KubernetesObject>][] = [];
  private readonly synced_ = new Set<string>();
  /** Caches whose watch failed while their first start() was still running (errors before sync). */
  private readonly failedWhileStarting = new Map<string, unknown>();
  private stopped = false;

  constructor(private readonly warn: WarnFn) {}

  add<T extends k8s.KubernetesObject>(name: string, cache: Cache<T>): Cache<T> {
    const c = cache as unknown as Cache<k8s.KubernetesObject>;
    this.caches.push([name, c]);
    c.on('error', (err?: unknown) => {
      if (this.stopped) return;
      // Before the first sync, startOne decides: a failed list is retried there, and a watch
      // refused right after a good list is restarted once the cache counts as synced.
      if (!this.synced_.has(name)) this.failedWhileStarting.set(name, err);
      else this.restartLater(name, c, err);
    });
    return cache;
  }

  private restartLater(name: string, c: Cache<k8s.KubernetesObject>, err: unknown): void {
    const delay = 500 + Math.floor(Math.random() * 1500);
    this.warn('watch failed; restarting the informer', { cache: name, err: String(err), retryInMs: delay });
    setTimeout(() => {
      if (!this.stopped) void c.start().catch(() => undefined);
    }, delay).unref();
  }

  private async startOne(name: string, cache: Cache<k8s.KubernetesObject>): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      this.failedWhileStarting.delete(name);
      await cache.start().catch(() => undefined);
      if ((cache as unknown as { latestResourceVersion(): string }).latestResourceVersion()) {
        this.synced_.add(name);
        // The list worked but its watch already failed: nothing else would start it again, and
        // the cache would stay at the list's state for good (sessions stuck in their first phase).
        if (this.failedWhileStarting.has(name)) {
          const err = this.failedWhileStarting.get(name);
          this.failedWhileStarting.delete(name);
          this.restartLater(name, cache, err);
        }
        return;
      }
      const delay = Math.min(10_000, 200 * 2 ** attempt) + Math.floor(Math.random() * 200);
      this.warn('initial list failed; retrying', { cache: name, retryInMs: delay });
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** Lists every cache once (resolves when all are synced) and keeps watching. */
  async start(): Promise<void> {
    await Promise.all(this.caches.map(([name, cache]) => this.startOne(name, cache)));
  }

  get synced(): boolean {
    return this.synced_.size === this.caches.length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.caches.map(([, c]) => c.stop().catch(() => undefined)));
  }
}
