import type { V1Pod } from '@kubernetes/client-node';
import { API_VERSION, KIND_POOL, type VDIPool } from '@vdi/crd-types';
import { chooseEncoder } from './encoder.js';
import { ANNOTATION_CLAIMED_AT, LABEL_SESSION, LABEL_USER_HASH } from './labels.js';
import {
  ANNOTATION_POOL_FIT,
  ANNOTATION_POOL_KEY_ID,
  LABEL_CLAIMED_BY,
  LABEL_POOL,
  claimCandidates,
  madeWithKey,
  poolKeyId,
  claimPatch,
  desktopAuthorizationOf,
  desktopPasswordOf,
  desktopPodName,
  poolCounts,
  poolNetworkPolicy,
  poolPodName,
  poolPodPassword,
  poolPodSecret,
  poolStatus,
  poolability,
  renderPoolPod,
} from './pool.js';
import { resolveSession } from './resolve.js';
import { sessionPassword } from './secrets.js';
import { sampleOptions, sampleSession, sampleTemplate } from './testing.js';

const KEY = 'k'.repeat(16) + 'pool-unit-test-session-key-0123456789';
const cpuPlan = chooseEncoder('auto', 0, { products: [] });

function pool(spec: Partial<VDIPool['spec']> = {}): VDIPool {
  return {
    apiVersion: API_VERSION,
    kind: KIND_POOL,
    metadata: { name: 'cpu-pool', namespace: 'vdi-sessions', uid: 'pool-uid-1', generation: 2 },
    spec: { template: 'cpu', size: 3, ...spec },
  };
}

const poolableTemplate = () =>
  sampleTemplate('cpu', {
    persistence: 'none',
    resources: { defaultGPU: 0, maxGPU: 0, defaultMemory: '2Gi', defaultCPU: '1' },
  });

function warmPod(name: string, opts: { ready?: boolean; claimedBy?: string; fit?: object } = {}): V1Pod {
  const r = renderPoolPod(pool(), poolableTemplate(), sampleOptions(), {
    podName: name,
    encoderPlan: cpuPlan,
    sessionKey: KEY,
  });
  const pod = r.pod;
  pod.metadata!.resourceVersion = `rv-${name}`;
  pod.metadata!.uid = `uid-${name}`;
  if (opts.claimedBy) pod.metadata!.labels![LABEL_CLAIMED_BY] = opts.claimedBy;
  if (opts.fit) pod.metadata!.annotations![ANNOTATION_POOL_FIT] = JSON.stringify(opts.fit);
  pod.status = {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
  };
  return pod;
}

describe('poolability', () => {
  it('pools a persistence none websockets template only, and says why not and what to do otherwise', () => {
    expect(poolability(poolableTemplate(), 'cpu')).toMatchObject({ poolable: true, reason: 'Poolable' });
    const user = poolability(sampleTemplate('u', { persistence: 'user' }), 'u');
    expect(user).toMatchObject({ poolable: false, reason: 'PersistentHome' });
    expect(user.message).toMatch(/cannot gain a home volume.*persistence none/);
    expect(poolability(sampleTemplate('s', { persistence: 'session' }), 's').reason).toBe('PersistentHome');
    const webrtc = poolability(
      sampleTemplate('w', { persistence: 'none', streaming: { mode: 'webrtc' } }),
      'w',
    );
    expect(webrtc).toMatchObject({ poolable: false, reason: 'WebRTC' });
    expect(webrtc.message).toMatch(/TURN credentials are minted per session/);
    expect(poolability(undefined, 'gone')).toMatchObject({ poolable: false, reason: 'TemplateNotFound' });
    expect(poolability(sampleTemplate('r', { persistence: 'none', retired: true }), 'r').reason).toBe(
      'TemplateRetired',
    );
  });
});

