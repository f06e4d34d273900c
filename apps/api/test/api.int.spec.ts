/**
 * The GraphQL API end to end: real tokens from the local Keycloak, real sessions and templates
 * in the test cluster (no operator: sessions stay Pending, which is all these tests need).
 */
import { randomBytes } from 'node:crypto';
import {
  API_VERSION,
  KIND_TEMPLATE,
  SESSION_FINALIZER,
  type VDISession,
  type VDITemplateSpec,
} from '@vdi/crd-types';
import { KubeJsonClient } from '@vdi/kube-client';
import { ownerHash } from '@vdi/session-spec';
import {
  createTestNamespace,
  installCrds,
  releaseDeletedSessions,
  waitFor,
  type SessionReleaser,
  type TestNamespace,
} from '@vdi/testing';
import { decodeJwt } from 'jose';
import { JIT_AFTER } from '../src/app.module.js';
import {
  codeOf,
  keycloakIssuer,
  forgedToken,
  ownIssuer,
  accessToken,
  startApi,
  type OwnIssuer,
  type RunningApi,
  ownerOf,
} from './harness.js';

const suffix = randomBytes(3).toString('hex');
const CPU = `api-cpu-${suffix}`;
const GPU = `api-gpu-${suffix}`;
const BROKEN = `api-broken-${suffix}`;

const SESSION_FIELDS = 'name namespace user template phase gpu memory deleting';
const CREATE = `mutation($input: CreateSessionInput!) { createSession(input: $input) { ${SESSION_FIELDS} } }`;
const LIST = `query($all: Boolean) { sessions(all: $all) { name user } }`;
const GET = `query($name: String!) { session(name: $name) { ${SESSION_FIELDS} } }`;
const DELETE = `mutation($name: String!) { deleteSession(name: $name) }`;

let ns: TestNamespace;
let releaser: SessionReleaser | undefined;
let kube: KubeJsonClient;
let api: RunningApi;
let issuer: string;
const tokens: Record<'alice' | 'bob' | 'admin', string> = { alice: '', bob: '', admin: '' };

const templateSpec = (over: Partial<VDITemplateSpec>): Record<string, unknown> => ({
  displayName: 'API test desktop',
  image: 'ghcr.io/selkies-project/nvidia-egl-desktop:24.04',
  resources: {
    defaultGPU: 0,
    maxGPU: 0,
    defaultMemory: '4Gi',
    defaultCPU: '2',
    maxMemory: '8Gi',
    maxCPU: '4',
  },
  ...over,
});
const templateRef = (name: string) => ({ apiVersion: API_VERSION, kind: KIND_TEMPLATE, metadata: { name } });

async function sessionsInCluster(): Promise<string[]> {
  const list = await kube.call<{ items: VDISession[] }>(
    'GET',
    `/apis/${API_VERSION}/namespaces/${ns.name}/vdisessions`,
  );
  return list.items.map((s) => `${s.metadata.name}@${s.metadata.resourceVersion}`).sort();
}

async function create(who: keyof typeof tokens, input: Record<string, unknown>) {
  return api.gql(tokens[who], CREATE, { input });
}

async function removeAll(): Promise<void> {
  for (const s of await sessionsInCluster()) {
    await kube.delete({
      apiVersion: API_VERSION,
      kind: 'VDISession',
      metadata: { name: s.split('@')[0], namespace: ns.name },
    });
  }
  await waitFor('sessions gone from the API', async () => {
    const r = await api.gql(tokens.admin, LIST, { all: true });
    return (r.body.data?.sessions as unknown[]).length === 0;
  });
}

beforeAll(async () => {
  ns = await createTestNamespace('api');
  // No operator here: its part in a deletion (the API's sessions carry its finalizer).
  releaser = releaseDeletedSessions(ns.kc, ns.name);
  kube = new KubeJsonClient(ns.kc);
  await installCrds(ns.kc);
  for (const [name, spec] of [
    [CPU, templateSpec({ displayName: 'CPU desktop' })],
    [
      GPU,
      templateSpec({
        displayName: 'GPU desktop',
        resources: { defaultGPU: 1, maxGPU: 1, defaultMemory: '4Gi', defaultCPU: '2' } as never,
      }),
    ],
    [BROKEN, templateSpec({ displayName: 'Broken desktop' })],
  ] as const) {
    await kube.call('POST', `/apis/${API_VERSION}/vditemplates`, { ...templateRef(name), spec });
  }
  await kube.mergePatch(
    templateRef(BROKEN),
    { status: { ready: false, message: 'image not found' } },
    'status',
  );
  issuer = keycloakIssuer();
  for (const who of ['alice', 'bob', 'admin'] as const) tokens[who] = await accessToken(who);
  api = await startApi(ns.kc, {
    VDI_OIDC_ISSUER: issuer,
    VDI_OIDC_AUDIENCE: 'vdi-api',
    VDI_SESSIONS_NAMESPACE: ns.name,
    VDI_QUOTA_SESSIONS_PER_USER: '2',
    VDI_QUOTA_GPUS_PER_USER: '1',
  });
  await waitFor('test templates in the cache', async () => {
    const r = await api.gql(tokens.alice, '{ templates { name } }');
    const names = (r.body.data?.templates as { name: string }[] | undefined)?.map((t) => t.name) ?? [];
    return [CPU, GPU, BROKEN].every((n) => names.includes(n));
  });
});

