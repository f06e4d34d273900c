/**
 * Watch-backed caches (client-node informers) of everything reconcile reads: sessions and the
 * desktop pods and home claims in the sessions namespace, templates and nodes cluster-wide.
 * Reads come from here, never from the event that woke the queue. An informer that fails is
 * restarted after a jittered delay; `synced` tells readiness.
 *
 * Objects in a cache are shared: never modify them (copy first).
 */
import * as k8s from '@kubernetes/client-node';
import {
  GROUP,
  PLURAL_SESSION,
  PLURAL_TEMPLATE,
  VERSION,
  type VDISession,
  type VDITemplate,
} from '@vdi/crd-types';
import type { Logger } from 'pino';

export type Cache<T extends k8s.KubernetesObject> = k8s.Informer<T> & k8s.ObjectCache<T>;

export interface CacheEvents {
  session(obj: VDISession): void;
  template(obj: VDITemplate): void;
  pod(obj: k8s.V1Pod): void;
  node(obj: k8s.V1Node): void;
  claim(obj: k8s.V1PersistentVolumeClaim): void;
}

export class Caches {
  readonly sessions: Cache<VDISession>;
  readonly templates: Cache<VDITemplate>;
  readonly pods: Cache<k8s.V1Pod>;
  readonly nodes: Cache<k8s.V1Node>;
  readonly claims: Cache<k8s.V1PersistentVolumeClaim>;
  private readonly all: [string, Cache<k8s.KubernetesObject>][];
  private started = new Set<string>();
  private stopped = false;

  constructor(
    kc: k8s.KubeConfig,
    namespace: string,
    private readonly log: Logger,
    events: CacheEvents,
  ) {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const managed = 'app.kubernetes.io/part-of=vdi-platform';
    this.sessions = k8s.makeInformer<VDISession>(
      kc,
      `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL_SESSION}`,
      () =>
        custom.listNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace,
          plural: PLURAL_SESSION,
        }) as Promise<k8s.KubernetesListObject<VDISession>>,
    );
    this.templates = k8s.makeInformer<VDITemplate>(
      kc,
      `/apis/${GROUP}/${VERSION}/${PLURAL_TEMPLATE}`,
      () =>
        custom.listClusterCustomObject({
          group: GROUP,
          version: VERSION,
          plural: PLURAL_TEMPLATE,
        }) as Promise<k8s.KubernetesListObject<VDITemplate>>,
    );
    this.pods = k8s.makeInformer<k8s.V1Pod>(
      kc,
      `/api/v1/namespaces/${namespace}/pods`,
      () => core.listNamespacedPod({ namespace, labelSelector: managed }),
      managed,
    );
    this.nodes = k8s.makeInformer<k8s.V1Node>(kc, '/api/v1/nodes', () => core.listNode());
    this.claims = k8s.makeInformer<k8s.V1PersistentVolumeClaim>(
      kc,
      `/api/v1/namespaces/${namespace}/persistentvolumeclaims`,
      () => core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector: managed }),
      managed,
    );
    this.all = [
      ['sessions', this.sessions as Cache<k8s.KubernetesObject>],
      ['templates', this.templates as Cache<k8s.KubernetesObject>],
      ['pods', this.pods as Cache<k8s.KubernetesObject>],
      ['nodes', this.nodes as Cache<k8s.KubernetesObject>],
      ['claims', this.claims as Cache<k8s.KubernetesObject>],
    ];
    const wire = <T extends k8s.KubernetesObject>(c: Cache<T>, cb: (o: T) => void) => {
      c.on('add', cb);
      c.on('update', cb);
      c.on('delete', cb);
    };
    wire(this.sessions, events.session);
    wire(this.templates, events.template);
    wire(this.pods, events.pod);
    wire(this.nodes, events.node);
    wire(this.claims, events.claim);
    for (const [name, cache] of this.all) {
      cache.on('error', (err?: unknown) => {
        if (this.stopped) return;
        const delay = 500 + Math.floor(Math.random() * 1500);
        this.log.warn(
          { cache: name, err: String(err), retryInMs: delay },
          'watch failed; restarting the informer',
        );
        setTimeout(() => void this.startOne(name, cache), delay).unref();
      });
    }
  }

  private async startOne(name: string, cache: Cache<k8s.KubernetesObject>): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      // start() resolves even when the initial list fails (it only emits `error`): a cache is
      // synced once it holds a list, i.e. knows a resourceVersion.
      await cache.start().catch(() => undefined);
      if ((cache as unknown as { latestResourceVersion(): string }).latestResourceVersion()) {
        this.started.add(name);
        return;
      }
      const delay = Math.min(10_000, 200 * 2 ** attempt) + Math.floor(Math.random() * 200);
      this.log.warn({ cache: name, retryInMs: delay }, 'initial list failed; retrying');
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** Lists everything once (resolves when every cache holds a full list) and keeps watching. */
  async start(): Promise<void> {
    await Promise.all(this.all.map(([name, cache]) => this.startOne(name, cache)));
  }

  get synced(): boolean {
    return this.started.size === this.all.length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.all.map(([, c]) => c.stop().catch(() => undefined)));
  }
}
