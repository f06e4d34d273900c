/**
 * The API as it runs: two API processes (replicas sharing the cookie secret) and the operator
 * process against the test cluster, real tokens from the local Keycloak. Covers what needs the
 * operator or a second replica: phase changes over the subscription as the operator makes them,
 * quotas across replicas, and desktop access (openSession tickets and the forwardAuth endpoint).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import * as k8s from '@kubernetes/client-node';
import { API_VERSION, KIND_SESSION, type VDISession } from '@vdi/crd-types';
import { KubeJsonClient } from '@vdi/kube-client';
import { startApiService, startOperatorService, type ServiceProcess } from '@vdi/platform';
import { desktopAuthorization } from '@vdi/session-spec';
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
import {
  accessToken,
  codeOf,
  keycloakIssuer,
  gqlAt,
  ownerOf,
  subscribe,
  wsClient,
  type WsClient,
} from './harness.js';

const suffix = randomBytes(3).toString('hex');
const GPU_T = `flows-gpu-${suffix}`;
const CPU_T = `flows-cpu-${suffix}`;
const COOKIE_SECRET = randomBytes(32).toString('hex');
const PORTAL = 'http://portal.vdi.localhost:3999';

let ns: TestNamespace;
let kube: KubeJsonClient;
let node: IsolatedNode;
let operator: ServiceProcess;
/** Two replicas: A and B (B's tickets expire after 5 s). */
let apiA: { url: string; proc: ServiceProcess };
let apiB: { url: string; proc: ServiceProcess };
const tokens: Record<'alice' | 'bob' | 'admin', string> = { alice: '', bob: '', admin: '' };
/** Access tokens live 5 minutes and this file runs longer: each test starts with fresh ones. */
async function refreshTokens(): Promise<void> {
  for (const who of ['alice', 'bob', 'admin'] as const) tokens[who] = await accessToken(who);
}
beforeEach(refreshTokens, 60_000);
const clients: WsClient[] = [];

const CREATE = `mutation($input: CreateSessionInput!) { createSession(input: $input) { name phase } }`;
const OPEN = `mutation($name: String!) { openSession(name: $name) { url expiresAt } }`;
const DELETE = `mutation($name: String!) { deleteSession(name: $name) }`;
const SUB = `subscription($name: String) { sessionUpdated(name: $name) { type session { name phase } } }`;

const sessionRef = (name: string) => ({
  apiVersion: API_VERSION,
  kind: KIND_SESSION,
  metadata: { name, namespace: ns.name },
});
const templateRef = (name: string) => ({ apiVersion: API_VERSION, kind: 'VDITemplate', metadata: { name } });

async function listSessions(): Promise<VDISession[]> {
  return (
    await kube.call<{ items: VDISession[] }>('GET', `/apis/${API_VERSION}/namespaces/${ns.name}/vdisessions`)
  ).items;
}

async function deleteAll(): Promise<void> {
  for (const s of await listSessions()) await kube.delete(sessionRef(s.metadata.name!));
  await waitFor('all sessions gone', async () => (await listSessions()).length === 0, 60_000);
}

async function waitRunning(name: string): Promise<VDISession> {
  return waitFor(
    `session ${name} Running`,
    async () => {
      const s = await kube.get<VDISession>(sessionRef(name));
      return s?.status?.phase === 'Running' ? s : undefined;
    },
    60_000,
  );
}

async function startApiProcess(extra: Record<string, string>) {
  const port = await freePort();
  const proc = await startApiService({
    kubeconfig: ensureCluster(),
    port,
    env: {
      VDI_OIDC_ISSUER: issuer,
      VDI_SESSIONS_NAMESPACE: ns.name,
      VDI_QUOTA_SESSIONS_PER_USER: '3',
      VDI_QUOTA_GPUS_PER_USER: '1',
      VDI_ACCESS_COOKIE_SECRET: COOKIE_SECRET,
      VDI_PORTAL_URL: PORTAL,
      VDI_SESSION_KEY: TEST_SESSION_KEY,
      ...extra,
    },
  });
  return { url: `http://127.0.0.1:${port}`, proc };
}

