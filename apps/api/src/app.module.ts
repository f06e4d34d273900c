import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import type * as k8s from '@kubernetes/client-node';
import type { FastifyReply, FastifyRequest } from 'fastify';
import mercurius from 'mercurius';
import { ErrorCode, publicErrorOf } from './common/errors.js';
import { AccessModule } from './access/access.module.js';
import { AuthModule } from './auth/auth.module.js';
import { TokenVerifier } from './auth/token-verifier.js';
import { subscriptionOnConnect } from './auth/ws-auth.js';
import { CapacityModule } from './capacity/capacity.module.js';
import { GraphQLErrorPassThrough } from './common/graphql-error.filter.js';
import { MAX_SELECTIONS, selectionLimitRule } from './common/selection-limit.js';
import type { GqlContext } from './auth/current-user.js';
import { API_CONFIG, type ApiConfig } from './config.js';
import { HealthController } from './health/health.controller.js';
import { KubeModule } from './kube/kube.module.js';
import { KUBE_CONFIG } from './kube/tokens.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { ApiMetrics } from './metrics/metrics.js';
import { PoolsModule } from './pools/pools.module.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { SharesModule } from './shares/shares.module.js';
import { ShareCacheModule } from './shares/share-cache.module.js';
import { TemplatesModule } from './templates/templates.module.js';
import { UsageModule } from './usage/usage.module.js';

/**
 * Deepest selection a query may have (mercurius `queryDepth`, also applied to subscriptions).
 * The schema's deepest useful query is 4 (`sessionUpdated { session { conditions { type } } }`);
 * the standard introspection query is deeper and refused — use the committed schema.gql.
 */
export const MAX_QUERY_DEPTH = 6;

/**
 * Executions of one query (by its text) after which it is compiled (mercurius `jit`). A client's
 * queries repeat; a query sent only a few times is not worth compiling.
 */
export const JIT_AFTER = 10;

/**
 * Mercurius' error answer, with one addition: errors graphql-js raises before any resolver runs
 * (a field the input type does not have, a string where an Int belongs, a missing argument, a
 * query over the limits) come without a code; they are the client's mistake, so they get
 * BAD_USER_INPUT like every other refused input. Their messages already name the field.
 */
export const withClientErrorCodes: typeof mercurius.defaultErrorFormatter = (execution, context) => {
  const out = mercurius.defaultErrorFormatter(execution, context);
  if (out.statusCode === 400) {
    for (const e of out.response.errors ?? []) {
      const ext = (e.extensions ?? {}) as Record<string, unknown>;
      if (ext.code === undefined)
        (e as { extensions?: unknown }).extensions = { ...ext, code: ErrorCode.BadUserInput };
    }
    return out;
  }
  // A resolver failed with something that is not one of the API's answers (an API-server error,
  // a bug): the client gets a stable code and a plain message, the log gets the original.
  const raw = 'errors' in execution ? (execution.errors ?? []) : [];
  (out.response.errors ?? []).forEach((e, i) => {
    const mapped = publicErrorOf(raw[i]);
    if (!mapped) return;
    context.reply.log.error({ err: raw[i]?.originalError ?? raw[i], path: e.path }, 'resolver failed');
    Object.assign(e, mapped);
  });
  return out;
};

export interface AppOptions {
  config: ApiConfig;
  kubeConfig: k8s.KubeConfig;
  /** Where to write the generated SDL (the committed schema.gql); in memory when false. */
  schemaFile: string | false;
}

@Module({})
export class AppModule {
  static forRoot(opts: AppOptions): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        GraphQLModule.forRootAsync<MercuriusDriverConfig>({
          driver: MercuriusDriver,
          imports: [AuthModule],
          inject: [TokenVerifier, ApiMetrics],
          useFactory: (verifier: TokenVerifier, metrics: ApiMetrics): MercuriusDriverConfig => ({
            autoSchemaFile: opts.schemaFile === false ? true : opts.schemaFile,
            sortSchema: true,
            graphiql: false,
            path: '/graphql',
            queryDepth: MAX_QUERY_DEPTH,
            // A query seen this often (mercurius keeps parsed, validated queries) is compiled by
            // graphql-jit: the portal's few queries run as generated code instead of being
            // interpreted on every request (the `sessions` and `capacity` tails in bench/).
            jit: JIT_AFTER,
            validationRules: [selectionLimitRule(MAX_SELECTIONS)],
            context: (req: FastifyRequest, _reply: FastifyReply): GqlContext => ({
              principal: req.principal!,
            }),
            subscription: {
              onConnect: subscriptionOnConnect(verifier),
              keepAlive: 30_000,
            },
            hooks: metrics.graphqlHooks(),
            errorFormatter: withClientErrorCodes,
          }),
        }),
        KubeModule,
        AuthModule,
        TemplatesModule,
        UsageModule,
        SessionsModule,
        CapacityModule,
        AccessModule,
        PoolsModule,
        SharesModule,
        // /readyz waits for the share cache too (health.controller.ts).
        ShareCacheModule,
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: API_CONFIG, useValue: opts.config },
        { provide: KUBE_CONFIG, useValue: opts.kubeConfig },
        { provide: APP_FILTER, useClass: GraphQLErrorPassThrough },
        ApiMetrics,
      ],
      exports: [API_CONFIG, KUBE_CONFIG, ApiMetrics],
    };
  }
}
