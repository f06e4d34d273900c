/**
 * Watch-backed caches (client-node informers) of what the API reads: the sessions of the
 * sessions namespace and the cluster's templates. Queries are answered from here, never with one
 * API-server call per request. Starting, restarts and `synced` (for /readyz) are InformerSet's.
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

@Injectable()
export class ApiCaches implements OnModuleInit, OnModuleDestroy {
  readonly sessions: Cache<VDISession>;
  readonly templates: Cache<VDITemplate>;
  private readonly set: InformerSet;
  private readonly log = new Logger('ApiCaches');

  constructor(@Inject(KUBE_CONFIG) kc: k8s.KubeConfig, @Inject(API_CONFIG) config: ApiConfig) {
    this.set = new InformerSet((msg, fields) => this.log.warn(`${msg} ${JSON.stringify(fields)}`));
    this.sessions = this.set.add('sessions', sessionInformer(kc, config.sessionsNamespace));
    this.templates = this.set.add('templates', templateInformer(kc));
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
