/**
 * The operator, as its own process, against the real control plane: sessions become desktops,
 * GPU time-slices are respected, missing templates and failures are reported, and deletion
 * leaves nothing behind.
 */
import {
  createIsolatedGpuNode,
  createTestNamespace,
  installCrds,
  testKubeConfig,
  waitFor,
  type IsolatedNode,
  type TestNamespace,
} from '@vdi/testing';
import { createHmac } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { API_VERSION } from '@vdi/crd-types';
import { KubeApiError } from '@vdi/kube-client';
import { ownerAnnotations, ownerHash, ownerHomeName } from '@vdi/session-spec';
import { Fixture, startOperator, type OperatorProcess } from './harness.js';

describe('session operator', () => {
  let ns: TestNamespace;
  let f: Fixture;
  let op: OperatorProcess;
  let node: IsolatedNode;
  let gpuTemplate: string;

  beforeAll(async () => {
    const kc = testKubeConfig();
    await installCrds(kc);
    ns = await createTestNamespace('op');
    f = new Fixture(kc, ns.name);
    await f.turnSecret();
    node = await createIsolatedGpuNode({ gpus: 1, replicas: 8 });
    // Pinned to this test's own GPU node, so other tests never take its slices.
    gpuTemplate = await f.template('gpu', {
      nodeSelector: node.nodeSelector,
      tolerations: node.tolerations as never,
      resources: { defaultGPU: 1, defaultMemory: '4Gi', maxMemory: '16Gi' } as never,
    });
    op = await startOperator(ns.name, { VDI_START_DEADLINE_SECONDS: '120' });
  });

  afterAll(async () => {
    if (process.env.VDI_DEBUG_OPERATOR) process.stderr.write(op.logs.join('\n') + '\n');
    // Sessions carry the operator's finalizer: delete them while it still runs.
    await f?.deleteAllSessions();
    await op?.stop();
    await f?.deleteTemplate(gpuTemplate);
    await ns?.cleanup();
    await node?.remove();
  });

  it('turns a session into a desktop: every child as rendered, Running with its URL, Events on the session', async () => {
    await f.session('alice-1', gpuTemplate, { resources: { gpu: 1, memory: '4Gi' } });
    const s = await f.waitPhase('alice-1', 'Running');
    expect(s.status).toMatchObject({
      url: 'http://alice-1.vdi.localhost:8081/',
      encoder: 'h264enc',
      encoderDevice: 'nvenc',
      nodeName: node.name,
      gpu: 1,
    });
    expect(s.metadata.finalizers).toContain('vdi.kasm.io/session-cleanup');
    const kinds = (await f.children('alice-1')).map((c) => `${c.kind}/${c.name}`).sort();
    expect(kinds).toEqual(
      [
        'ingressroutes/alice-1',
        'middlewares/alice-1-forward-auth',
        'networkpolicies/alice-1',
        'pods/alice-1',
        'secrets/alice-1-auth',
        'services/alice-1',
      ].sort(),
    );
    for (const c of await f.children('alice-1')) expect(c.owners).toEqual(['alice-1']);
    const claim = await f.core.readNamespacedPersistentVolumeClaim({
      name: s.status!.homeClaim!,
      namespace: ns.name,
    });
    expect(claim.status?.phase).toBe('Bound');
    expect(claim.metadata?.ownerReferences).toBeUndefined();

    // The status follows the pod soon after kwok makes it ready (both times in whole seconds).
    const pod = await f.core.readNamespacedPod({ name: 'alice-1', namespace: ns.name });
    const podReady = new Date(
      pod.status!.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime!,
    ).getTime();
    expect(new Date(s.status!.readyAt!).getTime() - podReady).toBeLessThanOrEqual(5000);

    const reasons = (
      await waitFor('events', async () => {
        const ev = await f.events('alice-1');
        return ev.some((e) => e.reason === 'DesktopReady') ? ev : undefined;
      })
    ).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['DesktopCreated', 'DesktopReady']));
    expect(await op.metrics()).toMatch(
      /vdi_operator_reconcile_duration_seconds_count\{outcome="(ok|requeue)"\} [1-9]/,
    );
  });

  it('deletes every child of a deleted session, keeps the per-user home, and removes its finalizer', async () => {
    const before = await f.get('alice-1');
    await f.delete('alice-1');
    await f.waitGone('alice-1');
    await f.waitNoChildren('alice-1');
    const claim = await f.core.readNamespacedPersistentVolumeClaim({
      name: before!.status!.homeClaim!,
      namespace: ns.name,
    });
    expect(claim.metadata?.deletionTimestamp).toBeUndefined();
  });

  it('gives a WebRTC desktop TURN credentials for its own session only, and none once the session is gone', async () => {
    const t = await f.template('webrtc', {
      resources: { defaultGPU: 0, maxGPU: 0, defaultMemory: '2Gi' } as never,
      streaming: { mode: 'webrtc' },
    });
    await f.session('carol-1', t);
    await f.session('dave-1', t);
    const keyOf = async (session: string) =>
      waitFor(`the TURN REST key of ${session}`, async () => {
        const secret = await f.core
          .readNamespacedSecret({ name: `${session}-auth`, namespace: ns.name })
          .catch(() => undefined);
        const b64 = secret?.data?.['turn-rest-key'];
        return b64 ? Buffer.from(b64, 'base64').toString('utf8') : undefined;
      });
    const carolKey = await keyOf('carol-1');
    const daveKey = await keyOf('dave-1');
    const pod = await waitFor('carol-1 pod', () =>
      f.core.readNamespacedPod({ name: 'carol-1', namespace: ns.name }).catch(() => undefined),
    );
    const env = pod.spec!.containers[0]!.env!;
    const uri = env.find((e) => e.name === 'SELKIES_TURN_REST_URI')!.value!;
    expect(uri).toBe(`${op.turnRestUrl}/turn/${ns.name}/carol-1`);
    // As Selkies asks: its own query parameters and headers.
    const ask = (key: string) =>
      fetch(
        `${uri}?service=turn&username=carol-1&key=${encodeURIComponent(key)}&api=${encodeURIComponent(key)}`,
        {
          headers: { 'x-auth-user': 'carol-1', 'x-turn-protocol': 'udp', 'x-turn-tls': 'false' },
        },
      );

    const ok = await ask(carolKey);
    expect(ok.status).toBe(200);
    const config = (await ok.json()) as {
      iceServers: { urls: string[]; username?: string; credential?: string }[];
    };
    const turn = config.iceServers.find((s) => s.username)!;
    expect(turn.urls).toEqual(['turn:turn.vdi.localhost:3478?transport=udp']);
    expect(turn.username).toMatch(new RegExp(`^\\d+:${ns.name}\\.carol-1\\.[0-9a-f]{8}$`));
    const expiry = Number(turn.username!.split(':')[0]);
    expect(expiry - Date.now() / 1000).toBeGreaterThan(3500);
    expect(expiry - Date.now() / 1000).toBeLessThanOrEqual(3601);
    expect(turn.credential).toBe(
      createHmac('sha1', 'integration-turn-secret-7c1e4a9b2d5f8e3a6c0b9d1e')
        .update(turn.username!)
        .digest('base64'),
    );

    // Another desktop's key opens nothing here; no key, nothing.
    expect((await ask(daveKey)).status).toBe(403);
    expect((await fetch(uri)).status).toBe(401);

    // Once the session is gone no more credentials are issued to what is left of it.
    await f.delete('carol-1');
    await f.waitGone('carol-1');
    await waitFor(
      'the endpoint to refuse the deleted session',
      async () => (await ask(carolKey)).status === 403,
    );
    expect(await op.metrics()).toMatch(/vdi_operator_turn_rest_requests_total\{status="200"\} [1-9]/);
    await f.delete('dave-1');
    await f.waitGone('dave-1');
    await f.deleteTemplate(t);
  });

  it("deletes a session when its lifetime is over, and refuses one longer than the template's max", async () => {
    const t = await f.template('lifetime', {
      nodeSelector: node.nodeSelector,
      tolerations: node.tolerations as never,
      resources: { defaultGPU: 0, maxGPU: 0, defaultMemory: '2Gi' } as never,
      lifetime: { default: '1m', max: '2h' },
    });
    const s = await f.session('eve-1', t);
    const running = await f.waitPhase('eve-1', 'Running', 60_000);
    const created = new Date(s.metadata.creationTimestamp!).getTime();
    expect(new Date(running.status!.expiresAt!).getTime() - created).toBe(60_000);
    // A minute is within the default warning lead times (15m, 2m): warned once, at 2m.
    const warned = await waitFor('eve-1 warned', async () => {
      const x = await f.get('eve-1');
      return x?.status?.warnedBefore === '2m' ? x : undefined;
    });
    expect(warned.status!.conditions).toContainEqual(
      expect.objectContaining({ type: 'ExpiringSoon', status: 'True', reason: 'LifetimeEnding' }),
    );
    expect(warned.status!.reason).not.toBe('LifetimeEnding');
    const warnings = await f.waitEvent('eve-1', 'ExpiringSoon');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/the session ends at .* \(in (\d+m)?(\d+s)?\); extend it/);

    await f.session('frank-1', t, { maxLifetime: '3h' });
    const refused = await waitFor('frank-1 refused', async () => {
      const x = await f.get('frank-1');
      return x?.status?.reason === 'ResourcesOutOfBounds' ? x : undefined;
    });
    expect(refused.status!.message).toMatch(/3h is longer than the template allows \(lifetime.max 2h\)/);
    expect(await f.children('frank-1')).toEqual([]);

    // The operator deletes it when the minute is up (not before), with an Event saying why.
    await f.waitGone('eve-1', 90_000);
    expect(Date.now() - created).toBeGreaterThanOrEqual(60_000);
    const [expired] = await f.waitEvent('eve-1', 'LifetimeExpired');
    expect(expired!.message).toMatch(/maximum lifetime of 1m \(due /);
    await f.waitNoChildren('eve-1');
    await f.delete('frank-1');
    await f.waitGone('frank-1');
    await f.deleteTemplate(t);
  }, 150_000);

  it('removes the objects of a session that vanished with its finalizer on (a DELETE racing the finalizer)', async () => {
    // kube-apiserver can delete a session outright although the operator's finalizer was just
    // added (kubernetes/kubernetes#77988). Reproduced deterministically: the finalizer is taken
    // off behind the operator's back, so the DELETE removes the session at once.
    await f.session('vanish-1', gpuTemplate);
    await f.waitPhase('vanish-1', 'Running');
    const session = (await f.get('vanish-1'))!;
    expect((await f.children('vanish-1')).length).toBeGreaterThan(0);
    // The DELETE is made conditional on the version without the finalizer: should the operator
    // put its finalizer back in between (it watches the change), take it off again and retry.
    let deleted = 0;
    for (let attempt = 1; ; attempt++) {
      await waitFor('the operator’s finalizer on the session', async () =>
        ((await f.get('vanish-1'))?.metadata.finalizers ?? []).includes('vdi.kasm.io/session-cleanup'),
      );
      const bare: { metadata: { resourceVersion?: string } } = await f.client.jsonPatch(
        f.sessionRef('vanish-1'),
        [
          { op: 'test', path: '/metadata/finalizers', value: ['vdi.kasm.io/session-cleanup'] },
          { op: 'remove', path: '/metadata/finalizers' },
        ],
      );
      deleted = Date.now();
      try {
        await f.client.call('DELETE', `/apis/${API_VERSION}/namespaces/${ns.name}/vdisessions/vanish-1`, {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          preconditions: { resourceVersion: bare.metadata.resourceVersion },
        });
        break;
      } catch (err) {
        if (!(err instanceof KubeApiError && err.status === 409) || attempt >= 10) throw err;
      }
    }
    expect(await f.get('vanish-1')).toBeUndefined();
    await waitFor(
      'the vanished session’s objects removed',
      async () => (await f.children('vanish-1')).length === 0,
    );
    process.stderr.write(
      `[operator] objects of a vanished session removed ${Date.now() - deleted} ms after its DELETE\n`,
    );
    // By the operator, which says so (the garbage collector would get there too, later).
    await waitFor('the operator’s warning', async () =>
      op.logs.some((l) => l.includes(session.metadata.uid!) && l.includes('kubernetes/kubernetes#77988')),
    );
  });

  it('reuses the per-user home as it is when another template asks for a bigger one', async () => {
    const big = await f.template('bighome', {
      nodeSelector: node.nodeSelector,
      tolerations: node.tolerations as never,
      homeSize: '50Gi',
      resources: { defaultGPU: 0, maxGPU: 0, defaultMemory: '4Gi' } as never,
    });
    try {
      const claims = await f.listAll<{
        metadata: { name: string };
        spec: { resources: { requests: { storage: string } } };
      }>('/api/v1', 'persistentvolumeclaims');
      const home = claims.find((c) => c.metadata.name.startsWith('home-alice-1-'))!;
      const size = home.spec.resources.requests.storage;
      expect(size).not.toBe('50Gi');
      await f.session('alice-again', big, { user: 'alice-1@example.com' });
      const s = await f.waitPhase('alice-again', 'Running');
      expect(s.status!.homeClaim).toBe(home.metadata.name);
      const after = await f.core.readNamespacedPersistentVolumeClaim({
        name: home.metadata.name,
        namespace: ns.name,
      });
      expect(after.spec?.resources?.requests?.storage).toBe(size);
      await f.delete('alice-again');
      await f.waitGone('alice-again');
    } finally {
      await f.deleteTemplate(big);
    }
  });

  it('runs 8 GPU sessions on one GPU, keeps the 9th Scheduling with the GPU shortage in words, and starts it when a slice frees', async () => {
    const names = Array.from({ length: 9 }, (_, i) => `gpu-${i}`);
    for (const n of names.slice(0, 8)) await f.session(n, gpuTemplate);
    for (const n of names.slice(0, 8)) await f.waitPhase(n, 'Running');
    await f.session('gpu-8', gpuTemplate);
    const waiting = await waitFor('9th session waits for a GPU', async () => {
      const s = await f.get('gpu-8');
      return s?.status?.reason === 'WaitingForGPU' ? s : undefined;
    });
    expect(waiting.status!.phase).toBe('Scheduling');
    expect(waiting.status!.message).toMatch(/^waiting for a GPU: 0 of 8 time-slices free/);
    await f.delete('gpu-0');
    await f.waitGone('gpu-0');
    await f.waitPhase('gpu-8', 'Running', 30_000);
  });

  it('mounts an owner’s home only if it is annotated for that issuer + subject, and says so otherwise', async () => {
    const owner = { issuer: 'https://id.example.com/realms/vdi', subject: 'owner-of-home' };
    // A claim under the owner's home name, made for someone else (by hand, or a mistake).
    await f.core.createNamespacedPersistentVolumeClaim({
      namespace: ns.name,
      body: {
        metadata: {
          name: ownerHomeName(owner),
          labels: {
            'app.kubernetes.io/part-of': 'vdi-platform',
            'app.kubernetes.io/component': 'home',
            'vdi.kasm.io/user-hash': ownerHash(owner),
          },
          annotations: ownerAnnotations({ ...owner, subject: 'someone-else' }),
        },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    });
    await f.session('owned-1', gpuTemplate, { user: 'same-mail@example.com', owner, resources: { gpu: 0 } });
    const s = await waitFor('HomeNotOwned', async () => {
      const got = await f.get('owned-1');
      return got?.status?.reason === 'HomeNotOwned' ? got : undefined;
    });
    expect(s.status!.message).toContain(
      `the home volume ${ownerHomeName(owner)} is annotated for subject someone-else`,
    );
    expect(
      await f.core.readNamespacedPod({ name: 'owned-1', namespace: ns.name }).catch(() => undefined),
    ).toBeUndefined();
    // Annotated for the owner, it is the owner's: the claim's change wakes the session, which starts on it.
    await f.client.mergePatch(
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: ownerHomeName(owner), namespace: ns.name },
      },
      { metadata: { annotations: ownerAnnotations(owner) } },
    );
    const running = await f.waitPhase('owned-1', 'Running');
    expect(running.status!.homeClaim).toBe(ownerHomeName(owner));
    await f.delete('owned-1');
    await f.waitGone('owned-1');
  });

  it('deletes a session-owned home with its session', async () => {
    const t = await f.template('per-session', {
      nodeSelector: node.nodeSelector,
      tolerations: node.tolerations as never,
      persistence: 'session',
    });
    try {
      await f.session('temp-1', t, { resources: { gpu: 1 } });
      await f.delete('gpu-1');
      await f.waitPhase('temp-1', 'Running');
      expect((await f.children('temp-1')).map((c) => c.kind)).toContain('persistentvolumeclaims');
      await f.delete('temp-1');
      await f.waitGone('temp-1');
      await f.waitNoChildren('temp-1');
    } finally {
      await f.deleteTemplate(t);
    }
  });

  it('reports a missing template as Pending and starts the session when the template appears', async () => {
    const t = f.templateName('late');
    await f.session('late-1', t, { resources: { gpu: 0, memory: '4Gi' } });
    const s = await waitFor('TemplateNotFound', async () => {
      const x = await f.get('late-1');
      return x?.status?.reason === 'TemplateNotFound' ? x : undefined;
    });
    expect(s.status!.phase).toBe('Pending');
    expect(s.status!.conditions).toContainEqual(
      expect.objectContaining({ type: 'TemplateResolved', status: 'False', reason: 'TemplateNotFound' }),
    );
    expect(await f.children('late-1')).toEqual([]);
    await f.template('late', { resources: { defaultGPU: 0, maxGPU: 0, defaultMemory: '4Gi' } as never });
    try {
      const running = await f.waitPhase('late-1', 'Running');
      expect(running.status).toMatchObject({ encoder: 'h264enc', encoderDevice: 'cpu' });
      expect(running.status!.gpu).toBe(0);
    } finally {
      await f.delete('late-1');
      await f.deleteTemplate(t);
    }
  });

  it('leaves a running desktop alone when its template is edited or deleted, and says so', async () => {
    const t = await f.template('doomed', {
      resources: { defaultGPU: 0, maxGPU: 0, defaultMemory: '4Gi' } as never,
    });
    await f.session('orphan-1', t);
    const running = await f.waitPhase('orphan-1', 'Running');
    const podUid = (await f.core.readNamespacedPod({ name: 'orphan-1', namespace: ns.name })).metadata!.uid;
    // An edit of the template does not touch the running desktop (its pod is never re-created).
    await f.template('doomed', {
      image: 'example.com/other:2',
      resources: { defaultGPU: 0, maxGPU: 0, defaultMemory: '4Gi' } as never,
    });
    await new Promise((r) => setTimeout(r, 1500));
    const after = await f.core.readNamespacedPod({ name: 'orphan-1', namespace: ns.name });
    expect(after.metadata!.uid).toBe(podUid);
    expect(after.spec!.containers[0]!.image).toBe('ghcr.io/selkies-project/nvidia-egl-desktop:latest');
    expect((await f.get('orphan-1'))!.status!.phase).toBe('Running');
    await f.deleteTemplate(t);
    const s = await waitFor('TemplateNotFound on a running desktop', async () => {
      const x = await f.get('orphan-1');
      return x?.status?.reason === 'TemplateNotFound' ? x : undefined;
    });
    expect(s.status).toMatchObject({ phase: 'Running', url: running.status!.url });
    expect(s.status!.message).toMatch(/was deleted; this desktop keeps running/);
    expect((await f.core.readNamespacedPod({ name: 'orphan-1', namespace: ns.name })).metadata!.uid).toBe(
      podUid,
    );
    await f.delete('orphan-1');
    await f.waitGone('orphan-1');
  });

  it('reports a session the template cannot serve, without creating anything', async () => {
    await f.session('greedy-1', gpuTemplate, { resources: { gpu: 1, memory: '1Ti' } });
    const s = await waitFor('ResourcesOutOfBounds or no room', async () => {
      const x = await f.get('greedy-1');
      return x?.status?.phase === 'Pending' && x.status.reason !== 'TemplateFound' ? x : undefined;
    });
    expect(s.status!.message).toMatch(/spec\.resources\.memory/);
    expect(await f.children('greedy-1')).toEqual([]);
    await f.delete('greedy-1');
  });

  it('reports a desktop that fails (a kwok failure stage) as Failed with the reason', async () => {
    await f.delete('gpu-2');
    await f.session('crash-1', gpuTemplate);
    await f.waitPhase('crash-1', 'Running');
    await f.core.patchNamespacedPod(
      {
        name: 'crash-1',
        namespace: ns.name,
        body: { metadata: { labels: { 'pod-container-running-failed.stage.kwok.x-k8s.io': 'true' } } },
      },
      (await import('@kubernetes/client-node')).setHeaderOptions(
        'Content-Type',
        'application/merge-patch+json',
      ),
    );
    const failed = await f.waitPhase('crash-1', 'Failed');
    expect(failed.status!.reason).toBe('PodFailed');
    expect(failed.status!.message).toMatch(/the desktop stopped/);
  });
});