describe('renderPoolPod', () => {
  it('renders the desktop pod with no user identity, owned by the pool, with its own password', () => {
    const r = renderPoolPod(pool(), poolableTemplate(), sampleOptions(), {
      podName: 'warm-cpu-pool-abc123',
      encoderPlan: cpuPlan,
      sessionKey: KEY,
    });
    const labels = r.pod.metadata!.labels!;
    expect(labels[LABEL_POOL]).toBe('cpu-pool');
    expect(labels['vdi.kasm.io/template']).toBe('cpu');
    expect(labels[LABEL_SESSION]).toBeUndefined();
    expect(labels[LABEL_USER_HASH]).toBeUndefined();
    expect(r.pod.metadata!.annotations!['vdi.kasm.io/user']).toBeUndefined();
    expect(r.pod.metadata!.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'VDIPool', name: 'cpu-pool', uid: 'pool-uid-1', controller: true }),
    ]);
    expect(r.pod.metadata!.name).toBe('warm-cpu-pool-abc123');
    // No user env: nothing names a user; the password comes from its own Secret.
    const env = r.pod.spec!.containers[0]!.env!;
    expect(JSON.stringify(env)).not.toMatch(/example\.com|alice/);
    expect(env.find((e) => e.name === 'SELKIES_BASIC_AUTH_PASSWORD')?.valueFrom?.secretKeyRef?.name).toBe(
      'warm-cpu-pool-abc123-auth',
    );
    const password = Buffer.from(r.secret.data!.password!, 'base64').toString();
    expect(password).toBe(poolPodPassword(KEY, 'warm-cpu-pool-abc123'));
    // Derived from the pod's name, so it is no session's password and no other pod's.
    expect(password).not.toBe(poolPodPassword(KEY, 'warm-cpu-pool-abc124'));
    expect(JSON.parse(r.pod.metadata!.annotations![ANNOTATION_POOL_FIT]!)).toEqual({
      gpu: 0,
      cpu: '1',
      memory: '2Gi',
      width: 1920,
      height: 1080,
      framerate: 60,
    });
    const secret = poolPodSecret(r.secret, { metadata: { name: 'warm-cpu-pool-abc123', uid: 'pod-uid' } });
    expect(secret.metadata!.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Pod', name: 'warm-cpu-pool-abc123', uid: 'pod-uid' }),
    ]);
  });

  it("narrows the template's placement by the pool's", () => {
    const t = sampleTemplate('gpu', { persistence: 'none', nodeSelector: { zone: 'a' } });
    const r = renderPoolPod(
      pool({ placement: { nodeSelector: { rack: '7' }, gpuProduct: 'NVIDIA-L4-SHARED' } }),
      t,
      sampleOptions(),
      {
        podName: 'warm-gpu-000000',
        encoderPlan: chooseEncoder('auto', 1, {
          products: [{ product: 'NVIDIA-L4-SHARED', free: 8, total: 8 }],
        }),
        sessionKey: KEY,
      },
    );
    expect(r.pod.spec!.nodeSelector).toEqual({
      zone: 'a',
      rack: '7',
      'nvidia.com/gpu.product': 'NVIDIA-L4-SHARED',
    });
  });

  it('names pods as DNS-1035 labels of at most 48 characters', () => {
    expect(poolPodName('cpu-pool', 'abc123')).toBe('warm-cpu-pool-abc123');
    const long = poolPodName('0.very.long-pool-name-that-goes-on-and-on-and-on', 'zzzzzz');
    expect(long.length).toBeLessThanOrEqual(48);
    expect(long).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
    expect(() => poolPodName('p', 'ABC')).toThrow(/6 of/);
  });

  it('isolates the warm pods with a policy selecting the pool', () => {
    const np = poolNetworkPolicy(pool(), poolableTemplate(), sampleOptions());
    expect(np.metadata!.name).toBe('vdipool-cpu-pool');
    expect(np.spec.podSelector).toEqual({ matchLabels: { [LABEL_POOL]: 'cpu-pool' } });
    expect(np.spec.policyTypes).toEqual(expect.arrayContaining(['Ingress', 'Egress']));
  });
});

