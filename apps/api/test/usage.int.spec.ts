/**
 * GPU-hour budgets through the API, with real Keycloak tokens (alice; bob in the gpu-power group;
 * the admin) and real ledgers in the test cluster: the budget that applies is recorded at each
 * GPU create, a create or resume over budget is refused with what is spent and when it renews,
 * and `usage` / `usages` report it. The counts are written here as the operator would (its own
 * accounting is tested in apps/operator/test/usage.int.spec.ts).
 */
import { randomBytes } from 'node:crypto';
import { API_VERSION, KIND_TEMPLATE, PLURAL_USAGE, type VDISession, type VDIUsage } from '@vdi/crd-types';
import { KubeJsonClient } from '@vdi/kube-client';
import { ownerHash, usageName } from '@vdi/session-spec';
import { createTestNamespace, installCrds, waitFor, type TestNamespace } from '@vdi/testing';
import { accessToken, codeOf, keycloakIssuer, ownerOf, startApi, type RunningApi } from './harness.js';

const suffix = randomBytes(3).toString('hex');
const GPU = `use-gpu-${suffix}`;
const CPU = `use-cpu-${suffix}`;
const CREATE = `mutation($input: CreateSessionInput!) { createSession(input: $input) { name gpu } }`;
const RESUME = `mutation($name: String!) { resumeSession(name: $name) { name state } }`;
const USAGE = `{ usage { user period periodStart renewsAt gpuHoursUsed gpuHoursBudget gpuHoursLeft rule exhausted slicesHeld } }`;
const USAGES = `{ usages { user gpuHoursUsed gpuHoursBudget rule exhausted } }`;

let ns: TestNamespace;
let kube: KubeJsonClient;
let api: RunningApi;
const tokens: Record<'alice' | 'bob' | 'admin', string> = { alice: '', bob: '', admin: '' };

const ledgerPath = (token: string) =>
  `/apis/${API_VERSION}/namespaces/${ns.name}/${PLURAL_USAGE}/${usageName(ownerHash(ownerOf(token)))}`;
const ledger = (token: string) => kube.call<VDIUsage>('GET', ledgerPath(token));
const sessionPath = (name = '') =>
  `/apis/${API_VERSION}/namespaces/${ns.name}/vdisessions${name ? `/${name}` : ''}`;
