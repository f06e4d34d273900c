import { Controller, Get, HttpCode, ServiceUnavailableException } from '@nestjs/common';
import { ApiCaches } from '../kube/caches.js';

/** Liveness and readiness for the kubelet; reachable without a token. */
@Controller()
export class HealthController {
  constructor(private readonly caches: ApiCaches) {}

  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready once the session and template caches hold a full list. */
  @Get('readyz')
  @HttpCode(200)
  readyz(): { status: 'ok' } {
    if (!this.caches.synced) throw new ServiceUnavailableException({ status: 'loading caches' });
    return { status: 'ok' };
  }
}
