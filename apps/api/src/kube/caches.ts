/**
 * Watch-backed caches (client-node informers) of what the API reads: the sessions and the
 * desktop pods of the sessions namespace, the cluster's templates and nodes. Queries are
 * answered from here, never with one API-server call per request. Starting, restarts and
 * `synced` (for /readyz) are InformerSet's.
 *
 * Objects in a cache are shared: never modify them (copy first).
 */
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import * as k8s from '@kubernetes/client-node';
import type { VDISession, VDITemplate } from '@vdi/crd-types';
import { InformerSet, sessionInformer, templateInformer, type Cache } from '@vdi/kube-client';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { KUBE_CONFIG } from './tokens.js';

export type { Cache };

/** The label every object the operator creates carries; desktop pods are selected by it (as the operator does). */
export const MANAGED_SELECTOR = 'app.kubernetes.io/part-of=vdi-platform';

@Injectable()
export class ApiCaches implements OnModuleInit, OnModuleDestroy {
  readonly sessions: Cache<VDISession>;
  readonly templates: Cache<VDITemplate>;
  /** Desktop pods of the sessions namespace: what holds GPU time-slices. */
  readonly pods: Cache<k8s.V1Pod>;
  readonly nodes: Cache<k8s.V1Node>;
  private readonly set: InformerSet;
  private readonly log = new Logger('ApiCaches');

  constructor(@Inject(KUBE_CONFIG) kc: k8s.KubeConfig, @Inject(API_CONFIG) config: ApiConfig) {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const namespace = config.sessionsNamespace;
    this.set = new InformerSet((msg, fields) => this.log.warn(`${msg} ${JSON.stringify(fields)}`));
    this.sessions = this.set.add('sessions', sessionInformer(kc, namespace));
    this.templates = this.set.add('templates', templateInformer(kc));
    this.pods = this.set.add(
      'pods',
      k8s.makeInformer<k8s.V1Pod>(
        kc,
        `/api/v1/namespaces/${namespace}/pods`,
        () => core.listNamespacedPod({ namespace, labelSelector: MANAGED_SELECTOR }),
        MANAGED_SELECTOR,
      ),
    );
    this.nodes = this.set.add(
      'nodes',
      k8s.makeInformer<k8s.V1Node>(kc, '/api/v1/nodes', () => core.listNode()),
    );
  }

  /** Starts listing and watching in the background: the API answers /healthz at once, /readyz when synced. */
  onModuleInit(): void {
    void this.set.start();
  }

  get synced(): boolean {
    return this.set.synced;
  }

  async onModuleDestroy(): Promise<void> {
    await this.set.stop();
  }
}