afterAll(async () => {
  await api?.close();
  for (const name of [CPU, GPU, BROKEN]) await kube?.delete(templateRef(name)).catch(() => undefined);
  kube?.close();
  await releaser?.stop();
  await ns?.cleanup();
});

describe('who is calling', () => {
  it('me reflects the token: owner identity and roles', async () => {
    const alice = await api.gql(tokens.alice, '{ me { user username email roles isAdmin } }');
    expect(alice.body.data?.me).toEqual({
      user: 'alice@example.com',
      username: 'alice',
      email: 'alice@example.com',
      roles: expect.arrayContaining(['vdi-user']),
      isAdmin: false,
    });
    // Keycloak sends a single audience as a string: the API must accept it.
    expect(
      typeof decodeJwt(tokens.alice).aud === 'string' || Array.isArray(decodeJwt(tokens.alice).aud),
    ).toBe(true);
    const admin = await api.gql(tokens.admin, '{ me { isAdmin } }');
    expect(admin.body.data?.me).toEqual({ isAdmin: true });
  });

  it('templates come with usability', async () => {
    const r = await api.gql(tokens.bob, '{ templates { name displayName maxGPU usable message } }');
    const byName = new Map((r.body.data?.templates as { name: string }[]).map((t) => [t.name, t]));
    expect(byName.get(CPU)).toEqual({
      name: CPU,
      displayName: 'CPU desktop',
      maxGPU: 0,
      usable: true,
      message: null,
    });
    expect(byName.get(GPU)).toMatchObject({ maxGPU: 1, usable: true });
    expect(byName.get(BROKEN)).toMatchObject({ usable: false, message: 'image not found' });
  });
});

