/**
 * Watch-backed caches of everything reconcile reads: sessions and the desktop pods and home
 * claims in the sessions namespace, templates and nodes cluster-wide; and the GPU-hour ledgers. Reads come from here,
 * never from the event that woke the queue; starting, `synced` and restarts are InformerSet's.
 *
 * Objects in a cache are shared: never modify them (copy first).
 */
import * as k8s from '@kubernetes/client-node';
import {
  API_VERSION,
  PLURAL_POOL,
  type VDIPool,
  type VDISession,
  type VDITemplate,
  type VDIUsage,
} from '@vdi/crd-types';
import {
  InformerSet,
  KubeJsonClient,
  childInformer,
  claimInformer,
  makeTransformingInformer,
  withoutManagedFields,
  nodeInformer,
  podInformer,
  sessionInformer,
  templateInformer,
  usageInformer,
  type Cache,
  type ChildKeys,
} from '@vdi/kube-client';
import { OwnerIndex } from './owner-index.js';
import { StartingSessions } from './starting.js';
import { CHILD_KINDS, LABEL_SESSION, MANAGED_SELECTOR, SliceLedger, childListPath } from '@vdi/session-spec';
import type { Logger } from 'pino';
import { ANNOTATION_APPLIED } from './children.js';

/**
 * What a child's cached copy keeps besides its identity and owners: the session it is for (its
 * events wake that session) and the hash of what was applied (children.ts compares it).
 */
export const CHILD_CACHE_KEYS: ChildKeys = { labels: [LABEL_SESSION], annotations: [ANNOTATION_APPLIED] };

export type CacheEvent = 'add' | 'update' | 'delete';

export interface CacheEvents {
  session(obj: VDISession, event: CacheEvent): void;
  /** A session's Service, Secret, NetworkPolicy, Middleware or IngressRoute changed (metadata only). */
  child(obj: k8s.KubernetesObject, event: CacheEvent): void;
  template(obj: VDITemplate, event: CacheEvent): void;
  pod(obj: k8s.V1Pod): void;
  node(obj: k8s.V1Node, event: CacheEvent): void;
  claim(obj: k8s.V1PersistentVolumeClaim, event: CacheEvent): void;
  /** A warm pool (VDIPool) changed. */
  pool?(obj: VDIPool, event: CacheEvent): void;
}

export class Caches {
  readonly sessions: Cache<VDISession>;
  readonly templates: Cache<VDITemplate>;
  readonly pods: Cache<k8s.V1Pod>;
  readonly nodes: Cache<k8s.V1Node>;
  readonly claims: Cache<k8s.V1PersistentVolumeClaim>;
  /**
   * The other children the operator writes, by kind, as a few metadata facts (which session, what
   * was applied, whose): a reconcile compares the desired children with these instead of
   * re-sending them, and a child changed or deleted by someone else wakes its session.
   */
  readonly children: ReadonlyMap<string, Cache<k8s.KubernetesObject>>;
  private readonly lister: KubeJsonClient;
  /** GPU time-slices held per node, kept from pod events (capacity without a walk over every pod). */
  readonly slices: SliceLedger;
  /** The cached sessions by owner hash, kept from session events (whom a per-user home wakes). */
  readonly owners = new OwnerIndex();
  /** The sessions the platform is starting now, kept from session events (what deferred writes wait for). */
  readonly starting = new StartingSessions();
  /** GPU-hour ledgers: read by the accountant, whose writes are conditional (a stale copy only costs a retry). */
  readonly usages: Cache<VDIUsage>;
  /** Warm pools (VDIPool) of the sessions namespace (pools.ts). */
  readonly pools: Cache<VDIPool>;
  private readonly set: InformerSet;

  constructor(
    kc: k8s.KubeConfig,
    namespace: string,
    log: Logger,
    events: CacheEvents,
    gpuResource = 'nvidia.com/gpu',
  ) {
    const managed = MANAGED_SELECTOR;
    this.set = new InformerSet((msg, fields) => log.warn(fields, msg));
    const wire = <T extends k8s.KubernetesObject>(
      name: string,
      c: Cache<T>,
      cb: (o: T, event: CacheEvent) => void,
    ): Cache<T> => {
      for (const event of ['add', 'update', 'delete'] as const) c.on(event, (o) => cb(o, event));
      return this.set.add(name, c);
    };
    // One client lists every collection, page by page (kube-client pagedList).
    this.lister = new KubeJsonClient(kc, 4);
    const sessions = sessionInformer(kc, namespace, this.lister);
    // Before the engine's handlers, so an event handled next finds the session indexed.
    for (const index of [this.owners, this.starting]) {
      sessions.on('add', (s) => index.set(s));
      sessions.on('update', (s) => index.set(s));
      sessions.on('delete', (s) => index.delete(s));
    }
    this.sessions = wire('sessions', sessions, events.session);
    this.templates = wire('templates', templateInformer(kc, this.lister), events.template);
    // Each cache keeps only what the engine reads (kube-client's slim.ts): pods and nodes as the
    // few fields placement, status and usage use; everything without managedFields.
    const pods = podInformer(kc, namespace, managed, this.lister);
    this.slices = new SliceLedger(gpuResource);
    // Before the engine's handlers, so a reconcile woken by a pod event sees it counted.
    pods.on('add', (p) => this.slices.pod(p));
    pods.on('update', (p) => this.slices.pod(p));
    pods.on('delete', (p) => this.slices.gone(p));
    this.pods = wire('pods', pods, events.pod);
    this.nodes = wire('nodes', nodeInformer(kc, this.lister), events.node);
    this.claims = wire('claims', claimInformer(kc, namespace, managed, this.lister), events.claim);
    const children = new Map<string, Cache<k8s.KubernetesObject>>();
    for (const kind of CHILD_KINDS) {
      // Pods and claims have caches of their own (above).
      if (kind.kind === 'Pod' || kind.kind === 'PersistentVolumeClaim') continue;
      const cache = childInformer(kc, this.lister, childListPath(kind, namespace), managed, CHILD_CACHE_KEYS);
      for (const event of ['add', 'update', 'delete'] as const)
        cache.on(event, (o) => events.child({ ...o, apiVersion: kind.apiVersion, kind: kind.kind }, event));
      children.set(kind.kind, this.set.add(`children:${kind.plural}`, cache));
    }
    this.children = children;
    this.usages = this.set.add('usages', usageInformer(kc, namespace, this.lister));
    const pools = makeTransformingInformer<VDIPool>(
      kc,
      this.lister,
      `/apis/${API_VERSION}/namespaces/${namespace}/${PLURAL_POOL}`,
      withoutManagedFields,
    );
    this.pools = wire('pools', pools, (o, event) => events.pool?.(o, event));
  }

  /** Lists everything once (resolves when every cache holds a full list) and keeps watching. */
  start(): Promise<void> {
    return this.set.start();
  }

  get synced(): boolean {
    return this.set.synced;
  }

  async stop(): Promise<void> {
    await this.set.stop();
    this.lister.close();
  }
}
