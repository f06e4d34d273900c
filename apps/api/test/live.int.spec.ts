/**
 * Capacity, the sessionUpdated subscription, /metrics and the query limits, end to end: real
 * tokens from the local Keycloak, a GPU node of this test's own, desktop pods and sessions
 * written straight to the test cluster (no operator: the test plays its part by writing pods and
 * session status itself).
 */
import type { NodeSlices } from '@vdi/session-spec';
import { API_VERSION, KIND_SESSION } from '@vdi/crd-types';
import { KubeJsonClient } from '@vdi/kube-client';
import {
  createIsolatedGpuNode,
  createTestNamespace,
  releaseDeletedSessions,
  type SessionReleaser,
  installCrds,
  waitFor,
  type IsolatedNode,
  type TestNamespace,
} from '@vdi/testing';
import {
  codeOf,
  keycloakIssuer,
  metricValue,
  accessToken,
  ownerOf,
  startApi,
  subscribe,
  wsClient,
  type RunningApi,
  type WsClient,
} from './harness.js';

let ns: TestNamespace;
let releaser: SessionReleaser | undefined;
let kube: KubeJsonClient;
let api: RunningApi;
let gpuNode: IsolatedNode;
const tokens: Record<'alice' | 'bob' | 'admin', string> = { alice: '', bob: '', admin: '' };

const sessionRef = (name: string) => ({
  apiVersion: API_VERSION,
  kind: KIND_SESSION,
  metadata: { name, namespace: ns.name },
});

/** A session as the API would create it for `who`: shown as their e-mail, owned by their token's issuer + subject. */
async function createSession(name: string, who: 'alice' | 'bob'): Promise<void> {
  await kube.call('POST', `/apis/${API_VERSION}/namespaces/${ns.name}/vdisessions`, {
    ...sessionRef(name),
    spec: { user: `${who}@example.com`, owner: ownerOf(tokens[who]), template: 'some-template' },
  });
}

const setPhase = (name: string, phase: string) =>
  kube.mergePatch(sessionRef(name), { status: { phase, message: `now ${phase}` } }, 'status');

/** A desktop pod as the operator would create it, bound to the test's GPU node. */
async function createDesktopPod(name: string, gpus: number): Promise<void> {
  await ns.core.createNamespacedPod({
    namespace: ns.name,
    body: {
      metadata: { name, labels: { 'app.kubernetes.io/part-of': 'vdi-platform' } },
      spec: {
        nodeName: gpuNode.name,
        tolerations: gpuNode.tolerations,
        containers: [
          {
            name: 'desktop',
            image: 'desktop:test',
            resources: { limits: { 'nvidia.com/gpu': String(gpus) } },
          },
        ],
      },
    },
  });
}

beforeAll(async () => {
  ns = await createTestNamespace('api-live');
  // No operator here: its part in a deletion (the API's sessions carry its finalizer).
  releaser = releaseDeletedSessions(ns.kc, ns.name);
  kube = new KubeJsonClient(ns.kc);
  await installCrds(ns.kc);
  // NVIDIA-L4 has NVENC; 1 GPU × 4 time-slices.
  gpuNode = await createIsolatedGpuNode({ product: 'NVIDIA-L4', gpus: 1, replicas: 4 });
  const issuer = keycloakIssuer();
  for (const who of ['alice', 'bob', 'admin'] as const) tokens[who] = await accessToken(who);
  api = await startApi(ns.kc, { VDI_OIDC_ISSUER: issuer, VDI_SESSIONS_NAMESPACE: ns.name });
});

afterAll(async () => {
  await api?.close();
  await gpuNode?.remove();
  kube?.close();
  await releaser?.stop();
  await ns?.cleanup();
});

type NodeRow = NodeSlices;
interface Capacity {
  gpuSlicesTotal: number;
  gpuSlicesFree: number;
  nvencSlicesFree: number;
  sessionsWaiting: number;
  products: { product: string; nvenc: boolean; total: number; free: number }[];
  nodes: NodeRow[] | null;
}
const CAPACITY = `{ capacity { gpuSlicesTotal gpuSlicesFree nvencSlicesFree sessionsWaiting
  products { product nvenc total free } nodes { name product nvenc total free ready schedulable } } }`;