describe('sessions and ownership', () => {
  let aliceSession = '';
  let bobSession = '';

  beforeAll(async () => {
    const a = await create('alice', { template: CPU });
    expect(a.body.errors).toBeUndefined();
    aliceSession = (a.body.data?.createSession as { name: string }).name;
    const b = await create('bob', { template: CPU, name: `bob-desk-${suffix}`, memory: '6Gi' });
    expect(b.body.errors).toBeUndefined();
    bobSession = (b.body.data?.createSession as { name: string }).name;
  });

  afterAll(removeAll);

  it('alice creates a session: owner from the token, generated name, effective GPU pinned', async () => {
    expect(aliceSession).toMatch(/^alice-[a-z0-9]{6}$/);
    const got = await api.gql(tokens.alice, GET, { name: aliceSession });
    expect(got.body.data?.session).toEqual({
      name: aliceSession,
      namespace: ns.name,
      user: 'alice@example.com',
      template: CPU,
      phase: 'Pending',
      gpu: 0,
      memory: null,
      deleting: false,
    });
    const stored = await kube.get<VDISession>({
      apiVersion: API_VERSION,
      kind: 'VDISession',
      metadata: { name: aliceSession, namespace: ns.name },
    });
    // Owned by alice's issuer + subject; her e-mail is only shown.
    expect(stored?.spec).toEqual({
      user: 'alice@example.com',
      owner: ownerOf(tokens.alice),
      template: CPU,
      resources: { gpu: 0 },
    });
    expect(stored?.metadata.labels?.['vdi.kasm.io/user-hash']).toBe(ownerHash(ownerOf(tokens.alice)));
    // With the operator's finalizer from the start: the operator has none to add.
    expect(stored?.metadata.finalizers).toEqual([SESSION_FINALIZER]);
  });

  it('alice lists only her own sessions', async () => {
    const r = await api.gql(tokens.alice, LIST);
    expect(r.body.data?.sessions).toEqual([{ name: aliceSession, user: 'alice@example.com' }]);
  });

  it('bob cannot see alice’s session', async () => {
    const list = await api.gql(tokens.bob, LIST);
    expect(list.body.data?.sessions).toEqual([{ name: bobSession, user: 'bob@example.com' }]);
    const get = await api.gql(tokens.bob, GET, { name: aliceSession });
    expect(codeOf(get)).toBe('NOT_FOUND');
    expect(get.body.errors?.[0]?.message).toBe(`you have no session named '${aliceSession}'`);
  });

  it('answers the same once its queries are compiled (mercurius jit): own sessions only, refusals with their codes', async () => {
    // Past JIT_AFTER executions of one query text it runs as generated code: who asks must still
    // decide what comes back, and a resolver's refusal must keep its code.
    for (let i = 0; i < JIT_AFTER + 3; i++) {
      const [alice, bob, peek, all] = await Promise.all([
        api.gql(tokens.alice, LIST),
        api.gql(tokens.bob, LIST),
        api.gql(tokens.bob, GET, { name: aliceSession }),
        api.gql(tokens.alice, LIST, { all: true }),
      ]);
      expect(alice.body.data?.sessions).toEqual([{ name: aliceSession, user: 'alice@example.com' }]);
      expect(bob.body.data?.sessions).toEqual([{ name: bobSession, user: 'bob@example.com' }]);
      expect(codeOf(peek)).toBe('NOT_FOUND');
      expect(peek.body.errors?.[0]?.message).toBe(`you have no session named '${aliceSession}'`);
      expect(codeOf(all)).toBe('FORBIDDEN');
      expect(all.body.data).toBeNull();
    }
    // A field resolved per session from the API's own indexes (its place in the GPU queue), as the
    // portal polls it while the session waits: the same before and after compiling.
    const sessionRef = {
      apiVersion: API_VERSION,
      kind: 'VDISession',
      metadata: { name: aliceSession, namespace: ns.name },
    };
    await kube.mergePatch(
      sessionRef,
      { status: { phase: 'Scheduling', reason: 'WaitingForGPU', queuedAt: new Date().toISOString() } },
      'status',
    );
    const PLACE = `query($name: String!) { session(name: $name) { name phase reason queuePosition } }`;
    const place = async () => (await api.gql(tokens.alice, PLACE, { name: aliceSession })).body;
    await waitFor(
      'the API sees the session queued',
      async () => ((await place()).data?.session as { queuePosition?: number } | null)?.queuePosition === 1,
    );
    for (let i = 0; i < JIT_AFTER + 3; i++)
      expect(await place()).toEqual({
        data: {
          session: { name: aliceSession, phase: 'Scheduling', reason: 'WaitingForGPU', queuePosition: 1 },
        },
      });
    await kube.mergePatch(sessionRef, { status: null }, 'status');
  });

  it('bob cannot delete alice’s session', async () => {
    const before = await sessionsInCluster();
    const del = await api.gql(tokens.bob, DELETE, { name: aliceSession });
    expect(codeOf(del)).toBe('NOT_FOUND');
    expect(await sessionsInCluster()).toEqual(before);
  });

  it('only admins list everyone’s sessions', async () => {
    const admin = await api.gql(tokens.admin, LIST, { all: true });
    expect(admin.body.data?.sessions).toEqual(
      [
        { name: aliceSession, user: 'alice@example.com' },
        { name: bobSession, user: 'bob@example.com' },
      ].sort((a, b) => a.name.localeCompare(b.name)),
    );
    const adminOwn = await api.gql(tokens.admin, LIST);
    expect(adminOwn.body.data?.sessions).toEqual([]);
    const alice = await api.gql(tokens.alice, LIST, { all: true });
    expect(codeOf(alice)).toBe('FORBIDDEN');
    expect(alice.body.data).toBeNull();
    // an admin may open anyone's session
    const get = await api.gql(tokens.admin, GET, { name: bobSession });
    expect(get.body.data?.session).toMatchObject({ user: 'bob@example.com', memory: '6Gi' });
  });

  it('alice deletes her session', async () => {
    const del = await api.gql(tokens.alice, DELETE, { name: aliceSession });
    expect(del.body).toEqual({ data: { deleteSession: true } });
    await waitFor('alice’s session gone', async () => {
      const r = await api.gql(tokens.alice, LIST);
      return (r.body.data?.sessions as unknown[]).length === 0;
    });
    expect(codeOf(await api.gql(tokens.alice, DELETE, { name: aliceSession }))).toBe('NOT_FOUND');
  });
});

