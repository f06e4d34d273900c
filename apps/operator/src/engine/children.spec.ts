/**
 * ChildWriter against the recording fake: what a desired session's apply sends, and what a
 * deletion removes.
 */
import type { VDISession, VDITemplateSpec } from '@vdi/crd-types';
import { desiredSession, homePvcName } from '@vdi/session-spec';
import { sampleOptions, sampleSession, sampleTemplate } from '@vdi/session-spec/testing';
import { ChildWriter } from './children.js';
import * as fake from './testing.js';

const KEY = 'vdi-sessions/alice-1';

function setup(template: Partial<VDITemplateSpec> = {}) {
  const client = new fake.FakeKubeClient();
  const cache = fake.fakeCaches();
  const events = new fake.RecordingEvents();
  const session = client.seed(fake.sessionObject(sampleSession())) as VDISession;
  const desired = desiredSession(session, sampleTemplate('ubuntu-desktop', template), sampleOptions(), {
    nodes: [],
    pods: [],
    sessionKey: 'a-platform-session-key-for-engine-tests-0123456789',
  });
  const children = new ChildWriter({
    client: fake.asClient(client),
    caches: cache.caches,
    log: fake.silentLog,
    events,
  });
  return { client, cache, events, session, desired, children };
}

describe('ChildWriter.apply', () => {
  it('creates a per-user home only when it does not exist yet (its size is fixed once made), and never takes over one that appeared meanwhile', async () => {
    const w = setup({ persistence: 'user' });
    const home = homePvcName('alice@example.com');
    await w.children.apply(KEY, w.session, w.desired, undefined);
    // The first round (sent together, see the rounds test below).
    expect(w.client.summary().slice(0, 3).sort()).toEqual([
      'apply NetworkPolicy/alice-1',
      'apply Secret/alice-1-auth',
      `create PersistentVolumeClaim/${home}`,
    ]);

    // Another session of the owner, made with the home already there (the API server listed it): left as it is.
    w.client.clear();
    w.children.forgetApplied();
    await w.children.apply('vdi-sessions/alice-2', w.session, w.desired, undefined, true);
    expect(w.client.summary().filter((c) => c.includes('PersistentVolumeClaim'))).toEqual([]);

    // One neither cached nor listed, but there by now: another session of the owner just made it
    // (both started at once) — it is the owner's, so the start goes on.
    w.client.clear();
    w.client.remove('Pod', 'alice-1', 'vdi-sessions');
    await w.children.apply(KEY, w.session, w.desired, undefined);
    expect(w.client.summary()).toContain('create Pod/alice-1');
    // Someone else's under that name: this pass stops before the pod, and the next one checks
    // whose it is from the cache.
    const claim = w.client.stored<{ metadata: { labels: Record<string, string> } }>(
      'PersistentVolumeClaim',
      home,
      'vdi-sessions',
    )!;
    w.client.seed({
      ...claim,
      metadata: {
        ...claim.metadata,
        labels: { ...claim.metadata.labels, 'vdi.kasm.io/user-hash': 'someone-else' },
      },
    });
    w.client.clear();
    w.client.remove('Pod', 'alice-1', 'vdi-sessions');
    await expect(w.children.apply(KEY, w.session, w.desired, undefined)).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining(`home volume claim vdi-sessions/${home} appeared`),
    });
    expect(w.client.summary()).not.toContain('create Pod/alice-1');
  });

  it('sends each round of writes together, and starts a round only once the one before it is answered', async () => {
    const w = setup({ persistence: 'user' });
    const home = homePvcName('alice@example.com');
    // Every request waits until the test answers it: what was asked before that is one round.
    const asked: (() => void)[] = [];
    const gated = new Proxy(w.client, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        const fn = (v as (...a: unknown[]) => unknown).bind(target);
        if (prop !== 'call' && prop !== 'apply') return fn;
        return async (...args: unknown[]) => {
          await new Promise<void>((resolve) => asked.push(resolve));
          return fn(...args);
        };
      },
    });
    const children = new ChildWriter({
      client: fake.asClient(gated),
      caches: w.cache.caches,
      log: fake.silentLog,
      events: w.events,
    });
    let finished = false;
    const done = children.apply(KEY, w.session, w.desired, undefined).finally(() => (finished = true));
    const rounds: string[][] = [];
    while (!finished) {
      await new Promise((resolve) => setImmediate(resolve));
      if (asked.length === 0) continue;
      w.client.clear();
      for (const answer of asked.splice(0)) answer();
      await new Promise((resolve) => setImmediate(resolve));
      rounds.push(w.client.summary().sort());
    }
    await done;
    expect(rounds).toEqual([
      // What the pod needs: its credentials, its home, its isolation.
      ['apply NetworkPolicy/alice-1', 'apply Secret/alice-1-auth', `create PersistentVolumeClaim/${home}`],
      ['create Pod/alice-1'],
      // What the route points at, then the route: never served before its forward-auth exists.
      ['apply Middleware/alice-1-forward-auth', 'apply Service/alice-1'],
      ['apply IngressRoute/alice-1'],
    ]);
  });

  it('a write that fails ends the pass after its round: no pod without its credentials', async () => {
    const w = setup({ persistence: 'none' });
    w.client.failOnce((c) => c.kind === 'Secret', fake.apiError(500));
    await expect(w.children.apply(KEY, w.session, w.desired, undefined)).rejects.toMatchObject({
      status: 500,
    });
    // The round's other write went; nothing after the round did (no pod without its credentials).
    expect(w.client.summary().sort()).toEqual(['apply NetworkPolicy/alice-1', 'apply Secret/alice-1-auth']);
  });

  it('makes no pod while its home claim is still being deleted (a pod would keep it from going)', async () => {
    const w = setup({ persistence: 'session' });
    await w.children.apply(KEY, w.session, w.desired, undefined);
    w.client.remove('Pod', 'alice-1', 'vdi-sessions');
    const claim = w.client.stored<{ metadata: Record<string, unknown> }>(
      'PersistentVolumeClaim',
      'alice-1-home',
      'vdi-sessions',
    )!;
    w.client.seed({ ...claim, metadata: { ...claim.metadata, deletionTimestamp: '2026-03-02T09:00:00Z' } });
    w.cache.sync(w.client);
    w.client.clear();
    const result = await w.children.apply(KEY, w.session, w.desired, undefined);
    expect(result.waitingFor).toMatch(/alice-1-home to finish deleting/);
    expect(w.client.summary()).not.toContain('create Pod/alice-1');
    // Gone: the pod is made.
    w.client.remove('PersistentVolumeClaim', 'alice-1-home', 'vdi-sessions');
    w.cache.sync(w.client);
    expect(await w.children.apply(KEY, w.session, w.desired, undefined)).toEqual({ podCreated: true });
    expect(w.client.summary()).toContain('create Pod/alice-1');
  });

  it('re-sends nothing for the same desired state; the pod only when there is none', async () => {
    const w = setup();
    await w.children.apply(KEY, w.session, w.desired, undefined);
    expect(w.events.reasons()).toEqual(['DesktopCreated']);
    // Before the caches have caught up: our own applies are trusted as on their way.
    const pod = w.client.stored('Pod', 'alice-1', 'vdi-sessions') as never;
    w.client.clear();
    await w.children.apply(KEY, w.session, w.desired, pod, true);
    expect(w.client.calls).toEqual([]);
    // Once they have: nothing at all.
    w.cache.sync(w.client);
    w.client.clear();
    await w.children.apply(KEY, w.session, w.desired, pod);
    expect(w.client.calls).toEqual([]);
    // The pod is there (the cache has not seen it yet): its create is refused, nothing is re-made.
    await w.children.apply(KEY, w.session, w.desired, undefined);
    expect(w.client.calls.map((c) => `${c.verb} ${c.kind} ${c.status}`)).toEqual(['create Pod 409']);
    expect(w.events.reasons()).toEqual(['DesktopCreated']);
  });

  it('compares with the cache alone after a restart, and re-applies only what someone else changed or deleted', async () => {
    const w = setup({ persistence: 'none' });
    await w.children.apply(KEY, w.session, w.desired, undefined);
    w.cache.sync(w.client);
    const pod = w.client.stored('Pod', 'alice-1', 'vdi-sessions') as never;
    // A new process (an operator restart): nothing applied by it yet, the children carry their hash.
    const fresh = () =>
      new ChildWriter({
        client: fake.asClient(w.client),
        caches: w.cache.caches,
        log: fake.silentLog,
        events: w.events,
      });
    const restarted = fresh();
    w.client.clear();
    await restarted.apply(KEY, w.session, w.desired, pod);
    expect(w.client.calls).toEqual([]);
    // Someone edits the Service and deletes the NetworkPolicy (main.ts forgets a deleted child).
    const svc = w.client.stored<{ spec: { ports: unknown[] } }>('Service', 'alice-1', 'vdi-sessions')!;
    w.client.seed({ ...svc, spec: { ...svc.spec, ports: [] } });
    w.client.remove('NetworkPolicy', 'alice-1', 'vdi-sessions');
    w.cache.sync(w.client);
    restarted.forgetChild({
      kind: 'NetworkPolicy',
      metadata: { name: 'alice-1', namespace: 'vdi-sessions' },
    });
    await restarted.apply(KEY, w.session, w.desired, pod);
    expect(w.client.summary()).toEqual(['apply NetworkPolicy/alice-1', 'apply Service/alice-1']);
    // The echo of its own applies is recognised (it wakes nobody); an edit by someone else is not.
    w.cache.sync(w.client);
    const cachedSvc = w.cache.children.get('Service')!.get('alice-1', 'vdi-sessions')!;
    expect(restarted.isOwnWrite({ ...cachedSvc, kind: 'Service' })).toBe(true);
    w.client.seed({ ...w.client.stored('Service', 'alice-1', 'vdi-sessions')!, spec: { ports: [] } });
    w.cache.sync(w.client);
    const edited = w.cache.children.get('Service')!.get('alice-1', 'vdi-sessions')!;
    expect(restarted.isOwnWrite({ ...edited, kind: 'Service' })).toBe(false);
    // A child whose desired state changed is applied again even if nobody touched it.
    const changed = structuredClone(w.desired);
    const route = changed.objects.find((o) => o.kind === 'IngressRoute')!;
    route.metadata!.labels = { ...route.metadata!.labels, 'example.com/changed': 'yes' };
    w.client.clear();
    await fresh().apply(KEY, w.session, changed, pod);
    expect(w.client.summary()).toEqual(['apply IngressRoute/alice-1']);
  });

  it('records the encoder plan on the pod it makes', async () => {
    const w = setup();
    await w.children.apply(KEY, w.session, w.desired, undefined);
    const pod = w.client.stored<{ metadata: { annotations: Record<string, string> } }>(
      'Pod',
      'alice-1',
      'vdi-sessions',
    )!;
    expect(JSON.parse(pod.metadata.annotations['vdi.kasm.io/encoder-plan']!)).toEqual(w.desired.encoderPlan);
  });
});

