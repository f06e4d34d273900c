import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import type * as k8s from '@kubernetes/client-node';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthModule } from './auth/auth.module.js';
import { GraphQLErrorPassThrough } from './common/graphql-error.filter.js';
import type { GqlContext } from './auth/current-user.js';
import { API_CONFIG, type ApiConfig } from './config.js';
import { HealthController } from './health/health.controller.js';
import { KubeModule } from './kube/kube.module.js';
import { KUBE_CONFIG } from './kube/tokens.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { TemplatesModule } from './templates/templates.module.js';

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
        GraphQLModule.forRoot<MercuriusDriverConfig>({
          driver: MercuriusDriver,
          autoSchemaFile: opts.schemaFile === false ? true : opts.schemaFile,
          sortSchema: true,
          graphiql: false,
          path: '/graphql',
          context: (req: FastifyRequest, _reply: FastifyReply): GqlContext => ({ principal: req.principal! }),
        }),
        KubeModule,
        AuthModule,
        TemplatesModule,
        SessionsModule,
      ],
      controllers: [HealthController],
      providers: [
        { provide: API_CONFIG, useValue: opts.config },
        { provide: KUBE_CONFIG, useValue: opts.kubeConfig },
        { provide: APP_FILTER, useClass: GraphQLErrorPassThrough },
      ],
      exports: [API_CONFIG, KUBE_CONFIG],
    };
  }
}