describe('pages of sessions (sessionPage)', () => {
  const PAGE = `query($all: Boolean, $first: Int, $after: String) {
    sessionPage(all: $all, first: $first, after: $after) { items { name user } nextCursor totalCount }
  }`;
  type PageAnswer = {
    items: { name: string; user: string }[];
    nextCursor: string | null;
    totalCount: number;
  };
  const page = async (who: keyof typeof tokens, vars: Record<string, unknown>) => {
    const r = await api.gql(tokens[who], PAGE, vars);
    expect(r.body.errors).toBeUndefined();
    return r.body.data!.sessionPage as PageAnswer;
  };
  /** Straight into the cluster: the API's quota (2 per user here) is not what this is about. */
  const put = (name: string, who: 'alice' | 'bob') =>
    kube.call('POST', `/apis/${API_VERSION}/namespaces/${ns.name}/vdisessions`, {
      apiVersion: API_VERSION,
      kind: 'VDISession',
      metadata: { name, namespace: ns.name },
      spec: { user: `${who}@example.com`, owner: ownerOf(tokens[who]), template: CPU },
    });
  const remove = (name: string) =>
    kube.delete({ apiVersion: API_VERSION, kind: 'VDISession', metadata: { name, namespace: ns.name } });
  const initial = Array.from({ length: 8 }, (_, i) => `page-${i}-${suffix}`);

  beforeAll(async () => {
    for (const [i, name] of initial.entries()) await put(name, i % 2 ? 'bob' : 'alice');
    await waitFor(
      'every session in the API',
      async () => (await page('admin', { all: true })).totalCount === 8,
    );
  });

  afterAll(removeAll);

  it('an admin walks every page: each session once, newest first, while others are created and deleted', async () => {
    // Creation times have whole seconds: what the walk creates is then strictly newer than the
    // sessions it walks (within one second, name order decides, and a new one may show up).
    await new Promise((r) => setTimeout(r, 1100));
    const seen: string[] = [];
    const deleted: string[] = [];
    const created: string[] = [];
    let after: string | null = null;
    for (let n = 0; n < 10; n++) {
      const p = await page('admin', { all: true, first: 3, ...(after ? { after } : {}) });
      seen.push(...p.items.map((i) => i.name));
      after = p.nextCursor;
      if (!after) break;
      // Meanwhile: a new session (newer than every cursor) and one not seen yet deleted.
      const fresh = `page-new-${n}-${suffix}`;
      await put(fresh, 'alice');
      created.push(fresh);
      // One of alice's (the next test counts bob's).
      const unseen = initial.find((x, i) => i % 2 === 0 && !seen.includes(x) && !deleted.includes(x));
      if (n === 0 && unseen) {
        await remove(unseen);
        deleted.push(unseen);
      }
      await waitFor('the changes in the API', async () => {
        const all = await page('admin', { all: true, first: 500 });
        const names = all.items.map((i) => i.name);
        return created.every((c) => names.includes(c)) && deleted.every((d) => !names.includes(d));
      });
    }
    expect(after).toBeNull();
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.sort()).toEqual(initial.filter((x) => !deleted.includes(x)).sort());
    // The pages are newest first: the newest sessions lead a fresh walk.
    const fresh = await page('admin', { all: true, first: created.length });
    expect(fresh.items.map((i) => i.name).sort()).toEqual([...created].sort());
    expect(fresh.totalCount).toBe(initial.length - deleted.length + created.length);
  });

  it('a user pages through their own sessions only; all: true is FORBIDDEN for them as in sessions(all)', async () => {
    const own = await page('bob', { first: 2 });
    expect(own.items.every((i) => i.user === 'bob@example.com')).toBe(true);
    expect(own.totalCount).toBe(initial.filter((_, i) => i % 2).length);
    const rest = await page('bob', { first: 500, after: own.nextCursor });
    expect([...own.items, ...rest.items].map((i) => i.name).sort()).toEqual(
      initial.filter((_, i) => i % 2).sort(),
    );
    const all = await api.gql(tokens.bob, PAGE, { all: true });
    expect(codeOf(all)).toBe('FORBIDDEN');
    expect(all.body.errors?.[0]?.message).toBe(
      'only admins may page through all sessions (sessionPage(all: true))',
    );
  });

  it('refuses a cursor it did not give out and a page size out of range, naming the argument', async () => {
    const bad = await api.gql(tokens.admin, PAGE, { all: true, after: 'not-a-cursor' });
    expect(codeOf(bad)).toBe('BAD_USER_INPUT');
    expect(bad.body.errors?.[0]?.extensions).toMatchObject({ field: 'after' });
    expect(bad.body.errors?.[0]?.message).toMatch(/^after: 'not-a-cursor' is not a cursor from sessionPage/);
    const big = await api.gql(tokens.admin, PAGE, { all: true, first: 501 });
    expect(codeOf(big)).toBe('BAD_USER_INPUT');
    expect(big.body.errors?.[0]?.message).toMatch(/^first: 501 is not a page size; ask for 1 to 500/);
  });
});

