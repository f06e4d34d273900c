import { Global, Module, type OnModuleDestroy, Inject } from '@nestjs/common';
import type * as k8s from '@kubernetes/client-node';
import { KubeJsonClient } from '@vdi/kube-client';
import { ApiCaches } from './caches.js';
import { KUBE_CLIENT, KUBE_CONFIG } from './tokens.js';

/** Cluster access: the watch-backed caches for reads and the plain-JSON client for writes. */
@Global()
@Module({
  providers: [
    ApiCaches,
    {
      provide: KUBE_CLIENT,
      useFactory: (kc: k8s.KubeConfig) => new KubeJsonClient(kc),
      inject: [KUBE_CONFIG],
    },
  ],
  exports: [ApiCaches, KUBE_CLIENT],
})
export class KubeModule implements OnModuleDestroy {
  constructor(@Inject(KUBE_CLIENT) private readonly client: KubeJsonClient) {}
  onModuleDestroy(): void {
    this.client.close();
  }
}
