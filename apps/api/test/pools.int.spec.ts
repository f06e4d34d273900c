/**
 * Warm pools through the API, end to end: real admin and alice tokens from the local Keycloak,
 * real writes to the test cluster (the VDIPool CRD as generated). No operator runs: the API's part
 * is the checks and the writes. Every refusal leaves the cluster as it was.
 */
import { randomBytes } from 'node:crypto';
import { API_VERSION, KIND_TEMPLATE, type VDIPool } from '@vdi/crd-types';
import { KubeJsonClient } from '@vdi/kube-client';
import {
  createIsolatedGpuNode,
  createTestNamespace,
  installCrds,
  waitFor,
  type IsolatedNode,
  type TestNamespace,
} from '@vdi/testing';
import { accessToken, codeOf, keycloakIssuer, startApi, type GqlResult, type RunningApi } from './harness.js';

const suffix = randomBytes(3).toString('hex');
const POOLABLE = `pool-cpu-${suffix}`;
const HOMES = `pool-home-${suffix}`;
const IMAGE = 'ghcr.io/selkies-project/nvidia-egl-desktop:24.04';

const FIELDS = 'name template size warm starting claimed poolable poolableMessage nodeSelector';
const POOLS = `{ pools { ${FIELDS} } }`;
const CREATE = `mutation($input: CreatePoolInput!) { createPool(input: $input) { ${FIELDS} } }`;
const SCALE = `mutation($name: String!, $size: Int!) { scalePool(name: $name, size: $size) { ${FIELDS} } }`;
const DELETE = `mutation($name: String!) { deletePool(name: $name) }`;

let ns: TestNamespace;
let kube: KubeJsonClient;
let api: RunningApi;
let node: IsolatedNode;
const tokens = { admin: '', alice: '' };

const templateRef = (name: string) => ({ apiVersion: API_VERSION, kind: KIND_TEMPLATE, metadata: { name } });
/** The pools of the test namespace as the API server has them: name@resourceVersion. */
async function stored(): Promise<string[]> {
  const r = await kube.call<{ items: VDIPool[] }>(
    'GET',
    `/apis/${API_VERSION}/namespaces/${ns.name}/vdipools`,
  );
  return r.items.map((p) => `${p.metadata.name}@${p.metadata.resourceVersion}`).sort();
}
const errorOf = (r: GqlResult) => ({ code: codeOf(r), message: r.body.errors?.[0]?.message ?? '' });

beforeAll(async () => {
  ns = await createTestNamespace('apipool');
  kube = new KubeJsonClient(ns.kc);
  await installCrds(ns.kc);
  node = await createIsolatedGpuNode({ gpus: 1, replicas: 8 });
  // 64 CPUs a desktop on a node of 512: eight fit.
  for (const [name, persistence] of [
    [POOLABLE, 'none'],
    [HOMES, 'user'],
  ] as const) {
    await kube.apply(
      {
        ...templateRef(name),
        spec: {
          displayName: `Pool test ${persistence}`,
          image: IMAGE,
          persistence,
          nodeSelector: node.nodeSelector,
          tolerations: node.tolerations,
          resources: { defaultGPU: 0, maxGPU: 0, defaultMemory: '4Gi', defaultCPU: '64' },
        },
      },
      'vdi-tests',
    );
  }
  for (const who of ['admin', 'alice'] as const) tokens[who] = await accessToken(who);
  api = await startApi(ns.kc, {
    VDI_OIDC_ISSUER: keycloakIssuer(),
    VDI_OIDC_AUDIENCE: 'vdi-api',
    VDI_SESSIONS_NAMESPACE: ns.name,
  });
  // The API reads templates from its cache: wait until it has ours.
  await waitFor('templates cached', async () => {
    const r = await api.gql(tokens.admin, '{ templates { name } }');
    const names = ((r.body.data?.templates ?? []) as { name: string }[]).map((t) => t.name);
    return names.includes(POOLABLE) && names.includes(HOMES);
  });
});

afterAll(async () => {
  await api?.close();
  for (const name of [POOLABLE, HOMES]) await kube?.delete(templateRef(name)).catch(() => undefined);
  kube?.close();
  await ns?.cleanup();
  await node?.remove();
});

