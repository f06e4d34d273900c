import type { V1Pod } from '@kubernetes/client-node';
import { API_VERSION, KIND_POOL, type VDIPool, type VDITemplate } from '@vdi/crd-types';
import { KubeApiError, type KubeJsonClient } from '@vdi/kube-client';
import {
  LABEL_CLAIMED_BY,
  LABEL_POOL,
  chooseEncoder,
  renderPoolPod,
  resolveSession,
} from '@vdi/session-spec';
import { sampleOptions, sampleSession, sampleTemplate } from '@vdi/session-spec/testing';
import type { Caches } from './caches.js';
import { PoolManager } from './pools.js';
import { FakeCache, RecordingEvents, silentLog } from './testing.js';

const KEY = 'a-platform-session-key-for-engine-tests-0123456789';
const NS = 'vdi-sessions';

interface Call {
  method: string;
  path: string;
  body?: unknown;
}

/** The few requests PoolManager sends, answered from a script: pods, secrets, pool status, deletes. */
class PoolApi {
  readonly calls: Call[] = [];
  /** Pod names whose claim patch answers 409 (someone else won it). */
  readonly taken = new Set<string>();
  private n = 0;

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    this.calls.push({ method, path, body });
    const name = path.split('?')[0]!.split('/').pop()!;
    if (method === 'PATCH' && path.includes('/pods/')) {
      if (this.taken.has(name)) throw new KubeApiError(409, 'Conflict', 'the object has been modified', {});
      const patch = body as { metadata: { labels: Record<string, string> } };
      return { metadata: { name, namespace: NS, labels: { ...patch.metadata.labels } } } as T;
    }
    if (method === 'POST') {
      const obj = body as { metadata: { name: string } };
      return { ...obj, metadata: { ...obj.metadata, uid: `uid-${++this.n}` } } as T;
    }
    return {} as T;
  }

  async delete(obj: { metadata: { name: string } }, opts: { uid?: string }): Promise<boolean> {
    this.calls.push({ method: 'DELETE', path: obj.metadata.name, body: opts });
    return true;
  }

  async apply(obj: { metadata: { name: string } }): Promise<unknown> {
    this.calls.push({ method: 'APPLY', path: obj.metadata.name, body: obj });
    return obj;
  }

  summary(): string[] {
    return this.calls.map(
      (c) => `${c.method} ${c.path.split('?')[0]!.replace(`/api/v1/namespaces/${NS}/`, '')}`,
    );
  }
}

function pool(spec: Partial<VDIPool['spec']> = {}): VDIPool {
  return {
    apiVersion: API_VERSION,
    kind: KIND_POOL,
    metadata: { name: 'cpu-pool', namespace: NS, uid: 'pool-uid', generation: 1 },
    spec: { template: 'cpu', size: 2, ...spec },
  };
}

const cpuTemplate = (over: Partial<VDITemplate['spec']> = {}) =>
  sampleTemplate('cpu', {
    persistence: 'none',
    resources: { defaultGPU: 0, maxGPU: 0, defaultMemory: '2Gi', defaultCPU: '1' },
    ...over,
  });

