/**
 * The install RBAC (deploy/kustomize/base/rbac), applied for real to the test cluster, is both
 * sufficient and tight:
 * - sufficient: the operator and the API, each run as its own process with a token of its own
 *   ServiceAccount (TokenRequest API), serve a session end to end in vdi-sessions;
 * - tight: SelfSubjectAccessReviews made with those tokens show what each account may not do.
 * The namespaces, CRDs and RBAC objects are server-side applied and left in place (idempotent);
 * the sessions, template and home claims this test creates are removed.
 */
import { decodeJwt, passwordGrant } from '@vdi/keycloak';
import { ensureApiBuild } from '@vdi/platform';
import { ANNOTATION_USER } from '@vdi/session-spec';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import {
  keycloakIssuer,
  freePort,
  installCrds,
  kubeRequest,
  resourcePath,
  TEST_SESSION_KEY,
  testKubeConfig,
  waitFor,
} from '@vdi/testing';
import { objectKey, type KubeObject } from './manifests.js';
import { kustomize, repoRoot, run } from './tools.js';

const FIELD_MANAGER = 'vdi-deploy-tests';
const SYSTEM = 'vdi-system';
const SESSIONS = 'vdi-sessions';
const TURN = 'vdi-turn';
const VDI = 'vdi.kasm.io/v1alpha1';
const RBAC_KINDS = ['ServiceAccount', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'];
const suffix = randomBytes(3).toString('hex');
const TEMPLATE = `rbac-cpu-${suffix}`;
const SESSION = `rbac-${suffix}`;

let admin: k8s.KubeConfig;
let tmp: string;
const tokens = { operator: '', api: '' };
const kubeconfigs = { operator: '', api: '' };
const procs: { name: string; proc: ChildProcess; logs: string[] }[] = [];

async function apply(kc: k8s.KubeConfig, o: KubeObject): Promise<void> {
  const url = `${await resourcePath(kc, o, true)}?fieldManager=${FIELD_MANAGER}&force=true`;
  const r = await kubeRequest(kc, 'PATCH', url, o, 'application/apply-patch+yaml');
  if (r.status >= 300) throw new Error(`applying ${objectKey(o)} failed: ${r.text}`);
}

async function call(kc: k8s.KubeConfig, method: string, url: string, body?: unknown) {
  const r = await kubeRequest(kc, method, url, body);
  if (r.status >= 300 && !(method === 'DELETE' && r.status === 404))
    throw new Error(`${method} ${url}: ${r.status} ${r.text}`);
  return r;
}

/** A kubeconfig file for `token`, with the admin kubeconfig's server and CA. */
function tokenKubeConfig(user: string, token: string): string {
  const cluster = admin.getCurrentCluster()!;
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...cluster, name: 'test' }],
    users: [{ name: user, token }],
    contexts: [{ name: user, cluster: 'test', user }],
    currentContext: user,
  });
  const file = path.join(tmp, `${user}.kubeconfig`);
  writeFileSync(file, kc.exportConfig(), { mode: 0o600 });
  return file;
}

