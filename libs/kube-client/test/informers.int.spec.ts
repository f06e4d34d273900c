import { API_VERSION } from '@vdi/crd-types';
import { createTestNamespace, installCrds, testKubeConfig, waitFor, type TestNamespace } from '@vdi/testing';
import * as k8s from '@kubernetes/client-node';
import { InformerSet, KubeJsonClient, sessionInformer } from '../src/index.js';

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
    await waitFor('the cache to see the new session', async () => sessions.get('seen-1', ns.name));
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