/** A pool whose status says it can serve sessions (what claim() asks of it). */
function poolable(p: VDIPool): VDIPool {
  p.status = {
    conditions: [
      {
        type: 'Poolable',
        status: 'True',
        reason: 'Poolable',
        message: '',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ],
  };
  return p;
}

function warm(name: string, opts: { claimedBy?: string; sessionKey?: string } = {}): V1Pod {
  const { pod } = renderPoolPod(pool(), cpuTemplate(), sampleOptions(), {
    podName: name,
    encoderPlan: chooseEncoder('auto', 0, { products: [] }),
    sessionKey: opts.sessionKey ?? KEY,
  });
  pod.metadata!.uid = `uid-${name}`;
  pod.metadata!.resourceVersion = '7';
  if (opts.claimedBy) pod.metadata!.labels![LABEL_CLAIMED_BY] = opts.claimedBy;
  pod.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
  return pod;
}

function setup(now?: () => Date) {
  const api = new PoolApi();
  const c = {
    pools: new FakeCache<VDIPool>(),
    pods: new FakeCache<V1Pod>(),
    sessions: new FakeCache<ReturnType<typeof sampleSession>>(),
    templates: new FakeCache<VDITemplate>(),
    nodes: new FakeCache<never>(),
    children: new Map([['NetworkPolicy', new FakeCache()]]),
    slices: { capacity: () => ({ free: 0, total: 0, products: [] }) },
  };
  const events = new RecordingEvents();
  let n = 0;
  const pools = new PoolManager({
    caches: c as unknown as Caches,
    client: api as unknown as KubeJsonClient,
    config: { platform: sampleOptions(), sessionKey: KEY },
    log: silentLog,
    events,
    suffix: () => String(++n).padStart(6, '0'),
    ...(now ? { now } : {}),
  });
  running.push(pools);
  return { api, c, events, pools };
}

/** Runs one sync of `name` (the queue's handler) and waits for it. */
const sync = (pools: PoolManager, name: string) =>
  (pools as unknown as { sync(n: string): Promise<unknown> }).sync(name);

let running: PoolManager[] = [];

describe('PoolManager', () => {
  afterEach(async () => {
    await Promise.all(running.map((p) => p.shutdown()));
    running = [];
  });

  it('fills a pool with warm pods and their Secrets, and does not make them again before the cache shows them', async () => {
    const { api, c, pools } = setup();
    c.pools.set(pool());
    c.templates.set(cpuTemplate());
    await sync(pools, 'cpu-pool');
    expect(api.summary()).toEqual([
      'APPLY vdipool-cpu-pool',
      'POST pods',
      'POST secrets',
      'POST pods',
      'POST secrets',
      `PATCH /apis/${API_VERSION}/namespaces/${NS}/vdipools/cpu-pool/status`,
    ]);
    const created = api.calls
      .filter((x) => x.method === 'POST' && x.path.includes('/pods'))
      .map((x) => x.body as V1Pod);
    expect(created.map((p) => p.metadata!.name)).toEqual(['warm-cpu-pool-000001', 'warm-cpu-pool-000002']);
    expect(created[0]!.metadata!.labels![LABEL_POOL]).toBe('cpu-pool');
    const secret = api.calls.find((x) => x.path.includes('/secrets'))!.body as {
      metadata: { ownerReferences: { kind: string; name: string }[] };
    };
    expect(secret.metadata.ownerReferences[0]).toMatchObject({ kind: 'Pod', name: 'warm-cpu-pool-000001' });
    api.calls.length = 0;
    await sync(pools, 'cpu-pool');
    expect(api.summary().filter((s) => s.startsWith('POST'))).toEqual([]);
  });

  it('keeps no pods of an unpoolable template and says why in the status', async () => {
    const { api, c, pools } = setup();
    c.pools.set(pool());
    c.templates.set(cpuTemplate({ persistence: 'user' }));
    c.pods.set(warm('warm-cpu-pool-aaaaaa'));
    await sync(pools, 'cpu-pool');
    expect(api.summary()[0]).toBe('DELETE pods/warm-cpu-pool-aaaaaa');
    // Conditional on the version read: a claim meanwhile wins.
    expect(api.calls[0]!.body).toMatchObject({ preconditions: { resourceVersion: '7' } });
    const status = (api.calls.at(-1)!.body as { status: VDIPool['status'] }).status!;
    expect(status.conditions![0]).toMatchObject({
      type: 'Poolable',
      status: 'False',
      reason: 'PersistentHome',
    });
  });

  it('says so in the status when the template cannot become a desktop, and starts nothing', async () => {
    const { api, c, pools } = setup();
    c.pools.set(pool());
    // /dev/shm (1Gi by default) as large as the whole memory limit.
    c.templates.set(
      cpuTemplate({
        resources: { defaultGPU: 0, maxGPU: 0, defaultMemory: '1Gi', defaultCPU: '1' } as never,
      }),
    );
    await sync(pools, 'cpu-pool');
    expect(api.summary().filter((s) => s.startsWith('POST'))).toEqual([]);
    const status = (api.calls.at(-1)!.body as { status: VDIPool['status'] }).status!;
    expect(status.conditions![0]).toMatchObject({ status: 'False', reason: 'TemplateInvalid' });
    expect(status.conditions![0]!.message).toMatch(/cannot become a desktop: .*; fix the template/);
  });

  it('deletes a claimed pod whose session is gone, and trims a pool above its size', async () => {
    const { api, c, pools } = setup();
    c.pools.set(pool({ size: 1 }));
    c.templates.set(cpuTemplate());
    c.pods.set(
      warm('warm-cpu-pool-aaaaaa', { claimedBy: 'gone-uid' }),
      warm('warm-cpu-pool-bbbbbb'),
      warm('warm-cpu-pool-cccccc'),
    );
    await sync(pools, 'cpu-pool');
    const deleted = api.calls.filter((x) => x.method === 'DELETE').map((x) => x.path.split('/').pop());
    expect(deleted).toContain('warm-cpu-pool-aaaaaa');
    expect(deleted.filter((d) => d !== 'warm-cpu-pool-aaaaaa')).toHaveLength(1);
  });

  it('replaces warm pods made with another session key and never claims them (their password is unknown here)', async () => {
    const { api, c, pools } = setup();
    const p = poolable(pool({ size: 1 }));
    c.pools.set(p);
    c.templates.set(cpuTemplate());
    c.pods.set(warm('warm-cpu-pool-aaaaaa', { sessionKey: `${KEY}-rotated` }));
    const session = sampleSession('alice-1', { template: 'cpu', resources: {} });
    expect(
      await pools.claim(session, cpuTemplate(), resolveSession(session.spec, cpuTemplate().spec)),
    ).toBeUndefined();
    expect(api.calls.filter((x) => x.method === 'PATCH' && x.path.includes('/pods/'))).toHaveLength(0);
    await sync(pools, 'cpu-pool');
    const deleted = api.calls.filter((x) => x.method === 'DELETE').map((x) => x.path.split('/').pop());
    expect(deleted).toEqual(['warm-cpu-pool-aaaaaa']);
    // And a new one is made in its place, with this key.
    expect(api.calls.some((x) => x.method === 'POST' && x.path.split('?')[0]!.endsWith('/pods'))).toBe(true);
  });

  it('keeps the open schedule window size, requeues exactly at the next change, then trims only unclaimed pods', async () => {
    let now = new Date('2026-12-07T10:00:00Z'); // a Monday
    const { api, c, pools } = setup(() => now);
    const schedule = {
      timeZone: 'UTC',
      windows: [{ days: ['Mon' as const], start: '09:00', end: '17:00', size: 3 }],
    };
    c.pools.set(pool({ size: 1, schedule }));
    c.templates.set(cpuTemplate());
    const live = sampleSession('s1');
    live.metadata.uid = 'live-uid';
    c.sessions.set(live);
    c.pods.set(
      warm('warm-cpu-pool-aaaaaa', { claimedBy: 'live-uid' }),
      warm('warm-cpu-pool-bbbbbb'),
      warm('warm-cpu-pool-cccccc'),
      warm('warm-cpu-pool-dddddd'),
    );
    const inside = (await sync(pools, 'cpu-pool')) as { requeueAfterMs?: number };
    expect(api.calls.filter((x) => x.method === 'DELETE' || x.path.includes('/pods?'))).toEqual([]);
    const status = api.calls.find((x) => x.path.includes('/status'))!.body as {
      status: Record<string, unknown>;
    };
    expect(status.status).toMatchObject({ targetSize: 3, nextChange: '2026-12-07T17:00:00Z' });
    expect(inside.requeueAfterMs).toBe(7 * 3600_000 + 50);
    // At the change: the target is spec.size; two unclaimed pods go, the claimed one stays.
    now = new Date('2026-12-07T17:00:00Z');
    api.calls.length = 0;
    const after = (await sync(pools, 'cpu-pool')) as { requeueAfterMs?: number };
    const deleted = api.calls.filter((x) => x.method === 'DELETE').map((x) => x.path.split('/').pop());
    expect(deleted).toHaveLength(2);
    expect(deleted).not.toContain('warm-cpu-pool-aaaaaa');
    // Next Monday 09:00.
    expect(after.requeueAfterMs).toBe((6 * 24 + 16) * 3600_000 + 50);
  });

  it('keeps spec.size and reports an unknown schedule time zone in a condition', async () => {
    const { api, c, pools } = setup(() => new Date('2026-12-07T10:00:00Z'));
    c.pools.set(
      pool({
        size: 1,
        schedule: {
          timeZone: 'Nowhere/Land',
          windows: [{ days: ['Mon'], start: '09:00', end: '17:00', size: 3 }],
        },
      }),
    );
    c.templates.set(cpuTemplate());
    c.pods.set(warm('warm-cpu-pool-bbbbbb'));
    const r = await sync(pools, 'cpu-pool');
    expect(r).toBeUndefined();
    const status = (api.calls.find((x) => x.path.includes('/status'))!.body as { status: VDIPool['status'] })
      .status!;
    expect(status.targetSize).toBe(1);
    expect(status.conditions!.find((x) => x.type === 'ScheduleValid')).toMatchObject({
      status: 'False',
      reason: 'InvalidTimeZone',
    });
  });

  it('claims with one conditional patch, moves on after a 409, and remembers the claim', async () => {
    const { api, c, events, pools } = setup();
    const p = poolable(pool());
    c.pools.set(p);
    c.templates.set(cpuTemplate());
    c.pods.set(warm('warm-cpu-pool-aaaaaa'), warm('warm-cpu-pool-bbbbbb'));
    const session = sampleSession('alice-1', { template: 'cpu', resources: {} });
    const eff = resolveSession(session.spec, cpuTemplate().spec);
    // Whichever it tries first is taken by someone else: it gets the other.
    const order = ['warm-cpu-pool-aaaaaa', 'warm-cpu-pool-bbbbbb'];
    const first = (
      await (async () => {
        api.taken.add(order[0]!);
        api.taken.add(order[1]!);
        const none = await pools.claim(session, cpuTemplate(), eff);
        expect(none).toBeUndefined();
        return api.calls
          .filter((x) => x.method === 'PATCH' && x.path.includes('/pods/'))
          .map((x) => x.path.split('/').pop()!.split('?')[0]!);
      })()
    )[0]!;
    expect(api.calls.filter((x) => x.method === 'PATCH')).toHaveLength(2);
    api.calls.length = 0;
    api.taken.clear();
    api.taken.add(first);
    const claimed = await pools.claim(session, cpuTemplate(), eff);
    const other = order.find((o) => o !== first)!;
    expect(claimed?.metadata?.name).toBe(other);
    const patches = api.calls.filter((x) => x.method === 'PATCH' && x.path.includes('/pods/'));
    expect(patches).toHaveLength(2);
    expect(
      patches.every(
        (x) => (x.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion === '7',
      ),
    ).toBe(true);
    expect(events.reasons()).toEqual(['ClaimedFromPool']);
    expect(events.records[0]!.message).toContain(other);
    // Before the cache shows the claim, the session finds its pod by the claim this process made.
    expect(pools.claimedBy(session)?.metadata?.name).toBe(other);
  });

  it('claims nothing for a template without a poolable pool', async () => {
    const { api, c, pools } = setup();
    c.templates.set(cpuTemplate());
    c.pods.set(warm('warm-cpu-pool-aaaaaa'));
    const session = sampleSession('alice-1', { template: 'cpu', resources: {} });
    expect(
      await pools.claim(session, cpuTemplate(), resolveSession(session.spec, cpuTemplate().spec)),
    ).toBeUndefined();
    expect(api.calls).toEqual([]);
  });
});