async function capacity(): Promise<Capacity> {
  const r = await api.gql(tokens.admin, CAPACITY);
  expect(r.body.errors).toBeUndefined();
  const c = r.body.data!.capacity as Capacity;
  // One consistent snapshot: the totals are the sums of the rows (other tests' GPU nodes come and go).
  const rows = c.nodes!;
  expect(c.gpuSlicesTotal).toBe(rows.reduce((n, r) => n + r.total, 0));
  expect(c.gpuSlicesFree).toBe(rows.reduce((n, r) => n + r.free, 0));
  expect(c.nvencSlicesFree).toBe(rows.filter((r) => r.nvenc).reduce((n, r) => n + r.free, 0));
  expect(c.products.reduce((n, p) => n + p.total, 0)).toBe(c.gpuSlicesTotal);
  return c;
}

const ownRow = (c: Capacity) => c.nodes!.find((n) => n.name === gpuNode.name);

describe('capacity', () => {
  it('shows the GPU node with its free time-slices, and they follow the desktop pods', async () => {
    const first = await waitFor('the test GPU node in capacity', async () => ownRow(await capacity()));
    expect(first).toEqual({
      name: gpuNode.name,
      product: 'NVIDIA-L4-SHARED',
      nvenc: true,
      total: 4,
      free: 4,
      ready: true,
      schedulable: true,
    });
    await createDesktopPod('desk-a', 1);
    await createDesktopPod('desk-b', 1);
    await waitFor('two slices taken', async () => ownRow(await capacity())?.free === 2);
    await ns.core.deleteNamespacedPod({ name: 'desk-a', namespace: ns.name, gracePeriodSeconds: 0 });
    await waitFor('one slice back', async () => ownRow(await capacity())?.free === 3);
  });

  it('a cordoned node offers no free slice', async () => {
    await kube.mergePatch(
      { apiVersion: 'v1', kind: 'Node', metadata: { name: gpuNode.name } },
      { spec: { unschedulable: true } },
    );
    const row = await waitFor('node cordoned', async () => {
      const r = ownRow(await capacity());
      return r && !r.schedulable ? r : undefined;
    });
    expect(row).toMatchObject({ total: 4, free: 0 });
  });

  it('counts sessions waiting for a place', async () => {
    const before = (await capacity()).sessionsWaiting;
    expect(before).toBe(0); // the namespace is the test's own
    await createSession('wait-a', 'alice');
    await createSession('wait-b', 'bob');
    await waitFor('two waiting', async () => (await capacity()).sessionsWaiting === 2);
    await setPhase('wait-a', 'Scheduling');
    await setPhase('wait-b', 'Running');
    await waitFor('one waiting', async () => (await capacity()).sessionsWaiting === 1);
    for (const n of ['wait-a', 'wait-b']) await kube.delete(sessionRef(n));
  });

  it('per-node rows are for admins: FORBIDDEN for users, the rest still answers', async () => {
    const r = await api.gql(tokens.alice, CAPACITY);
    expect(codeOf(r)).toBe('FORBIDDEN');
    expect(r.body.errors?.[0]).toMatchObject({
      path: ['capacity', 'nodes'],
      message: 'only admins may see per-node capacity (capacity.nodes)',
    });
    const c = r.body.data!.capacity as Capacity;
    expect(c.nodes).toBeNull();
    expect(c.gpuSlicesTotal).toBeGreaterThanOrEqual(4);
    expect(c.products.find((p) => p.product === 'NVIDIA-L4-SHARED')).toMatchObject({ nvenc: true });
    const plain = await api.gql(
      tokens.alice,
      '{ capacity { gpuSlicesFree nvencSlicesFree sessionsWaiting } }',
    );
    expect(plain.body.errors).toBeUndefined();
  });
});

interface Update {
  type: string;
  session: { name: string; user: string; phase: string; message: string | null };
}
const SUB = `subscription($name: String, $all: Boolean) {
  sessionUpdated(name: $name, all: $all) { type session { name user phase message } } }`;