function userConfig(file: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

/** Starts `node <entry>` from source with `env`; resolves once `url` answers 200. */
async function startProcess(name: string, entry: string, env: Record<string, string>, ready: string) {
  const proc = spawn(process.execPath, ['--conditions=@vdi/source', '--import', 'tsx', entry], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const collect = (b: Buffer) => logs.push(...b.toString().split('\n').filter(Boolean));
  proc.stdout!.on('data', collect);
  proc.stderr!.on('data', collect);
  procs.push({ name, proc, logs });
  const exited = new Promise<never>((_, reject) =>
    proc.on('exit', (code) => reject(new Error(`${name} exited (${code}): ${logs.slice(-10).join('\n')}`))),
  );
  exited.catch(() => undefined);
  await Promise.race([
    waitFor(`${name} ready`, async () => (await fetch(ready).catch(() => undefined))?.status === 200, 60_000),
    exited,
  ]);
  return { proc, logs };
}

async function stopAll(): Promise<void> {
  for (const { proc } of procs.reverse()) {
    if (proc.exitCode !== null || proc.signalCode !== null) continue;
    const exited = new Promise((r) => proc.on('exit', r));
    proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }
}

interface Access {
  verb: string;
  resource: string;
  namespace?: string;
  group?: string;
  name?: string;
  subresource?: string;
}

/** A SelfSubjectAccessReview made with `token`: may its account do `a`? */
async function allowed(who: keyof typeof tokens, a: Access): Promise<boolean> {
  const r = await call(
    userConfig(kubeconfigs[who]),
    'POST',
    '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
    {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { group: '', ...a } },
    },
  );
  return (r.body.status as { allowed?: boolean }).allowed === true;
}

const VDI_GROUP = 'vdi.kasm.io';
const sessionPath = (name = '') => `/apis/${VDI}/namespaces/${SESSIONS}/vdisessions${name ? `/${name}` : ''}`;

const CHILD_KINDS: [string, string][] = [
  ['/api/v1', 'pods'],
  ['/api/v1', 'services'],
  ['/api/v1', 'secrets'],
  ['/apis/networking.k8s.io/v1', 'networkpolicies'],
  ['/apis/traefik.io/v1alpha1', 'ingressroutes'],
  ['/apis/traefik.io/v1alpha1', 'middlewares'],
];

async function children(session: string): Promise<string[]> {
  const out: string[] = [];
  for (const [base, plural] of CHILD_KINDS) {
    const r = await call(
      admin,
      'GET',
      `${base}/namespaces/${SESSIONS}/${plural}?labelSelector=${encodeURIComponent(`vdi.kasm.io/session=${session}`)}`,
    );
    for (const i of r.body.items as { metadata: { name: string } }[])
      out.push(`${plural}/${i.metadata.name}`);
  }
  return out.sort();
}

let lastStatus: unknown;

async function phaseOf(name: string): Promise<string | undefined> {
  const r = await kubeRequest(admin, 'GET', sessionPath(name));
  if (r.status === 404) return undefined;
  lastStatus = r.body.status;
  return (r.body.status as { phase?: string } | undefined)?.phase ?? '';
}

async function waitPhase(name: string, phase: string, timeoutMs = 60_000): Promise<void> {
  try {
    await waitFor(`session ${name} ${phase}`, async () => (await phaseOf(name)) === phase, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(lastStatus ?? null)}`);
  }
}

async function waitGone(name: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(`session ${name} gone`, async () => (await phaseOf(name)) === undefined, timeoutMs);
}

const operatorLogs = () => procs.find((p) => p.name === 'operator')?.logs ?? [];
const forbiddenLines = () =>
  procs.flatMap((p) => p.logs.filter((l) => /forbidden|\b403\b/i.test(l)).map((l) => `${p.name}: ${l}`));

beforeAll(async () => {
  admin = testKubeConfig();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'vdi-rbac-'));
  const built = run(kustomize(), ['build', path.join(repoRoot, 'deploy', 'kustomize', 'base')]);
  if (built.status !== 0) throw new Error(`kustomize build base failed:\n${built.stderr}`);
  const objs = parseAllDocuments(built.stdout)
    .map((d) => d.toJSON() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
  await installCrds(admin);
  const namespaces = objs.filter((o) => o.kind === 'Namespace');
  expect(namespaces.map((n) => n.metadata.name).sort()).toEqual([SESSIONS, SYSTEM, TURN]);
  for (const ns of namespaces) await apply(admin, ns);
  const rbac = objs.filter((o) => RBAC_KINDS.includes(o.kind));
  expect(rbac.length).toBeGreaterThanOrEqual(10);
  for (const o of rbac) await apply(admin, o);
  await apply(admin, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'vdi-turn', namespace: TURN },
    stringData: { 'static-auth-secret': randomBytes(32).toString('hex') },
  } as KubeObject);
  for (const sa of ['operator', 'api'] as const) {
    const r = await call(admin, 'POST', `/api/v1/namespaces/${SYSTEM}/serviceaccounts/vdi-${sa}/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    });
    tokens[sa] = (r.body.status as { token: string }).token;
    kubeconfigs[sa] = tokenKubeConfig(`vdi-${sa}`, tokens[sa]);
  }
}, 600_000);

