import { API_VERSION } from '@vdi/crd-types';
import { createTestNamespace, installCrds, testKubeConfig, waitFor, type TestNamespace } from '@vdi/testing';
import * as k8s from '@kubernetes/client-node';
import { InformerSet, KubeJsonClient, pagedList, podInformer, sessionInformer } from '../src/index.js';

describe('InformerSet', () => {
  let ns: TestNamespace;

  beforeAll(async () => {
    await installCrds(testKubeConfig());
    ns = await createTestNamespace('informers');
  });
  afterAll(async () => {
    await ns.cleanup();
  });

  it('is synced only after a successful list, and then follows changes', async () => {
    const warnings: string[] = [];
    const set = new InformerSet((m) => warnings.push(m));
    const sessions = set.add('sessions', sessionInformer(testKubeConfig(), ns.name));
    expect(set.synced).toBe(false);
    await set.start();
    expect(set.synced).toBe(true);
    const client = new KubeJsonClient(testKubeConfig());
    await client.call('POST', `/apis/${API_VERSION}/namespaces/${ns.name}/vdisessions`, {
      apiVersion: API_VERSION,
      kind: 'VDISession',
      metadata: { name: 'seen-1' },
      spec: { user: 'a@example.com', template: 'x' },
    });
    const seen = await waitFor('the cache to see the new session', async () =>
      sessions.get('seen-1', ns.name),
    );
    expect(seen.spec.user).toBe('a@example.com');
    expect(seen.metadata.managedFields).toBeUndefined();
    await set.stop();
    client.close();
    expect(warnings).toEqual([]);
  });

  it('is not synced while the API server cannot list, and says why', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'nowhere', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u', token: 'x' }],
      contexts: [{ name: 'c', cluster: 'nowhere', user: 'u' }],
      currentContext: 'c',
    });
    const warnings: string[] = [];
    const set = new InformerSet((m) => warnings.push(m));
    set.add('sessions', sessionInformer(kc, 'any'));
    void set.start();
    await waitFor('a retry warning', async () => warnings.includes('initial list failed; retrying'));
    expect(set.synced).toBe(false);
    await set.stop();
  });
});

