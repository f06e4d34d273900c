/**
 * Warm pools (VDIPool) against the real control plane with kwok nodes: the operator keeps a pool
 * full, a session of the pooled template claims a warm pod and is Running at once, two sessions
 * never get the same pod, a claimed pod goes with its session and is never reused, a SIGKILL in the
 * middle of claims leaks nothing and double-claims nothing, and an unpoolable template gets no pods.
 */
import { createHmac } from 'node:crypto';
import {
  createIsolatedGpuNode,
  createTestNamespace,
  installCrds,
  testKubeConfig,
  waitFor,
  TEST_SESSION_KEY,
  type IsolatedNode,
  type TestNamespace,
} from '@vdi/testing';
import { API_VERSION, type VDIPool, type VDISession } from '@vdi/crd-types';
import { ANNOTATION_CLAIMED_AT, LABEL_CLAIMED_BY, LABEL_POOL, poolPodPassword } from '@vdi/session-spec';
import { Fixture, startOperator, type OperatorProcess } from './harness.js';

interface PodView {
  metadata: {
    name: string;
    uid: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    ownerReferences?: { kind: string; name: string; uid: string }[];
  };
  status?: { conditions?: { type: string; status: string }[] };
}

describe('warm pools', () => {
  let ns: TestNamespace;
  let f: Fixture;
  let op: OperatorProcess;
  let node: IsolatedNode;
  let cpuTemplate: string;

  const poolsPath = () => `/apis/${API_VERSION}/namespaces/${ns.name}/vdipools`;
  const createPool = (name: string, template: string, size: number) =>
    f.client.call<VDIPool>('POST', poolsPath(), {
      apiVersion: API_VERSION,
      kind: 'VDIPool',
      metadata: { name },
      spec: { template, size },
    });
  const scalePool = (name: string, size: number) =>
    f.client.call('PATCH', `${poolsPath()}/${name}`, { spec: { size } }, 'application/merge-patch+json');
  const getPool = (name: string) => f.client.call<VDIPool>('GET', `${poolsPath()}/${name}`);
  const pods = async (pool?: string) =>
    (await f.listAll<PodView>('/api/v1', 'pods')).filter((p) =>
      pool ? p.metadata.labels?.[LABEL_POOL] === pool : true,
    );
  const ready = (p: PodView) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  /** Waits until the pool has `warm` Ready unclaimed pods and its status says so. */
  const waitWarm = (pool: string, warm: number, timeoutMs = 30_000) =>
    waitFor(
      `pool ${pool} warm = ${warm}`,
      async () => {
        const unclaimed = (await pods(pool)).filter(
          (p) => !p.metadata.labels?.[LABEL_CLAIMED_BY] && !p.metadata.deletionTimestamp,
        );
        const status = (await getPool(pool)).status;
        return unclaimed.length === warm && unclaimed.every(ready) && status?.warm === warm
          ? unclaimed
          : undefined;
      },
      timeoutMs,
    );

  beforeAll(async () => {
    const kc = testKubeConfig();
    await installCrds(kc);
    ns = await createTestNamespace('pool');
    f = new Fixture(kc, ns.name);
    await f.turnSecret();
    node = await createIsolatedGpuNode({ gpus: 1, replicas: 8, pods: 200 });
    // A CPU template with nothing per user at start: poolable. Pinned to this test's node.
    cpuTemplate = await f.template('poolcpu', {
      nodeSelector: node.nodeSelector,
      tolerations: node.tolerations as never,
      persistence: 'none',
      resources: { defaultGPU: 0, maxGPU: 0, defaultMemory: '2Gi', defaultCPU: '1' } as never,
    });
    op = await startOperator(ns.name, { VDI_START_DEADLINE_SECONDS: '120' });
  });

  afterAll(async () => {
    if (process.env.VDI_DEBUG_OPERATOR) process.stderr.write(op.logs.join('\n') + '\n');
    await f?.deleteAllSessions().catch(() => undefined);
    await op?.stop();
    await f?.deleteTemplate(cpuTemplate);
    await ns?.cleanup();
    await node?.remove();
  });

  it('fills a pool to its size with warm pods that carry no user identity', async () => {
    await createPool('warm', cpuTemplate, 3);
    const warm = await waitWarm('warm', 3);
    for (const p of warm) {
      expect(p.metadata.labels?.['vdi.kasm.io/session']).toBeUndefined();
      expect(p.metadata.labels?.['vdi.kasm.io/user-hash']).toBeUndefined();
      expect(p.metadata.ownerReferences?.map((o) => o.kind)).toEqual(['VDIPool']);
    }
    const pool = await getPool('warm');
    expect(pool.status?.conditions?.find((c) => c.type === 'Poolable')).toMatchObject({
      status: 'True',
      reason: 'Poolable',
    });
  });

  it('a session claims a warm pod: Running with startPath Pool, the pod its own, the pool refilled', async () => {
    const before = new Set((await waitWarm('warm', 3)).map((p) => p.metadata.name));
    const asked = Date.now();
    await f.session('claim-1', cpuTemplate);
    const s = await f.waitPhase('claim-1', 'Running', 15_000);
    expect(s.status?.startPath).toBe('Pool');
    const podName = s.status!.desktopPod!;
    expect(before.has(podName)).toBe(true);
    const pod = (await pods('warm')).find((p) => p.metadata.name === podName)!;
    expect(pod.metadata.labels).toMatchObject({
      'vdi.kasm.io/session': 'claim-1',
      [LABEL_CLAIMED_BY]: s.metadata.uid,
    });
    // The owner's GPU time counts from the claim, not from when the pool warmed the pod.
    const claimedAt = Date.parse(pod.metadata.annotations?.[ANNOTATION_CLAIMED_AT] ?? '');
    expect(claimedAt).toBeGreaterThanOrEqual(Math.floor(asked / 1000) * 1000);
    expect(claimedAt).toBeLessThanOrEqual(Date.now());
    expect(pod.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'VDISession', name: 'claim-1', uid: s.metadata.uid }),
    ]);
    // The session's route, Service and policy exist; its Secret holds the claimed pod's password.
    const kinds = (await f.children('claim-1')).map((c) => `${c.kind}/${c.name}`).sort();
    expect(kinds).toEqual(
      [
        'ingressroutes/claim-1',
        'middlewares/claim-1-forward-auth',
        'networkpolicies/claim-1',
        `pods/${podName}`,
        'secrets/claim-1-auth',
        'services/claim-1',
      ].sort(),
    );
    const secret = await f.core.readNamespacedSecret({ name: 'claim-1-auth', namespace: ns.name });
    expect(Buffer.from(secret.data!.password!, 'base64').toString()).toBe(
      poolPodPassword(TEST_SESSION_KEY, podName),
    );
    expect(poolPodPassword(TEST_SESSION_KEY, podName)).not.toBe(
      createHmac('sha256', TEST_SESSION_KEY)
        .update(`vdi-session-password:${s.metadata.uid}`)
        .digest('base64url')
        .slice(0, 32),
    );
    const events = await waitFor('ClaimedFromPool event', async () => {
      const ev = await f.events('claim-1');
      return ev.some((e) => e.reason === 'ClaimedFromPool') ? ev : undefined;
    });
    expect(events.find((e) => e.reason === 'ClaimedFromPool')!.message).toContain(podName);
    // Refilled: three warm again, none of them the claimed one.
    const after = await waitWarm('warm', 3);
    expect(after.map((p) => p.metadata.name)).not.toContain(podName);
    await waitFor('status claimed = 1', async () => (await getPool('warm')).status?.claimed === 1);
  });

  it('never reuses a claimed pod: deleting its session deletes the pod', async () => {
    const s = (await f.get('claim-1'))!;
    const podName = s.status!.desktopPod!;
    await f.delete('claim-1');
    await f.waitGone('claim-1');
    await waitFor(`pod ${podName} gone`, async () =>
      (await pods()).every((p) => p.metadata.name !== podName),
    );
    const warm = await waitWarm('warm', 3);
    expect(warm.map((p) => p.metadata.name)).not.toContain(podName);
  });

  it('gives two sessions created at once never the same pod; those beyond the pool start cold', async () => {
    await waitWarm('warm', 3);
    const names = Array.from({ length: 8 }, (_, i) => `burst-${i}`);
    await Promise.all(names.map((n) => f.session(n, cpuTemplate)));
    const sessions = await Promise.all(names.map((n) => f.waitPhase(n, 'Running', 30_000)));
    const desktop = (s: VDISession) => s.status?.desktopPod ?? s.metadata.name!;
    expect(new Set(sessions.map(desktop)).size).toBe(names.length);
    const pooled = sessions.filter((s) => s.status?.startPath === 'Pool');
    expect(pooled.length).toBeGreaterThanOrEqual(3);
    for (const s of sessions.filter((x) => x.status?.startPath !== 'Pool'))
      expect(s.status?.startPath).toBe('Cold');
    // Every claimed pod names exactly one live session, and that session names it.
    const claimed = (await pods('warm')).filter((p) => p.metadata.labels?.[LABEL_CLAIMED_BY]);
    for (const p of claimed) {
      const owner = sessions.filter((s) => s.metadata.uid === p.metadata.labels![LABEL_CLAIMED_BY]);
      expect(owner).toHaveLength(1);
      expect(owner[0]!.status?.desktopPod).toBe(p.metadata.name);
    }
    expect(claimed).toHaveLength(pooled.length);
    await f.deleteAllSessions();
    await waitFor('no claimed pod left', async () =>
      (await pods('warm')).every((p) => !p.metadata.labels?.[LABEL_CLAIMED_BY]),
    );
  });

  it('after a SIGKILL during claims: no pod claimed twice, none leaked, the pool full again', async () => {
    await scalePool('warm', 6);
    await waitWarm('warm', 6);
    const names = Array.from({ length: 10 }, (_, i) => `kill-${i}`);
    // Creations in flight while the operator dies: the first claims are under way.
    const creating = Promise.all(names.map((n) => f.session(n, cpuTemplate)));
    await waitFor(
      'a first claim',
      async () => (await pods('warm')).some((p) => p.metadata.labels?.[LABEL_CLAIMED_BY]),
      15_000,
      20,
    );
    await op.stop('SIGKILL');
    await creating;
    op = await startOperator(ns.name, { VDI_START_DEADLINE_SECONDS: '120' });
    const sessions = await Promise.all(names.map((n) => f.waitPhase(n, 'Running', 30_000)));
    const desktop = (s: VDISession) => s.status?.desktopPod ?? s.metadata.name!;
    expect(new Set(sessions.map(desktop)).size).toBe(names.length);
    const uids = new Set(sessions.map((s) => s.metadata.uid));
    await waitWarm('warm', 6);
    const claimed = (await pods('warm')).filter((p) => p.metadata.labels?.[LABEL_CLAIMED_BY]);
    // Each claimed pod is one live session's, and each session has at most one.
    for (const p of claimed) expect(uids.has(p.metadata.labels![LABEL_CLAIMED_BY])).toBe(true);
    expect(new Set(claimed.map((p) => p.metadata.labels![LABEL_CLAIMED_BY])).size).toBe(claimed.length);
    expect(claimed.map((p) => p.metadata.name).sort()).toEqual(
      sessions
        .filter((s) => s.status?.startPath === 'Pool')
        .map((s) => s.status!.desktopPod!)
        .sort(),
    );
    await f.deleteAllSessions();
    // Nothing leaked: only the pool's warm pods remain.
    await waitFor('only warm pods left', async () => {
      const all = (await pods()).filter((p) => !p.metadata.deletionTimestamp);
      return all.length === 6 && all.every((p) => !p.metadata.labels?.[LABEL_CLAIMED_BY]);
    });
  });

  const setState = (name: string, state: 'Running' | 'Stopped') =>
    f.client.mergePatch(f.sessionRef(name), { spec: { state } });

  it('a resumed session of a pooled template claims a new warm pod; its old pod is deleted, never returned', async () => {
    await scalePool('warm', 2);
    await waitWarm('warm', 2, 60_000);
    await f.session('resume-1', cpuTemplate);
    const first = await f.waitPhase('resume-1', 'Running', 15_000);
    expect(first.status?.startPath).toBe('Pool');
    const firstPod = first.status!.desktopPod!;
    await setState('resume-1', 'Stopped');
    const stopped = await f.waitPhase('resume-1', 'Stopped', 30_000);
    expect(stopped.status?.desktopPod).toBeUndefined();
    await waitFor(`old pod ${firstPod} gone`, async () =>
      (await pods()).every((p) => p.metadata.name !== firstPod),
    );
    const warmBefore = new Set((await waitWarm('warm', 2, 60_000)).map((p) => p.metadata.name));
    expect(warmBefore.has(firstPod)).toBe(false);
    await setState('resume-1', 'Running');
    const resumed = await waitFor(
      'resume-1 Running from the pool',
      async () => {
        const s = await f.get('resume-1');
        return s?.status?.phase === 'Running' && s.status.desktopPod ? s : undefined;
      },
      30_000,
    );
    expect(resumed.status?.startPath).toBe('Pool');
    expect(resumed.status?.desktopPod).not.toBe(firstPod);
    expect(warmBefore.has(resumed.status!.desktopPod!)).toBe(true);
    await f.waitEvent('resume-1', 'Resumed');
    await waitFor('two ClaimedFromPool events', async () =>
      (await f.events('resume-1')).filter((e) => e.reason === 'ClaimedFromPool').length >= 2
        ? true
        : undefined,
    );
    // The old pod never came back to the pool, and the new one is the session's.
    expect((await pods('warm')).map((p) => p.metadata.name)).not.toContain(firstPod);
    const pod = (await pods('warm')).find((p) => p.metadata.name === resumed.status!.desktopPod)!;
    expect(pod.metadata.labels?.[LABEL_CLAIMED_BY]).toBe(resumed.metadata.uid);
    await f.delete('resume-1');
    await f.waitGone('resume-1');
  });

  it('a resumed session of a pooled template starts cold when no warm pod is there', async () => {
    await scalePool('warm', 1);
    await waitWarm('warm', 1, 60_000);
    await f.session('resume-2', cpuTemplate);
    expect((await f.waitPhase('resume-2', 'Running', 15_000)).status?.startPath).toBe('Pool');
    await setState('resume-2', 'Stopped');
    await f.waitPhase('resume-2', 'Stopped', 30_000);
    await scalePool('warm', 0);
    await waitFor('pool emptied', async () => (await pods('warm')).length === 0, 60_000);
    await setState('resume-2', 'Running');
    const resumed = await waitFor(
      'resume-2 Running cold',
      async () => {
        const s = await f.get('resume-2');
        return s?.status?.phase === 'Running' ? s : undefined;
      },
      30_000,
    );
    expect(resumed.status?.startPath).toBe('Cold');
    expect(resumed.status?.desktopPod).toBeUndefined();
    await f.delete('resume-2');
    await f.waitGone('resume-2');
  });

  it('a schedule window covering now sets the target and the warm count; removing it shrinks back', async () => {
    await scalePool('warm', 1);
    await waitWarm('warm', 1, 60_000);
    // A window covering today and tomorrow (UTC) is open whatever the time of day, and closes at
    // the end of tomorrow: no dependence on a wall-clock boundary during the test.
    const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
    const today = new Date().getUTCDay();
    const always = {
      timeZone: 'UTC',
      windows: [{ days: [days[today], days[(today + 1) % 7]], start: '00:00', end: '24:00', size: 3 }],
    };
    await f.client.call(
      'PATCH',
      `${poolsPath()}/warm`,
      { spec: { schedule: always } },
      'application/merge-patch+json',
    );
    const pool = await waitFor(
      'status.targetSize 3',
      async () => {
        const p = await getPool('warm');
        return p.status?.targetSize === 3 ? p : undefined;
      },
      60_000,
    );
    expect(pool.status?.nextChange).toBeDefined();
    expect(pool.status?.conditions?.find((c) => c.type === 'ScheduleValid')).toMatchObject({
      status: 'True',
    });
    await waitWarm('warm', 3, 60_000);
    // An invalid time zone: reported in a condition, the pool keeps spec.size, the operator lives.
    await f.client.call(
      'PATCH',
      `${poolsPath()}/warm`,
      { spec: { schedule: { ...always, timeZone: 'Nowhere/Land' } } },
      'application/merge-patch+json',
    );
    const bad = await waitFor(
      'ScheduleValid=False',
      async () => {
        const p = await getPool('warm');
        const c = p.status?.conditions?.find((x) => x.type === 'ScheduleValid');
        return c?.status === 'False' ? p : undefined;
      },
      60_000,
    );
    expect(bad.status?.conditions?.find((c) => c.type === 'ScheduleValid')).toMatchObject({
      reason: 'InvalidTimeZone',
    });
    expect(bad.status?.targetSize).toBe(1);
    await waitWarm('warm', 1, 60_000);
    await f.client.call(
      'PATCH',
      `${poolsPath()}/warm`,
      { spec: { schedule: null } },
      'application/merge-patch+json',
    );
    await waitFor(
      'no ScheduleValid condition',
      async () => {
        const p = await getPool('warm');
        return (
          p.status?.conditions?.every((c) => c.type !== 'ScheduleValid') && p.status?.nextChange === undefined
        );
      },
      60_000,
    );
  });

  it('starts sessions cold when the pool is empty', async () => {
    await scalePool('warm', 0);
    await waitFor('pool emptied', async () => (await pods('warm')).length === 0);
    await f.session('cold-1', cpuTemplate);
    const s = await f.waitPhase('cold-1', 'Running', 15_000);
    expect(s.status?.startPath).toBe('Cold');
    expect(s.status?.desktopPod).toBeUndefined();
    await f.delete('cold-1');
    await f.waitGone('cold-1');
  });

  it('refuses to pool a template with a per-user home: Poolable=False saying why, and no pods', async () => {
    const homeTemplate = await f.template('poolhome', {
      nodeSelector: node.nodeSelector,
      tolerations: node.tolerations as never,
      persistence: 'user',
      resources: { defaultGPU: 0, maxGPU: 0, defaultMemory: '2Gi', defaultCPU: '1' } as never,
    });
    try {
      await createPool('homes', homeTemplate, 2);
      const pool = await waitFor('Poolable=False', async () => {
        const p = await getPool('homes');
        return p.status?.conditions?.some((c) => c.type === 'Poolable' && c.status === 'False')
          ? p
          : undefined;
      });
      const cond = pool.status!.conditions!.find((c) => c.type === 'Poolable')!;
      expect(cond.reason).toBe('PersistentHome');
      expect(cond.message).toMatch(/persistence none/);
      expect(pool.status).toMatchObject({ warm: 0, starting: 0, claimed: 0 });
      expect(await pods('homes')).toEqual([]);
    } finally {
      await f.deleteTemplate(homeTemplate);
    }
  });
});
