/**
 * The API under load with the steady state's sessions in the cluster: the API (apps/api, as
 * `npm start` runs it) as its own process against the phase's namespace, real tokens of the demo
 * users from the local Keycloak, and autocannon with N concurrent clients per query. Then the
 * throughput of createSession, the one write.
 */
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { passwordGrant, start as startKeycloak, stop as stopKeycloak } from '@vdi/keycloak';
import { startApiService, type ServiceProcess } from '@vdi/platform';
import { freePort, TEST_SESSION_KEY, waitFor } from '@vdi/testing';
import { API_VERSION, type VDISession } from '@vdi/crd-types';
import type { KubeJsonClient } from '@vdi/kube-client';
import { inLanes } from './burst.js';
import { createSession } from './kube.js';
import { delta, ProcWatcher, sampleProcess, waitQuiet } from './proc.js';
import { processMemory, type ProcessMemory } from './heap.js';
import type { OperatorProcess } from './operator.js';
import type { GcTotals, ProbeAnswer } from './probe.js';
import { withShippedRuntime } from './shipped.js';
import { summarize, type Summary } from './stats.js';

type Log = (msg: string) => void;

export interface ApiQueryResult {
  name: string;
  user: string;
  query: string;
  clients: number;
  durationSeconds: number;
  requests: number;
  perSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  errors: number;
  non2xx: number;
  /** What one answer looked like (GraphQL errors make it useless). */
  sampleOk: boolean;
  /**
   * CPU time per process over the measured window (ms): the API, Keycloak, the control plane, the
   * operator and this process (autocannon's clients run in it). What competed with the API.
   */
  cpuMs?: Record<string, number>;
  /** The API's garbage-collection pauses over the measured window (the probe in it). */
  gc?: GcTotals;
  /** The operator's requests to the API server over the measured window, `VERB resource` → count. */
  operatorRequests?: Record<string, number>;
}

export interface ApiResult {
  sessionsInCluster: number;
  queries: ApiQueryResult[];
  create: {
    calls: number;
    ok: number;
    failed: number;
    failures: Record<string, number>;
    clients: number;
    ms: number;
    perSecond: number;
    latencyMs: Summary;
    /** The API process's largest RSS while the createSession calls ran (sampled every 250 ms). */
    peakRssBytes: number;
  };
  /** The API process's memory right after the createSession calls: V8's heap by space, the RSS beside it. */
  memory?: ProcessMemory;
  apiRssBytes: number;
  apiCpuMs: number;
}

export const QUERIES = [
  { name: 'sessions', user: 'alice', query: '{ sessions { name phase url nodeName encoder createdAt } }' },
  { name: 'templates', user: 'alice', query: '{ templates { name displayName maxGPU usable } }' },
  {
    name: 'capacity',
    user: 'alice',
    query:
      '{ capacity { gpuSlicesTotal gpuSlicesFree nvencSlicesFree sessionsWaiting products { product total free nvenc } } }',
  },
  // An admin's first page of everyone's sessions: sessionPage, 100 per page, newest first (the
  // report finds this row by its name's `sessions(all` prefix).
  {
    name: 'sessions(all: true) first page',
    user: 'admin',
    query: '{ sessionPage(all: true) { items { name phase user } nextCursor totalCount } }',
  },
] as const;

const nonZero = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).filter(([, n]) => n > 0));

/** Whether every named session's status says Running. */
async function allRunning(
  client: KubeJsonClient,
  namespace: string,
  names: readonly string[],
): Promise<boolean> {
  const sessions = await Promise.all(
    names.map((n) =>
      client.call<VDISession>('GET', `/apis/${API_VERSION}/namespaces/${namespace}/vdisessions/${n}`),
    ),
  );
  return sessions.every((s) => s.status?.phase === 'Running');
}

async function tokens(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const u of ['alice', 'bob', 'admin']) out[u] = (await passwordGrant(u, u)).access_token;
  return out;
}