const today = () => new Date().toISOString().slice(0, 10);
const tomorrow = () => new Date(Date.parse(`${today()}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  ns = await createTestNamespace('apiu');
  kube = new KubeJsonClient(ns.kc);
  await installCrds(ns.kc);
  const resources = (gpu: number) => ({
    defaultGPU: gpu,
    maxGPU: gpu,
    defaultMemory: '4Gi',
    defaultCPU: '2',
  });
  for (const [name, gpu] of [
    [GPU, 1],
    [CPU, 0],
  ] as const) {
    await kube.call('POST', `/apis/${API_VERSION}/vditemplates`, {
      apiVersion: API_VERSION,
      kind: KIND_TEMPLATE,
      metadata: { name },
      spec: {
        displayName: `Usage test ${gpu}`,
        image: 'ghcr.io/example/desktop:1',
        resources: resources(gpu),
      },
    });
  }
  for (const who of ['alice', 'bob', 'admin'] as const) tokens[who] = await accessToken(who);
  api = await startApi(ns.kc, {
    VDI_OIDC_ISSUER: keycloakIssuer(),
    VDI_OIDC_AUDIENCE: 'vdi-api',
    VDI_SESSIONS_NAMESPACE: ns.name,
    VDI_QUOTA_SESSIONS_PER_USER: '5',
    VDI_QUOTA_GPUS_PER_USER: '3',
    VDI_GPU_BUDGETS: 'default=1h/day; group:gpu-power=100h/month; role:vdi-admin=unlimited',
  });
  await waitFor('test templates in the cache', async () => {
    const r = await api.gql(tokens.alice, '{ templates { name } }');
    const names = (r.body.data?.templates as { name: string }[] | undefined)?.map((t) => t.name) ?? [];
    return [GPU, CPU].every((n) => names.includes(n));
  });
});

afterAll(async () => {
  await api?.close();
  for (const name of [GPU, CPU])
    await kube
      ?.delete({ apiVersion: API_VERSION, kind: KIND_TEMPLATE, metadata: { name } })
      .catch(() => undefined);
  kube?.close();
  await ns?.cleanup();
});

describe('GPU-hour budgets', () => {
  it("records the budget that applies to each owner at a GPU create: the default, or a group's from the token", async () => {
    const a = await api.gql(tokens.alice, CREATE, { input: { template: GPU, name: `alice-${suffix}` } });
    expect(a.body.errors).toBeUndefined();
    const b = await api.gql(tokens.bob, CREATE, { input: { template: GPU, name: `bob-${suffix}` } });
    expect(b.body.errors).toBeUndefined();

    const la = await ledger(tokens.alice);
    expect(la.spec).toEqual({
      owner: ownerOf(tokens.alice),
      user: 'alice@example.com',
      budget: { gpuHours: 1, period: 'Day', rule: 'default' },
    });
    // bob is in Keycloak's gpu-power group (the token's groups claim).
    expect((await ledger(tokens.bob)).spec.budget).toEqual({
      gpuHours: 100,
      period: 'Month',
      rule: 'group:gpu-power',
    });

    const u = await api.gql(tokens.alice, USAGE);
    expect(u.body.data?.usage).toEqual({
      user: 'alice@example.com',
      period: 'Day',
      periodStart: `${today()}T00:00:00Z`,
      renewsAt: `${tomorrow()}T00:00:00Z`,
      gpuHoursUsed: 0,
      gpuHoursBudget: 1,
      gpuHoursLeft: 1,
      rule: 'default',
      exhausted: false,
      slicesHeld: 0,
    });
  });

  it('refuses a GPU create or resume once the budget is used up, saying what is spent and when it renews; nothing changes', async () => {
    // The operator's count: alice used her hour today.
    await kube.call(
      'PATCH',
      `${ledgerPath(tokens.alice)}/status`,
      { status: { days: [{ day: today(), gpuSeconds: 3600 }], totalGpuSeconds: 3600, holding: [] } },
      'application/merge-patch+json',
    );
    const before = (await kube.call<{ items: VDISession[] }>('GET', sessionPath())).items.length;

    const refused = await api.gql(tokens.alice, CREATE, { input: { template: GPU } });
    expect(codeOf(refused)).toBe('BUDGET_EXHAUSTED');
    expect(refused.body.errors?.[0]?.message).toBe(
      `GPU budget used up: you have used 1 GPU-hour of your 1 GPU-hour today (budget rule default); it renews at ${tomorrow()}T00:00:00Z. ` +
        'Launch without a GPU (gpu: 0), or ask an admin for a larger budget',
    );
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({
      gpuHoursUsed: 1,
      gpuHoursBudget: 1,
      renewsAt: `${tomorrow()}T00:00:00Z`,
    });
    expect((await kube.call<{ items: VDISession[] }>('GET', sessionPath())).items).toHaveLength(before);

    // A desktop without a GPU uses no budget.
    const cpu = await api.gql(tokens.alice, CREATE, { input: { template: CPU } });
    expect(cpu.body.errors).toBeUndefined();

    // A stopped GPU session cannot be resumed either; it stays stopped.
    const name = `alice-${suffix}`;
    await kube.mergePatch(
      { apiVersion: API_VERSION, kind: 'VDISession', metadata: { name, namespace: ns.name } },
      { spec: { state: 'Stopped' } },
    );
    const resumed = await api.gql(tokens.alice, RESUME, { name });
    expect(codeOf(resumed)).toBe('BUDGET_EXHAUSTED');
    expect(resumed.body.errors?.[0]?.message).toContain('it renews at');
    expect((await kube.call<VDISession>('GET', sessionPath(name))).spec.state).toBe('Stopped');

    // bob's budget is his own: he still launches.
    const bob = await api.gql(tokens.bob, CREATE, { input: { template: GPU } });
    expect(bob.body.errors).toBeUndefined();

    const u = await api.gql(tokens.alice, USAGE);
    expect(u.body.data?.usage).toMatchObject({ gpuHoursUsed: 1, gpuHoursLeft: 0, exhausted: true });
  });

  it("shows admins every user's usage, most used first; users only their own", async () => {
    const all = await api.gql(tokens.admin, USAGES);
    expect(all.body.errors).toBeUndefined();
    const rows = all.body.data?.usages as { user: string }[];
    expect(rows.map((r) => r.user)).toEqual(['alice@example.com', 'bob@example.com']);
    expect(rows[0]).toEqual({
      user: 'alice@example.com',
      gpuHoursUsed: 1,
      gpuHoursBudget: 1,
      rule: 'default',
      exhausted: true,
    });
    const denied = await api.gql(tokens.alice, USAGES);
    expect(codeOf(denied)).toBe('FORBIDDEN');
    // The admin's own budget: unlimited by role.
    const mine = await api.gql(tokens.admin, USAGE);
    expect(mine.body.data?.usage).toMatchObject({ gpuHoursBudget: null, exhausted: false, rule: null });
  });
});
