import { Controller, Get, Header, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiMetrics } from './metrics.js';

/** Prometheus scrape endpoint; reachable without a token (see PUBLIC_PATHS). */
@Controller()
export class MetricsController {
  constructor(private readonly metrics: ApiMetrics) {}

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  async metricsText(@Res() reply: FastifyReply): Promise<void> {
    const text = await this.metrics.registry.metrics();
    await reply.header('Content-Type', this.metrics.registry.contentType).send(text);
  }
}