afterAll(async () => {
  if (process.env.VDI_DEBUG_OPERATOR) process.stderr.write(operatorLogs().join('\n') + '\n');
  if (admin) {
    // Sessions carry the operator's finalizer: delete them while it still runs, then release leftovers.
    const left = await kubeRequest(admin, 'GET', sessionPath());
    const names = ((left.body.items ?? []) as { metadata: { name: string } }[])
      .map((s) => s.metadata.name)
      .filter((n) => n.endsWith(suffix));
    for (const n of names) await kubeRequest(admin, 'DELETE', sessionPath(n));
    for (const n of names) await waitGone(n, 20_000).catch(() => undefined);
  }
  await stopAll();
  if (admin) {
    const left = await kubeRequest(admin, 'GET', sessionPath());
    for (const s of (left.body.items ?? []) as { metadata: { name: string } }[]) {
      if (!s.metadata.name.endsWith(suffix)) continue;
      await kubeRequest(
        admin,
        'PATCH',
        sessionPath(s.metadata.name),
        { metadata: { finalizers: null } },
        'application/merge-patch+json',
      );
    }
    // The per-user homes of the two users this test's sessions belong to (they outlive sessions):
    // alice's is keyed on her subject, the unclaimed rbac@ session's on its e-mail; both carry
    // the e-mail as the annotation people read.
    const homes = await kubeRequest(
      admin,
      'GET',
      `/api/v1/namespaces/${SESSIONS}/persistentvolumeclaims?labelSelector=${encodeURIComponent('app.kubernetes.io/component=home')}`,
    );
    for (const c of (homes.body.items ?? []) as {
      metadata: { name: string; annotations?: Record<string, string> };
    }[]) {
      const user = c.metadata.annotations?.[ANNOTATION_USER];
      if (user !== 'rbac@example.com' && user !== 'alice@example.com') continue;
      await kubeRequest(
        admin,
        'DELETE',
        `/api/v1/namespaces/${SESSIONS}/persistentvolumeclaims/${c.metadata.name}`,
      );
    }
    await kubeRequest(admin, 'DELETE', `/apis/${VDI}/vditemplates/${TEMPLATE}`);
    await kubeRequest(
      admin,
      'DELETE',
      `/apis/coordination.k8s.io/v1/namespaces/${SYSTEM}/leases/vdi-operator`,
    );
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe('sufficiency: the platform works under its own accounts', () => {
  let alice = '';
  let apiUrl = '';

  beforeAll(async () => {
    // A Lease left by an earlier run would hold the new operator back until it expires.
    await kubeRequest(
      admin,
      'DELETE',
      `/apis/coordination.k8s.io/v1/namespaces/${SYSTEM}/leases/vdi-operator`,
    );
    await apply(admin, {
      apiVersion: VDI,
      kind: 'VDITemplate',
      // The label scopes this operator's template status writes (VDI_TEMPLATE_STATUS below) to this
      // file's template: other files' templates on the shared cluster are not its to judge.
      metadata: { name: TEMPLATE, labels: { 'vdi.kasm.io/test-run': suffix } },
      spec: {
        image: 'ghcr.io/selkies-project/nvidia-egl-desktop:latest',
        displayName: 'RBAC test desktop',
        resources: { defaultGPU: 0, maxGPU: 0, defaultMemory: '4Gi' },
      },
    } as KubeObject);
    const opPort = await freePort();
    await startProcess(
      'operator',
      path.join(repoRoot, 'apps/operator/src/main.ts'),
      {
        KUBECONFIG: kubeconfigs.operator,
        VDI_SESSIONS_NAMESPACE: SESSIONS,
        VDI_LEASE_NAMESPACE: SYSTEM,
        VDI_TURN_SECRET_REF: `${TURN}/vdi-turn/static-auth-secret`,
        VDI_TURN_HOST: 'turn.vdi.localhost',
        VDI_TURN_RELAY_CIDRS: '198.19.0.1/32',
        VDI_PUBLIC_SCHEME: 'http',
        VDI_PUBLIC_PORT: '8081',
        VDI_METRICS_PORT: String(opPort),
        VDI_METRICS_HOST: '127.0.0.1',
        VDI_TURN_REST_PORT: '0',
        VDI_TURN_REST_HOST: '127.0.0.1',
        VDI_POD_NAME: `rbac-op-${suffix}`,
        VDI_RESYNC_SECONDS: '60',
        VDI_SESSION_KEY: TEST_SESSION_KEY,
        VDI_TEMPLATE_STATUS: `vdi.kasm.io/test-run=${suffix}`,
      },
      `http://127.0.0.1:${opPort}/readyz`,
    );
    const issuer = keycloakIssuer();
    alice = (await passwordGrant('alice', 'alice')).access_token;
    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    await startProcess(
      'api',
      // compiled once per source state: Nest needs decorator metadata, which tsx does not emit
      ensureApiBuild(),
      {
        KUBECONFIG: kubeconfigs.api,
        PORT: String(apiPort),
        HOST: '127.0.0.1',
        VDI_OIDC_ISSUER: issuer,
        VDI_SESSIONS_NAMESPACE: SESSIONS,
        VDI_SESSION_KEY: TEST_SESSION_KEY,
      },
      `${apiUrl}/readyz`,
    );
  }, 400_000);

  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    // Access tokens live 5 minutes; the one from beforeAll can be older than that by now.
    if (Number(decodeJwt(alice).payload.exp) * 1000 - Date.now() < 60_000)
      alice = (await passwordGrant('alice', 'alice')).access_token;
    const res = await fetch(`${apiUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as { data?: Record<string, unknown> | null; errors?: { message: string }[] };
  };

  it('the operator (as vdi-system/vdi-operator) brings a session to Running with every child, and removes it', async () => {
    await call(admin, 'POST', sessionPath(), {
      apiVersion: VDI,
      kind: 'VDISession',
      metadata: { name: SESSION },
      spec: { user: 'rbac@example.com', template: TEMPLATE },
    });
    await waitPhase(SESSION, 'Running');
    expect(await children(SESSION)).toEqual(
      [
        `ingressroutes/${SESSION}`,
        `middlewares/${SESSION}-forward-auth`,
        `networkpolicies/${SESSION}`,
        `pods/${SESSION}`,
        `secrets/${SESSION}-auth`,
        `services/${SESSION}`,
      ].sort(),
    );
    await call(admin, 'DELETE', sessionPath(SESSION));
    await waitGone(SESSION);
    expect(await children(SESSION)).toEqual([]);
    expect(forbiddenLines()).toEqual([]);
  }, 180_000);

  it('the API (as vdi-system/vdi-api) creates, lists, opens and deletes alice’s session', async () => {
    const created = await gql(
      'mutation($input: CreateSessionInput!) { createSession(input: $input) { name user phase } }',
      { input: { template: TEMPLATE, name: `alice-${suffix}` } },
    );
    expect(created.errors).toBeUndefined();
    const name = (created.data?.createSession as { name: string }).name;
    expect(name).toBe(`alice-${suffix}`);
    // Running is the operator's part (proven above); here the API's own reads: it sees the
    // session it created, with the phase the operator set, through its caches of vdi-sessions.
    const inCluster = await call(admin, 'GET', sessionPath(name));
    // Shown as her e-mail, owned by her token's issuer + subject.
    const spec = inCluster.body.spec as { user: string; owner?: { issuer: string; subject: string } };
    expect(spec.user).toBe('alice@example.com');
    const claims = decodeJwt(alice).payload;
    expect(spec.owner).toEqual({ issuer: claims.iss, subject: claims.sub });
    await waitFor('the API lists alice’s session with a phase from the operator', async () => {
      const r = await gql('{ sessions { name user phase } }');
      const mine = (r.data?.sessions as { name: string; user: string; phase: string }[] | undefined)?.find(
        (s) => s.name === name,
      );
      return mine?.user === 'alice@example.com' && Boolean(mine.phase) && mine.phase !== 'Pending';
    });
    // openSession writes the one-time ticket onto the session (patch), under the API's account.
    await waitPhase(name, 'Running');
    // The API answers from its own watch of the sessions, a moment behind the API server.
    let opened = await gql('mutation($name: String!) { openSession(name: $name) { url } }', { name });
    await waitFor('the API to see the session Running', async () => {
      if (!opened.errors) return true;
      opened = await gql('mutation($name: String!) { openSession(name: $name) { url } }', { name });
      return !opened.errors;
    });
    expect(opened.errors).toBeUndefined();
    const ticketUrl = new URL((opened.data?.openSession as { url: string }).url);
    const auth = await fetch(`${apiUrl}/auth/session?session=${SESSIONS}/${name}`, {
      redirect: 'manual',
      headers: {
        'x-forwarded-proto': 'http',
        'x-forwarded-host': ticketUrl.host,
        'x-forwarded-uri': `${ticketUrl.pathname}${ticketUrl.search}`,
        // A ticket is redeemed only on the portal's navigation (the API's default portal URL).
        referer: 'http://localhost:3000/sessions',
      },
    });
    expect(auth.status).toBe(302);
    expect(auth.headers.get('set-cookie')).toMatch(/^vdi_access_/);
    const del = await gql('mutation($name: String!) { deleteSession(name: $name) }', { name });
    expect(del).toEqual({ data: { deleteSession: true } });
    await waitGone(name);
    await waitFor('the API lists no session of alice', async () => {
      const r = await gql('{ sessions { name } }');
      return !(r.data?.sessions as { name: string }[]).some((s) => s.name === name);
    });
    expect(forbiddenLines()).toEqual([]);
  }, 180_000);
});

describe('tightness: what each account may and may not do (SelfSubjectAccessReview)', () => {
  const cases: [keyof typeof tokens, boolean, Access][] = [
    ['api', false, { verb: 'get', resource: 'secrets', namespace: SESSIONS }],
    ['api', false, { verb: 'list', resource: 'secrets', namespace: SESSIONS }],
    ['api', false, { verb: 'get', resource: 'secrets', namespace: SYSTEM }],
    ['api', false, { verb: 'list', resource: 'secrets', namespace: SYSTEM }],
    ['api', false, { verb: 'get', resource: 'secrets', namespace: TURN }],
    ['api', false, { verb: 'list', resource: 'secrets', namespace: TURN }],
    ['api', false, { verb: 'get', resource: 'secrets', namespace: TURN, name: 'vdi-turn' }],
    ['api', true, { verb: 'create', group: 'vdi.kasm.io', resource: 'vdisessions', namespace: SESSIONS }],
    ['api', true, { verb: 'delete', group: 'vdi.kasm.io', resource: 'vdisessions', namespace: SESSIONS }],
    ['api', false, { verb: 'create', group: 'vdi.kasm.io', resource: 'vdisessions', namespace: 'default' }],
    ['api', false, { verb: 'delete', group: 'vdi.kasm.io', resource: 'vdisessions', namespace: 'default' }],
    ['api', false, { verb: 'create', resource: 'pods', namespace: SESSIONS }],
    ['api', true, { verb: 'patch', group: 'vdi.kasm.io', resource: 'vdisessions', namespace: SESSIONS }],
    ['api', false, { verb: 'patch', group: 'vdi.kasm.io', resource: 'vdisessions', namespace: 'default' }],
    [
      'api',
      false,
      {
        verb: 'patch',
        group: 'vdi.kasm.io',
        resource: 'vdisessions',
        subresource: 'status',
        namespace: SESSIONS,
      },
    ],
    ['api', true, { verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace: SESSIONS }],
    // Sessions past their lifetime are deleted by the operator; it never makes one.
    [
      'operator',
      true,
      { verb: 'delete', group: 'vdi.kasm.io', resource: 'vdisessions', namespace: SESSIONS },
    ],
    [
      'operator',
      false,
      { verb: 'create', group: 'vdi.kasm.io', resource: 'vdisessions', namespace: SESSIONS },
    ],
    [
      'api',
      false,
      {
        verb: 'update',
        group: 'coordination.k8s.io',
        resource: 'leases',
        namespace: SYSTEM,
        name: 'vdi-operator',
      },
    ],
    // The operator's Lease: read (its session-key fingerprint), never written; no other Lease there.
    [
      'api',
      true,
      {
        verb: 'get',
        group: 'coordination.k8s.io',
        resource: 'leases',
        namespace: SYSTEM,
        name: 'vdi-operator',
      },
    ],
    [
      'api',
      false,
      { verb: 'get', group: 'coordination.k8s.io', resource: 'leases', namespace: SYSTEM, name: 'other' },
    ],
    ['operator', false, { verb: 'create', resource: 'pods', namespace: 'default' }],
    ['operator', false, { verb: 'create', resource: 'secrets', namespace: 'default' }],
    ['operator', false, { verb: 'create', resource: 'pods', namespace: SYSTEM }],
    ['operator', false, { verb: 'create', resource: 'secrets', namespace: SYSTEM }],
    ['operator', false, { verb: 'list', resource: 'secrets' }],
    ['operator', true, { verb: 'get', resource: 'secrets', namespace: TURN, name: 'vdi-turn' }],
    ['operator', false, { verb: 'get', resource: 'secrets', namespace: TURN, name: 'other' }],
    ['operator', false, { verb: 'list', resource: 'secrets', namespace: TURN }],
    ['operator', true, { verb: 'create', resource: 'pods', namespace: SESSIONS }],
    // The wildcard TLS key sits beside Traefik (the prod overlay's default TLSStore): out of reach.
    ['operator', false, { verb: 'get', resource: 'secrets', namespace: 'kube-system', name: 'vdi-tls' }],
    ['api', false, { verb: 'get', resource: 'secrets', namespace: 'kube-system', name: 'vdi-tls' }],
    // The session key reaches the operator and the API as env (kubelet); neither may read it back.
    ['operator', false, { verb: 'get', resource: 'secrets', namespace: SYSTEM, name: 'vdi-session-key' }],
    ['api', false, { verb: 'get', resource: 'secrets', namespace: SYSTEM, name: 'vdi-session-key' }],
    ['operator', false, { verb: 'delete', resource: 'namespaces' }],
    ['operator', false, { verb: 'delete', resource: 'namespaces', name: SESSIONS }],
    // GPU-hour ledgers: the counts (status) are the operator's alone; the API records budgets
    // (spec) and cannot touch a count; neither deletes a ledger.
    [
      'operator',
      true,
      { verb: 'patch', group: VDI_GROUP, resource: 'vdiusages', subresource: 'status', namespace: SESSIONS },
    ],
    ['operator', false, { verb: 'patch', group: VDI_GROUP, resource: 'vdiusages', namespace: SESSIONS }],
    ['api', true, { verb: 'patch', group: VDI_GROUP, resource: 'vdiusages', namespace: SESSIONS }],
    [
      'api',
      false,
      { verb: 'patch', group: VDI_GROUP, resource: 'vdiusages', subresource: 'status', namespace: SESSIONS },
    ],
    [
      'api',
      false,
      { verb: 'update', group: VDI_GROUP, resource: 'vdiusages', subresource: 'status', namespace: SESSIONS },
    ],
    ['api', false, { verb: 'delete', group: VDI_GROUP, resource: 'vdiusages', namespace: SESSIONS }],
    ['operator', false, { verb: 'delete', group: VDI_GROUP, resource: 'vdiusages', namespace: SESSIONS }],
    // Templates: the operator writes their status only; the spec is the admins'.
    ['operator', true, { verb: 'patch', group: VDI_GROUP, resource: 'vditemplates', subresource: 'status' }],
    ['operator', false, { verb: 'patch', group: VDI_GROUP, resource: 'vditemplates' }],
    // The API manages templates for admins (create, patch, delete), never their status, and
    // with no more verbs than it uses.
    ['api', true, { verb: 'create', group: VDI_GROUP, resource: 'vditemplates' }],
    ['api', true, { verb: 'patch', group: VDI_GROUP, resource: 'vditemplates' }],
    ['api', true, { verb: 'delete', group: VDI_GROUP, resource: 'vditemplates' }],
    ['api', false, { verb: 'update', group: VDI_GROUP, resource: 'vditemplates' }],
    ['api', false, { verb: 'deletecollection', group: VDI_GROUP, resource: 'vditemplates' }],
    ['api', false, { verb: 'patch', group: VDI_GROUP, resource: 'vditemplates', subresource: 'status' }],
    // Warm pools: admins manage them through the API; the operator keeps their pods and writes
    // their counts, never their spec; both only in the sessions' namespace.
    ['api', true, { verb: 'create', group: VDI_GROUP, resource: 'vdipools', namespace: SESSIONS }],
    ['api', true, { verb: 'patch', group: VDI_GROUP, resource: 'vdipools', namespace: SESSIONS }],
    ['api', false, { verb: 'create', group: VDI_GROUP, resource: 'vdipools', namespace: 'default' }],
    [
      'api',
      false,
      { verb: 'patch', group: VDI_GROUP, resource: 'vdipools', subresource: 'status', namespace: SESSIONS },
    ],
    [
      'operator',
      true,
      { verb: 'patch', group: VDI_GROUP, resource: 'vdipools', subresource: 'status', namespace: SESSIONS },
    ],
    ['operator', false, { verb: 'patch', group: VDI_GROUP, resource: 'vdipools', namespace: SESSIONS }],
    ['operator', false, { verb: 'create', group: VDI_GROUP, resource: 'vdipools', namespace: SESSIONS }],
    // Shares: owners grant and revoke them through the API only.
    ['api', true, { verb: 'create', group: VDI_GROUP, resource: 'vdishares', namespace: SESSIONS }],
    ['api', true, { verb: 'delete', group: VDI_GROUP, resource: 'vdishares', namespace: SESSIONS }],
    ['api', false, { verb: 'create', group: VDI_GROUP, resource: 'vdishares', namespace: 'default' }],
    ['operator', false, { verb: 'create', group: VDI_GROUP, resource: 'vdishares', namespace: SESSIONS }],
    ['operator', false, { verb: 'patch', group: VDI_GROUP, resource: 'vdishares', namespace: SESSIONS }],
    // Image pullers: DaemonSets in the operator's own namespace only, nowhere else.
    ['operator', true, { verb: 'create', group: 'apps', resource: 'daemonsets', namespace: SYSTEM }],
    ['operator', false, { verb: 'create', group: 'apps', resource: 'daemonsets', namespace: SESSIONS }],
    ['operator', false, { verb: 'create', group: 'apps', resource: 'daemonsets', namespace: 'kube-system' }],
    ['operator', false, { verb: 'create', group: 'apps', resource: 'daemonsets' }],
    ['api', false, { verb: 'create', group: 'apps', resource: 'daemonsets', namespace: SYSTEM }],
  ];

  it.each(
    cases.map(
      ([who, yes, a]) =>
        [
          `vdi-${who} ${yes ? 'can' : 'cannot'} ${a.verb} ${a.group ? `${a.resource}.${a.group}` : a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.name ? ` '${a.name}'` : ''} ${a.namespace ? `in ${a.namespace}` : 'cluster-wide'}`,
          who,
          yes,
          a,
        ] as const,
    ),
  )('%s', async (_title, who, yes, a) => {
    expect(await allowed(who, a)).toBe(yes);
  });
});
