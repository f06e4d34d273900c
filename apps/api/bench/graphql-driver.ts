/**
 * The measurement behind the GraphQL driver choice (see README): the same tiny code-first
 * `templates` query served by a Nest app on Fastify with the Mercurius driver and with the Apollo
 * driver, hammered over loopback by a bounded loop of concurrent POSTs. No auth, no cluster: it
 * measures the driver, not the platform.
 *
 *   TSX_TSCONFIG_PATH=apps/api/tsconfig.json \
 *     node --conditions=@vdi/source --import tsx apps/api/bench/graphql-driver.ts [requests] [concurrency]
 *
 * The Apollo packages are not dependencies of the API; to re-run that half, install them without
 * saving: npm install --no-save @nestjs/apollo@14.0.3 @apollo/server@5.5.1 @as-integrations/fastify@3.1.0
 */
import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Field, GraphQLModule, Int, ObjectType, Query, Resolver } from '@nestjs/graphql';

@ObjectType()
class BenchTemplate {
  @Field(() => String) name!: string;
  @Field(() => String) displayName!: string;
  @Field(() => Int) maxGPU!: number;
}

const TEMPLATES: BenchTemplate[] = Array.from({ length: 8 }, (_, i) => ({
  name: `template-${i}`,
  displayName: `Template ${i}`,
  maxGPU: i % 2,
}));

@Resolver(() => BenchTemplate)
class BenchResolver {
  @Query(() => [BenchTemplate])
  templates(): BenchTemplate[] {
    return TEMPLATES;
  }
}

async function graphqlModule(driver: string): Promise<DynamicModule | undefined> {
  try {
    if (driver === 'mercurius') {
      const { MercuriusDriver } = await import('@nestjs/mercurius');
      return GraphQLModule.forRoot({ driver: MercuriusDriver, autoSchemaFile: true, graphiql: false });
    }
    const mod = '@nestjs/apollo';
    const { ApolloDriver } = (await import(mod)) as { ApolloDriver: unknown };
    return GraphQLModule.forRoot({ driver: ApolloDriver as never, autoSchemaFile: true, playground: false });
  } catch (err) {
    process.stdout.write(`${driver}: not installed (${(err as Error).message.split('\n')[0]})\n`);
    return undefined;
  }
}

async function run(driver: string, requests: number, concurrency: number): Promise<void> {
  const gql = await graphqlModule(driver);
  if (!gql) return;
  @Module({ imports: [gql], providers: [BenchResolver] })
  class BenchModule {}
  const app = await NestFactory.create<NestFastifyApplication>(BenchModule, new FastifyAdapter(), {
    logger: ['error'],
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `${await app.getUrl()}/graphql`;
  const body = JSON.stringify({ query: '{ templates { name displayName maxGPU } }' });
  const once = async () => {
    const t0 = performance.now();
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (r.status !== 200) throw new Error(`${driver}: HTTP ${r.status}`);
    await r.arrayBuffer();
    return performance.now() - t0;
  };
  for (let i = 0; i < 500; i++) await once(); // warm-up
  const latencies: number[] = [];
  let next = 0;
  const deadline = Date.now() + 60_000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests && Date.now() < deadline) {
        next++;
        latencies.push(await once());
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  process.stdout.write(
    `${driver.padEnd(9)} ${latencies.length} req, c=${concurrency}: ${(latencies.length / seconds).toFixed(0)} req/s, ` +
      `p50 ${pct(0.5).toFixed(2)} ms, p99 ${pct(0.99).toFixed(2)} ms\n`,
  );
  await app.close();
}

const requests = Number(process.argv[2] ?? 20_000);
const concurrency = Number(process.argv[3] ?? 32);
for (const round of [1, 2]) {
  process.stdout.write(`round ${round}\n`);
  for (const driver of ['mercurius', 'apollo']) await run(driver, requests, concurrency);
}
