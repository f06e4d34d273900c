import type https from 'node:https';
import { createTestNamespace, testKubeConfig, type TestNamespace } from '@vdi/testing';
import { KubeApiError, KubeJsonClient } from '../src/index.js';

describe('KubeJsonClient against the API server', () => {
  let ns: TestNamespace;
  let client: KubeJsonClient;

  beforeAll(async () => {
    ns = await createTestNamespace('kube-client');
    client = new KubeJsonClient(testKubeConfig());
  });
  afterAll(async () => {
    client.close();
    await ns.cleanup();
  });

  it('applies a NetworkPolicy with its `from` peers intact (client-node typed clients drop them)', async () => {
    const np = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'only-from-ingress', namespace: ns.name },
      spec: {
        podSelector: { matchLabels: { app: 'desktop' } },
        policyTypes: ['Ingress'],
        ingress: [
          { from: [{ ipBlock: { cidr: '10.42.0.0/16' } }], ports: [{ protocol: 'TCP', port: 8080 }] },
        ],
      },
    };
    const applied = await client.apply(np, 'vdi-tests');
    expect((applied.spec as typeof np.spec).ingress[0]!.from).toEqual([
      { ipBlock: { cidr: '10.42.0.0/16' } },
    ]);
    const again = await client.apply(np, 'vdi-tests');
    expect((again.metadata as { resourceVersion: string }).resourceVersion).toBe(
      (applied.metadata as { resourceVersion: string }).resourceVersion,
    );
  });

  it('reuses its TLS connections: 30 sequential calls open one connection', async () => {
    const fresh = new KubeJsonClient(testKubeConfig());
    const agent = (fresh as unknown as { agent: https.Agent }).agent;
    let opened = 0;
    const create = agent.createConnection.bind(agent);
    agent.createConnection = ((...args: Parameters<typeof create>) => {
      opened++;
      return create(...args);
    }) as typeof agent.createConnection;
    try {
      for (let i = 0; i < 30; i++) await fresh.call('GET', `/api/v1/namespaces/${ns.name}`);
      expect(opened).toBe(1);
    } finally {
      fresh.close();
    }
  });

  it('gets, deletes with a uid precondition, and reports a missing object as undefined', async () => {
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cm', namespace: ns.name },
      data: { a: '1' },
    };
    const created = await client.apply(cm, 'vdi-tests');
    const uid = created.metadata.uid;
    expect((await client.get(cm))?.data).toEqual({ a: '1' });
    expect(await client.delete(cm, { uid: 'not-the-uid' })).toBe(false);
    expect(await client.get(cm)).toBeDefined();
    expect(await client.delete(cm, { uid })).toBe(true);
    expect(await client.get(cm)).toBeUndefined();
    expect(await client.delete(cm)).toBe(false);
  });

  it('turns an error answer into a KubeApiError with the server message', async () => {
    const bad = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Not_Valid', namespace: ns.name } };
    await expect(client.apply(bad, 'vdi-tests')).rejects.toEqual(expect.any(KubeApiError));
    await expect(client.apply(bad, 'vdi-tests')).rejects.toThrow(/Not_Valid.*RFC 1123/);
  });

  it('names a kind the server does not serve', async () => {
    await expect(
      client.path({ apiVersion: 'example.com/v1', kind: 'Nope', metadata: { name: 'x' } }),
    ).rejects.toThrow();
    await expect(client.path({ apiVersion: 'v1', kind: 'Nope', metadata: { name: 'x' } })).rejects.toThrow(
      /does not serve Nope in v1/,
    );
  });
});
