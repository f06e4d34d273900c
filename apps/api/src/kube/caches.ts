/**
 * Watch-backed caches (client-node informers) of what the API reads: the sessions of the
 * sessions namespace and the cluster's templates. Queries are answered from here, never with one
 * API-server call per request. A failing informer is restarted after a jittered delay; `synced`
 * feeds /readyz.
 *
 * Objects in a cache are shared: never modify them (copy first).
 */
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import * as k8s from '@kubernetes/client-node';
import {
  GROUP,
  PLURAL_SESSION,
  PLURAL_TEMPLATE,
  VERSION,
  type VDISession,
  type VDITemplate,
} from '@vdi/crd-types';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { KUBE_CONFIG } from './tokens.js';

export type Cache<T extends k8s.KubernetesObject> = k8s.Informer<T> & k8s.ObjectCache<T>;

@Injectable()
export class ApiCaches implements OnModuleInit, OnModuleDestroy {
  readonly sessions: Cache<VDISession>;
  readonly templates: Cache<VDITemplate>;
  private readonly all: [string, Cache<k8s.KubernetesObject>][];
  private readonly started = new Set<string>();
  private readonly log = new Logger('ApiCaches');
  private readonly failures = new Map<string, number>();
  private stopped = false;

  constructor(@Inject(KUBE_CONFIG) kc: k8s.KubeConfig, @Inject(API_CONFIG) config: ApiConfig) {
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const namespace = config.sessionsNamespace;
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
    this.all = [
      ['sessions', this.sessions as Cache<k8s.KubernetesObject>],
      ['templates', this.templates as Cache<k8s.KubernetesObject>],
    ];
    for (const [name, cache] of this.all) {
      cache.on('error', (err?: unknown) => {
        this.failures.set(name, (this.failures.get(name) ?? 0) + 1);
        if (this.stopped) return;
        const delay = 500 + Math.floor(Math.random() * 1500);
        this.log.warn(`list or watch of ${name} failed (${String(err)}); restarting in ${delay} ms`);
        setTimeout(() => void this.startOne(name, cache), delay).unref();
      });
    }
  }

  /**
   * One (re)start. client-node's `start()` does not throw when the initial list fails: it emits
   * `error` (whose handler schedules the next attempt) and resolves. So a start only counts as a
   * sync when no error came during it.
   */
  private async startOne(name: string, cache: Cache<k8s.KubernetesObject>): Promise<void> {
    if (this.stopped) return;
    const before = this.failures.get(name) ?? 0;
    try {
      await cache.start();
    } catch (err) {
      this.failures.set(name, before + 1);
      this.log.warn(`start of ${name} failed (${String(err)}); retrying in 2 s`);
      setTimeout(() => void this.startOne(name, cache), 2_000).unref();
      return;
    }
    if ((this.failures.get(name) ?? 0) === before) this.started.add(name);
  }

  /** Starts listing and watching in the background: the API answers /healthz at once, /readyz when synced. */
  onModuleInit(): void {
    for (const [name, cache] of this.all) void this.startOne(name, cache);
  }

  get synced(): boolean {
    return this.started.size === this.all.length;
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.all.map(([, c]) => c.stop().catch(() => undefined)));
  }
}
