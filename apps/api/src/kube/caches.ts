/**
 * Watch-backed caches (client-node informers) of what the API reads: the sessions and the
 * desktop pods of the sessions namespace, the cluster's templates and nodes. Queries are
 * answered from here, never with one API-server call per request. Starting, restarts and
 * `synced` (for /readyz) are InformerSet's.
 *
 * Objects in a cache are shared: never modify them (copy first).
 *
 * `indexes` (indexes.ts) follow the caches' events, so what a query needs (one owner's
 * sessions, a page of everyone's, free time-slices, the queue) is at hand without a pass over
 * every cached object per request.
 */
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import * as k8s from '@kubernetes/client-node';
import type { VDISession, VDITemplate } from '@vdi/crd-types';
import { MANAGED_SELECTOR } from '@vdi/session-spec';
import {
  InformerSet,
  nodeInformer,
  podInformer,
  sessionInformer,
  templateInformer,
  type Cache,
} from '@vdi/kube-client';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { ApiIndexes, type CacheEvent, type CacheIndex } from './indexes.js';
import { KUBE_CONFIG } from './tokens.js';

export type { Cache };

// The label every object the operator creates carries; desktop pods are selected by it (as the operator does).
export { MANAGED_SELECTOR };

@Injectable()
export class ApiCaches implements OnModuleInit, OnModuleDestroy {
  readonly sessions: Cache<VDISession>;
  readonly templates: Cache<VDITemplate>;
  /** Desktop pods of the sessions namespace: what holds GPU time-slices. */
  readonly pods: Cache<k8s.V1Pod>;
  readonly nodes: Cache<k8s.V1Node>;
  readonly indexes: ApiIndexes;
  private readonly set: InformerSet;
  private readonly log = new Logger('ApiCaches');

  constructor(@Inject(KUBE_CONFIG) kc: k8s.KubeConfig, @Inject(API_CONFIG) config: ApiConfig) {
    const namespace = config.sessionsNamespace;
    this.set = new InformerSet((msg, fields) => this.log.warn(`${msg} ${JSON.stringify(fields)}`));
    this.sessions = this.set.add('sessions', sessionInformer(kc, namespace));
    this.templates = this.set.add('templates', templateInformer(kc));
    // Kept as the few fields the API reads (kube-client's slim.ts), without managedFields.
    this.pods = this.set.add('pods', podInformer(kc, namespace, MANAGED_SELECTOR));
    this.nodes = this.set.add('nodes', nodeInformer(kc));
    // Subscribed before the caches start, so the initial lists reach the indexes too.
    this.indexes = new ApiIndexes(config.gpuResourceName);
    this.follow('sessions', this.sessions, this.indexes.sessionEvents);
    this.follow('pods', this.pods, this.indexes.podEvents);
    this.follow('nodes', this.nodes, this.indexes.nodeEvents);
  }

  private follow<T extends k8s.KubernetesObject>(name: string, cache: Cache<T>, index: CacheIndex<T>): void {
    for (const event of ['add', 'update', 'delete'] as const satisfies CacheEvent[]) {
      cache.on(event, (obj: T) => {
        // The informer calls us from its watch handler: an exception there would stop the
        // watch. A failing index is a bug to see in the log, not a reason to stop the cache.
        try {
          index.apply(event, obj);
        } catch (err) {
          this.log.error(
            `index update failed ${JSON.stringify({ cache: name, event, object: obj.metadata?.name, err: String(err) })}`,
          );
        }
      });
    }
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
