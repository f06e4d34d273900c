/**
 * Desktop access ends with the login (issue #15 item 4), at the forwardAuth endpoint: the API with
 * its Keycloak service account, the real local Keycloak and a session of the test cluster. A
 * desktop cookie opened with a login stops opening the desktop within 60 s once that login ends
 * (logout), the account is disabled or its platform role is removed; the revocation loop records
 * an AccessRevoked Event on the session. (apps/web/e2e/revocation.int.spec.ts proves the same
 * through Traefik and Chromium on a real desktop, with its stream closed.)
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { API_VERSION, KIND_SESSION } from '@vdi/crd-types';
import { KubeJsonClient } from '@vdi/kube-client';
import { API_CLIENT_SECRET, CLIENTS, KeycloakAdmin, passwordGrant, type TokenResponse } from '@vdi/keycloak';
import { createTestNamespace, installCrds, waitFor, type TestNamespace } from '@vdi/testing';
import { gqlAt, keycloakIssuer, ownerOf, startApi, type RunningApi } from './harness.js';

const PORTAL = 'http://portal.vdi.localhost:3998';
const REVOCATION_MS = 60_000;
const user = `rev-api-${randomBytes(3).toString('hex')}`;
const admin = new KeycloakAdmin();
let userId: string;
let ns: TestNamespace;
let kube: KubeJsonClient;
let api: RunningApi;
let issuer: string;

const OPEN = `mutation($name: String!) { openSession(name: $name) { url } }`;
const ref = (name: string) => ({
  apiVersion: API_VERSION,
  kind: KIND_SESSION,
  metadata: { name, namespace: ns.name },
});

/** Traefik's forwardAuth request for `target`, as the browser sends it (Referer: the portal). */
function forwardAuth(session: string, target: string, cookie?: string) {
  const t = new URL(target);
  return new Promise<{ status: number; location?: string; why?: string; setCookie?: string }>(
    (resolve, reject) => {
      const req = http.get(
        `${api.url}/auth/session?session=${encodeURIComponent(`${ns.name}/${session}`)}`,
        {
          agent: false,
          headers: {
            'x-forwarded-proto': 'http',
            'x-forwarded-host': t.host,
            'x-forwarded-uri': `${t.pathname}${t.search}`,
            'x-forwarded-method': 'GET',
            referer: `${PORTAL}/`,
            ...(cookie ? { cookie } : {}),
          },
        },
        (res) => {
          res.resume();
          const one = (h: string | string[] | undefined) => (Array.isArray(h) ? h[0] : h);
          resolve({
            status: res.statusCode ?? 0,
            ...(res.headers.location ? { location: res.headers.location } : {}),
            ...(one(res.headers['x-vdi-auth']) ? { why: one(res.headers['x-vdi-auth']) } : {}),
            ...(one(res.headers['set-cookie']) ? { setCookie: one(res.headers['set-cookie']) } : {}),
          });
        },
      );
      req.on('error', reject);
    },
  );
}

/** A Running session of `user` (no operator here: its status is written as the operator would). */
async function runningSession(owner: {
  issuer: string;
  subject: string;
}): Promise<{ name: string; url: string }> {
  const name = `rv-${randomBytes(3).toString('hex')}`;
  const url = `http://${name}.vdi.localhost:8099/`;
  await kube.apply(
    { ...ref(name), spec: { user: `${user}@example.com`, owner, template: 'revocation-test' } } as never,
    'vdi-tests',
  );
  await kube.mergePatch(ref(name), { status: { phase: 'Running', url } }, 'status');
  // The API's cache sees it Running.
  await waitFor(
    `${name} Running in the API`,
    async () => {
      const r = await gqlAt(api.url, (await login()).access_token, `{ sessions { name phase } }`);
      const s = (r.body.data?.sessions as { name: string; phase: string }[] | undefined)?.find(
        (x) => x.name === name,
      );
      return s?.phase === 'Running';
    },
    30_000,
    250,
  );
  return { name, url };
}

const login = () => passwordGrant(user, user);

/** Opens the desktop with `tokens`' login: the cookie the ticket is traded for, checked to work. */
async function cookieFor(tokens: TokenResponse, s: { name: string; url: string }): Promise<string> {
  const r = await gqlAt(api.url, tokens.access_token, OPEN, { name: s.name });
  expect(r.body.errors).toBeUndefined();
  const redeemed = await forwardAuth(s.name, (r.body.data!.openSession as { url: string }).url);
  expect(redeemed.status).toBe(302);
  const cookie = redeemed.setCookie!.split(';')[0]!;
  expect((await forwardAuth(s.name, s.url, cookie)).status).toBe(200);
  return cookie;
}

