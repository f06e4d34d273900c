/**
 * Ownership by issuer + subject, against the real Keycloak, the API and the operator processes:
 * an e-mail address handed to someone else — a user deleted and a new one made with the same
 * verified address, or a user's address changed and given to another — opens none of the first
 * person's sessions, home or quota. And the admin migration gives sessions and homes from before
 * owners (keyed by e-mail) to the subject the admin names, and to no one before it runs.
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import { API_VERSION, KIND_SESSION, type VDISession } from '@vdi/crd-types';
import { KeycloakAdmin, passwordGrant, ROLES } from '@vdi/keycloak';
import { KubeJsonClient } from '@vdi/kube-client';
import { startApiService, startOperatorService, type ServiceProcess } from '@vdi/platform';
import {
  ANNOTATION_USER,
  identityHash,
  LABEL_USER_HASH,
  homePvcName,
  ownerHash,
  ownerHomeName,
} from '@vdi/session-spec';
import {
  createIsolatedGpuNode,
  createTestNamespace,
  ensureCluster,
  freePort,
  installCrds,
  TEST_SESSION_KEY,
  waitFor,
  type IsolatedNode,
  type TestNamespace,
} from '@vdi/testing';
import { codeOf, gqlAt, keycloakIssuer, ownerOf } from './harness.js';

const suffix = randomBytes(3).toString('hex');
const TEMPLATE = `own-${suffix}`;
const COOKIE_SECRET = randomBytes(32).toString('hex');
const PORTAL = 'http://portal.vdi.localhost:3998';
const repoRoot = path.resolve(import.meta.dirname, '../../..');

const CREATE = `mutation($input: CreateSessionInput!) { createSession(input: $input) { name } }`;
const NAMES = '{ sessions { name user } }';
const LIST = '{ sessions { name user owner { subject } } }';
const GET = 'query($name: String!) { session(name: $name) { name } }';
const OPEN = 'mutation($name: String!) { openSession(name: $name) { url } }';
const DELETE = 'mutation($name: String!) { deleteSession(name: $name) }';

let ns: TestNamespace;
let kube: KubeJsonClient;
let node: IsolatedNode;
let operator: ServiceProcess;
let api: { url: string; proc: ServiceProcess };
let issuer: string;
const kc = new KeycloakAdmin();
const madeUsers: string[] = [];

const sessionRef = (name: string) => ({
  apiVersion: API_VERSION,
  kind: KIND_SESSION,
  metadata: { name, namespace: ns.name },
});
const claimRef = (name: string) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name, namespace: ns.name },
});

/** A Keycloak user of the vdi realm with a verified e-mail and the vdi-user role; returns its id (= sub). */
async function makeUser(tag: string, email: string): Promise<{ id: string; username: string }> {
  const username = `own-${tag}-${suffix}`;
  const id = await kc.createUser({ username, password: username, email, roles: [ROLES.user] });
  madeUsers.push(id);
  return { id, username };
}
const tokenOf = async (username: string) => (await passwordGrant(username, username)).access_token;
const gql = (token: string, query: string, variables: Record<string, unknown> = {}) =>
  gqlAt(api.url, token, query, variables);

async function create(token: string, name: string): Promise<VDISession> {
  const r = await gql(token, CREATE, { input: { template: TEMPLATE, name } });
  expect(r.body.errors).toBeUndefined();
  return waitRunning(name);
}

async function waitRunning(name: string): Promise<VDISession> {
  return waitFor(
    `session ${name} Running`,
    async () => {
      const s = await kube.get<VDISession>(sessionRef(name));
      return s?.status?.phase === 'Running' ? s : undefined;
    },
    90_000,
  );
}

/** What the desktop pod of a session mounts as its home. */
async function podHome(name: string): Promise<string | undefined> {
  const pod = await kube.get<V1Pod>({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns.name },
  });
  return pod?.spec?.volumes?.find((v) => v.name === 'home')?.persistentVolumeClaim?.claimName;
}