describe('claims', () => {
  const session = sampleSession('alice-1', { template: 'cpu', resources: {} });
  session.metadata.uid = 'session-uid-1';
  const eff = resolveSession(session.spec, poolableTemplate().spec);

  it('offers only unclaimed Ready pods that fit, each session starting at its own one', () => {
    const pods = [
      warmPod('warm-a-000001'),
      warmPod('warm-a-000002', { ready: false }),
      warmPod('warm-a-000003', { claimedBy: 'other' }),
      warmPod('warm-a-000004'),
      warmPod('warm-a-000005', {
        fit: { gpu: 0, cpu: '500m', memory: '2Gi', width: 1920, height: 1080, framerate: 60 },
      }),
      warmPod('warm-a-000006'),
    ];
    const names = (uid: string) =>
      claimCandidates(pods, 'cpu', eff, uid, poolKeyId(KEY)).map((p) => p.metadata!.name);
    expect([...names('session-uid-1')].sort()).toEqual(['warm-a-000001', 'warm-a-000004', 'warm-a-000006']);
    // Deterministic per session; different sessions start at different pods.
    expect(names('session-uid-1')).toEqual(names('session-uid-1'));
    const firsts = new Set(Array.from({ length: 20 }, (_, i) => names(`uid-${i}`)[0]));
    expect(firsts.size).toBeGreaterThan(1);
    // Another template's pods never.
    expect(claimCandidates(pods, 'other-template', eff, 'x', poolKeyId(KEY))).toEqual([]);
    // A session asking for more memory than the pods have fits none.
    const big = resolveSession(
      { ...session.spec, resources: { memory: '3Gi' } },
      { ...poolableTemplate().spec, resources: { ...poolableTemplate().spec.resources, maxMemory: '8Gi' } },
    );
    expect(claimCandidates(pods, 'cpu', big, 'x', poolKeyId(KEY))).toEqual([]);
  });

  it('offers only pods made with this session key: another key would give them a password nobody knows', () => {
    const pods = [warmPod('warm-a-000001'), warmPod('warm-a-000002')];
    expect(pods[0]!.metadata!.annotations![ANNOTATION_POOL_KEY_ID]).toBe(poolKeyId(KEY));
    // The fingerprint is not the key, and another key has another one.
    expect(poolKeyId(KEY)).not.toContain(KEY.slice(0, 8));
    expect(poolKeyId(`${KEY}x`)).not.toBe(poolKeyId(KEY));
    expect(claimCandidates(pods, 'cpu', eff, 'x', poolKeyId(`${KEY}x`))).toEqual([]);
    delete pods[1]!.metadata!.annotations![ANNOTATION_POOL_KEY_ID];
    expect(claimCandidates(pods, 'cpu', eff, 'x', poolKeyId(KEY)).map((p) => p.metadata!.name)).toEqual([
      'warm-a-000001',
    ]);
    expect(madeWithKey(pods[1]!, poolKeyId(KEY))).toBe(false);
  });

  it('claims with one patch: the session identity, claimed-by and owner, conditional on the version', () => {
    const patch = claimPatch(warmPod('warm-a-000001'), session, new Date('2026-12-04T10:20:00.250Z')) as {
      metadata: Record<string, unknown> & {
        labels: Record<string, string>;
        annotations: Record<string, string>;
      };
    };
    // GPU time is the owner's from the claim on (heldSlices), not from when the pool warmed the pod.
    expect(patch.metadata.annotations[ANNOTATION_CLAIMED_AT]).toBe('2026-12-04T10:20:00Z');
    expect(patch.metadata.resourceVersion).toBe('rv-warm-a-000001');
    expect(patch.metadata.labels).toMatchObject({
      [LABEL_SESSION]: 'alice-1',
      [LABEL_CLAIMED_BY]: 'session-uid-1',
    });
    expect(patch.metadata.labels[LABEL_USER_HASH]).toMatch(/^[0-9a-f]+$/);
    expect(patch.metadata.ownerReferences).toEqual([
      expect.objectContaining({
        kind: 'VDISession',
        name: 'alice-1',
        uid: 'session-uid-1',
        controller: true,
      }),
    ]);
  });

  it("opens a claimed desktop with its pod's password, and a cold one with the session's", () => {
    const cold = { ...session, status: {} };
    expect(desktopPodName(cold)).toBe('alice-1');
    expect(desktopPasswordOf(KEY, cold)).toBe(sessionPassword(KEY, 'session-uid-1'));
    const pooled = { ...session, status: { startPath: 'Pool' as const, desktopPod: 'warm-a-000001' } };
    expect(desktopPodName(pooled)).toBe('warm-a-000001');
    expect(desktopPasswordOf(KEY, pooled)).toBe(poolPodPassword(KEY, 'warm-a-000001'));
    expect(Buffer.from(desktopAuthorizationOf(KEY, pooled).slice(6), 'base64').toString()).toBe(
      `vdi:${poolPodPassword(KEY, 'warm-a-000001')}`,
    );
  });
});

describe('pool status', () => {
  it('counts warm, starting and claimed pods of the pool only', () => {
    const failed = warmPod('warm-a-000009', { ready: false });
    failed.status!.phase = 'Failed';
    const other = warmPod('warm-b-000001');
    other.metadata!.labels![LABEL_POOL] = 'other';
    const counts = poolCounts(
      [
        warmPod('warm-a-000001'),
        warmPod('warm-a-000002'),
        warmPod('warm-a-000003', { ready: false }),
        warmPod('warm-a-000004', { claimedBy: 's1' }),
        failed,
        other,
      ],
      'cpu-pool',
    );
    expect(counts).toEqual({ warm: 2, starting: 1, claimed: 1 });
  });

  it('says Poolable with the reason, keeping the transition time while it holds', () => {
    const now = new Date('2026-12-05T10:00:00Z');
    const s = poolStatus(
      pool(),
      { warm: 1, starting: 0, claimed: 0 },
      poolability(poolableTemplate(), 'cpu'),
      now,
    );
    expect(s).toMatchObject({ observedGeneration: 2, warm: 1, starting: 0, claimed: 0 });
    expect(s.conditions![0]).toMatchObject({
      type: 'Poolable',
      status: 'True',
      lastTransitionTime: '2026-12-05T10:00:00Z',
    });
    const later = poolStatus(
      { ...pool(), status: s },
      { warm: 3, starting: 0, claimed: 0 },
      poolability(poolableTemplate(), 'cpu'),
      new Date('2026-12-05T11:00:00Z'),
    );
    expect(later.conditions![0]!.lastTransitionTime).toBe('2026-12-05T10:00:00Z');
    const off = poolStatus(
      { ...pool(), status: s },
      { warm: 0, starting: 0, claimed: 0 },
      poolability(sampleTemplate('u', { persistence: 'user' }), 'u'),
      new Date('2026-12-05T11:00:00Z'),
    );
    expect(off.conditions![0]).toMatchObject({ status: 'False', reason: 'PersistentHome' });
  });
});
