import 'reflect-metadata';
import path from 'node:path';
import { ConsoleLogger, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import fastifyCookie from '@fastify/cookie';
import fastifyCors from '@fastify/cors';
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
    { logger: new ConsoleLogger({ json: true, logLevels: ['log', 'error', 'warn'] }) },
  );
  if (config.access.cookieSecretGenerated) {
    new Logger('Config').warn(
      'VDI_ACCESS_COOKIE_SECRET is not set: this process made up its own, so desktop cookies work only through this replica and end when it restarts; set the same secret (openssl rand -hex 32) on every replica',
    );
  }
  await app.register(fastifyCookie);
  await app.register(fastifyCors, {
    origin: config.corsOrigins,
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['authorization', 'content-type'],
    maxAge: 600,
  });
  // Routes are registered by init(): the hook is in place before any of them exists.
  const fastify = app.getHttpAdapter().getInstance();
  registerAuthHook(fastify, app.get(TokenVerifier));
  app.get(ApiMetrics).registerHttpHooks(fastify);
  app.enableShutdownHooks();
  return app;
}