describe('slim informers', () => {
  let ns: TestNamespace;
  const client = () => new KubeJsonClient(testKubeConfig());

  beforeAll(async () => {
    ns = await createTestNamespace('slim');
  });
  afterAll(async () => {
    await ns.cleanup();
  });

  /** A restricted-compliant pod carrying what the platform's desktop pods carry: env, probes, volumes. */
  const pod = (name: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      labels: { 'app.kubernetes.io/part-of': 'vdi-platform' },
      annotations: { 'vdi.kasm.io/encoder-plan': '{"encoder":"x264enc"}' },
    },
    spec: {
      nodeName: 'no-such-node',
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'desktop',
          image: 'registry.invalid/desktop:1',
          env: [{ name: 'SECRET_LOOKING', value: 'x'.repeat(2000) }],
          resources: { limits: { cpu: '1', memory: '1Gi' } },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          volumeMounts: [
            { name: 'home', mountPath: '/home/user' },
            { name: 'tmp', mountPath: '/tmp' },
          ],
        },
      ],
      volumes: [
        { name: 'home', persistentVolumeClaim: { claimName: 'home-claim' } },
        { name: 'tmp', emptyDir: {} },
      ],
    },
  });

  it('keep listed and watched pods as the fields the platform reads, without managedFields', async () => {
    const c = client();
    const base = `/api/v1/namespaces/${ns.name}/pods`;
    await c.call('POST', base, pod('listed'));
    const set = new InformerSet(() => undefined);
    const pods = set.add(
      'pods',
      podInformer(testKubeConfig(), ns.name, 'app.kubernetes.io/part-of=vdi-platform'),
    );
    const seen: k8s.V1Pod[] = [];
    pods.on('add', (p) => seen.push(p));
    try {
      await set.start();
      await c.call('POST', base, pod('watched'));
      const watched = await waitFor('the cache to see the watched pod', async () =>
        pods.get('watched', ns.name),
      );
      const listed = pods.get('listed', ns.name)!;
      for (const p of [listed, watched]) {
        expect(p.metadata?.managedFields).toBeUndefined();
        expect(p.metadata?.annotations?.['vdi.kasm.io/encoder-plan']).toBe('{"encoder":"x264enc"}');
        expect(p.metadata?.uid).toBeTruthy();
        expect(p.spec?.nodeName).toBe('no-such-node');
        // Name, image and resources (the API server adds requests equal to the limits); no env, no mounts.
        expect(p.spec?.containers).toHaveLength(1);
        const [ctr] = p.spec!.containers;
        expect(Object.keys(ctr!).sort()).toEqual(['image', 'name', 'resources']);
        expect(ctr).toMatchObject({ name: 'desktop', image: 'registry.invalid/desktop:1' });
        expect({ ...ctr!.resources?.limits }).toEqual({ cpu: '1', memory: '1Gi' });
        expect(p.spec?.volumes).toEqual([
          { name: 'home', persistentVolumeClaim: { claimName: 'home-claim' } },
        ]);
        expect(p.status?.phase).toBe('Pending');
      }
      // Event handlers receive the same slim objects the cache holds.
      expect(seen.map((p) => p.metadata?.name).sort()).toEqual(['listed', 'watched']);
      expect(seen.every((p) => p.metadata?.managedFields === undefined && !p.spec?.containers[0]!.env)).toBe(
        true,
      );
      // The stored pod still has everything: only the cache is slim.
      const stored = await c.get<k8s.V1Pod & { metadata: { name: string } }>({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'watched', namespace: ns.name },
      });
      expect(stored?.spec?.containers[0]!.env?.[0]?.name).toBe('SECRET_LOOKING');
    } finally {
      // An open watch would keep the test process alive after a failure.
      await set.stop();
      c.close();
    }
  });
});

describe('paged lists', () => {
  let ns: TestNamespace;

  beforeAll(async () => {
    ns = await createTestNamespace('paged');
  });
  afterAll(async () => {
    await ns.cleanup();
  });

  it('list every selected object page by page from one snapshot, transformed as each page arrives', async () => {
    const c = new KubeJsonClient(testKubeConfig());
    const base = `/api/v1/namespaces/${ns.name}/configmaps`;
    try {
      for (let i = 0; i < 7; i++)
        await c.call('POST', base, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {
            name: `cm-${i}`,
            labels: { 'app.kubernetes.io/part-of': i < 5 ? 'vdi-platform' : 'other' },
          },
          data: { big: 'x'.repeat(1000) },
        });
      const pages: string[] = [];
      const calls: string[] = [];
      const counting = {
        call: (method: string, path: string) => {
          calls.push(path);
          return c.call(method, path);
        },
      } as unknown as KubeJsonClient;
      const list = await pagedList<k8s.V1ConfigMap>(
        counting,
        base,
        (cm) => {
          pages.push(cm.metadata!.name!);
          return { metadata: { name: cm.metadata!.name! } };
        },
        'app.kubernetes.io/part-of=vdi-platform',
        2,
      );
      expect(list.items.map((cm) => cm.metadata?.name)).toEqual(['cm-0', 'cm-1', 'cm-2', 'cm-3', 'cm-4']);
      // Only the transformed copies are kept.
      expect(list.items.every((cm) => cm.data === undefined)).toBe(true);
      // Three pages of at most two, the later ones continuing the first's snapshot.
      expect(calls).toHaveLength(3);
      expect(calls.slice(1).every((p) => p.includes('continue='))).toBe(true);
      expect(Number(list.metadata?.resourceVersion)).toBeGreaterThan(0);
    } finally {
      c.close();
    }
  });
});