describe('lifetimes', () => {
  const LIFE = `api-life-${suffix}`;
  const EXTEND = `mutation($name: String!, $by: String!) { extendSession(name: $name, by: $by) { name maxLifetime } }`;

  beforeAll(async () => {
    await kube.call('POST', `/apis/${API_VERSION}/vditemplates`, {
      ...templateRef(LIFE),
      spec: templateSpec({
        displayName: 'Desktop with a lifetime',
        lifetime: { default: '1h', max: '3h', idle: { default: '30m', max: '1h', action: 'Stop' } },
      }),
    });
    await waitFor('the lifetime template in the cache', async () => {
      const r = await api.gql(tokens.alice, '{ templates { name } }');
      return ((r.body.data?.templates as { name: string }[] | undefined) ?? []).some((t) => t.name === LIFE);
    });
  });

  afterAll(async () => {
    await removeAll();
    await kube.delete(templateRef(LIFE)).catch(() => undefined);
  });

  it("refuses a session that asks to live longer than its template's max, naming the max", async () => {
    const r = await create('alice', { template: LIFE, maxLifetime: '4h' });
    expect(codeOf(r)).toBe('BAD_USER_INPUT');
    expect(r.body.errors![0]!.message).toMatch(/4h is longer than the template allows \(lifetime.max 3h\)/);
    expect(await sessionsInCluster()).toEqual([]);
  });

  it("refuses an idle timeout longer than the template's idle max, naming it", async () => {
    const r = await create('alice', { template: LIFE, idleTimeout: '2h' });
    expect(codeOf(r)).toBe('BAD_USER_INPUT');
    expect(r.body.errors![0]!.message).toMatch(
      /2h is longer than the template allows \(lifetime.idle.max 1h\)/,
    );
    expect(await sessionsInCluster()).toEqual([]);
  });

  it('extends a session up to the template’s max, then says it cannot; only its owner may', async () => {
    const c = await create('alice', { template: LIFE });
    expect(c.body.errors).toBeUndefined();
    const name = (c.body.data?.createSession as { name: string }).name;
    const extend = (who: keyof typeof tokens, by: string) => api.gql(tokens[who], EXTEND, { name, by });

    expect((await extend('alice', '1h')).body.data?.extendSession).toEqual({ name, maxLifetime: '2h' });
    // Capped at the template's max.
    expect((await extend('alice', '2h')).body.data?.extendSession).toEqual({ name, maxLifetime: '3h' });
    const atMax = await extend('alice', '1h');
    expect(codeOf(atMax)).toBe('BAD_USER_INPUT');
    expect(atMax.body.errors![0]!.message).toMatch(/already lives as long as its template allows \(3h\)/);
    expect(codeOf(await extend('alice', 'soon'))).toBe('BAD_USER_INPUT');
    // Another user's session does not exist for bob.
    expect(codeOf(await extend('bob', '1h'))).toBe('NOT_FOUND');
    const stored = await kube.get<VDISession>({
      apiVersion: API_VERSION,
      kind: 'VDISession',
      metadata: { name, namespace: ns.name },
    });
    expect(stored!.spec.maxLifetime).toBe('3h');
  });
});

