/**
 * The reconciler step by step against a fake API server that records every call (in the manner
 * of sample-controller's tests): what it writes, in which order, and what it leaves alone.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { SESSION_FINALIZER, type VDISession, type VDITemplateSpec } from '@vdi/crd-types';
import { LABEL_USER_HASH, homePvcName, ownerAnnotations, ownerHash, ownerHomeName } from '@vdi/session-spec';
import { sampleOptions, sampleSession, sampleTemplate } from '@vdi/session-spec/testing';
import { BURST_QUIET_MS, START_STEPS_WINDOW_MS, Reconciler } from './reconcile.js';
import {
  apiError,
  asClient,
  fakeCaches,
  FakeKubeClient,
  RecordingEvents,
  sessionObject,
  silentLog,
  testConfig,
} from './testing.js';

const NOW = new Date('2026-03-02T09:00:00Z');
const KEY = 'vdi-sessions/alice-1';
/** The children of a session without a home, in the order they are written: the pod as soon as what it needs is there. */
const APPLIED = [
  'apply Secret/alice-1-auth',
  'apply NetworkPolicy/alice-1',
  'create Pod/alice-1',
  'apply Service/alice-1',
  'apply Middleware/alice-1-forward-auth',
  'apply IngressRoute/alice-1',
];
/** What the deletion path deletes of them: the pod first. */
const DELETED = [
  'delete Pod/alice-1',
  'delete Service/alice-1',
  'delete Secret/alice-1-auth',
  'delete NetworkPolicy/alice-1',
  'delete IngressRoute/alice-1',
  'delete Middleware/alice-1-forward-auth',
];

function world(
  o: {
    template?: Partial<VDITemplateSpec>;
    session?: Partial<VDISession['metadata']>;
    spec?: Partial<VDISession['spec']>;
    now?: () => Date;
    othersWaiting?: () => boolean;
    quietStarts?: () => boolean;
  } = {},
) {
  const client = new FakeKubeClient();
  const cache = fakeCaches();
  const events = new RecordingEvents();
  client.seed(sampleTemplate('ubuntu-desktop', { persistence: 'none', ...o.template }));
  const s = sessionObject(sampleSession('alice-1', o.spec));
  s.metadata = { ...s.metadata, creationTimestamp: new Date(NOW.getTime() - 1000), ...o.session };
  const session = client.seed(s);
  cache.sync(client);
  const reconciler = new Reconciler({
    caches: cache.caches,
    client: asClient(client),
    config: testConfig(sampleOptions()),
    log: silentLog,
    events,
    now: o.now ?? (() => NOW),
    ...(o.othersWaiting ? { othersWaiting: o.othersWaiting } : {}),
    ...(o.quietStarts ? { quietStarts: o.quietStarts } : {}),
  });
  /** Reconciles once and returns what it wrote (`verb Kind/name`), clearing the record. */
  const pass = async () => {
    client.clear();
    const result = await reconciler.reconcile(KEY);
    return { result, writes: client.summary(client.writes()), calls: client.calls.slice() };
  };
  /** The session made and its pod's first event handled (the status then names the pod). */
  const settle = async () => {
    await pass();
    cache.sync(client);
    await pass();
    cache.sync(client);
  };
  return { client, cache, events, reconciler, session, pass, settle };
}