/** The API's forwardAuth answer for a request to a session's desktop (as Traefik asks it). */
async function forwardAuth(session: string, target: string, headers: Record<string, string> = {}) {
  const t = new URL(target);
  return new Promise<{ status: number; cookie?: string }>((resolve, reject) => {
    const req = http.get(
      `${api.url}/auth/session?session=${encodeURIComponent(`${ns.name}/${session}`)}`,
      {
        agent: false,
        headers: {
          'x-forwarded-proto': t.protocol.replace(':', ''),
          'x-forwarded-host': t.host,
          'x-forwarded-uri': `${t.pathname}${t.search}`,
          'x-forwarded-method': 'GET',
          referer: `${PORTAL}/`,
          ...headers,
        },
      },
      (res) => {
        res.resume();
        const set = res.headers['set-cookie']?.[0];
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, ...(set ? { cookie: set.split(';')[0]! } : {}) }),
        );
      },
    );
    req.on('error', reject);
  });
}

/** The owner migration as an admin runs it (apps/api/src/owners/cli.ts), against the test cluster. */
function migrate(mapping: string, apply: boolean) {
  const dir = mkdtempSync(path.join(tmpdir(), 'vdi-owners-'));
  try {
    const file = path.join(dir, 'owners.txt');
    writeFileSync(file, mapping);
    const r = spawnSync(
      process.execPath,
      [
        '--conditions=@vdi/source',
        '--import',
        'tsx',
        'apps/api/src/owners/cli.ts',
        '--mapping',
        file,
        '--issuer',
        issuer,
        '--namespace',
        ns.name,
        ...(apply ? ['--apply'] : []),
      ],
      { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, KUBECONFIG: ensureCluster() } },
    );
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  ns = await createTestNamespace('api-owners');
  kube = new KubeJsonClient(ns.kc);
  await installCrds(ns.kc);
  node = await createIsolatedGpuNode({ product: 'NVIDIA-L4', gpus: 1, replicas: 8 });
  await kube.apply(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'vdi-turn', namespace: ns.name },
      stringData: { 'static-auth-secret': 'owners-turn-secret-7c2e9a4b1d6f3e8a0c5b2d9f' },
    },
    'vdi-tests',
  );
  // A CPU desktop with a home kept per owner (persistence: user, the default).
  await kube.apply(
    {
      apiVersion: API_VERSION,
      kind: 'VDITemplate',
      metadata: { name: TEMPLATE },
      spec: {
        displayName: 'Owners CPU',
        image: 'ghcr.io/selkies-project/nvidia-egl-desktop:24.04',
        nodeSelector: node.nodeSelector,
        tolerations: node.tolerations,
        resources: { defaultGPU: 0, maxGPU: 0, defaultMemory: '2Gi', defaultCPU: '1' },
      },
    },
    'vdi-tests',
  );
  issuer = keycloakIssuer();
  operator = await startOperatorService({
    kubeconfig: ensureCluster(),
    namespace: ns.name,
    metricsPort: await freePort(),
    env: {
      VDI_TURN_SECRET_REF: `${ns.name}/vdi-turn/static-auth-secret`,
      VDI_TURN_HOST: 'turn.vdi.localhost',
      VDI_TURN_RELAY_CIDRS: '198.19.0.1/32',
      VDI_PUBLIC_SCHEME: 'http',
      VDI_PUBLIC_PORT: '8081',
      VDI_START_DEADLINE_SECONDS: '120',
      VDI_SESSION_KEY: TEST_SESSION_KEY,
    },
  });
  const port = await freePort();
  api = {
    url: `http://127.0.0.1:${port}`,
    proc: await startApiService({
      kubeconfig: ensureCluster(),
      port,
      env: {
        VDI_OIDC_ISSUER: issuer,
        VDI_SESSIONS_NAMESPACE: ns.name,
        // One session per owner: a second identity with the same e-mail must still get its own.
        VDI_QUOTA_SESSIONS_PER_USER: '1',
        VDI_ACCESS_COOKIE_SECRET: COOKIE_SECRET,
        VDI_PORTAL_URL: PORTAL,
        VDI_SESSION_KEY: TEST_SESSION_KEY,
      },
    }),
  };
}, 180_000);

