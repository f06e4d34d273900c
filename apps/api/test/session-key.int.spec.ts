/**
 * The API against the operator's Lease on a real kube-apiserver: the Lease as the operator's
 * leader writes it (its session-key fingerprint in an annotation; apps/operator leader.ts), one
 * with another key than the API's and one with the same. The API reads it at start and says so
 * on /metrics. No Keycloak: only /metrics and /readyz are asked.
 */
import { KubeJsonClient } from '@vdi/kube-client';
import { ANNOTATION_LEASE_KEY_ID, poolKeyId } from '@vdi/session-spec';
import {
  createTestNamespace,
  installCrds,
  TEST_SESSION_KEY,
  waitFor,
  type TestNamespace,
} from '@vdi/testing';
import { SessionKeyCheck } from '../src/access/session-key-check.js';
import { startApi, type RunningApi } from './harness.js';

let ns: TestNamespace;
let kube: KubeJsonClient;
let api: RunningApi | undefined;

const leasePath = () => `/apis/coordination.k8s.io/v1/namespaces/${ns.name}/leases`;
const mismatch = async (url: string) =>
  /^vdi_api_session_key_mismatch (\d+)$/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1];

beforeAll(async () => {
  ns = await createTestNamespace('skey');
  kube = new KubeJsonClient(ns.kc);
  await installCrds(ns.kc);
});

afterAll(async () => {
  await api?.close();
  kube?.close();
  await ns?.cleanup();
});

it("says when the operator's Lease carries another session key's fingerprint, and when it is the same again", async () => {
  await kube.call('POST', leasePath(), {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: 'vdi-operator',
      annotations: { [ANNOTATION_LEASE_KEY_ID]: poolKeyId('another-operator-key-'.repeat(3)) },
    },
    spec: { holderIdentity: 'operator-0', leaseDurationSeconds: 15 },
  });
  api = await startApi(ns.kc, {
    VDI_OIDC_ISSUER: 'http://127.0.0.1:9/realms/unused',
    VDI_SESSIONS_NAMESPACE: ns.name,
    VDI_OPERATOR_LEASE: `${ns.name}/vdi-operator`,
  });
  const url = api.url;
  // Checked at start, without waiting for the first minute.
  await waitFor('the mismatch on /metrics', async () => (await mismatch(url)) === '1', 10_000);

  // The operator restarted with the API's key: its leader writes that fingerprint.
  await kube.call(
    'PATCH',
    `${leasePath()}/vdi-operator`,
    { metadata: { annotations: { [ANNOTATION_LEASE_KEY_ID]: poolKeyId(TEST_SESSION_KEY) } } },
    'application/merge-patch+json',
  );
  expect(await api.app.get(SessionKeyCheck).check()).toBe('same');
  expect(await mismatch(url)).toBe('0');
});
