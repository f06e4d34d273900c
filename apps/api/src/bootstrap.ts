import 'reflect-metadata';
import path from 'node:path';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import * as k8s from '@kubernetes/client-node';
import { AppModule } from './app.module.js';
import { registerAuthHook } from './auth/auth-hook.js';
import { TokenVerifier } from './auth/token-verifier.js';
import { loadConfig, type ApiConfig } from './config.js';
import { ApiMetrics } from './metrics/metrics.js';

/** The committed SDL; `src/schema.spec.ts` checks it and rewrites it with `VDI_API_WRITE_SCHEMA=1`. */
export const SCHEMA_FILE = path.resolve(import.meta.dirname, '..', 'schema.gql');

export interface CreateAppOptions {
  config?: ApiConfig;
  kubeConfig?: k8s.KubeConfig;
  schemaFile?: string | false;
}

/** Builds the API application (not listening), so tests and main.ts share one wiring. */
export async function createApp(opts: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const config = opts.config ?? loadConfig();
  const kubeConfig =
    opts.kubeConfig ??
    (() => {
      const kc = new k8s.KubeConfig();
      kc.loadFromDefault();
      return kc;
    })();
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({ config, kubeConfig, schemaFile: opts.schemaFile ?? false }),
    new FastifyAdapter({ bodyLimit: 1_048_576 }),
    { logger: ['error', 'warn'] },
  );
  // Routes are registered by init(): the hook is in place before any of them exists.
  const fastify = app.getHttpAdapter().getInstance();
  registerAuthHook(fastify, app.get(TokenVerifier));
  app.get(ApiMetrics).registerHttpHooks(fastify);
  app.enableShutdownHooks();
  return app;
}
