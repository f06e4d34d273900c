/**
 * Prometheus metrics of the API (prom-client, served on /metrics without a token): HTTP requests
 * by route and status, GraphQL operations by root field and outcome, open subscriptions, and
 * the process defaults. Label values come from the route table, the schema and the error codes
 * only — never from client input such as operation names — so their number stays bounded.
 */
import { Injectable } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { Kind, type DocumentNode, type ExecutionResult, type OperationDefinitionNode } from 'graphql';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ErrorCode } from '../common/errors.js';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const CODES = new Set<string>(Object.values(ErrorCode));

/** What the metrics hooks keep on the GraphQL context between preExecution and onResolution. */
const kOperation = Symbol('vdi-metrics-operation');
interface Timed {
  [kOperation]?: { op: RootFields; start: bigint };
}

type RootFields = { type: string; fields: string[] };

/**
 * rootFields by document and operation name. Mercurius answers a query text it has seen from its
 * cache with the same parsed DocumentNode, so a client repeating its query costs one lookup here
 * instead of a walk of the document per request.
 */
const rootFieldsMemo = new WeakMap<DocumentNode, Map<string, RootFields>>();
export function rootFieldsOf(document: DocumentNode, operationName?: string | null): RootFields {
  let byName = rootFieldsMemo.get(document);
  if (!byName) rootFieldsMemo.set(document, (byName = new Map()));
  const key = operationName ?? '';
  let r = byName.get(key);
  if (!r) {
    r = rootFields(document, operationName);
    // A document names few operations; an unknown name falls back to the first one, so bound it.
    if (byName.size < 16) byName.set(key, r);
  }
  return r;
}

/** The root fields an operation selects (fragments on the root type included), sorted and unique. */
export function rootFields(
  document: DocumentNode,
  operationName?: string | null,
): { type: string; fields: string[] } {
  const ops = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const op = (operationName ? ops.find((o) => o.name?.value === operationName) : undefined) ?? ops[0];
  if (!op) return { type: 'unknown', fields: [] };
  const fragments = new Map(
    document.definitions.flatMap((d) =>
      d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [],
    ),
  );
  const fields = new Set<string>();
  const seen = new Set<string>();
  const visit = (sel: OperationDefinitionNode['selectionSet']) => {
    for (const s of sel.selections) {
      if (s.kind === Kind.FIELD) fields.add(s.name.value);
      else if (s.kind === Kind.INLINE_FRAGMENT) visit(s.selectionSet);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        const f = fragments.get(s.name.value);
        if (f) visit(f.selectionSet);
      }
    }
  };
  visit(op.selectionSet);
  return { type: op.operation, fields: [...fields].sort() };
}

/** OK, or the first error's code when it is one of the API's codes, else ERROR. */
export function outcomeOf(result: Pick<ExecutionResult, 'errors'>): string {
  const first = result.errors?.[0];
  if (!first) return 'OK';
  const code = first.extensions?.code;
  return typeof code === 'string' && CODES.has(code) ? code : 'ERROR';
}

@Injectable()
export class ApiMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'vdi_api_http_requests_total',
    help: 'HTTP requests by route, method and status (401/403 refusals included)',
    labelNames: ['route', 'method', 'status'],
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'vdi_api_http_request_duration_seconds',
    help: 'HTTP request latency by route and method',
    labelNames: ['route', 'method'],
    buckets: BUCKETS,
    registers: [this.registry],
  });
  readonly operations = new Counter({
    name: 'vdi_api_graphql_operations_total',
    help: 'GraphQL operations by type, root field and outcome (OK or the error code); one per root field',
    labelNames: ['type', 'field', 'outcome'],
    registers: [this.registry],
  });
  readonly operationDuration = new Histogram({
    name: 'vdi_api_graphql_operation_duration_seconds',
    help: 'GraphQL execution latency (after parsing and validation) by type and root field',
    labelNames: ['type', 'field'],
    buckets: BUCKETS,
    registers: [this.registry],
  });
  readonly sessionKeyMismatch = new Gauge({
    name: 'vdi_api_session_key_mismatch',
    help: "1 while the operator's Lease carries another VDI_SESSION_KEY fingerprint than this API's: no desktop opens through forward-auth",
    registers: [this.registry],
  });
  readonly subscriptions = new Gauge({
    name: 'vdi_api_graphql_subscriptions',
    help: 'Open sessionUpdated subscriptions',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'vdi_api_' });
  }

  /** Counts every HTTP request once it is answered (the route pattern, never the raw URL). */
  registerHttpHooks(fastify: FastifyInstance): void {
    fastify.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? 'unmatched';
      this.httpRequests.inc({ route, method: req.method, status: String(reply.statusCode) });
      this.httpDuration.observe({ route, method: req.method }, reply.elapsedTime / 1000);
    });
  }

  /** Mercurius hooks timing each HTTP GraphQL operation from execution to result. */
  graphqlHooks() {
    return {
      preExecution: (_schema: unknown, document: DocumentNode, context: object): void => {
        const body = (context as { reply?: { request?: { body?: { operationName?: string } } } }).reply
          ?.request?.body;
        (context as Timed)[kOperation] = {
          op: rootFieldsOf(document, body?.operationName),
          start: process.hrtime.bigint(),
        };
      },
      onResolution: (execution: Pick<ExecutionResult, 'errors'>, context: object): void => {
        const timed = (context as Timed)[kOperation];
        if (!timed) return;
        const { op, start } = timed;
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        const outcome = outcomeOf(execution);
        for (const field of op.fields) {
          this.operations.inc({ type: op.type, field, outcome });
          this.operationDuration.observe({ type: op.type, field }, seconds);
        }
      },
      preSubscriptionExecution: (_schema: unknown, document: DocumentNode): void => {
        for (const field of rootFieldsOf(document).fields) {
          this.operations.inc({ type: 'subscription', field, outcome: 'STARTED' });
        }
      },
    };
  }
}