describe('sessionUpdated', () => {
  const clients: WsClient[] = [];
  const open = (token?: string) => {
    const c = wsClient(api.url, token === undefined ? undefined : { authorization: `Bearer ${token}` });
    clients.push(c);
    return c;
  };
  afterAll(async () => {
    for (const c of clients) await c.client.dispose();
  });

  it('delivers changes of your own sessions only (admins: all), as the status moves', async () => {
    const base = (await metricValue(api.url, 'vdi_api_graphql_subscriptions')) ?? 0;
    const alice = subscribe<Update>(open(tokens.alice).client, SUB, 'sessionUpdated');
    const bob = subscribe<Update>(open(tokens.bob).client, SUB, 'sessionUpdated');
    const admin = subscribe<Update>(open(tokens.admin).client, SUB, 'sessionUpdated', { all: true });
    await waitFor(
      'three subscriptions open',
      async () => (await metricValue(api.url, 'vdi_api_graphql_subscriptions')) === base + 3,
    );

    await createSession('sub-alice', 'alice');
    expect(await alice.next((e) => e.session.name === 'sub-alice')).toMatchObject({
      session: { name: 'sub-alice', user: 'alice@example.com', phase: 'Pending' },
    });
    // By name: alice may follow her session; for bob it does not exist.
    await waitFor('sub-alice in the API cache', async () => {
      const r = await api.gql(tokens.alice, '{ sessions { name } }');
      return (r.body.data?.sessions as { name: string }[]).some((x) => x.name === 'sub-alice');
    });
    const aliceByName = subscribe<Update>(open(tokens.alice).client, SUB, 'sessionUpdated', {
      name: 'sub-alice',
    });
    const bobByName = subscribe<Update>(open(tokens.bob).client, SUB, 'sessionUpdated', {
      name: 'sub-alice',
    });
    await waitFor('bob refused', async () => bobByName.errors.length > 0);
    expect(bobByName.errors[0]).toEqual([
      expect.objectContaining({ message: "you have no session named 'sub-alice'" }),
    ]);
    await waitFor(
      'four subscriptions open',
      async () => (await metricValue(api.url, 'vdi_api_graphql_subscriptions')) === base + 4,
    );
    await setPhase('sub-alice', 'Scheduling');
    expect(await alice.next((e) => e.session.phase === 'Scheduling')).toEqual({
      type: 'MODIFIED',
      session: {
        name: 'sub-alice',
        user: 'alice@example.com',
        phase: 'Scheduling',
        message: 'now Scheduling',
      },
    });
    await aliceByName.next((e) => e.session.phase === 'Scheduling');

    await createSession('sub-bob', 'bob');
    await bob.next((e) => e.session.name === 'sub-bob');
    await admin.next((e) => e.session.name === 'sub-bob');
    await admin.next((e) => e.session.name === 'sub-alice' && e.session.phase === 'Scheduling');

    await kube.delete(sessionRef('sub-alice'));
    expect(await alice.next((e) => e.type === 'DELETED')).toMatchObject({ session: { name: 'sub-alice' } });

    // bob never hears of alice's session, alice never of bob's, even when asking by name
    expect(bob.events.filter((e) => e.session.user !== 'bob@example.com')).toEqual([]);
    expect(alice.events.filter((e) => e.session.user !== 'alice@example.com')).toEqual([]);
    expect(bobByName.events).toEqual([]);
    expect(aliceByName.events.every((e) => e.session.name === 'sub-alice')).toBe(true);
    for (const s of [alice, bob, admin, aliceByName]) {
      expect(s.errors).toEqual([]);
      s.dispose();
    }
    bobByName.dispose();
    await waitFor(
      'subscriptions closed',
      async () => (await metricValue(api.url, 'vdi_api_graphql_subscriptions')) === base,
    );
    await kube.delete(sessionRef('sub-bob'));
  });

  describe('with current: true', () => {
    const CURRENT_SUB = `subscription($name: String, $all: Boolean) {
      sessionUpdated(name: $name, all: $all, current: true) { type session { name user phase message } } }`;
    const phaseSeen = (name: string, who: 'alice' | 'bob', phase: string) =>
      waitFor(`${name} ${phase} in the API cache`, async () => {
        const r = await api.gql(tokens[who], 'query($n: String!) { session(name: $n) { phase } }', {
          n: name,
        });
        return (r.body.data?.session as { phase: string } | undefined)?.phase === phase;
      });

    beforeAll(async () => {
      await createSession('cur-alice', 'alice');
      await createSession('cur-bob', 'bob');
      // Changed before anyone subscribes: a subscription without current never hears of it.
      await setPhase('cur-alice', 'Scheduling');
      await setPhase('cur-bob', 'Running');
      await phaseSeen('cur-alice', 'alice', 'Scheduling');
      await phaseSeen('cur-bob', 'bob', 'Running');
    });
    afterAll(async () => {
      for (const n of ['cur-alice', 'cur-bob']) await kube.delete(sessionRef(n));
    });

    it('starts with the session as it is now, then its changes (a plain subscription only has the changes)', async () => {
      const base = (await metricValue(api.url, 'vdi_api_graphql_subscriptions')) ?? 0;
      const byName = subscribe<Update>(open(tokens.alice).client, CURRENT_SUB, 'sessionUpdated', {
        name: 'cur-alice',
      });
      const plain = subscribe<Update>(open(tokens.alice).client, SUB, 'sessionUpdated', {
        name: 'cur-alice',
      });
      expect(await byName.next(() => true)).toEqual({
        type: 'CURRENT',
        session: {
          name: 'cur-alice',
          user: 'alice@example.com',
          phase: 'Scheduling',
          message: 'now Scheduling',
        },
      });
      await waitFor(
        'both subscriptions open',
        async () => (await metricValue(api.url, 'vdi_api_graphql_subscriptions')) === base + 2,
      );
      await setPhase('cur-alice', 'Starting');
      expect(await byName.next((e) => e.session.phase === 'Starting')).toMatchObject({ type: 'MODIFIED' });
      await plain.next((e) => e.session.phase === 'Starting');
      expect(byName.events.map((e) => [e.type, e.session.phase])).toEqual([
        ['CURRENT', 'Scheduling'],
        ['MODIFIED', 'Starting'],
      ]);
      expect(plain.events.map((e) => [e.type, e.session.phase])).toEqual([['MODIFIED', 'Starting']]);
      for (const s of [byName, plain]) {
        expect(s.errors).toEqual([]);
        s.dispose();
      }
    });

    it("gives a user their own sessions only, never another user's; admins with all: true everyone's", async () => {
      const alice = subscribe<Update>(open(tokens.alice).client, CURRENT_SUB, 'sessionUpdated');
      const bob = subscribe<Update>(open(tokens.bob).client, CURRENT_SUB, 'sessionUpdated');
      const admin = subscribe<Update>(open(tokens.admin).client, CURRENT_SUB, 'sessionUpdated', {
        all: true,
      });
      expect(await alice.next((e) => e.session.name === 'cur-alice')).toMatchObject({ type: 'CURRENT' });
      expect(await bob.next((e) => e.session.name === 'cur-bob')).toMatchObject({
        type: 'CURRENT',
        session: { phase: 'Running' },
      });
      await admin.next((e) => e.type === 'CURRENT' && e.session.name === 'cur-alice');
      await admin.next((e) => e.type === 'CURRENT' && e.session.name === 'cur-bob');
      // A change after the subscriptions started comes after every CURRENT event: once it is
      // in, alice and bob have had all the sessions they are going to be sent as CURRENT.
      await setPhase('cur-alice', 'Running');
      await setPhase('cur-bob', 'Failed');
      await alice.next((e) => e.type === 'MODIFIED' && e.session.phase === 'Running');
      await bob.next((e) => e.type === 'MODIFIED' && e.session.phase === 'Failed');
      expect(alice.events.filter((e) => e.session.user !== 'alice@example.com')).toEqual([]);
      expect(bob.events.filter((e) => e.session.user !== 'bob@example.com')).toEqual([]);
      expect(alice.events.filter((e) => e.type === 'CURRENT').map((e) => e.session.name)).toEqual([
        'cur-alice',
      ]);
      expect(bob.events.filter((e) => e.type === 'CURRENT').map((e) => e.session.name)).toEqual(['cur-bob']);

      // By name, bob's session does not exist for alice, with current as without.
      const aliceForBob = subscribe<Update>(open(tokens.alice).client, CURRENT_SUB, 'sessionUpdated', {
        name: 'cur-bob',
      });
      await waitFor('alice refused', async () => aliceForBob.errors.length > 0);
      expect(aliceForBob.errors[0]).toEqual([
        expect.objectContaining({ message: "you have no session named 'cur-bob'" }),
      ]);
      expect(aliceForBob.events).toEqual([]);
      for (const s of [alice, bob, admin]) {
        expect(s.errors).toEqual([]);
        s.dispose();
      }
    });

    it('everyone’s sessions are for admins only', async () => {
      const s = subscribe<Update>(open(tokens.alice).client, CURRENT_SUB, 'sessionUpdated', { all: true });
      await waitFor('an error', async () => s.errors.length > 0);
      expect(s.errors[0]).toEqual([
        expect.objectContaining({
          message: "only admins may watch everyone's sessions (sessionUpdated(all: true))",
        }),
      ]);
      expect(s.events).toEqual([]);
    });
  });

  it('everyone’s sessions are for admins only', async () => {
    const s = subscribe<Update>(open(tokens.alice).client, SUB, 'sessionUpdated', { all: true });
    await waitFor('an error', async () => s.errors.length > 0);
    expect(s.errors[0]).toEqual([
      expect.objectContaining({
        message: "only admins may watch everyone's sessions (sessionUpdated(all: true))",
      }),
    ]);
  });

  it('a connection without a token or with a bad one is refused (4403, with the reason)', async () => {
    for (const [c, reason] of [
      [open(), /no bearer token/],
      [open('not-a-jwt'), /not a valid access token/],
      [wsClient(api.url, { token: tokens.alice }), /no bearer token/],
    ] as const) {
      clients.push(c);
      const s = subscribe<Update>(c.client, SUB, 'sessionUpdated');
      const closed = await c.closed;
      expect(closed.code).toBe(4403);
      expect(closed.reason).toMatch(reason);
      expect(s.events).toEqual([]);
    }
  });

  it('a plain GET of /graphql still needs a token', async () => {
    const r = await fetch(`${api.url}/graphql?query=${encodeURIComponent('{ templates { name } }')}`);
    expect(r.status).toBe(401);
  });
});