describe('Reconciler', () => {
  it('gives a new session the finalizer and its children in order in one pass, then one status', async () => {
    const w = world();
    const { writes, calls, result } = await w.pass();
    expect(writes).toEqual(['patch VDISession/alice-1', ...APPLIED]);
    // One pass, and no read: the pod is created (a create fails rather than change an existing one).
    expect(w.client.summary(calls)).toEqual(writes);
    expect(w.events.reasons()).toContain('DesktopCreated');
    expect(w.client.stored<VDISession>('VDISession', 'alice-1', 'vdi-sessions')?.metadata.finalizers).toEqual(
      [SESSION_FINALIZER],
    );
    // The first status waits for the pod's first steps (one write for a quick start, not two),
    // and the pass asks to be run again then even if no event comes.
    expect(w.client.stored<VDISession>('VDISession', 'alice-1', 'vdi-sessions')?.status).toBeUndefined();
    expect(result).toEqual({ requeueAfterMs: START_STEPS_WINDOW_MS });
    w.cache.sync(w.client);
    expect((await w.pass()).writes).toEqual(['patch VDISession/alice-1/status']);
    const status = w.client.stored<VDISession>('VDISession', 'alice-1', 'vdi-sessions')?.status;
    expect(status).toMatchObject({ phase: expect.any(String), startPath: 'Cold' });
  });

  it('while other sessions wait to start, ends a new session’s pass at its pod and writes its routes in the next', async () => {
    let waiting = true;
    const w = world({ othersWaiting: () => waiting });
    const first = await w.pass();
    const podAt = APPLIED.indexOf('create Pod/alice-1');
    expect(first.writes).toEqual(['patch VDISession/alice-1', ...APPLIED.slice(0, podAt + 1)]);
    expect(first.result).toEqual({ requeueAfterMs: START_STEPS_WINDOW_MS });
    expect(w.client.stored<VDISession>('VDISession', 'alice-1', 'vdi-sessions')?.status).toBeUndefined();
    // Its next pass, the others still waiting: the rest of its children, then its first status
    // (never a status for a session whose routes are not written).
    w.cache.sync(w.client);
    const second = await w.pass();
    expect(second.writes).toEqual([...APPLIED.slice(podAt + 1), 'patch VDISession/alice-1/status']);
    // Nobody waiting: a new session goes the whole way in one pass, as before.
    waiting = false;
    const alone = world({ othersWaiting: () => waiting });
    expect((await alone.pass()).writes).toEqual(['patch VDISession/alice-1', ...APPLIED]);
  });

  describe('in a burst of starts', () => {
    /** The desktop pod as the cluster shows it: made at NOW, with these conditions. */
    /** Pod conditions as the API server sends them (times as strings). */
    type Cond = {
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime: string;
    };
    const podWith = (w: ReturnType<typeof world>, conditions: Cond[]) => {
      const pod = w.client.stored<V1Pod>('Pod', 'alice-1', 'vdi-sessions')!;
      w.client.seed({
        ...pod,
        metadata: { ...pod.metadata, creationTimestamp: NOW.toISOString() },
        spec: {
          ...pod.spec!,
          ...(conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'True')
            ? { nodeName: 'gpu-1' }
            : {}),
        },
        status: { phase: 'Pending', conditions },
      } as unknown as V1Pod);
      w.cache.sync(w.client);
    };
    const placed = { type: 'PodScheduled', status: 'True', lastTransitionTime: NOW.toISOString() };
    const stored = (w: ReturnType<typeof world>) =>
      w.client.stored<VDISession>('VDISession', 'alice-1', 'vdi-sessions')?.status;

    it('writes no progress of a new session, only its Running: one status write per start', async () => {
      let now = NOW;
      const w = world({ quietStarts: () => true, now: () => now });
      await w.pass();
      podWith(w, [placed]);
      now = new Date(NOW.getTime() + 2_000);
      const starting = await w.pass();
      // Its children are all there; its placed, starting desktop is not written about.
      expect(starting.writes).toEqual([]);
      expect(stored(w)).toBeUndefined();
      // Looked at again by the end of the window if nothing (its pod's next event) comes first.
      expect(starting.result?.refreshWithinMs).toBe(BURST_QUIET_MS - 2_000);
      podWith(w, [placed, { type: 'Ready', status: 'True', lastTransitionTime: now.toISOString() }]);
      expect((await w.pass()).writes).toEqual(['patch VDISession/alice-1/status']);
      expect(stored(w)).toMatchObject({
        phase: 'Running',
        startPath: 'Cold',
        scheduledAt: NOW.toISOString().replace('.000', ''),
      });
    });

    it('writes at once what its owner waits out or must act on, and progress after the window', async () => {
      let now = new Date(NOW.getTime() + 2_000);
      // A queue for a GPU is told at once.
      const gpu = world({ quietStarts: () => true, now: () => now });
      await gpu.pass();
      podWith(gpu, [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: '0/1 nodes are available: 1 Insufficient nvidia.com/gpu.',
          lastTransitionTime: NOW.toISOString(),
        },
      ]);
      expect((await gpu.pass()).writes).toEqual(['patch VDISession/alice-1/status']);
      expect(stored(gpu)?.reason).toBe('WaitingForGPU');
      // A start still moving on when its window ends: its progress is written then.
      const slow = world({ quietStarts: () => true, now: () => now });
      await slow.pass();
      podWith(slow, [placed]);
      expect((await slow.pass()).writes).toEqual([]);
      now = new Date(NOW.getTime() + BURST_QUIET_MS);
      expect((await slow.pass()).writes).toEqual(['patch VDISession/alice-1/status']);
      expect(stored(slow)?.phase).toBe('Starting');
      // No burst: written at once, as always.
      now = new Date(NOW.getTime() + 2_000);
      const alone = world({ quietStarts: () => false, now: () => now });
      await alone.pass();
      podWith(alone, [placed]);
      expect((await alone.pass()).writes).toEqual(['patch VDISession/alice-1/status']);
    });
  });

  describe('a per-user home', () => {
    const owner = { issuer: 'https://id.example.com/realms/vdi', subject: 'alice-sub' };
    const selector = `app.kubernetes.io/part-of=vdi-platform,${LABEL_USER_HASH}=${ownerHash(owner)}`;
    const home = (name: string, holder: typeof owner) => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name,
        namespace: 'vdi-sessions',
        labels: {
          'app.kubernetes.io/part-of': 'vdi-platform',
          'app.kubernetes.io/component': 'home',
          [LABEL_USER_HASH]: ownerHash(holder),
        },
        annotations: ownerAnnotations(holder),
      },
      spec: {},
    });
    /** A home of 0.1.x (e-mail keyed, no owner yet): the admin migration may hand it to an owner. */
    const legacyHome = (email: string) => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: homePvcName(email),
        namespace: 'vdi-sessions',
        labels: { 'app.kubernetes.io/part-of': 'vdi-platform', 'app.kubernetes.io/component': 'home' },
      },
      spec: {},
    });
    const mounted = (w: ReturnType<typeof world>) =>
      w.client
        .stored<{ spec: { volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[] } }>(
          'Pod',
          'alice-1',
          'vdi-sessions',
        )
        ?.spec.volumes.find((v) => v.name === 'home')?.persistentVolumeClaim?.claimName;

    it("is looked up with one list of the owner's claims only while a home could be handed over, and created when there is none", async () => {
      const w = world({ template: { persistence: 'user' }, spec: { owner } });
      w.client.seed(home(ownerHomeName({ ...owner, subject: 'bob-sub' }), { ...owner, subject: 'bob-sub' }));
      w.client.seed(legacyHome('carol@example.com'));
      w.cache.sync(w.client);
      const { calls, writes } = await w.pass();
      expect(calls.filter((c) => c.verb === 'list')).toEqual([
        expect.objectContaining({ kind: 'PersistentVolumeClaim', labelSelector: selector }),
      ]);
      expect(writes).toContain(`create PersistentVolumeClaim/${ownerHomeName(owner)}`);
      expect(mounted(w)).toBe(ownerHomeName(owner));
    });

    it('is created without asking the API server when no cached home could be handed to anyone', async () => {
      const w = world({ template: { persistence: 'user' }, spec: { owner } });
      w.client.seed(home(ownerHomeName({ ...owner, subject: 'bob-sub' }), { ...owner, subject: 'bob-sub' }));
      w.cache.sync(w.client);
      const { calls, writes } = await w.pass();
      expect(calls.filter((c) => c.verb === 'list' || c.verb === 'get')).toEqual([]);
      expect(writes).toContain(`create PersistentVolumeClaim/${ownerHomeName(owner)}`);
      expect(mounted(w)).toBe(ownerHomeName(owner));
    });

    it("is the owner's own when it exists but is not cached yet (the create's 409, checked as the owner's)", async () => {
      const w = world({ template: { persistence: 'user' }, spec: { owner } });
      w.client.seed(home(ownerHomeName(owner), owner));
      await w.pass();
      expect(mounted(w)).toBe(ownerHomeName(owner));
    });

    it('is the one the migration handed to the owner even before the cache shows it (nothing created)', async () => {
      const w = world({ template: { persistence: 'user' }, spec: { owner } });
      // The cache holds the 0.1.x home as it was; the migration has just annotated it for alice.
      w.client.seed(legacyHome('alice@example.com'));
      w.cache.sync(w.client);
      w.client.seed(home(homePvcName('alice@example.com'), owner));
      const { writes } = await w.pass();
      expect(writes.filter((c) => c.includes('PersistentVolumeClaim'))).toEqual([]);
      expect(mounted(w)).toBe(homePvcName('alice@example.com'));
      // Once cached, no list at all.
      w.cache.sync(w.client);
      const again = await w.pass();
      expect(again.calls.filter((c) => c.verb === 'list')).toEqual([]);
    });

    it("is never one that appeared meanwhile without the owner's label: no pod this pass, and the next says whose it is", async () => {
      const w = world({ template: { persistence: 'user' }, spec: { owner } });
      const mallory = { ...owner, subject: 'mallory-sub' };
      // Named as alice's home would be, labelled and annotated for someone else, not cached yet.
      w.client.seed({ ...home(ownerHomeName(owner), mallory) });
      await expect(w.pass()).rejects.toMatchObject({ status: 409 });
      expect(w.client.stored('Pod', 'alice-1', 'vdi-sessions')).toBeUndefined();
      w.cache.sync(w.client);
      await w.pass();
      const status = w.client.stored<VDISession>('VDISession', 'alice-1', 'vdi-sessions')?.status;
      expect(status?.reason).toBe('HomeNotOwned');
      expect(w.client.stored('Pod', 'alice-1', 'vdi-sessions')).toBeUndefined();
    });
  });

  it('adds the finalizer only to the version it read (a test of its resourceVersion)', async () => {
    const w = world();
    const { calls } = await w.pass();
    expect(calls[0]).toMatchObject({
      verb: 'patch',
      kind: 'VDISession',
      contentType: 'application/json-patch+json',
      body: [
        { op: 'test', path: '/metadata/resourceVersion', value: w.session.metadata.resourceVersion },
        { op: 'add', path: '/metadata/finalizers', value: [SESSION_FINALIZER] },
      ],
    });
  });

  it('writes the status only to the session it read (a test of its uid)', async () => {
    const w = world();
    await w.pass();
    w.cache.sync(w.client);
    const { calls } = await w.pass();
    const status = calls.find((c) => c.subresource === 'status')!;
    expect(status.body).toEqual([
      { op: 'test', path: '/metadata/uid', value: w.session.metadata.uid },
      { op: 'add', path: '/status', value: expect.objectContaining({ phase: expect.any(String) }) },
    ]);
  });

  it('sends nothing when reconciled again with nothing changed', async () => {
    const w = world();
    await w.settle();
    const again = await w.pass();
    expect(again.calls).toEqual([]);
  });

  it('acts on its own last write while the cache has not caught up (no second finalizer or status)', async () => {
    const w = world();
    await w.pass();
    // The cache still holds the session without finalizer or status, and no children: nothing is
    // changed (the pod's create is refused as it exists) and nothing is announced twice; the
    // first status is written (the pod this pass found was not its own).
    const again = await w.pass();
    expect(w.client.summary(again.calls.filter((c) => c.status < 300 && c.verb !== 'get'))).toEqual([
      'patch VDISession/alice-1/status',
    ]);
    expect(w.events.reasons().filter((r) => r === 'DesktopCreated')).toHaveLength(1);
    const third = await w.pass();
    expect(third.calls.filter((c) => c.status < 300 && c.verb !== 'get' && c.verb !== 'list')).toEqual([]);
  });

  it("recognises the echo of its own status write (it wakes nobody), not someone else's change", async () => {
    const w = world();
    await w.pass();
    // Its first status: the pod not in the cache yet.
    await w.pass();
    const echo = w.client.stored<VDISession>('VDISession', 'alice-1', 'vdi-sessions')!;
    expect(echo.status?.phase).toBeDefined();
    expect(w.reconciler.isOwnSessionWrite(echo)).toBe(true);
    // Once the cache holds it, no second copy is kept; the echo from the other watch is still recognised.
    w.reconciler.cacheHas(echo);
    expect(w.reconciler.isOwnSessionWrite(echo)).toBe(true);
    // The next reconcile reads the cache (the pod now shows in it, hence a status write), not a stale copy.
    w.cache.sync(w.client);
    expect((await w.pass()).writes).toEqual(['patch VDISession/alice-1/status']);
    const edited = w.client.seed<VDISession>({ ...echo, spec: { ...echo.spec, state: 'Stopped' } });
    expect(w.reconciler.isOwnSessionWrite(edited)).toBe(false);
  });

  it('ends quietly when the session is deleted before it gets the finalizer', async () => {
    const w = world();
    w.client.failOnce((c) => c.verb === 'patch' && c.kind === 'VDISession', apiError(404));
    const { result, calls } = await w.pass();
    expect(result).toEqual({});
    expect(w.client.summary(calls)).toEqual(['patch VDISession/alice-1']);
  });

  it('deletes a deleting session’s children, the pod first, then removes its finalizer', async () => {
    const w = world();
    await w.pass();
    await w.client.delete({
      apiVersion: 'vdi.kasm.io/v1alpha1',
      kind: 'VDISession',
      metadata: { name: 'alice-1', namespace: 'vdi-sessions' },
    });
    w.cache.sync(w.client);
    // The cache still shows the pod until its delete event: wait for it.
    const first = await w.pass();
    expect(first.writes).toEqual(['patch VDISession/alice-1/status', ...DELETED]);
    expect(first.result).toEqual({ requeueAfterMs: 500 });
    // Each delete is conditional on the uid of what it found.
    const podDelete = first.calls.find((c) => c.verb === 'delete' && c.kind === 'Pod')!;
    expect(podDelete.body).toEqual({ uid: expect.any(String) });

    w.cache.sync(w.client);
    const second = await w.pass();
    expect(second.writes).toEqual(['patch VDISession/alice-1']);
    expect(second.calls.at(-1)!.body).toEqual([
      { op: 'test', path: '/metadata/uid', value: w.session.metadata.uid },
      { op: 'test', path: '/metadata/finalizers/0', value: SESSION_FINALIZER },
      { op: 'remove', path: '/metadata/finalizers/0' },
    ]);
    expect(w.client.stored('VDISession', 'alice-1', 'vdi-sessions')).toBeUndefined();
    expect(w.events.reasons()).toContain('Deleted');

    w.cache.sync(w.client);
    expect((await w.pass()).calls).toEqual([]);
  });

  it('never deletes an object of the same name that another session owns', async () => {
    const w = world({ session: { finalizers: [SESSION_FINALIZER], deletionTimestamp: NOW } });
    w.client.seed({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'alice-1', namespace: 'vdi-sessions', ownerReferences: [{ uid: 'someone-else' }] },
    });
    w.cache.sync(w.client);
    const { writes } = await w.pass();
    expect(writes).toEqual(['patch VDISession/alice-1/status', 'patch VDISession/alice-1']);
    expect(w.client.stored('Service', 'alice-1', 'vdi-sessions')).toBeDefined();
  });

  it('deletes only the desktop pod of a stopped session', async () => {
    const w = world();
    await w.pass();
    const pod = w.client.stored('Pod', 'alice-1', 'vdi-sessions')!;
    w.cache.sync(w.client);
    await w.client.mergePatch(
      {
        apiVersion: 'vdi.kasm.io/v1alpha1',
        kind: 'VDISession',
        metadata: { name: 'alice-1', namespace: 'vdi-sessions' },
      },
      { spec: { state: 'Stopped' } },
    );
    w.cache.sync(w.client);
    const { writes, calls } = await w.pass();
    expect(writes).toEqual(['delete Pod/alice-1', 'patch VDISession/alice-1/status']);
    expect(calls.find((c) => c.verb === 'delete')!.body).toEqual({ uid: pod.metadata.uid });
    expect(w.events.reasons()).toContain('Stopped');
    expect(w.client.stored('Service', 'alice-1', 'vdi-sessions')).toBeDefined();
  });

  it('ends quietly when its status write is refused because the name now holds a newer session', async () => {
    const w = world({ session: { finalizers: [SESSION_FINALIZER] } });
    await w.pass();
    w.cache.sync(w.client);
    // The session was deleted and made again under the same name; the cache has not seen it yet.
    w.client.remove('VDISession', 'alice-1', 'vdi-sessions');
    const newer = sessionObject(sampleSession());
    newer.metadata.uid = '00000000-0000-4000-8000-00000000beef';
    w.client.seed(newer);
    const { result, calls } = await w.pass();
    expect(result).toBeDefined();
    expect(calls.slice(-2).map((c) => [c.verb, c.kind, c.subresource, c.status])).toEqual([
      ['patch', 'VDISession', 'status', 422],
      ['get', 'VDISession', undefined, 200],
    ]);
    expect(w.client.stored<VDISession>('VDISession', 'alice-1', 'vdi-sessions')?.status).toBeUndefined();
  });

  it('releases the pod of a start that fails for good in the pass that finds it failed (no later event needed)', async () => {
    let now = NOW;
    const w = world({ now: () => now });
    await w.pass();
    // The pod was made and cannot be placed for a reason other than a busy GPU: its start deadline runs.
    const pod = w.client.stored<V1Pod>('Pod', 'alice-1', 'vdi-sessions')!;
    w.client.seed({
      ...pod,
      metadata: { ...pod.metadata, creationTimestamp: NOW.toISOString() },
      status: {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/1 nodes are available: 1 node(s) were unschedulable.',
            lastTransitionTime: NOW.toISOString(),
          },
        ],
      },
    });
    w.cache.sync(w.client);
    now = new Date(NOW.getTime() + 301_000);
    const { writes } = await w.pass();
    // Failed, then the pod released, then the status without the pod.
    expect(writes).toEqual([
      'patch VDISession/alice-1/status',
      'delete Pod/alice-1',
      'patch VDISession/alice-1/status',
    ]);
    const status = w.client.stored<VDISession>('VDISession', 'alice-1', 'vdi-sessions')!.status!;
    expect(status).toMatchObject({ phase: 'Failed', reason: 'StartDeadlineExceeded' });
    expect(w.events.reasons()).toContain('DesktopReleased');
    // Reconciled again: the failure stays, nothing is re-made.
    w.cache.sync(w.client);
    expect((await w.pass()).writes).toEqual([]);
  });

  it('fails when its status write is refused for its own session', async () => {
    const w = world({ session: { finalizers: [SESSION_FINALIZER] } });
    await w.pass();
    w.cache.sync(w.client);
    w.client.failOnce((c) => c.subresource === 'status', apiError(422));
    await expect(w.reconciler.reconcile(KEY)).rejects.toMatchObject({ status: 422 });
  });

  it('removes what a session that vanished with its finalizer owned (kubernetes/kubernetes#77988)', async () => {
    const w = world();
    await w.pass();
    w.client.remove('VDISession', 'alice-1', 'vdi-sessions');
    w.cache.sync(w.client);
    const { writes, result } = await w.pass();
    expect(writes).toEqual(DELETED);
    expect(result).toEqual({});
    w.cache.sync(w.client);
    expect((await w.pass()).calls).toEqual([]);
  });

  it('sends nothing on a resync of an unchanged session; re-applies a child someone deleted, alone', async () => {
    const w = world();
    await w.settle();
    w.reconciler.forgetApplied();
    expect((await w.pass()).calls).toEqual([]);
    w.client.remove('Middleware', 'alice-1-forward-auth', 'vdi-sessions');
    w.cache.sync(w.client);
    w.reconciler.forgetChild({
      kind: 'Middleware',
      metadata: { name: 'alice-1-forward-auth', namespace: 'vdi-sessions' },
    });
    expect((await w.pass()).writes).toEqual(['apply Middleware/alice-1-forward-auth']);
  });

  it('reports a refused apply in the status and retries slowly', async () => {
    const w = world({ session: { finalizers: [SESSION_FINALIZER] } });
    w.client.failOnce((c) => c.verb === 'apply' && c.kind === 'NetworkPolicy', apiError(403, 'forbidden'));
    const { writes, result } = await w.pass();
    expect(writes).toEqual([
      'apply Secret/alice-1-auth',
      'apply NetworkPolicy/alice-1',
      'patch VDISession/alice-1/status',
    ]);
    expect(result).toEqual({ requeueAfterMs: 30_000 });
  });
});
