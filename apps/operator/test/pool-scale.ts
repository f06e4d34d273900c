/**
 * Warm pools at scale, by hand (not in CI): a pool of N warm desktops on a kwok node, N sessions of
 * its template created at once, and how fast each is Running, two ways: claim → Running (from the
 * first pod watch event that shows the pod claimed by the session, i.e. the claim patch, to the
 * first session watch event that shows it Running) and create → Running (from just before its
 * create request); and how long the pool takes to be full again (refill convergence, from the
 * first create). Times are this process's clock at the watch events' arrival. Run under the
 * cluster lock:
 *
 *   flock /tmp/vdi-cluster.lock node --conditions=@vdi/source --import tsx apps/operator/test/pool-scale.ts
 *
 * Settings: POOL_SCALE_N (200), POOL_SCALE_CONCURRENCY (creates in flight, 50). Prints one JSON line.
 * The target (issue 18): claim → Running p99 ≤ 1 s.
 */
import * as k8s from '@kubernetes/client-node';
import { API_VERSION, type VDIPool, type VDISession } from '@vdi/crd-types';
import { LABEL_CLAIMED_BY } from '@vdi/session-spec';
import {
  createIsolatedGpuNode,
  createTestNamespace,
  installCrds,
  testKubeConfig,
  waitFor,
} from '@vdi/testing';
import { Fixture, inBatches, startOperator } from './harness.js';

const N = Number(process.env.POOL_SCALE_N ?? 200);
const CONCURRENCY = Number(process.env.POOL_SCALE_CONCURRENCY ?? 50);

const pct = (sorted: number[], p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function main(): Promise<void> {
  const kc = testKubeConfig();
  await installCrds(kc);
  const ns = await createTestNamespace('poolscale');
  const f = new Fixture(kc, ns.name);
  const node = await createIsolatedGpuNode({ gpus: 1, replicas: 8, pods: 2 * N + 20 });
  await f.turnSecret();
  const template = await f.template('scale', {
    nodeSelector: node.nodeSelector,
    tolerations: node.tolerations as never,
    persistence: 'none',
    resources: { defaultGPU: 0, maxGPU: 0, defaultMemory: '2Gi', defaultCPU: '250m' } as never,
  });
  // CPU encoding's headroom (2 CPUs by default) would let only ~220 desktops of the pool and its
  // claims fit the node's 512 CPUs: kwok runs nothing, so a quarter CPU is plenty here.
  const op = await startOperator(ns.name, {
    VDI_START_DEADLINE_SECONDS: '300',
    VDI_CPU_ENCODER_EXTRA_CPU: '250m',
    LOG_LEVEL: 'warn',
  });
  const poolPath = `/apis/${API_VERSION}/namespaces/${ns.name}/vdipools`;
  const result: Record<string, unknown> = { n: N, concurrency: CONCURRENCY };
  const watch = new k8s.Watch(kc);
  let stopWatch: { abort(): void } | undefined;
  try {
    const fillStart = Date.now();
    await f.client.call('POST', poolPath, {
      apiVersion: API_VERSION,
      kind: 'VDIPool',
      metadata: { name: 'scale' },
      spec: { template, size: N },
    });
    const warm = async () => (await f.client.call<VDIPool>('GET', `${poolPath}/scale`)).status?.warm ?? 0;
    await waitFor(`pool of ${N} warm`, async () => (await warm()) === N, 600_000, 500);
    result.fillSeconds = (Date.now() - fillStart) / 1000;

    // When each session is first seen Running (the watch's arrival time).
    const running = new Map<string, number>();
    const starts = new Map<string, number>();
    const paths = new Map<string, string>();
    // Session uid → when its claim was first seen on a pod.
    const claimedAt = new Map<string, number>();
    const stopPodWatch = await watch.watch(
      `/api/v1/namespaces/${ns.name}/pods`,
      {},
      (_type, p: k8s.V1Pod) => {
        const by = p.metadata?.labels?.[LABEL_CLAIMED_BY];
        if (by && !claimedAt.has(by)) claimedAt.set(by, Date.now());
      },
      () => undefined,
    );
    const uids = new Map<string, string>();
    stopWatch = await watch.watch(
      `/apis/${API_VERSION}/namespaces/${ns.name}/vdisessions`,
      {},
      (_type, s: VDISession) => {
        const name = s.metadata.name!;
        uids.set(name, s.metadata.uid!);
        if (s.status?.phase === 'Running' && !running.has(name)) {
          running.set(name, Date.now());
          paths.set(name, s.status.startPath ?? '');
        }
      },
      () => undefined,
    );
    const names = Array.from({ length: N }, (_, i) => `scale-${i}`);
    const burstStart = Date.now();
    await inBatches(names, CONCURRENCY, async (name) => {
      starts.set(name, Date.now());
      await f.session(name, template);
    });
    result.createSeconds = (Date.now() - burstStart) / 1000;
    await waitFor(`${N} sessions Running`, async () => running.size === N, 600_000, 100);
    const latencies = names.map((n) => running.get(n)! - starts.get(n)!).sort((a, b) => a - b);
    const summary = (xs: number[]) => ({
      n: xs.length,
      p50: pct(xs, 50),
      p90: pct(xs, 90),
      p99: pct(xs, 99),
      max: xs.at(-1),
    });
    result.createToRunningMs = summary(latencies);
    const claimed = names
      .filter((n) => claimedAt.has(uids.get(n)!))
      .map((n) => running.get(n)! - claimedAt.get(uids.get(n)!)!)
      .sort((a, b) => a - b);
    result.claimToRunningMs = summary(claimed);
    stopPodWatch.abort();
    result.startPaths = {
      Pool: [...paths.values()].filter((p) => p === 'Pool').length,
      Cold: [...paths.values()].filter((p) => p === 'Cold').length,
    };
    result.allRunningSeconds = (Math.max(...running.values()) - burstStart) / 1000;
    // What was measured so far, in case the refill does not converge.
    process.stdout.write(`${JSON.stringify({ partial: true, ...result })}\n`);
    await waitFor('pool refilled', async () => (await warm()) === N, 600_000, 250);
    result.refillConvergedSeconds = (Date.now() - burstStart) / 1000;
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    stopWatch?.abort();
    await f.client.call('DELETE', `${poolPath}/scale`).catch(() => undefined);
    await f
      .deleteAllSessions(600_000)
      .catch((err: unknown) => process.stderr.write(`cleanup: ${String(err)}\n`));
    await op.stop();
    await f.deleteTemplate(template);
    await ns.cleanup();
    await node.remove();
  }
}

await main();