let issuer: string;

beforeAll(async () => {
  ns = await createTestNamespace('api-flows');
  kube = new KubeJsonClient(ns.kc);
  await installCrds(ns.kc);
  node = await createIsolatedGpuNode({ product: 'NVIDIA-L4', gpus: 1, replicas: 8 });
  await kube.apply(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'vdi-turn', namespace: ns.name },
      stringData: { 'static-auth-secret': 'flows-turn-secret-4b8e2c6a0d9f1e7c3a5b8d2f' },
    },
    'vdi-tests',
  );
  for (const [name, gpu] of [
    [GPU_T, 1],
    [CPU_T, 0],
  ] as const) {
    await kube.apply(
      {
        ...templateRef(name),
        spec: {
          displayName: `Flows ${gpu ? 'GPU' : 'CPU'}`,
          image: 'ghcr.io/selkies-project/nvidia-egl-desktop:24.04',
          nodeSelector: node.nodeSelector,
          tolerations: node.tolerations,
          resources: { defaultGPU: gpu, maxGPU: gpu, defaultMemory: '4Gi', defaultCPU: '1' },
        },
      },
      'vdi-tests',
    );
  }
  issuer = keycloakIssuer();
  await refreshTokens();
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
  [apiA, apiB] = await Promise.all([
    startApiProcess({}),
    startApiProcess({ VDI_ACCESS_TICKET_TTL_SECONDS: '5' }),
  ]);
  await waitFor('templates in both API caches', async () => {
    for (const api of [apiA, apiB]) {
      const r = await gqlAt(api.url, tokens.alice, '{ templates { name } }');
      const names = (r.body.data?.templates as { name: string }[] | undefined)?.map((t) => t.name) ?? [];
      if (!names.includes(GPU_T) || !names.includes(CPU_T)) return false;
    }
    return true;
  });
}, 180_000);

afterAll(async () => {
  for (const c of clients) await c.client.dispose();
  // Sessions carry the operator's finalizer: delete them while it still runs.
  if (ns) await deleteAll().catch(() => undefined);
  await Promise.all([apiA?.proc.stop(), apiB?.proc.stop(), operator?.stop()]);
  for (const t of [GPU_T, CPU_T]) await kube?.delete(templateRef(t)).catch(() => undefined);
  kube?.close();
  await ns?.cleanup();
  await node?.remove();
}, 120_000);

