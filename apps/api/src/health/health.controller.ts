import { Controller, Get, HttpCode, ServiceUnavailableException } from '@nestjs/common';
import { ApiCaches } from '../kube/caches.js';
import { ShareCache } from '../shares/share-cache.js';

/** Liveness and readiness for the kubelet; reachable without a token. */
@Controller()
export class HealthController {
  constructor(
    private readonly caches: ApiCaches,
    private readonly shares: ShareCache,
  ) {}

  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Ready once every cache the API answers from holds a full list: the session, template, pod
   * and node caches, and the share cache forward-auth admits grantees by (VDIShare). Before the
   * share cache has synced, a grantee would be refused as if nothing were shared with them.
   */
  @Get('readyz')
  @HttpCode(200)
  readyz(): { status: 'ok' } {
    const loading = [...(this.caches.synced ? [] : ['sessions']), ...(this.shares.synced ? [] : ['shares'])];
    if (loading.length) throw new ServiceUnavailableException({ status: 'loading caches', caches: loading });
    return { status: 'ok' };
  }
}