describe('a session that fails for good', () => {
  let ns: TestNamespace;
  let f: Fixture;
  let op: OperatorProcess;
  let node: IsolatedNode;
  let template: string;

  beforeAll(async () => {
    const kc = testKubeConfig();
    await installCrds(kc);
    ns = await createTestNamespace('failed');
    f = new Fixture(kc, ns.name);
    await f.turnSecret();
    // One GPU time-slice: whoever holds it decides who else can start.
    node = await createIsolatedGpuNode({ gpus: 1, replicas: 1 });
    template = await f.template('one-slice', {
      nodeSelector: node.nodeSelector,
      tolerations: node.tolerations as never,
      resources: { defaultGPU: 1, defaultMemory: '4Gi', maxMemory: '16Gi' } as never,
    });
    // Long enough for next-1 below to start on a loaded machine, short for late-1 to fail.
    op = await startOperator(ns.name, { VDI_START_DEADLINE_SECONDS: '20' });
  });

  afterAll(async () => {
    await f?.deleteAllSessions();
    await op?.stop();
    await f?.deleteTemplate(template);
    await ns?.cleanup();
    await node?.remove();
  });

  const podOf = (name: string) =>
    f.core.readNamespacedPod({ name, namespace: ns.name }).catch(() => undefined);

  const cordon = (unschedulable: boolean) =>
    f.core.patchNode(
      { name: node.name, body: { spec: { unschedulable } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );

  it('releases the pending pod of a start past its deadline; a session queued for a GPU never fails for the wait and gets the freed slice', async () => {
    await f.session('holder-1', template);
    await f.waitPhase('holder-1', 'Running');
    // The node cordoned: late-1's pod can go nowhere, for a reason other than a busy GPU, so its
    // start deadline runs from its pod being made, and passes.
    await cordon(true);
    try {
      await f.session('late-1', template);
      await f.waitPhase('late-1', 'Scheduling');
      expect(await podOf('late-1')).toBeDefined();
      const failed = await f.waitPhase('late-1', 'Failed', 60_000);
      expect(failed.status!.reason).toBe('StartDeadlineExceeded');
      expect(failed.status!.message).toMatch(/within 20s of its pod being made/);
      expect(failed.status!.message).toMatch(
        /released\. Stop and resume the session \(or delete it and create a new one\)/,
      );
      await waitFor('late-1’s pending pod deleted', async () => (await podOf('late-1')) === undefined);
    } finally {
      await cordon(false);
    }

    // next-1 waits in the queue for the only slice, well past the 20 s deadline: never failed for it.
    await f.session('next-1', template);
    const queued = await waitFor('next-1 waiting for a GPU', async () => {
      const x = await f.get('next-1');
      return x?.status?.reason === 'WaitingForGPU' ? x : undefined;
    });
    expect(queued.status!.message).toMatch(/does not count against its start deadline/);
    expect(queued.status!.startDeadlineAt).toBeUndefined();
    const created = new Date(queued.metadata.creationTimestamp!).getTime();
    await waitFor(
      'next-1 queued past its start deadline',
      async () => Date.now() - created > 25_000,
      40_000,
      250,
    );
    const still = await f.get('next-1');
    expect(still!.status).toMatchObject({ phase: 'Scheduling', reason: 'WaitingForGPU' });

    // The slice frees: the session someone waits for now gets it, the failed one never does.
    await f.delete('holder-1');
    await f.waitGone('holder-1');
    const running = await f.waitPhase('next-1', 'Running', 30_000);
    expect(running.status!.startDeadlineAt).toBeUndefined();
    expect(await podOf('late-1')).toBeUndefined();
    const late = await f.get('late-1');
    expect(late!.status).toMatchObject({ phase: 'Failed', reason: 'StartDeadlineExceeded' });
    await f.waitEvent('late-1', 'DesktopReleased');
  }, 150_000);

  const setState = (name: string, state: 'Running' | 'Stopped') =>
    f.client.mergePatch(f.sessionRef(name), { spec: { state } });

  it('stops a desktop to free its slice and keeps the rest; a resume starts a new desktop through the queue with a whole start deadline', async () => {
    // next-1 holds the only slice (the test before); late-1 failed for good.
    const running = await f.waitPhase('next-1', 'Running');
    const firstPod = (await podOf('next-1'))!.metadata!.uid;
    await setState('next-1', 'Stopped');
    const stopped = await f.waitPhase('next-1', 'Stopped');
    expect(stopped.status!.reason).toBe('Stopped');
    expect(stopped.status!.message).toMatch(/resume/i);
    expect(stopped.status!.url).toBeUndefined();
    expect(stopped.status!.stoppedAt).toBeDefined();
    await waitFor('next-1’s pod deleted', async () => (await podOf('next-1')) === undefined);
    // Name, route, secrets, network policy and home stay for the resume.
    const kept = (await f.children('next-1')).map((c) => c.kind).sort();
    expect(kept).toEqual(['ingressroutes', 'middlewares', 'networkpolicies', 'secrets', 'services']);
    expect(stopped.status!.homeClaim ?? running.status!.homeClaim).toBe(running.status!.homeClaim);
    await f.waitEvent('next-1', 'Stopped');

    // A session that failed for good is stopped and resumed: a new attempt, and it gets the freed slice.
    await setState('late-1', 'Stopped');
    await f.waitPhase('late-1', 'Stopped');
    await setState('late-1', 'Running');
    const again = await f.waitPhase('late-1', 'Running', 30_000);
    expect(again.status!.resumedAt).toBeDefined();
    await f.waitEvent('late-1', 'Resumed');

    // next-1 resumes with no slice free: it waits in the queue — created long before its 20 s start
    // deadline, yet not failed, since queue time never counts — and starts when one frees.
    const created = new Date(running.metadata.creationTimestamp!).getTime();
    await waitFor(
      'next-1 older than its start deadline',
      async () => Date.now() - created > 21_000,
      30_000,
      250,
    );
    await setState('next-1', 'Running');
    // Placed in the queue: the scheduler finds no free slice (WaitingForScheduler comes first).
    const waiting = await waitFor('next-1 waiting for a GPU', async () => {
      const x = await f.get('next-1');
      return x?.status?.reason === 'WaitingForGPU' ? x : undefined;
    });
    expect(waiting.status!.phase).toBe('Scheduling');
    await f.delete('late-1');
    await f.waitGone('late-1');
    const resumed = await f.waitPhase('next-1', 'Running', 30_000);
    expect(resumed.status!.url).toBeDefined();
    const newPod = (await podOf('next-1'))!;
    expect(newPod.metadata!.uid).not.toBe(firstPod);
    // The same home as before the stop.
    expect(resumed.status!.homeClaim).toBe(running.status!.homeClaim);
    expect(newPod.spec!.volumes!.find((v) => v.name === 'home')?.persistentVolumeClaim?.claimName).toBe(
      running.status!.homeClaim,
    );
  }, 120_000);
});