describe('the subscription follows the operator', () => {
  afterAll(deleteAll, 60_000);

  it('delivers every phase the session goes through, in order, as the API server saw them', async () => {
    const name = `phases-${suffix}`;
    // An independent watch on the API server records what the operator actually wrote.
    const seen: string[] = [];
    const watch = new k8s.Watch(ns.kc);
    const req = await watch.watch(
      `/apis/${API_VERSION}/namespaces/${ns.name}/vdisessions`,
      { fieldSelector: `metadata.name=${name}` },
      (_type, obj: VDISession) => {
        // As the API shows it: a session the operator has not written a phase for yet is Pending, a
        // deleted one still finishing is Terminating.
        const phase = obj.metadata?.deletionTimestamp ? 'Terminating' : (obj.status?.phase ?? 'Pending');
        if (seen.at(-1) !== phase) seen.push(phase);
      },
      () => undefined,
    );
    try {
      const created = await gqlAt(apiA.url, tokens.alice, CREATE, { input: { template: GPU_T, name } });
      expect(created.body.errors).toBeUndefined();
      // The subscription by name checks ownership in apiB's cache: subscribe once apiB knows it.
      await waitFor(`apiB's cache has ${name}`, async () => {
        const r = await gqlAt(apiB.url, tokens.alice, '{ sessions { name } }');
        return (r.body.data as { sessions: { name: string }[] } | undefined)?.sessions.some(
          (x) => x.name === name,
        );
      });
      const c = wsClient(apiB.url, { authorization: `Bearer ${tokens.alice}` });
      clients.push(c);
      const sub = subscribe<{ type: string; session: { name: string; phase: string } }>(
        c.client,
        SUB,
        'sessionUpdated',
        { name },
      );
      await sub.next((e) => e.session.phase === 'Running', 60_000);
      await waitFor('the watch saw Running', async () => seen.includes('Running'));
      const delivered: string[] = [];
      for (const e of sub.events) if (delivered.at(-1) !== e.session.phase) delivered.push(e.session.phase);
      // The subscription started after the create, and a subscriber that is behind gets the newest
      // state instead of each one it missed: what it delivers is the watch's phases, in the watch's
      // order, none invented, ending at Running.
      let at = 0;
      for (const phase of delivered) {
        const i = seen.indexOf(phase, at);
        if (i < 0)
          throw new Error(
            `delivered ${JSON.stringify(delivered)} is not in the order the watch saw: ${JSON.stringify(seen)}`,
          );
        at = i + 1;
      }
      expect(delivered.at(-1)).toBe('Running');
      expect(seen).toEqual(expect.arrayContaining(['Scheduling', 'Running']));
      expect(seen.at(-1)).toBe('Running');

      // Deletion: Terminating, then DELETED.
      expect((await gqlAt(apiA.url, tokens.alice, DELETE, { name })).body.data).toEqual({
        deleteSession: true,
      });
      await sub.next((e) => e.type === 'DELETED', 30_000);
      // Terminating may be coalesced into DELETED for a subscriber; the API server saw it.
      await waitFor(
        'the watch saw Terminating or the deletion',
        async () => seen.includes('Terminating'),
        30_000,
      );
      expect(sub.errors).toEqual([]);
      sub.dispose();
    } finally {
      req.abort();
    }
  }, 90_000);

  it('bob cannot subscribe to alice’s session: NOT_FOUND', async () => {
    const name = `sub-${suffix}`;
    expect(
      (await gqlAt(apiA.url, tokens.alice, CREATE, { input: { template: CPU_T, name } })).body.errors,
    ).toBeUndefined();
    const c = wsClient(apiA.url, { authorization: `Bearer ${tokens.bob}` });
    clients.push(c);
    const sub = subscribe(c.client, SUB, 'sessionUpdated', { name });
    await waitFor('an error', async () => sub.errors.length > 0);
    expect(sub.errors[0]).toEqual([
      expect.objectContaining({
        message: `you have no session named '${name}'`,
        extensions: expect.objectContaining({ code: 'NOT_FOUND' }),
      }),
    ]);
    expect(sub.events).toEqual([]);
  });
});

/** Creates refused because the user's create lock stayed busy (a retryable answer, not a quota). */
function busyRetries(results: Awaited<ReturnType<typeof gqlAt>>[]): number {
  return results.filter((r) => /try again in a moment/.test(r.body.errors?.[0]?.message ?? '')).length;
}