afterAll(async () => {
  // Sessions carry the operator's finalizer: delete them while it still runs.
  if (kube) {
    const left = await kube
      .call<{ items: VDISession[] }>('GET', `/apis/${API_VERSION}/namespaces/${ns.name}/vdisessions`)
      .catch(() => ({ items: [] as VDISession[] }));
    for (const s of left.items) await kube.delete(sessionRef(s.metadata.name!)).catch(() => undefined);
    await waitFor(
      'sessions gone',
      async () =>
        (
          await kube.call<{ items: unknown[] }>(
            'GET',
            `/apis/${API_VERSION}/namespaces/${ns.name}/vdisessions`,
          )
        ).items.length === 0,
      60_000,
    ).catch(() => undefined);
  }
  await Promise.all([api?.proc.stop(), operator?.stop()]);
  for (const id of madeUsers) await kc.deleteUser(id).catch(() => undefined);
  await kube?.delete({ apiVersion: API_VERSION, kind: 'VDITemplate', metadata: { name: TEMPLATE } });
  kube?.close();
  await ns?.cleanup();
  await node?.remove();
}, 120_000);

describe('an e-mail address given to someone else', () => {
  it('a user deleted and re-created with the same verified e-mail gets none of the first one’s session, desktop, quota or home', async () => {
    const email = `reused-${suffix}@example.com`;
    const a = await makeUser('a', email);
    const tokenA = await tokenOf(a.username);
    const sessionA = `first-${suffix}`;
    const sA = await create(tokenA, sessionA);
    expect((await gql(tokenA, NAMES)).body.data?.sessions).toEqual([{ name: sessionA, user: email }]);
    // A opened their desktop (a ticket link) just before leaving.
    const ticketA = ((await gql(tokenA, OPEN, { name: sessionA })).body.data!.openSession as { url: string })
      .url;

    // A leaves; the address goes to B, verified.
    await kc.deleteUser(a.id);
    const b = await makeUser('b', email);
    const tokenB = await tokenOf(b.username);
    expect(b.id).not.toBe(a.id);

    // B does not see, open, follow or delete A's session.
    expect((await gql(tokenB, NAMES)).body.data?.sessions).toEqual([]);
    for (const [query, vars] of [
      [GET, { name: sessionA }],
      [OPEN, { name: sessionA }],
      [DELETE, { name: sessionA }],
    ] as const) {
      const r = await gql(tokenB, query, vars);
      expect(codeOf(r)).toBe('NOT_FOUND');
    }
    // B's browser or client with A's ticket link: refused, as another user.
    const presented = await forwardAuth(sessionA, ticketA, { authorization: `Bearer ${tokenB}` });
    expect(presented.status).toBe(403);
    expect(presented.cookie).toBeUndefined();
    // B's bearer token alone lets nobody into A's desktop.
    const url = sA.status!.url!;
    expect((await forwardAuth(sessionA, url, { authorization: `Bearer ${tokenB}` })).status).toBe(302);

    // B's quota is B's: A's session does not count (the quota is one session per owner).
    const sessionB = `second-${suffix}`;
    const sB = await create(tokenB, sessionB);

    // What decides is the owner, issuer + subject; the e-mail is what people read.
    expect(sA.spec).toMatchObject({ user: email, owner: { issuer, subject: a.id } });
    expect(sB.spec).toMatchObject({ user: email, owner: { issuer, subject: b.id } });
    expect(ownerOf(tokenB).subject).toBe(b.id);
    expect((await gql(tokenB, '{ me { user subject } }')).body.data?.me).toEqual({
      user: email,
      subject: b.id,
    });
    expect((await gql(tokenB, LIST)).body.data?.sessions).toEqual([
      { name: sessionB, user: email, owner: { subject: b.id } },
    ]);
    // Each has a home of their own: B's is not A's (which stays annotated for A).
    const homeA = ownerHomeName({ issuer, subject: a.id });
    const homeB = ownerHomeName({ issuer, subject: b.id });
    expect(homeB).not.toBe(homeA);
    expect(sA.status?.homeClaim).toBe(homeA);
    expect(await podHome(sessionA)).toBe(homeA);
    expect(sB.status?.homeClaim).toBe(homeB);
    expect(await podHome(sessionB)).toBe(homeB);
    const claimA = await kube.get<V1PersistentVolumeClaim>(claimRef(homeA));
    expect(claimA?.metadata?.annotations?.['vdi.kasm.io/owner-subject']).toBe(a.id);
    expect(claimA?.metadata?.annotations?.[ANNOTATION_USER]).toBe(email);
    const claimB = await kube.get<V1PersistentVolumeClaim>(claimRef(homeB));
    expect(claimB?.metadata?.annotations?.['vdi.kasm.io/owner-subject']).toBe(b.id);
    // A's session stands, untouched (an admin may delete it).
    expect((await kube.get<VDISession>(sessionRef(sessionA)))?.metadata.uid).toBe(sA.metadata.uid);
    await kube.delete(sessionRef(sessionA));
    await kube.delete(sessionRef(sessionB));
  }, 240_000);

  it('two subjects with the same e-mail at once share nothing, and an owner keeps their session when their e-mail changes', async () => {
    const email = `moved-${suffix}@example.com`;
    const c = await makeUser('c', email);
    const sessionC = `mine-${suffix}`;
    const sC = await create(await tokenOf(c.username), sessionC);
    // C's address changes; D gets C's old one.
    await kc.updateUser(c.id, { email: `moved-away-${suffix}@example.com`, emailVerified: true });
    const d = await makeUser('d', email);
    const tokenC = await tokenOf(c.username);
    const tokenD = await tokenOf(d.username);
    // D, with the e-mail written on C's session, sees nothing of it.
    expect(sC.spec.user).toBe(email);
    expect((await gql(tokenD, NAMES)).body.data?.sessions).toEqual([]);
    expect(codeOf(await gql(tokenD, OPEN, { name: sessionC }))).toBe('NOT_FOUND');
    // C still owns it under a new address, and can open it and get in.
    expect((await gql(tokenC, LIST)).body.data?.sessions).toEqual([
      { name: sessionC, user: email, owner: { subject: c.id } },
    ]);
    const ticket = ((await gql(tokenC, OPEN, { name: sessionC })).body.data!.openSession as { url: string })
      .url;
    const redeemed = await forwardAuth(sessionC, ticket);
    expect(redeemed.status).toBe(302);
    expect(redeemed.cookie).toBeDefined();
    expect((await forwardAuth(sessionC, sC.status!.url!, { cookie: redeemed.cookie! })).status).toBe(200);
    await kube.delete(sessionRef(sessionC));
  }, 240_000);
});