describe('invalid input', () => {
  afterAll(removeAll);

  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    [
      'unknown template',
      { template: 'no-such-template' },
      'BAD_USER_INPUT',
      /there is no template 'no-such-template'/,
    ],
    [
      'template the operator found invalid',
      { template: BROKEN },
      'BAD_USER_INPUT',
      /cannot be used right now: image not found/,
    ],
    [
      'name with capitals',
      { template: CPU, name: 'My_Desktop' },
      'BAD_USER_INPUT',
      /^name: 'My_Desktop' must be lower-case/,
    ],
    [
      'name too long for a host name',
      { template: CPU, name: 'a'.repeat(51) },
      'BAD_USER_INPUT',
      /at most 50 characters/,
    ],
    ['name starting with a digit', { template: CPU, name: '1desk' }, 'BAD_USER_INPUT', /start with a letter/],
    ['two GPU time-slices', { template: GPU, gpu: 2 }, 'BAD_USER_INPUT', /^gpu: /],
    [
      'a GPU on a CPU-only template',
      { template: CPU, gpu: 1 },
      'BAD_USER_INPUT',
      /^gpu: the template allows no GPU/,
    ],
    [
      'memory that is not a quantity',
      { template: CPU, memory: 'lots' },
      'BAD_USER_INPUT',
      /^memory: .*Kubernetes quantity/,
    ],
    [
      'more memory than the template allows',
      { template: CPU, memory: '64Gi' },
      'BAD_USER_INPUT',
      /64Gi is more than the template allows \(8Gi\)/,
    ],
    [
      'memory that leaves no room beside /dev/shm',
      { template: CPU, memory: '512Mi' },
      'BAD_USER_INPUT',
      /leaves no room beside \/dev\/shm/,
    ],
    [
      'more CPU than the template allows',
      { template: CPU, cpu: '16' },
      'BAD_USER_INPUT',
      /^cpu: 16 is more than the template allows \(4\)/,
    ],
    ['zero CPU', { template: CPU, cpu: '0' }, 'BAD_USER_INPUT', /^cpu: must be at least 1m .*, not 0$/],
    [
      'less CPU than Kubernetes can request (rounds to none)',
      { template: CPU, cpu: '0.0001m' },
      'BAD_USER_INPUT',
      /^cpu: must be at least 1m \(one thousandth of a CPU\), not 0.0001m$/,
    ],
    ['a tiny display', { template: CPU, width: 100 }, 'BAD_USER_INPUT', /^width: /],
    [
      'a lifetime that is not a duration',
      { template: CPU, maxLifetime: 'forever' },
      'BAD_USER_INPUT',
      /^maxLifetime: .*duration/,
    ],
    [
      'a lifetime under the minimum (refused by the API server)',
      { template: CPU, maxLifetime: '10s' },
      'BAD_USER_INPUT',
      /must be at least 1m/,
    ],
    ['a negative GPU count', { template: GPU, gpu: -1 }, 'BAD_USER_INPUT', /^gpu: .*greater or equal to 0/],
    [
      'negative memory',
      { template: CPU, memory: '-1Gi' },
      'BAD_USER_INPUT',
      /^memory: is not valid \(expected a Kubernetes quantity such as 8Gi/,
    ],
    [
      'zero memory',
      { template: CPU, memory: '0' },
      'BAD_USER_INPUT',
      /^memory: must be greater than zero, not 0$/,
    ],
    ['memory with a space', { template: CPU, memory: '8 Gi' }, 'BAD_USER_INPUT', /^memory: is not valid/],
    [
      'negative CPU',
      { template: CPU, cpu: '-2' },
      'BAD_USER_INPUT',
      /^cpu: is not valid \(expected a Kubernetes quantity such as 2 or 1500m\)/,
    ],
    ['CPU that is not a quantity', { template: CPU, cpu: 'fast' }, 'BAD_USER_INPUT', /^cpu: is not valid/],
    [
      'an oversized template name (not echoed back in full)',
      { template: 'x'.repeat(5000) },
      'BAD_USER_INPUT',
      /^there is no template 'x{60}…' \(5000 characters\); choose one of: /,
    ],
    [
      'an empty template name',
      { template: '' },
      'BAD_USER_INPUT',
      /^there is no template ''; choose one of: /,
    ],
    ['an empty session name', { template: CPU, name: '' }, 'BAD_USER_INPUT', /^name: '' must not be empty$/],
    [
      'a name with a dot',
      { template: CPU, name: 'my.desk' },
      'BAD_USER_INPUT',
      /^name: 'my.desk' must be lower-case/,
    ],
    ['a name ending with a hyphen', { template: CPU, name: 'desk-' }, 'BAD_USER_INPUT', /not end with '-'/],
    [
      'an oversized name (not echoed back in full)',
      { template: CPU, name: 'a'.repeat(5000) },
      'BAD_USER_INPUT',
      /^name: 'a{60}…' \(5000 characters\) must be at most 50 characters/,
    ],
    [
      'an idle timeout that is not a duration',
      { template: CPU, idleTimeout: 'soon' },
      'BAD_USER_INPUT',
      /^idleTimeout: is not valid \(expected a duration such as 30m or 2h\)/,
    ],
    [
      'an idle timeout under the minimum (refused by the API server)',
      { template: CPU, idleTimeout: '30s' },
      'BAD_USER_INPUT',
      /idleTimeout: Invalid value: "30s": must be at least 1m/,
    ],
    [
      'a lifetime over the maximum (refused by the API server)',
      { template: CPU, maxLifetime: '1000h' },
      'BAD_USER_INPUT',
      /maxLifetime: Invalid value: "1000h": must be at most 720h/,
    ],
    [
      'an oversized duration string',
      { template: CPU, maxLifetime: '1'.repeat(5000) + 'h' },
      'BAD_USER_INPUT',
      /^maxLifetime: is not valid \(expected a duration/,
    ],
    [
      'a huge display',
      { template: CPU, width: 100000, height: 100000 },
      'BAD_USER_INPUT',
      /^width: .*less or equal to 7680; height: .*less or equal to 4320$/,
    ],
    ['a tiny height', { template: CPU, height: 10 }, 'BAD_USER_INPUT', /^height: .*greater or equal to 480/],
    [
      'a framerate of zero',
      { template: CPU, framerate: 0 },
      'BAD_USER_INPUT',
      /^framerate: .*greater or equal to 1$/,
    ],
    [
      'a framerate over the maximum',
      { template: CPU, framerate: 500 },
      'BAD_USER_INPUT',
      /^framerate: .*less or equal to 120$/,
    ],
    [
      'a user chosen in the input (the owner comes from the token only)',
      { template: CPU, user: 'bob@example.com' },
      'BAD_USER_INPUT',
      /Field "user" is not defined by type "CreateSessionInput"/,
    ],
    [
      'a GPU count given as a string',
      { template: GPU, gpu: '1' },
      'BAD_USER_INPUT',
      /at "input.gpu"; Int cannot represent non-integer value: "1"/,
    ],
    [
      'a fractional width',
      { template: CPU, width: 1920.5 },
      'BAD_USER_INPUT',
      /at "input.width"; Int cannot represent non-integer value: 1920.5/,
    ],
    [
      'no template at all',
      { name: 'desk' },
      'BAD_USER_INPUT',
      /Field "template" of required type "String!" was not provided/,
    ],
  ];

  it.each(cases)('%s → %s, cluster unchanged', async (_what, input, code, message) => {
    const before = await sessionsInCluster();
    const r = await create('alice', input);
    // 200 with errors from the API's checks; 400 when graphql-js refuses the input's shape first.
    expect([200, 400]).toContain(r.status);
    expect(r.body.data ?? null).toBeNull();
    expect(codeOf(r)).toBe(code);
    expect(r.body.errors?.[0]?.message).toMatch(message);
    expect(await sessionsInCluster()).toEqual(before);
  });

  it('a taken name → BAD_USER_INPUT, the existing session untouched', async () => {
    const name = `taken-${suffix}`;
    expect((await create('bob', { template: CPU, name })).body.errors).toBeUndefined();
    const before = await sessionsInCluster();
    const r = await create('alice', { template: CPU, name });
    expect(codeOf(r)).toBe('BAD_USER_INPUT');
    expect(r.body.errors?.[0]?.message).toMatch(/already exists/);
    expect(await sessionsInCluster()).toEqual(before);
  });

  it('unknown sessions → NOT_FOUND', async () => {
    expect(codeOf(await api.gql(tokens.alice, GET, { name: 'nope' }))).toBe('NOT_FOUND');
    expect(codeOf(await api.gql(tokens.alice, DELETE, { name: 'Not A Name' }))).toBe('NOT_FOUND');
  });
});

describe('quotas', () => {
  afterAll(removeAll);

  it('GPU and session counts per user → QUOTA_EXCEEDED, cluster unchanged', async () => {
    expect((await create('alice', { template: GPU })).body.errors).toBeUndefined();
    let before = await sessionsInCluster();
    const gpu = await create('alice', { template: GPU });
    expect(codeOf(gpu)).toBe('QUOTA_EXCEEDED');
    expect(gpu.body.errors?.[0]?.extensions).toMatchObject({ quota: 'gpusPerUser', limit: 1 });
    expect(gpu.body.errors?.[0]?.message).toMatch(/already use 1 GPU time-slice/);
    expect(await sessionsInCluster()).toEqual(before);
    // a GPU template with gpu: 0 is fine
    expect((await create('alice', { template: GPU, gpu: 0 })).body.errors).toBeUndefined();
    before = await sessionsInCluster();
    const third = await create('alice', { template: CPU });
    expect(codeOf(third)).toBe('QUOTA_EXCEEDED');
    expect(third.body.errors?.[0]?.message).toMatch(/already have 2 session\(s\).*delete one first/);
    expect(await sessionsInCluster()).toEqual(before);
    // bob has his own quota
    expect((await create('bob', { template: GPU })).body.errors).toBeUndefined();
  });

  it('concurrent creates of one user cannot overrun the quota', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => create('bob', { template: CPU })));
    const ok = results.filter((r) => !r.body.errors).length;
    expect(ok).toBe(1); // bob already holds one session, the limit is 2
    expect(results.filter((r) => codeOf(r) === 'QUOTA_EXCEEDED')).toHaveLength(4);
  });
});