describe('an admin manages warm pools through the API', () => {
  it('creates, lists, scales and deletes a pool', async () => {
    const [[key, value]] = Object.entries(node.nodeSelector) as [[string, string]];
    const created = await api.gql(tokens.admin, CREATE, {
      input: { name: 'warm', template: POOLABLE, size: 2, nodeSelector: `${key}=${value}` },
    });
    expect(created.body.errors).toBeUndefined();
    expect(created.body.data!.createPool).toMatchObject({
      name: 'warm',
      template: POOLABLE,
      size: 2,
      warm: 0,
      claimed: 0,
      nodeSelector: `${key}=${value}`,
    });
    const stored0 = await kube.call<VDIPool>(
      'GET',
      `/apis/${API_VERSION}/namespaces/${ns.name}/vdipools/warm`,
    );
    expect(stored0.spec).toEqual({
      template: POOLABLE,
      size: 2,
      placement: { nodeSelector: { [key]: value } },
    });

    const listed = await api.gql(tokens.admin, POOLS);
    expect((listed.body.data!.pools as { name: string }[]).map((p) => p.name)).toEqual(['warm']);

    // Eight desktops of 64 CPUs fit on the node of 512.
    const scaled = await api.gql(tokens.admin, SCALE, { name: 'warm', size: 8 });
    expect(scaled.body.errors).toBeUndefined();
    expect(scaled.body.data!.scalePool).toMatchObject({ size: 8 });

    const deleted = await api.gql(tokens.admin, DELETE, { name: 'warm' });
    expect(deleted.body.data!.deletePool).toBe(true);

    // A placement no node matches: an empty pool is fine, any desktop in it has no room.
    const nowhere = await api.gql(tokens.admin, CREATE, {
      input: { name: 'nowhere', template: POOLABLE, size: 0, nodeSelector: 'rack=7' },
    });
    expect(nowhere.body.errors).toBeUndefined();
    const noRoom = errorOf(await api.gql(tokens.admin, SCALE, { name: 'nowhere', size: 1 }));
    expect(noRoom.code).toBe('BAD_USER_INPUT');
    expect(noRoom.message).toMatch(/room for 0 now; choose a size of at most 0/);
    await api.gql(tokens.admin, DELETE, { name: 'nowhere' });
    await waitFor('pools gone', async () => (await stored()).length === 0);
  });

  it('refuses bad input clearly and changes nothing', async () => {
    await api.gql(tokens.admin, CREATE, { input: { name: 'keep', template: POOLABLE, size: 1 } });
    const before = await stored();
    const cases: [string, Record<string, unknown>, RegExp][] = [
      [CREATE, { input: { name: 'x', template: `nope-${suffix}`, size: 1 } }, /there is no template/],
      [CREATE, { input: { name: 'x', template: HOMES, size: 1 } }, /cannot be pooled.*persistence 'user'/],
      [
        CREATE,
        { input: { name: 'x', template: POOLABLE, size: -1 } },
        /size: -1 is not a whole number from 0 to 500/,
      ],
      [CREATE, { input: { name: 'x', template: POOLABLE, size: 501 } }, /from 0 to 500/],
      [
        CREATE,
        { input: { name: 'x', template: POOLABLE, size: 9 } },
        /room for 8 now; choose a size of at most 8/,
      ],
      [CREATE, { input: { name: 'Bad Name', template: POOLABLE, size: 1 } }, /DNS-1123/],
      [CREATE, { input: { name: 'keep', template: POOLABLE, size: 1 } }, /already exists/],
      [SCALE, { name: 'keep', size: 9 }, /room for 8 now; choose a size of at most 8/],
      [SCALE, { name: 'keep', size: 501 }, /from 0 to 500/],
    ];
    for (const [query, variables, message] of cases) {
      const e = errorOf(await api.gql(tokens.admin, query, variables));
      expect(e.code).toBe('BAD_USER_INPUT');
      expect(e.message).toMatch(message);
    }
    const missing = errorOf(await api.gql(tokens.admin, SCALE, { name: 'ghost', size: 1 }));
    expect(missing.code).toBe('NOT_FOUND');
    expect(await stored()).toEqual(before);
    await api.gql(tokens.admin, DELETE, { name: 'keep' });
  });

  it('sets, lists and removes a schedule; refuses a bad one (time zone, empty window, size, largest window beyond capacity)', async () => {
    const SCHEDULE_FIELDS = `${FIELDS} targetSize nextChange schedule { timeZone windows { days start end size } }`;
    const SET = `mutation($name: String!, $schedule: PoolScheduleInput) { updatePoolSchedule(name: $name, schedule: $schedule) { ${SCHEDULE_FIELDS} } }`;
    const hours = { days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], start: '09:00', end: '17:00', size: 4 };
    const created = await api.gql(
      tokens.admin,
      `mutation($input: CreatePoolInput!) { createPool(input: $input) { ${SCHEDULE_FIELDS} } }`,
      {
        input: {
          name: 'sched',
          template: POOLABLE,
          size: 1,
          schedule: { timeZone: 'Europe/Berlin', windows: [hours] },
        },
      },
    );
    expect(created.body.errors).toBeUndefined();
    expect(created.body.data!.createPool).toMatchObject({
      size: 1,
      schedule: { timeZone: 'Europe/Berlin', windows: [hours] },
    });
    const stored0 = await kube.call<VDIPool>(
      'GET',
      `/apis/${API_VERSION}/namespaces/${ns.name}/vdipools/sched`,
    );
    expect(stored0.spec.schedule).toEqual({ timeZone: 'Europe/Berlin', windows: [hours] });
    const before = await stored();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ timeZone: 'Mars/Base', windows: [hours] }, /timeZone .* is not an IANA time zone/],
      [{ windows: [{ ...hours, end: '09:00' }] }, /windows\[0\]: starts and ends at 09:00/],
      [{ windows: [{ ...hours, days: ['Someday'] }] }, /windows\[0\]\.days: .* is not a day/],
      [{ windows: [{ ...hours, start: '25:00' }] }, /windows\[0\]\.start/],
      [{ windows: [{ ...hours, size: 501 }] }, /windows\[0\]\.size: 501 is not a whole number from 0 to 500/],
      // The size is 1, but the largest window's 9 does not fit (room for 8).
      [{ windows: [hours, { ...hours, size: 9 }] }, /schedule\.windows\[1\]\.size: 9 .*room for 8 now/],
    ];
    for (const [schedule, message] of cases) {
      const e = errorOf(await api.gql(tokens.admin, SET, { name: 'sched', schedule }));
      expect(e.code).toBe('BAD_USER_INPUT');
      expect(e.message).toMatch(message);
    }
    expect(await stored()).toEqual(before);
    // A largest window of 8 fits exactly (eight desktops of 64 CPUs on the node of 512).
    const fits = await api.gql(tokens.admin, SET, {
      name: 'sched',
      schedule: { windows: [{ ...hours, size: 8 }] },
    });
    expect(fits.body.errors).toBeUndefined();
    const overnight = await api.gql(tokens.admin, SET, {
      name: 'sched',
      schedule: { windows: [{ days: ['Fri'], start: '22:00', end: '06:00', size: 2 }] },
    });
    expect(overnight.body.errors).toBeUndefined();
    expect(overnight.body.data!.updatePoolSchedule).toMatchObject({
      schedule: { timeZone: 'UTC', windows: [{ days: ['Fri'], start: '22:00', end: '06:00', size: 2 }] },
    });
    const removed = await api.gql(tokens.admin, SET, { name: 'sched', schedule: null });
    expect(removed.body.errors).toBeUndefined();
    expect((removed.body.data!.updatePoolSchedule as { schedule: unknown }).schedule).toBeNull();
    await api.gql(tokens.admin, DELETE, { name: 'sched' });
    await waitFor('pools gone', async () => (await stored()).length === 0);
  });

  it('refuses a user who is not an admin, and changes nothing', async () => {
    await api.gql(tokens.admin, CREATE, { input: { name: 'admins-only', template: POOLABLE, size: 1 } });
    const before = await stored();
    for (const [query, variables] of [
      [POOLS, {}],
      [CREATE, { input: { name: 'mine', template: POOLABLE, size: 1 } }],
      [SCALE, { name: 'admins-only', size: 2 }],
      [DELETE, { name: 'admins-only' }],
    ] as const) {
      const e = errorOf(await api.gql(tokens.alice, query, variables));
      expect(e.code).toBe('FORBIDDEN');
      expect(e.message).toMatch(/only platform admins/);
    }
    expect(await stored()).toEqual(before);
    await api.gql(tokens.admin, DELETE, { name: 'admins-only' });
  });
});
