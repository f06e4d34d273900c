/**
 * Template management through the API, end to end: real admin and alice tokens from the local
 * Keycloak, real writes to the test cluster's kube-apiserver (the CRD as generated, with its
 * schema and CEL rules). No operator runs: sessions stay Pending, which is all retiring needs.
 * Templates are cluster-scoped, so every name here carries this run's suffix and is removed after.
 */
import { randomBytes } from 'node:crypto';
import { API_VERSION, KIND_TEMPLATE, type VDISession, type VDITemplate } from '@vdi/crd-types';
import { KubeJsonClient } from '@vdi/kube-client';
import { createTestNamespace, installCrds, type TestNamespace } from '@vdi/testing';
import { accessToken, codeOf, keycloakIssuer, startApi, type GqlResult, type RunningApi } from './harness.js';

const suffix = randomBytes(3).toString('hex');
const MAIN = `tpl-main-${suffix}`;
const OTHER = `tpl-other-${suffix}`;
const NEVER = `tpl-never-${suffix}`;
const IMAGE = 'ghcr.io/selkies-project/nvidia-egl-desktop:24.04';

const FIELDS = `name displayName description image retired sessionCount usable defaultGPU maxGPU defaultMemory
  defaultCPU minMemory maxMemory encoder width lifetimeMax idleDefault idleAction persistence homeSize resourceVersion`;
const CREATE = `mutation($input: CreateTemplateInput!) { createTemplate(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($name: String!, $input: TemplateInput!, $rv: String) {
  updateTemplate(name: $name, input: $input, resourceVersion: $rv) { ${FIELDS} } }`;
const RETIRE = `mutation($name: String!) { retireTemplate(name: $name) { ${FIELDS} } }`;
const RESTORE = `mutation($name: String!) { restoreTemplate(name: $name) { ${FIELDS} } }`;
const DELETE = `mutation($name: String!) { deleteTemplate(name: $name) }`;
const TEMPLATES = `{ templates { ${FIELDS} } }`;
const CREATE_SESSION = `mutation($input: CreateSessionInput!) { createSession(input: $input) { name template phase } }`;

type Template = Record<string, unknown> & { name: string; resourceVersion: string };

let ns: TestNamespace;
let kube: KubeJsonClient;
let api: RunningApi;
const tokens = { admin: '', alice: '' };

const ref = (name: string) => ({ apiVersion: API_VERSION, kind: KIND_TEMPLATE, metadata: { name } });
const stored = (name: string) => kube.get<VDITemplate>(ref(name));
const sessionRef = (name: string) => ({
  apiVersion: API_VERSION,
  kind: 'VDISession',
  metadata: { name, namespace: ns.name },
});

/** This run's templates as the API server has them: name@resourceVersion. */
async function ourTemplates(): Promise<string[]> {
  const list = await kube.call<{ items: VDITemplate[] }>('GET', `/apis/${API_VERSION}/vditemplates`);
  return list.items
    .filter((t) => t.metadata.name!.endsWith(suffix))
    .map((t) => `${t.metadata.name}@${t.metadata.resourceVersion}`)
    .sort();
}

const data = <T>(r: GqlResult, field: string): T => {
  expect(r.body.errors).toBeUndefined();
  return r.body.data![field] as T;
};
const errorOf = (r: GqlResult) => ({ code: codeOf(r), message: r.body.errors?.[0]?.message ?? '' });

const cpuTemplate = {
  displayName: 'Template test desktop',
  image: IMAGE,
  defaultGPU: 0,
  maxGPU: 0,
  defaultMemory: '4Gi',
  defaultCPU: '2',
  maxMemory: '8Gi',
};

beforeAll(async () => {
  ns = await createTestNamespace('tpl');
  kube = new KubeJsonClient(ns.kc);
  await installCrds(ns.kc);
  for (const who of ['admin', 'alice'] as const) tokens[who] = await accessToken(who);
  api = await startApi(ns.kc, {
    VDI_OIDC_ISSUER: keycloakIssuer(),
    VDI_OIDC_AUDIENCE: 'vdi-api',
    VDI_SESSIONS_NAMESPACE: ns.name,
  });
});

afterAll(async () => {
  await api?.close();
  for (const name of [MAIN, OTHER, NEVER]) await kube?.delete(ref(name)).catch(() => undefined);
  kube?.close();
  await ns?.cleanup();
});