describe('stop and resume', () => {
  const STOP = `mutation($name: String!) { stopSession(name: $name) { name state phase } }`;
  const RESUME = `mutation($name: String!) { resumeSession(name: $name) { name state } }`;
  const stateOf = async (name: string) =>
    (
      await kube.get<VDISession>({
        apiVersion: API_VERSION,
        kind: 'VDISession',
        metadata: { name, namespace: ns.name },
      })
    )?.spec.state ?? 'Running';
  afterAll(removeAll);

  it('a stopped session frees its GPU quota; resuming it needs the quota back; only its owner may', async () => {
    const first = (await create('alice', { template: GPU })).body.data?.createSession as { name: string };
    expect(codeOf(await create('alice', { template: GPU }))).toBe('QUOTA_EXCEEDED');

    expect(codeOf(await api.gql(tokens.bob, STOP, { name: first.name }))).toBe('NOT_FOUND');
    expect(await stateOf(first.name)).toBe('Running');
    const stopped = await api.gql(tokens.alice, STOP, { name: first.name });
    expect(stopped.body.errors).toBeUndefined();
    expect(stopped.body.data?.stopSession).toMatchObject({ name: first.name, state: 'Stopped' });
    expect(await stateOf(first.name)).toBe('Stopped');
    // Stopping again changes nothing.
    expect((await api.gql(tokens.alice, STOP, { name: first.name })).body.errors).toBeUndefined();

    // Its slice is free for another GPU session (the stopped one still counts as a session).
    const second = await create('alice', { template: GPU });
    expect(second.body.errors).toBeUndefined();
    const secondName = (second.body.data?.createSession as { name: string }).name;
    expect(codeOf(await create('alice', { template: CPU }))).toBe('QUOTA_EXCEEDED');

    // Both GPU sessions cannot run at once: resuming is refused, saying what to do, and changes nothing.
    const refused = await api.gql(tokens.alice, RESUME, { name: first.name });
    expect(codeOf(refused)).toBe('QUOTA_EXCEEDED');
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ quota: 'gpusPerUser', limit: 1 });
    expect(refused.body.errors?.[0]?.message).toMatch(/stop or delete another GPU session first/);
    expect(await stateOf(first.name)).toBe('Stopped');
    expect(codeOf(await api.gql(tokens.bob, RESUME, { name: first.name }))).toBe('NOT_FOUND');

    expect((await api.gql(tokens.alice, STOP, { name: secondName })).body.errors).toBeUndefined();
    const resumed = await api.gql(tokens.alice, RESUME, { name: first.name });
    expect(resumed.body.errors).toBeUndefined();
    expect(resumed.body.data?.resumeSession).toEqual({ name: first.name, state: 'Running' });
    expect(await stateOf(first.name)).toBe('Running');
    expect(await stateOf(secondName)).toBe('Stopped');
  });
});