describe('limits and metrics', () => {
  it('refuses an over-deep query with a clear error', async () => {
    const deep = '{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }';
    const r = await api.gql(tokens.alice, deep);
    expect(r.status).toBe(400);
    expect(r.body.data ?? null).toBeNull();
    expect(r.body.errors?.[0]?.message).toMatch(/exceeds the query depth limit of 6/);
    const ok = await api.gql(
      tokens.alice,
      '{ sessions { name conditions { type } } capacity { products { product } } }',
    );
    expect(ok.body.errors).toBeUndefined();
  });

  it('refuses an operation selecting too many fields', async () => {
    const many = `{ ${Array.from({ length: 301 }, (_, i) => `m${i}: me { user }`).join(' ')} }`;
    const r = await api.gql(tokens.alice, many);
    expect(r.body.errors?.[0]?.message).toBe(
      'the operation selects 602 fields, more than the 300 allowed; ask for less or split it up',
    );
  });

  it('/metrics answers without a token, with requests by operation', async () => {
    await api.gql(tokens.bob, '{ me { user } }');
    await api.gql(undefined, '{ me { user } }');
    const r = await fetch(`${api.url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await r.text();
    expect(text).toMatch(/^vdi_api_graphql_operations_total\{type="query",field="me",outcome="OK"\} [1-9]/m);
    expect(text).toMatch(
      /^vdi_api_graphql_operations_total\{type="query",field="capacity",outcome="FORBIDDEN"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^vdi_api_graphql_operations_total\{type="subscription",field="sessionUpdated",outcome="STARTED"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^vdi_api_graphql_operation_duration_seconds_count\{type="query",field="me"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^vdi_api_http_requests_total\{route="\/graphql",method="POST",status="401"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^vdi_api_http_requests_total\{route="\/graphql",method="POST",status="400"\} [1-9]/m,
    );
    expect(text).toMatch(/^vdi_api_process_resident_memory_bytes /m);
  });
});
