import { Controller, Get } from '@nestjs/common';

/** Liveness and readiness for the kubelet; reachable without a token. */
@Controller()
export class HealthController {
  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  readyz(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