describe('tokens', () => {
  let own: OwnIssuer;
  let trusting: RunningApi;
  const claims = () => ({
    sub: 'u-1',
    email: 'mallory@example.com',
    email_verified: true,
    preferred_username: 'mallory',
    realm_access: { roles: ['vdi-user', 'vdi-admin'] },
  });

  beforeAll(async () => {
    own = await ownIssuer();
    // A second API that trusts our own key, so each claim check is exercised on its own.
    trusting = await startApi(ns.kc, {
      VDI_OIDC_ISSUER: issuer,
      VDI_OIDC_JWKS_URI: own.jwksUri,
      VDI_OIDC_CLOCK_TOLERANCE_SECONDS: '0',
      VDI_SESSIONS_NAMESPACE: ns.name,
    });
  });
  afterAll(async () => {
    await trusting?.close();
    await own?.close();
  });

  const refused = async (target: RunningApi, token: string | undefined, message: RegExp, status = 401) => {
    const r = await target.gql(token, '{ me { user } }');
    expect(r.status).toBe(status);
    expect(r.body.data).toBeNull();
    expect(codeOf(r)).toBe(status === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN');
    expect(r.body.errors?.[0]?.message).toMatch(message);
  };

  it('a token signed with a key of our own is refused by the realm-trusting API', async () => {
    const kid =
      decodeJwt(tokens.alice) &&
      JSON.parse(Buffer.from(tokens.alice.split('.')[0]!, 'base64url').toString()).kid;
    const forged = await forgedToken({ ...claims(), iss: issuer, aud: 'vdi-api' }, kid);
    await refused(api, forged, /signature is not valid/);
    // a real token with its signature swapped
    const [h, p] = tokens.alice.split('.');
    const [, , sig] = forged.split('.');
    await refused(api, `${h}.${p}.${sig}`, /signature is not valid/);
  });

  it('no token, garbage, or another scheme are refused', async () => {
    await refused(api, undefined, /no bearer token/);
    await refused(api, 'not-a-jwt', /not a valid access token/);
    const r = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic YWxpY2U6YWxpY2U=' },
      body: '{"query":"{ me { user } }"}',
    });
    expect(r.status).toBe(401);
  });

  it('a correctly signed token is accepted, with aud as a string or an array', async () => {
    for (const aud of ['vdi-api', ['account', 'vdi-api']]) {
      const r = await trusting.gql(
        await own.sign({ ...claims(), iss: issuer, aud }),
        '{ me { user isAdmin } }',
      );
      expect(r.body).toEqual({ data: { me: { user: 'mallory@example.com', isAdmin: true } } });
    }
  });

  it('an expired token is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await own.sign(
      { ...claims(), iss: issuer, aud: 'vdi-api' },
      { iat: now - 600, expiresIn: now - 60 },
    );
    await refused(trusting, token, /expired/);
  });

  it('a token for another audience is refused', async () => {
    await refused(
      trusting,
      await own.sign({ ...claims(), iss: issuer, aud: 'account' }),
      /not meant for this API/,
    );
    await refused(trusting, await own.sign({ ...claims(), iss: issuer }), /not meant for this API/);
  });

  it('a token of another issuer is refused', async () => {
    const token = await own.sign({ ...claims(), iss: 'http://localhost:8180/realms/other', aud: 'vdi-api' });
    await refused(trusting, token, /issued by another identity provider/);
  });

  it('a valid token without a platform role is FORBIDDEN', async () => {
    const token = await own.sign({
      ...claims(),
      realm_access: { roles: ['offline_access'] },
      iss: issuer,
      aud: 'vdi-api',
    });
    await refused(trusting, token, /lacks the vdi-user role/, 403);
  });
});
