/**
 * Watch-backed caches of everything reconcile reads: sessions and the desktop pods and home
 * claims in the sessions namespace, templates and nodes cluster-wide; and the GPU-hour ledgers. Reads come from here,
 * never from the event that woke the queue; starting, `synced` and restarts are InformerSet's.
 *
 * Objects in a cache are shared: never modify them (copy first).
 */
import * as k8s from '@kubernetes/client-node';
import type { VDISession, VDITemplate, VDIUsage } from '@vdi/crd-types';
import { InformerSet, sessionInformer, templateInformer, usageInformer, type Cache } from '@vdi/kube-client';
import type { Logger } from 'pino';

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
  /** GPU-hour ledgers: read by the accountant, whose writes are conditional (a stale copy only costs a retry). */
  readonly usages: Cache<VDIUsage>;
  private readonly set: InformerSet;

  constructor(kc: k8s.KubeConfig, namespace: string, log: Logger, events: CacheEvents) {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const managed = 'app.kubernetes.io/part-of=vdi-platform';
    this.set = new InformerSet((msg, fields) => log.warn(fields, msg));
    const wire = <T extends k8s.KubernetesObject>(
      name: string,
      c: Cache<T>,
      cb: (o: T) => void,
    ): Cache<T> => {
      c.on('add', cb);
      c.on('update', cb);
      c.on('delete', cb);
      return this.set.add(name, c);
    };
    this.sessions = wire('sessions', sessionInformer(kc, namespace), events.session);
    this.templates = wire('templates', templateInformer(kc), events.template);
    this.pods = wire(
      'pods',
      k8s.makeInformer<k8s.V1Pod>(
        kc,
        `/api/v1/namespaces/${namespace}/pods`,
        () => core.listNamespacedPod({ namespace, labelSelector: managed }),
        managed,
      ),
      events.pod,
    );
    this.nodes = wire(
      'nodes',
      k8s.makeInformer<k8s.V1Node>(kc, '/api/v1/nodes', () => core.listNode()),
      events.node,
    );
    this.claims = wire(
      'claims',
      k8s.makeInformer<k8s.V1PersistentVolumeClaim>(
        kc,
        `/api/v1/namespaces/${namespace}/persistentvolumeclaims`,
        () => core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector: managed }),
        managed,
      ),
      events.claim,
    );
    this.usages = this.set.add('usages', usageInformer(kc, namespace));
  }

  /** Lists everything once (resolves when every cache holds a full list) and keeps watching. */
  start(): Promise<void> {
    return this.set.start();
  }

  get synced(): boolean {
    return this.set.synced;
  }

  stop(): Promise<void> {
    return this.set.stop();
  }
}