describe('sessions and homes from before owners (keyed by e-mail)', () => {
  it('belong to no user until the admin migration gives them to the subject it names; then their owner uses them, home included', async () => {
    const email = `before-${suffix}@example.com`;
    const e = await makeUser('e', email);
    const tokenE = await tokenOf(e.username);
    // A session as the API of 0.1.x wrote it: spec.user = the e-mail, no owner.
    const legacy = `old-${suffix}`;
    await kube.call('POST', `/apis/${API_VERSION}/namespaces/${ns.name}/vdisessions`, {
      ...sessionRef(legacy),
      metadata: {
        ...sessionRef(legacy).metadata,
        labels: { [LABEL_USER_HASH]: identityHash(email) },
        annotations: { [ANNOTATION_USER]: email },
      },
      spec: { user: email, template: TEMPLATE },
    });
    // The operator runs it as 0.1.x did: on the e-mail-keyed home.
    const before = await waitRunning(legacy);
    const oldHome = homePvcName(email);
    expect(before.status?.homeClaim).toBe(oldHome);
    expect(await podHome(legacy)).toBe(oldHome);

    // Unclaimed: not E's (whose verified e-mail it names), visible to admins only.
    expect((await gql(tokenE, NAMES)).body.data?.sessions).toEqual([]);
    expect(codeOf(await gql(tokenE, OPEN, { name: legacy }))).toBe('NOT_FOUND');
    const adminToken = await tokenOf('admin');
    const all = (await gql(adminToken, '{ sessions(all: true) { name user owner { subject } } }')).body.data
      ?.sessions as { name: string; user: string; owner: unknown }[];
    expect(all.find((s) => s.name === legacy)).toEqual({ name: legacy, user: email, owner: null });

    // The admin's dry run says what would happen and writes nothing.
    const mapping = `# from the realm, on upgrade day\n${email} ${e.id}\n`;
    const plan = migrate(mapping, false);
    expect(plan.status).toBe(0);
    expect(plan.out).toContain(`home     ${oldHome} of ${email} -> subject ${e.id}`);
    expect(plan.out).toContain(`session  ${legacy} of ${email} -> subject ${e.id}`);
    expect((await kube.get<VDISession>(sessionRef(legacy)))?.spec.owner).toBeUndefined();

    const applied = migrate(mapping, true);
    expect(applied).toMatchObject({ status: 0 });
    expect(applied.out).toContain('applied 2 of 2 step(s)');
    const after = await kube.get<VDISession>(sessionRef(legacy));
    expect(after?.spec.owner).toEqual({ issuer, subject: e.id });
    expect(after?.metadata.labels?.[LABEL_USER_HASH]).toBe(ownerHash({ issuer, subject: e.id }));
    expect(after?.metadata.uid).toBe(before.metadata.uid);

    // Now E sees it, opens it and gets in; the desktop did not move.
    await waitFor('E sees the migrated session', async () => {
      const r = await gql(tokenE, LIST);
      return (r.body.data?.sessions as { name: string }[]).some((s) => s.name === legacy);
    });
    const ticket = ((await gql(tokenE, OPEN, { name: legacy })).body.data!.openSession as { url: string })
      .url;
    const redeemed = await forwardAuth(legacy, ticket);
    expect(redeemed.cookie).toBeDefined();
    expect((await forwardAuth(legacy, before.status!.url!, { cookie: redeemed.cookie! })).status).toBe(200);
    expect(await podHome(legacy)).toBe(oldHome);
    // The operator, re-rendering it as E's, keeps it on the home its pod mounts.
    await waitFor('operator re-rendered the migrated session', async () => {
      const s = await kube.get<VDISession>(sessionRef(legacy));
      return s?.status?.observedGeneration === s?.metadata.generation && s?.status?.phase === 'Running';
    });
    expect((await kube.get<VDISession>(sessionRef(legacy)))?.status?.homeClaim).toBe(oldHome);

    // E's next desktop gets the old home back (data kept), and the migration has nothing left to do.
    expect((await gql(tokenE, DELETE, { name: legacy })).body.data?.deleteSession).toBe(true);
    await waitFor('the migrated session gone', async () => !(await kube.get(sessionRef(legacy))), 60_000);
    const next = await create(tokenE, `new-${suffix}`);
    expect(next.status?.homeClaim).toBe(oldHome);
    expect(await podHome(`new-${suffix}`)).toBe(oldHome);
    expect(await kube.get(claimRef(ownerHomeName({ issuer, subject: e.id })))).toBeUndefined();
    const again = migrate(mapping, true);
    expect(again.status).toBe(0);
    expect(again.out).toContain('applied 0 of 0 step(s)');
    await kube.delete(sessionRef(`new-${suffix}`));
  }, 300_000);

  it('the migration refuses a bad mapping, naming the line', () => {
    const r = migrate('someone@example.com\n', false);
    expect(r.status).toBe(2);
    expect(r.out).toContain("line 1: expected '<e-mail> <subject>'");
  });
});