describe('quotas across two API replicas', () => {
  afterEach(deleteAll, 60_000);

  it('20 concurrent creates of one user, spread over both replicas, create exactly the quota (3 sessions)', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        gqlAt(i % 2 ? apiB.url : apiA.url, tokens.bob, CREATE, { input: { template: CPU_T } }),
      ),
    );
    const ok = results.filter((r) => !r.body.errors);
    const refused = results.filter((r) => codeOf(r) === 'QUOTA_EXCEEDED');
    expect(ok).toHaveLength(3);
    // The rest are refused for the quota, or, on a slow machine, told to try again because the
    // user's create lock stayed busy: never a fourth session.
    expect(refused.length + busyRetries(results)).toBe(17);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.body.errors![0]!.message).toMatch(/already have 3 session\(s\).*delete one first/);
    const bobs = (await listSessions()).filter((s) => s.spec.user === 'bob@example.com');
    expect(bobs).toHaveLength(3);
    // No quota lock is left behind.
    const leases = await kube.call<{ items: unknown[] }>(
      'GET',
      `/apis/coordination.k8s.io/v1/namespaces/${ns.name}/leases?labelSelector=app.kubernetes.io%2Fcomponent%3Dquota-lock`,
    );
    expect(leases.items).toEqual([]);
  }, 60_000);

  it('20 concurrent GPU creates over both replicas: exactly one GPU session (quota 1 slice)', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        gqlAt(i % 2 ? apiA.url : apiB.url, tokens.alice, CREATE, { input: { template: GPU_T } }),
      ),
    );
    expect(results.filter((r) => !r.body.errors)).toHaveLength(1);
    const refused = results.filter((r) => codeOf(r) === 'QUOTA_EXCEEDED');
    expect(refused.length + busyRetries(results)).toBe(19);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.body.errors![0]!.extensions).toMatchObject({ quota: 'gpusPerUser', limit: 1 });
    expect((await listSessions()).filter((s) => s.spec.user === 'alice@example.com')).toHaveLength(1);
  }, 60_000);
});