export async function apiPhase(
  o: {
    kubeconfig: string;
    namespace: string;
    client: KubeJsonClient;
    template: string;
    sessionsInCluster: number;
    clients: number;
    durationSeconds: number;
    creates: number;
    /** The bundled probe (src/probe.ts), loaded into the API for its heap by space. */
    probe: string;
    /** CPU time of the cluster's processes, the operator and this process now (ms; burst.ts cpuNow). */
    cpu?: () => Record<string, number>;
    /** The measured operator: waited for until quiet before the queries; its requests per query. */
    operator?: Pick<OperatorProcess, 'pid' | 'probe'>;
  },
  log: Log,
): Promise<ApiResult> {
  const kc = await startKeycloak({ log: (m) => log(`keycloak: ${m}`) });
  log(
    `api: Keycloak ${kc.reused ? 'reused' : `started in ${(kc.startMs / 1000).toFixed(0)} s`} (${kc.issuer})`,
  );
  try {
    return await measureApi(o, kc, log);
  } finally {
    // One this phase started does not outlive it; one that ran before (npm start, a test) stays.
    if (!kc.reused) {
      await stopKeycloak({ log: (m) => log(`keycloak: ${m}`) });
      log('api: Keycloak stopped (this phase started it)');
    }
  }
}

async function measureApi(
  o: Parameters<typeof apiPhase>[0],
  kc: Awaited<ReturnType<typeof startKeycloak>>,
  log: Log,
): Promise<ApiResult> {
  // A JVM just started compiles its hot code for a while: not while the API is measured.
  const settled = await waitQuiet(kc.pid);
  log(
    `api: Keycloak ${settled.quiet ? 'quiet' : 'still busy'} after ${(settled.waitedMs / 1000).toFixed(0)} s (under 0.1 of a core over 2 s)`,
  );
  // alice's own sessions, so `sessions` has something to return among the others.
  const alices = ['alice-bench-0', 'alice-bench-1', 'alice-bench-2'];
  for (const name of alices)
    await createSession(o.client, o.namespace, name, o.template, 'alice@example.com').catch(() => undefined);
  // The steady state, not alice's desktops starting: wait until they run and the operator is quiet.
  const t0 = Date.now();
  const running = await waitFor(
    `alice's sessions Running`,
    () => allRunning(o.client, o.namespace, alices),
    120_000,
    500,
  ).catch(() => false);
  log(
    `api: alice's ${alices.length} sessions ${running ? 'Running' : 'NOT Running'} after ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  if (o.operator) {
    const op = await waitQuiet(o.operator.pid);
    log(
      `api: operator ${op.quiet ? 'quiet' : 'still busy'} after ${(op.waitedMs / 1000).toFixed(0)} s (under 0.1 of a core over 2 s)`,
    );
  }
  const port = await freePort();
  const probePort = await freePort();
  let api: ServiceProcess | undefined;
  try {
    api = await startApiService({
      kubeconfig: o.kubeconfig,
      port,
      env: {
        VDI_OIDC_ISSUER: kc.issuer,
        VDI_SESSIONS_NAMESPACE: o.namespace,
        VDI_QUOTA_SESSIONS_PER_USER: '1000000',
        VDI_QUOTA_GPUS_PER_USER: '1000000',
        LOG_LEVEL: 'warn',
        VDI_SESSION_KEY: TEST_SESSION_KEY,
        BENCH_PROBE_PORT: String(probePort),
        // With every runtime setting the shipped image and Deployment give it (V8 heap bounds, …),
        // and the benchmark's probe loaded first (it answers on BENCH_PROBE_PORT).
        ...withShippedRuntime('api', { NODE_OPTIONS: `--import=${pathToFileURL(o.probe).href}` }),
      },
    });
    const url = `http://127.0.0.1:${port}/graphql`;
    const apiPid = api.proc.pid!;
    const cpu0 = sampleProcess(apiPid)?.cpuMs ?? NaN;
    // Answering is not settled: its caches' first lists of 5000 sessions are still being parsed
    // and collected. The steady state is measured, not the start.
    const apiSettled = await waitQuiet(apiPid);
    log(
      `api: API ${apiSettled.quiet ? 'quiet' : 'still busy'} after ${(apiSettled.waitedMs / 1000).toFixed(0)} s (under 0.1 of a core over 2 s)`,
    );
    const probe = async (): Promise<ProbeAnswer | undefined> =>
      fetch(`http://127.0.0.1:${probePort}/`)
        .then(async (r) => (await r.json()) as ProbeAnswer)
        .catch(() => undefined);
    const cpuAll = (): Record<string, number> => {
      const out = { ...o.cpu?.() };
      for (const [name, pid] of [
        ['API', apiPid],
        ['Keycloak', kc.pid],
      ] as const) {
        const s = sampleProcess(pid);
        if (s) out[name] = s.cpuMs;
      }
      return out;
    };
    const queries: ApiQueryResult[] = [];
    for (const q of QUERIES) {
      const tok = (await tokens())[q.user]!;
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${tok}` };
      const body = JSON.stringify({ query: q.query });
      const sample = (await (await fetch(url, { method: 'POST', headers, body })).json()) as {
        data?: unknown;
        errors?: unknown[];
      };
      const sampleOk = !!sample.data && !sample.errors?.length;
      if (!sampleOk) log(`api: ${q.name} answered ${JSON.stringify(sample).slice(0, 300)}`);
      // A short warm-up (JIT, caches), then the measurement.
      await autocannon({ url, method: 'POST', headers, body, connections: o.clients, duration: 2 });
      const opBefore = await o.operator?.probe().catch(() => undefined);
      const [gcBefore, cpuBefore] = [await probe(), cpuAll()];
      const r = await autocannon({
        url,
        method: 'POST',
        headers,
        body,
        connections: o.clients,
        duration: o.durationSeconds,
      });
      const [cpuAfter, gcAfter] = [cpuAll(), await probe()];
      const opAfter = await o.operator?.probe().catch(() => undefined);
      const operatorRequests = opBefore && opAfter ? delta(opBefore.requests, opAfter.requests) : undefined;
      const gc = gcBefore && gcAfter ? (delta(gcBefore.gc, gcAfter.gc) as GcTotals) : undefined;
      const requests = Math.round(r.requests.average * r.duration);
      queries.push({
        name: q.name,
        user: q.user,
        query: q.query,
        clients: o.clients,
        durationSeconds: r.duration,
        requests,
        perSecond: r.requests.average,
        latencyMs: {
          p50: r.latency.p50,
          p90: r.latency.p90,
          p99: r.latency.p99,
          max: r.latency.max,
          mean: r.latency.average,
        },
        errors: r.errors,
        non2xx: r.non2xx,
        sampleOk,
        cpuMs: delta(cpuBefore, cpuAfter),
        ...(gc ? { gc } : {}),
        ...(operatorRequests ? { operatorRequests: nonZero(operatorRequests) } : {}),
      });
      log(
        `api: ${q.name}: ${r.requests.average.toFixed(0)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms (${o.clients} clients)`,
      );
    }

    // createSession: the users' tokens in turn, `clients` calls in flight.
    const tok = await tokens();
    const users = ['alice', 'bob', 'admin'];
    const latencies: number[] = [];
    const failures: Record<string, number> = {};
    let ok = 0;
    const mutation = 'mutation($t: String!) { createSession(input: { template: $t }) { name phase } }';
    const t0 = Date.now();
    const watch = new ProcWatcher(api.proc.pid!);
    await inLanes(o.creates, o.clients, async (i) => {
      const started = Date.now();
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${tok[users[i % users.length]!]}`,
        },
        body: JSON.stringify({ query: mutation, variables: { t: o.template } }),
      }).catch((err: unknown) => err as Error);
      latencies.push(Date.now() - started);
      if (res instanceof Error) {
        failures[res.message] = (failures[res.message] ?? 0) + 1;
        return;
      }
      const b = (await res.json()) as { errors?: { extensions?: { code?: string }; message: string }[] };
      if (res.status === 200 && !b.errors?.length) ok++;
      else {
        const code = b.errors?.[0]?.extensions?.code ?? `HTTP ${res.status}`;
        failures[code] = (failures[code] ?? 0) + 1;
      }
    });
    const ms = Date.now() - t0;
    const createMemory = watch.stop();
    const answer = await probe();
    if (!answer) log('api: the probe in the API did not answer; no heap by space');
    const memory = answer ? processMemory(answer) : undefined;
    log(
      `api: createSession ${ok}/${o.creates} in ${(ms / 1000).toFixed(1)} s, API peak RSS ${(createMemory.peakRssBytes / 1e6).toFixed(0)} MB`,
    );
    const s = sampleProcess(api.proc.pid!);
    return {
      sessionsInCluster: o.sessionsInCluster,
      queries,
      create: {
        calls: o.creates,
        ok,
        failed: o.creates - ok,
        failures,
        clients: o.clients,
        ms,
        perSecond: (ok / ms) * 1000,
        latencyMs: summarize(latencies),
        peakRssBytes: createMemory.peakRssBytes,
      },
      ...(memory ? { memory } : {}),
      apiRssBytes: s?.rssBytes ?? NaN,
      apiCpuMs: (s?.cpuMs ?? NaN) - cpu0,
    };
  } finally {
    await api?.stop();
  }
}