describe('an admin manages a template through the API', () => {
  let aliceSession = '';

  it('creates one: the CRD fills in the defaults, everyone sees it, no session uses it yet', async () => {
    const created = data<Template>(
      await api.gql(tokens.admin, CREATE, {
        input: { name: MAIN, ...cpuTemplate, description: 'for the template tests', lifetimeMax: '24h' },
      }),
      'createTemplate',
    );
    expect(created).toMatchObject({
      name: MAIN,
      displayName: 'Template test desktop',
      description: 'for the template tests',
      image: IMAGE,
      retired: false,
      sessionCount: 0,
      usable: true,
      maxMemory: '8Gi',
      encoder: 'auto',
      width: 1920,
      lifetimeMax: '24h',
      persistence: 'user',
      homeSize: '10Gi',
    });
    const t = await stored(MAIN);
    expect(t?.spec).toMatchObject({
      displayName: 'Template test desktop',
      image: IMAGE,
      retired: false,
      resources: { defaultGPU: 0, maxGPU: 0, defaultMemory: '4Gi', defaultCPU: '2', maxMemory: '8Gi' },
      lifetime: { max: '24h' },
    });
    // alice (not an admin) reads it at once: the mutation returned after the cache had it.
    const seen = data<Template[]>(await api.gql(tokens.alice, TEMPLATES), 'templates').find(
      (x) => x.name === MAIN,
    );
    expect(seen).toMatchObject({ retired: false, sessionCount: 0, usable: true });
  });

  it('edits it: the fields given change, null removes one, the rest stays', async () => {
    const before = await stored(MAIN);
    const updated = data<Template>(
      await api.gql(tokens.admin, UPDATE, {
        name: MAIN,
        input: { displayName: 'Renamed desktop', maxMemory: '16Gi', description: null, idleDefault: '2h' },
        rv: before!.metadata.resourceVersion,
      }),
      'updateTemplate',
    );
    expect(updated).toMatchObject({
      displayName: 'Renamed desktop',
      description: null,
      maxMemory: '16Gi',
      idleDefault: '2h',
      idleAction: 'Stop',
      lifetimeMax: '24h',
      image: IMAGE,
    });
    const after = await stored(MAIN);
    expect(after?.spec.description).toBeUndefined();
    expect(after?.spec.resources).toMatchObject({ defaultMemory: '4Gi', maxMemory: '16Gi' });
    expect(after?.spec.lifetime).toEqual({ max: '24h', idle: { default: '2h', action: 'Stop' } });
  });

  it('refuses an edit made on a version that changed since, and writes nothing', async () => {
    const before = await ourTemplates();
    const stale = '1';
    const r = await api.gql(tokens.admin, UPDATE, { name: MAIN, input: { displayName: 'Lost' }, rv: stale });
    expect(errorOf(r)).toEqual({
      code: 'BAD_USER_INPUT',
      message: `template '${MAIN}' was changed by someone else since you read it; reload it and make your change again`,
    });
    expect(await ourTemplates()).toEqual(before);
  });

  it('retires it: a new session is refused with the reason, an existing one stays and is counted', async () => {
    const s = data<{ name: string }>(
      await api.gql(tokens.alice, CREATE_SESSION, { input: { template: MAIN } }),
      'createSession',
    );
    aliceSession = s.name;
    const retired = data<Template>(await api.gql(tokens.admin, RETIRE, { name: MAIN }), 'retireTemplate');
    expect(retired).toMatchObject({ name: MAIN, retired: true, sessionCount: 1 });
    expect((await stored(MAIN))?.spec.retired).toBe(true);

    const refused = await api.gql(tokens.alice, CREATE_SESSION, { input: { template: MAIN } });
    expect(errorOf(refused)).toEqual({
      code: 'BAD_USER_INPUT',
      message: `template '${MAIN}' is retired: it takes no new sessions (existing ones keep running); choose another template, or ask an admin to restore it`,
    });
    // The existing session is untouched, and the template is still listed, marked retired.
    const existing = await kube.get<VDISession>(sessionRef(aliceSession));
    expect(existing?.metadata.deletionTimestamp).toBeUndefined();
    expect(existing?.spec.template).toBe(MAIN);
    const listed = data<Template[]>(await api.gql(tokens.alice, TEMPLATES), 'templates');
    expect(listed.find((t) => t.name === MAIN)).toMatchObject({ retired: true, sessionCount: 1 });
    // Retiring again changes nothing.
    const rv = (await stored(MAIN))!.metadata.resourceVersion;
    data(await api.gql(tokens.admin, RETIRE, { name: MAIN }), 'retireTemplate');
    expect((await stored(MAIN))!.metadata.resourceVersion).toBe(rv);
  });

  it('is not deleted while a session uses it: the error names the count', async () => {
    const r = await api.gql(tokens.admin, DELETE, { name: MAIN });
    expect(errorOf(r)).toEqual({
      code: 'BAD_USER_INPUT',
      message: `template '${MAIN}' is used by 1 session, so it cannot be deleted; retire it to stop new sessions (retireTemplate), or delete its sessions first`,
    });
    expect(await stored(MAIN)).toBeDefined();
  });

  it('restores it: new sessions are accepted again', async () => {
    const restored = data<Template>(await api.gql(tokens.admin, RESTORE, { name: MAIN }), 'restoreTemplate');
    expect(restored).toMatchObject({ retired: false, sessionCount: 1 });
    const s = data<{ template: string }>(
      await api.gql(tokens.alice, CREATE_SESSION, { input: { template: MAIN } }),
      'createSession',
    );
    expect(s.template).toBe(MAIN);
    const listed = data<Template[]>(await api.gql(tokens.admin, TEMPLATES), 'templates');
    expect(listed.find((t) => t.name === MAIN)).toMatchObject({ retired: false, sessionCount: 2 });
  });

  it('deletes one no session uses', async () => {
    data(await api.gql(tokens.admin, CREATE, { input: { name: OTHER, ...cpuTemplate } }), 'createTemplate');
    expect(data<boolean>(await api.gql(tokens.admin, DELETE, { name: OTHER }), 'deleteTemplate')).toBe(true);
    expect(await stored(OTHER)).toBeUndefined();
    const listed = data<Template[]>(await api.gql(tokens.admin, TEMPLATES), 'templates');
    expect(listed.map((t) => t.name)).not.toContain(OTHER);
  });
});