describe('ChildWriter.deleteChildren', () => {
  it("deletes only session uid's objects, conditionally on their uids, and says while its pod is there", async () => {
    const w = setup();
    await w.children.apply(KEY, w.session, w.desired, undefined);
    w.client.clear();
    expect(await w.children.deleteChildren(KEY, 'vdi-sessions', 'alice-1', 'another-uid')).toBe(false);
    expect(w.client.writes()).toEqual([]);

    expect(await w.children.deleteChildren(KEY, 'vdi-sessions', 'alice-1', w.session.metadata.uid!)).toBe(
      true,
    );
    expect(w.client.summary(w.client.writes())[0]).toBe('delete Pod/alice-1');
    for (const d of w.client.writes()) expect(d.body).toEqual({ uid: expect.any(String) });
    expect(w.client.all('Pod')).toEqual([]);
  });

  it('keeps saying the pod is there while the cache still holds it', async () => {
    const w = setup();
    await w.children.apply(KEY, w.session, w.desired, undefined);
    w.cache.sync(w.client);
    await w.children.deleteChildren(KEY, 'vdi-sessions', 'alice-1', w.session.metadata.uid!);
    // Deleted on the server; the cache has not seen the delete.
    expect(await w.children.deleteChildren(KEY, 'vdi-sessions', 'alice-1', w.session.metadata.uid!)).toBe(
      true,
    );
    w.cache.sync(w.client);
    expect(await w.children.deleteChildren(KEY, 'vdi-sessions', 'alice-1', w.session.metadata.uid!)).toBe(
      false,
    );
  });
});

describe('ChildWriter.removeOrphans', () => {
  it('removes the objects of the session it wrote for once another (or none) holds the key', async () => {
    const w = setup();
    await w.children.apply(KEY, w.session, w.desired, undefined);
    w.children.noteOwner(KEY, w.session.metadata.uid!);
    w.client.clear();
    await w.children.removeOrphans(KEY, w.session.metadata.uid);
    expect(w.client.calls).toEqual([]);
    await w.children.removeOrphans(KEY, 'a-newer-session');
    expect(w.client.summary(w.client.writes())[0]).toBe('delete Pod/alice-1');
    w.client.clear();
    await w.children.removeOrphans(KEY, undefined);
    expect(w.client.calls).toEqual([]);
  });
});