describe('desktop access: openSession and the forwardAuth endpoint', () => {
  let alices: string;
  let alices2: string;
  let url: URL;

  /**
   * Traefik's forwardAuth request for `target` (the desktop URL the browser asked for), by default
   * as the browser sends it on the portal's navigation (the portal's origin as Referer).
   */
  async function forwardAuth(
    api: string,
    session: string,
    target: string,
    headers: Record<string, string> = {},
    { fromPortal = true } = {},
  ) {
    const t = new URL(target);
    // node:http, not fetch: fetch puts Sec-Fetch-Mode of its own on every request.
    const r = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
      (resolve, reject) => {
        const req = http.get(
          `${api}/auth/session?session=${encodeURIComponent(`${ns.name}/${session}`)}`,
          {
            agent: false,
            headers: {
              'x-forwarded-proto': t.protocol.replace(':', ''),
              'x-forwarded-host': t.host,
              'x-forwarded-uri': `${t.pathname}${t.search}`,
              'x-forwarded-method': 'GET',
              ...(fromPortal ? { referer: `${PORTAL}/` } : {}),
              ...headers,
            },
          },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
          },
        );
        req.on('error', reject);
      },
    );
    const one = (h: string | string[] | undefined) => (Array.isArray(h) ? h[0] : h) ?? null;
    const cookie = one(r.headers['set-cookie']);
    return {
      status: r.status,
      location: one(r.headers.location),
      user: one(r.headers['x-forwarded-user']),
      authorization: one(r.headers.authorization),
      retryAfter: one(r.headers['retry-after']),
      body: r.body,
      cookie: cookie ? cookie.split(';')[0]! : undefined,
      setCookie: cookie,
    };
  }

  async function open(who: keyof typeof tokens, name: string, api = apiA.url): Promise<string> {
    const r = await gqlAt(api, tokens[who], OPEN, { name });
    expect(r.body.errors).toBeUndefined();
    return (r.body.data!.openSession as { url: string }).url;
  }

  beforeAll(async () => {
    alices = `desk-${suffix}`;
    alices2 = `desk2-${suffix}`;
    for (const name of [alices, alices2]) {
      const r = await gqlAt(apiA.url, tokens.alice, CREATE, { input: { template: CPU_T, name } });
      expect(r.body.errors).toBeUndefined();
    }
    const s = await waitRunning(alices);
    await waitRunning(alices2);
    url = new URL(s.status!.url!);
  }, 90_000);
  afterAll(deleteAll, 60_000);

  it('openSession refuses a session that is not Running yet, in words', async () => {
    const name = `early-${suffix}`;
    await kube.call('POST', `/apis/${API_VERSION}/namespaces/${ns.name}/vdisessions`, {
      ...sessionRef(name),
      // no operator-known template: it never gets Running
      spec: { user: 'alice@example.com', owner: ownerOf(tokens.alice), template: `missing-${suffix}` },
    });
    await waitFor('early in the cache', async () => {
      const r = await gqlAt(apiA.url, tokens.alice, '{ sessions { name } }');
      return (r.body.data?.sessions as { name: string }[]).some((x) => x.name === name);
    });
    const r = await gqlAt(apiA.url, tokens.alice, OPEN, { name });
    expect(codeOf(r)).toBe('BAD_USER_INPUT');
    expect(r.body.errors![0]!.message).toMatch(
      new RegExp(`session '${name}' is not ready yet \\(phase \\w+`),
    );
    await kube.delete(sessionRef(name));
  });

  it('bob cannot open alice’s session: NOT_FOUND', async () => {
    const r = await gqlAt(apiA.url, tokens.bob, OPEN, { name: alices });
    expect(codeOf(r)).toBe('NOT_FOUND');
    expect(r.body.errors![0]!.message).toBe(`you have no session named '${alices}'`);
  });

  it('a ticket from one replica is redeemed at the other for a cookie, with a redirect to the clean URL', async () => {
    const ticketUrl = await open('alice', alices, apiA.url);
    expect(new URL(ticketUrl).origin).toBe(url.origin);
    expect(new URL(ticketUrl).searchParams.get('vdi-ticket')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const r = await forwardAuth(apiB.url, alices, ticketUrl);
    expect(r.status).toBe(302);
    expect(r.location).toBe(url.toString());
    expect(r.setCookie).toMatch(/HttpOnly/i);
    expect(r.setCookie).toMatch(/SameSite=Lax/i);
    expect(r.setCookie).not.toMatch(/Domain=/i); // host-only: this desktop's host alone
    // With the cookie, both replicas let alice in and name her to the desktop.
    for (const api of [apiA.url, apiB.url]) {
      const ok = await forwardAuth(api, alices, url.toString(), { cookie: r.cookie! });
      expect(ok).toMatchObject({ status: 200, user: 'alice' });
    }
  });

  it('a replayed ticket is refused (sent to the portal), even through the other replica', async () => {
    const ticketUrl = await open('alice', alices);
    expect((await forwardAuth(apiA.url, alices, ticketUrl)).status).toBe(302);
    for (const api of [apiA.url, apiB.url]) {
      const again = await forwardAuth(api, alices, ticketUrl);
      expect(again.status).toBe(302);
      expect(again.location).toBe(`http://portal.vdi.localhost:3999/open/${alices}`);
      expect(again.cookie).toBeUndefined();
    }
  });

  it('of two simultaneous redemptions of one ticket, exactly one gets a cookie', async () => {
    const ticketUrl = await open('alice', alices);
    const both = await Promise.all([
      forwardAuth(apiA.url, alices, ticketUrl),
      forwardAuth(apiB.url, alices, ticketUrl),
    ]);
    expect(both.filter((r) => r.cookie !== undefined)).toHaveLength(1);
  });

  it('a ticket for another session is refused', async () => {
    const ticketUrl = await open('alice', alices);
    const other = new URL(ticketUrl);
    other.hostname = new URL((await kube.get<VDISession>(sessionRef(alices2)))!.status!.url!).hostname;
    const r = await forwardAuth(apiA.url, alices2, other.toString());
    expect(r.status).toBe(302);
    expect(r.location).toBe(`http://portal.vdi.localhost:3999/open/${alices2}`);
    expect(r.cookie).toBeUndefined();
  });

  it('a ticket presented by another user is refused, and stays good for its owner', async () => {
    const ticketUrl = await open('alice', alices);
    const byBob = await forwardAuth(apiA.url, alices, ticketUrl, { authorization: `Bearer ${tokens.bob}` });
    expect(byBob.status).toBe(403);
    expect(byBob.cookie).toBeUndefined();
    const byAlice = await forwardAuth(apiA.url, alices, ticketUrl);
    expect(byAlice.status).toBe(302);
    expect(byAlice.cookie).toBeDefined();
  });

  it('an expired ticket is refused', async () => {
    const ticketUrl = await open('alice', alices, apiB.url); // B: tickets live 5 s
    await new Promise((r) => setTimeout(r, 5_500));
    const r = await forwardAuth(apiB.url, alices, ticketUrl);
    expect(r.status).toBe(302);
    expect(r.location).toBe(`http://portal.vdi.localhost:3999/open/${alices}`);
    expect(r.cookie).toBeUndefined();
  });

  it('a cookie opens only its own session; a tampered or missing one sends the browser to the portal', async () => {
    const redeemed = await forwardAuth(apiA.url, alices, await open('alice', alices));
    const cookie = redeemed.cookie!;
    // The same cookie value under the other session's cookie name does not pass.
    const renamed = cookie.replace(/^[^=]+/, `vdi_access_${alices2.replace(/-/g, '_')}`);
    const r = await forwardAuth(
      apiA.url,
      alices2,
      new URL(url.toString().replace(alices, alices2)).toString(),
      {
        cookie: renamed,
      },
    );
    expect(r.status).toBe(302);
    // A tampered cookie does not pass either.
    const tampered = `${cookie.slice(0, -3)}AAA`;
    expect((await forwardAuth(apiA.url, alices, url.toString(), { cookie: tampered })).status).toBe(302);
    // No cookie: to the portal.
    const anon = await forwardAuth(apiA.url, alices, url.toString());
    expect(anon).toMatchObject({ status: 302, location: `http://portal.vdi.localhost:3999/open/${alices}` });
  });

  it('an admin may open alice’s session, and is named to the desktop as admin', async () => {
    const adminUrl = await open('admin', alices);
    const adminIn = await forwardAuth(apiA.url, alices, adminUrl);
    expect(adminIn.status).toBe(302);
    expect(await forwardAuth(apiA.url, alices, url.toString(), { cookie: adminIn.cookie! })).toMatchObject({
      status: 200,
      user: 'admin',
    });
  });

  it('an admitted request carries the desktop’s own basic-auth password for Traefik to pass on; nothing else does', async () => {
    const s = (await kube.get<VDISession>(sessionRef(alices)))!;
    const redeemed = await forwardAuth(apiA.url, alices, await open('alice', alices));
    expect(redeemed.authorization).toBeNull();
    for (const api of [apiA.url, apiB.url]) {
      // The client's own Authorization (a guess at the password) changes nothing in the answer.
      const ok = await forwardAuth(api, alices, url.toString(), {
        cookie: redeemed.cookie!,
        authorization: 'Basic dmRpOmd1ZXNz',
      });
      expect(ok.status).toBe(200);
      expect(ok.authorization).toBe(desktopAuthorization(TEST_SESSION_KEY, s.metadata.uid!));
    }
    // Another session's password is another one; a refused request carries none.
    const s2 = (await kube.get<VDISession>(sessionRef(alices2)))!;
    expect(desktopAuthorization(TEST_SESSION_KEY, s2.metadata.uid!)).not.toBe(
      desktopAuthorization(TEST_SESSION_KEY, s.metadata.uid!),
    );
    const anon = await forwardAuth(apiA.url, alices, url.toString());
    expect(anon.status).toBe(302);
    expect(anon.authorization).toBeNull();
  });

  it('a page on another desktop cannot use alice’s cookie: foreign Origins and same-site subresources get a 403 with the reason', async () => {
    const { cookie } = await forwardAuth(apiA.url, alices, await open('alice', alices));
    const other = new URL(url.toString().replace(alices, alices2)).origin;
    const ws = (origin: string) => ({
      cookie: cookie!,
      origin,
      'sec-fetch-site': origin === url.origin ? 'same-origin' : 'same-site',
      'sec-fetch-mode': 'websocket',
      'sec-fetch-dest': 'empty',
    });
    const ownWs = await forwardAuth(apiA.url, alices, `${url.origin}/ws`, ws(url.origin));
    expect(ownWs.status).toBe(200);
    const foreignWs = await forwardAuth(apiA.url, alices, `${url.origin}/ws`, ws(other));
    expect(foreignWs.status).toBe(403);
    expect(foreignWs.body).toBe(
      `a request from ${other} may not reach the desktop at ${url.origin}: only the desktop's own pages may\n`,
    );
    expect(foreignWs.authorization).toBeNull();
    // An image or a frame from a sibling host: no Origin, but Fetch Metadata says same-site.
    const img = await forwardAuth(apiA.url, alices, url.toString(), {
      cookie: cookie!,
      'sec-fetch-site': 'same-site',
      'sec-fetch-mode': 'no-cors',
      'sec-fetch-dest': 'image',
    });
    expect(img.status).toBe(403);
    expect(img.body).toMatch(/^a same-site no-cors \(destination image\) may not reach the desktop/);
    // Opening it in a tab from the portal (same site) is the way in.
    const nav = await forwardAuth(apiA.url, alices, url.toString(), {
      cookie: cookie!,
      'sec-fetch-site': 'same-site',
      'sec-fetch-mode': 'navigate',
      'sec-fetch-dest': 'document',
    });
    expect(nav.status).toBe(200);
  });

  it('a ticket link opened anywhere but from the portal is not redeemed (no cookie), and stays good for the portal', async () => {
    const ticketUrl = await open('alice', alices);
    for (const referer of [undefined, 'http://mail.example.com/inbox', `${url.origin}/`]) {
      const r = await forwardAuth(apiA.url, alices, ticketUrl, referer ? { referer } : {}, {
        fromPortal: false,
      });
      expect(r).toMatchObject({ status: 302, location: `${PORTAL}/open/${alices}`, cookie: undefined });
    }
    const fromPortal = await forwardAuth(apiB.url, alices, ticketUrl);
    expect(fromPortal.status).toBe(302);
    expect(fromPortal.cookie).toBeDefined();
  });

  it('the "connecting" page hands the portal’s navigation on to its reload (vdi-via), and only that', async () => {
    const starting = async (ticketUrl: string, referer?: string) => {
      const t = new URL(ticketUrl);
      const r = await fetch(`${apiA.url}/auth/starting${t.search}`, {
        headers: {
          'x-forwarded-host': t.host,
          'x-forwarded-proto': 'http',
          ...(referer ? { referer } : {}),
        },
      });
      expect(r.status).toBe(503);
      const refresh = /<meta http-equiv="refresh" content="2(?:; url=([^"]*))?">/.exec(await r.text());
      expect(refresh).not.toBeNull();
      return refresh![1]?.replace(/&amp;/g, '&');
    };
    // Reached from the portal: the retry URL carries the proof, which the forward-auth accepts
    // on the reload (whose Referer is the desktop's own address).
    const ticketUrl = await open('alice', alices);
    const retry = await starting(ticketUrl, `${PORTAL}/sessions/${alices}`);
    expect(retry).toMatch(/^\?vdi-ticket=[A-Za-z0-9_-]{43}&vdi-via=[A-Za-z0-9_-]{43}$/);
    const reload = new URL(retry!, ticketUrl).toString();
    const forged = reload.replace(/vdi-via=[^&]+/, `vdi-via=${'A'.repeat(43)}`);
    const byForged = await forwardAuth(apiB.url, alices, forged, { referer: reload }, { fromPortal: false });
    expect(byForged).toMatchObject({ status: 302, location: `${PORTAL}/open/${alices}`, cookie: undefined });
    const redeemed = await forwardAuth(apiB.url, alices, reload, { referer: reload }, { fromPortal: false });
    expect(redeemed.status).toBe(302);
    expect(redeemed.location).toBe(url.toString());
    expect(redeemed.cookie).toBeDefined();
    // Reached by a link from anywhere else: a plain reload, which the forward-auth does not redeem.
    const handed = await open('alice', alices);
    expect(await starting(handed)).toBeUndefined();
    expect(await starting(handed, 'http://mail.example.com/')).toBeUndefined();
    // A proof for one ticket opens no other.
    const other = new URL(handed);
    other.searchParams.set('vdi-via', new URL(reload).searchParams.get('vdi-via')!);
    const r = await forwardAuth(apiA.url, alices, other.toString(), {}, { fromPortal: false });
    expect(r.cookie).toBeUndefined();
  });

  it('over https the cookie is a __Host- cookie: Secure, Path=/, no Domain', async () => {
    const ticketUrl = new URL(await open('alice', alices));
    ticketUrl.protocol = 'https:';
    const r = await forwardAuth(apiA.url, alices, ticketUrl.toString());
    expect(r.status).toBe(302);
    const name = `__Host-vdi_access_${alices.replace(/-/g, '_')}`;
    expect(r.cookie!.startsWith(`${name}=`)).toBe(true);
    expect(r.setCookie).toMatch(/; Path=\/(;|$)/);
    expect(r.setCookie).toMatch(/; Secure/i);
    expect(r.setCookie).not.toMatch(/Domain=/i);
    const https = new URL(url.toString());
    https.protocol = 'https:';
    expect((await forwardAuth(apiA.url, alices, https.toString(), { cookie: r.cookie! })).status).toBe(200);
    // The plain name does not count over https (a sibling host could have set it).
    const plain = r.cookie!.replace(/^__Host-/, '');
    expect((await forwardAuth(apiA.url, alices, https.toString(), { cookie: plain })).status).toBe(302);
  });

  it('a flood of requests for sessions no cache holds is bounded: 503 with Retry-After beyond the read budget', async () => {
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        forwardAuth(apiB.url, `nobody-${suffix}-${i}`, `http://nobody-${suffix}-${i}.vdi.localhost:8081/`),
      ),
    );
    const seconds = (Date.now() - started) / 1000;
    const looked = results.filter((r) => r.status === 302);
    const busy = results.filter((r) => r.status === 503);
    expect(looked.length + busy.length).toBe(200);
    // Burst 50, then 20 a second.
    expect(looked.length).toBeGreaterThanOrEqual(40);
    expect(looked.length).toBeLessThanOrEqual(50 + Math.ceil(20 * seconds) + 1);
    expect(busy.length).toBeGreaterThan(0);
    expect(Number(busy[0]!.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(busy[0]!.body).toMatch(
      /too many desktop requests need a session lookup right now; try again in \d+ s/,
    );
    // A session in the cache needs no read: alice's cookie still opens her desktop meanwhile.
    const { cookie } = await forwardAuth(apiA.url, alices, await open('alice', alices));
    expect((await forwardAuth(apiB.url, alices, url.toString(), { cookie: cookie! })).status).toBe(200);
    // And the budget refills.
    await waitFor(
      'the read budget to refill',
      async () =>
        (await forwardAuth(apiB.url, `nobody-${suffix}-x`, `http://nobody-${suffix}-x.vdi.localhost:8081/`))
          .status === 302,
      10_000,
    );
  });

  it('a request that does not name a session of the namespace is a 400 that says what is wrong', async () => {
    const r = await fetch(`${apiA.url}/auth/session?session=other-ns/x`, {
      headers: { 'x-forwarded-host': url.host },
    });
    expect(r.status).toBe(400);
    expect(await r.text()).toMatch(`does not name a session of ${ns.name}`);
  });
});