describe('alice, who is not an admin', () => {
  it.each([
    ['createTemplate', CREATE, () => ({ input: { name: NEVER, ...cpuTemplate } }), 'create templates'],
    ['updateTemplate', UPDATE, () => ({ name: MAIN, input: { displayName: 'Mine now' } }), 'edit templates'],
    ['retireTemplate', RETIRE, () => ({ name: MAIN }), 'retire templates'],
    ['restoreTemplate', RESTORE, () => ({ name: MAIN }), 'restore templates'],
    ['deleteTemplate', DELETE, () => ({ name: MAIN }), 'delete templates'],
  ])('is refused %s, and nothing is written', async (op, query, variables, what) => {
    const before = await ourTemplates();
    const r = await api.gql(tokens.alice, query, variables());
    expect(errorOf(r)).toEqual({
      code: 'FORBIDDEN',
      message: `only platform admins may ${what} (${op}); ask one to make the change`,
    });
    expect(await ourTemplates()).toEqual(before);
  });
});

describe('bad input gets a specific error and changes nothing', () => {
  let before: string[] = [];
  beforeEach(async () => {
    before = await ourTemplates();
  });
  afterEach(async () => {
    expect(await ourTemplates()).toEqual(before);
  });

  it('a name that cannot be a template name', async () => {
    const r = await api.gql(tokens.admin, CREATE, { input: { name: 'Bad_Name', ...cpuTemplate } });
    expect(errorOf(r).code).toBe('BAD_USER_INPUT');
    expect(errorOf(r).message).toMatch(
      /^name: 'Bad_Name' is not a valid template name: use lower-case letters/,
    );
    expect(r.body.errors?.[0]?.extensions?.field).toBe('name');
  });

  it('a memory that is not a quantity', async () => {
    const r = await api.gql(tokens.admin, CREATE, {
      input: { name: NEVER, ...cpuTemplate, defaultMemory: 'lots' },
    });
    expect(errorOf(r)).toEqual({
      code: 'BAD_USER_INPUT',
      message: `template '${NEVER}' was not saved: defaultMemory: is not valid (expected a Kubernetes quantity such as 4Gi or 4096Mi); fix it and try again`,
    });
  });

  it('a minimum above the maximum, on create and on edit', async () => {
    const create = await api.gql(tokens.admin, CREATE, {
      input: { name: NEVER, ...cpuTemplate, minMemory: '12Gi', maxMemory: '8Gi' },
    });
    expect(errorOf(create)).toEqual({
      code: 'BAD_USER_INPUT',
      message: `template '${NEVER}' was not saved: minMemory (12Gi) must not exceed maxMemory (8Gi); fix it and try again`,
    });
    const edit = await api.gql(tokens.admin, UPDATE, { name: MAIN, input: { minCPU: '8', maxCPU: '4' } });
    expect(errorOf(edit)).toEqual({
      code: 'BAD_USER_INPUT',
      message: `template '${MAIN}' was not saved: minCPU (8) must not exceed maxCPU (4); fix it and try again`,
    });
  });

  it('a name that is taken', async () => {
    const r = await api.gql(tokens.admin, CREATE, { input: { name: MAIN, ...cpuTemplate } });
    expect(errorOf(r)).toEqual({
      code: 'BAD_USER_INPUT',
      message: `a template named '${MAIN}' already exists; choose another name, or edit it with updateTemplate`,
    });
  });

  it('a template that does not exist, on edit, retire and delete', async () => {
    const missing = `tpl-missing-${suffix}`;
    const edit = await api.gql(tokens.admin, UPDATE, { name: missing, input: { displayName: 'x' } });
    expect(errorOf(edit)).toEqual({
      code: 'NOT_FOUND',
      message: `there is no template '${missing}' to update; check the name in \`templates\`, or create it with createTemplate`,
    });
    expect(errorOf(await api.gql(tokens.admin, RETIRE, { name: missing })).code).toBe('NOT_FOUND');
    expect(errorOf(await api.gql(tokens.admin, DELETE, { name: missing })).code).toBe('NOT_FOUND');
  });

  it('a missing display name and image, and removing the image', async () => {
    const r = await api.gql(tokens.admin, CREATE, { input: { name: NEVER } });
    expect(errorOf(r).message).toMatch(
      new RegExp(`^template '${NEVER}' was not saved: displayName: is required; image: is required`),
    );
    const e = await api.gql(tokens.admin, UPDATE, { name: MAIN, input: { image: null } });
    expect(errorOf(e)).toEqual({
      code: 'BAD_USER_INPUT',
      message: `image of template '${MAIN}' cannot be removed; give a new value`,
    });
  });
});