/** Within 60 s of `since` the cookie is refused (sent to the portal, cookie cleared). */
async function expectRefused(s: { name: string; url: string }, cookie: string, since: number, why: RegExp) {
  const r = await waitFor(
    'the cookie refused',
    async () => {
      const a = await forwardAuth(s.name, s.url, cookie);
      return a.status !== 200 ? a : undefined;
    },
    REVOCATION_MS,
    500,
  );
  expect(Date.now() - since).toBeLessThanOrEqual(REVOCATION_MS);
  expect(r.status).toBe(302);
  expect(r.location).toBe(`${PORTAL}/open/${s.name}`);
  expect(r.why).toMatch(why);
  expect(r.setCookie).toMatch(/Expires=Thu, 01 Jan 1970|Max-Age=0/i);
}

/** The AccessRevoked Events of a session. */
async function revokedEvents(name: string): Promise<{ reason: string; message: string }[]> {
  const list = await kube.call<{
    items: { reason: string; message: string; involvedObject: { name: string } }[];
  }>('GET', `/api/v1/namespaces/${ns.name}/events`);
  return list.items.filter((e) => e.involvedObject.name === name && e.reason === 'AccessRevoked');
}

beforeAll(async () => {
  ns = await createTestNamespace('api-revoke');
  kube = new KubeJsonClient(ns.kc);
  await installCrds(ns.kc);
  await admin.ensureApiServiceAccount();
  userId = await admin.createUser({
    username: user,
    password: user,
    email: `${user}@example.com`,
    roles: ['vdi-user'],
  });
  issuer = keycloakIssuer();
  api = await startApi(ns.kc, {
    VDI_OIDC_ISSUER: issuer,
    VDI_SESSIONS_NAMESPACE: ns.name,
    VDI_PORTAL_URL: PORTAL,
    VDI_ACCESS_COOKIE_SECRET: randomBytes(32).toString('hex'),
    VDI_OIDC_ADMIN_CLIENT_ID: CLIENTS.api,
    VDI_OIDC_ADMIN_CLIENT_SECRET: API_CLIENT_SECRET,
  });
}, 120_000);

afterAll(async () => {
  await api?.close();
  kube?.close();
  await ns?.cleanup();
  if (userId) await admin.deleteUser(userId).catch(() => undefined);
}, 60_000);

describe('desktop access ends with the login (forwardAuth, real Keycloak)', () => {
  it('logout (the Keycloak login ended): refused within 60 s, and an AccessRevoked Event', async () => {
    const tokens = await login();
    const s = await runningSession(ownerOf(tokens.access_token));
    const cookie = await cookieFor(tokens, s);
    const since = Date.now();
    // What the portal's logout does: end the login session at Keycloak.
    const res = await fetch(`${issuer}/protocol/openid-connect/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: CLIENTS.tests,
        refresh_token: tokens.refresh_token!,
      }).toString(),
    });
    expect(res.status).toBe(204);
    await expectRefused(s, cookie, since, /access revoked: logged out/);
    const events = await waitFor(
      'an AccessRevoked Event',
      async () => (await revokedEvents(s.name))[0],
      60_000,
      1_000,
    );
    expect(events.message).toMatch(new RegExp(`access revoked for ${user} \\(logged out`));
    // A new login still opens it.
    await cookieFor(await login(), s);
  }, 180_000);

  it('role removed: refused within 60 s', async () => {
    const tokens = await login();
    const s = await runningSession(ownerOf(tokens.access_token));
    const cookie = await cookieFor(tokens, s);
    const since = Date.now();
    await admin.removeRealmRole(userId, 'vdi-user');
    try {
      await expectRefused(s, cookie, since, /access revoked: role vdi-user removed/);
    } finally {
      await admin.addRealmRole(userId, 'vdi-user');
    }
  }, 180_000);

  it('account disabled: refused within 60 s, and no new ticket for the old token', async () => {
    const tokens = await login();
    const s = await runningSession(ownerOf(tokens.access_token));
    const cookie = await cookieFor(tokens, s);
    const since = Date.now();
    await admin.updateUser(userId, { enabled: false });
    await expectRefused(s, cookie, since, /access revoked: account disabled/);
    const again = await gqlAt(api.url, tokens.access_token, OPEN, { name: s.name });
    expect(again.body.errors?.[0]?.message).toMatch(/can no longer open desktops \(account disabled\)/);
  }, 180_000);
});
