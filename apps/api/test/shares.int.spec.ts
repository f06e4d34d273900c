/**
 * Sharing a desktop with a named colleague (issue #18), against the test cluster and the real
 * local Keycloak: the API (in-process) with its Keycloak service account. Grants and every
 * refusal (nothing written on refusal), forward-auth's answer per role (the session password for
 * `control`, the view-only one for `view`, refusal for someone not named), the first use
 * recorded once, revocation and expiry ending access, and the Events on the session.
 * (apps/web/e2e/share.int.spec.ts proves the same through Traefik and Chromium on a real desktop,
 * with the viewer's input dropped by Selkies and its page closed on revocation.)
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { API_VERSION, KIND_SESSION, KIND_SHARE, type VDIShare } from '@vdi/crd-types';
import { KubeJsonClient } from '@vdi/kube-client';
import { API_CLIENT_SECRET, CLIENTS, KeycloakAdmin, passwordGrant } from '@vdi/keycloak';
import { desktopAuthorization, viewOnlyAuthorization } from '@vdi/session-spec';
import {
  createTestNamespace,
  releaseDeletedSessions,
  type SessionReleaser,
  installCrds,
  TEST_SESSION_KEY,
  waitFor,
  type TestNamespace,
} from '@vdi/testing';
import { codeOf, gqlAt, keycloakIssuer, ownerOf, startApi, type RunningApi } from './harness.js';

const PORTAL = 'http://portal.vdi.localhost:3997';
const tag = randomBytes(3).toString('hex');
const users = { owner: `sh-own-${tag}`, bob: `sh-bob-${tag}`, carol: `sh-car-${tag}` };
const admin = new KeycloakAdmin();
const ids: string[] = [];
const groupIds: string[] = [];
let ns: TestNamespace;
let releaser: SessionReleaser | undefined;
let kube: KubeJsonClient;
let api: RunningApi;

const token = async (u: string) => (await passwordGrant(u, u)).access_token;

const SHARE = `mutation($input: ShareSessionInput!) {
  shareSession(input: $input) { name session user group role expiresAt expired }
}`;
const UPDATE = `mutation($input: UpdateShareInput!) { updateShare(input: $input) { name role expiresAt } }`;
const REVOKE = `mutation($name: String!) { revokeShare(name: $name) { name } }`;
const SHARES = `query($session: String!) { shares(session: $session) { name user role expired firstUsedBy } }`;
const MINE = `{ sharedWithMe { owner phase openUrl share { name session role } } }`;
const OPEN = `mutation($name: String!) { openSession(name: $name) { url } }`;

const sessionRef = (name: string) => ({
  apiVersion: API_VERSION,
  kind: KIND_SESSION,
  metadata: { name, namespace: ns.name },
});
const shareList = async () =>
  (await kube.call<{ items: VDIShare[] }>('GET', `/apis/${API_VERSION}/namespaces/${ns.name}/vdishares`))
    .items;
const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

interface AuthAnswer {
  status: number;
  location?: string;
  why?: string;
  setCookie?: string;
  authorization?: string;
}

/** Traefik's forwardAuth request for `target`, as the browser sends it (Referer: the portal). */
function forwardAuth(session: string, target: string, cookie?: string): Promise<AuthAnswer> {
  const t = new URL(target);
  return new Promise((resolve, reject) => {
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
          ...(res.headers.authorization ? { authorization: res.headers.authorization } : {}),
        });
      },
    );
    req.on('error', reject);
  });
}

/** A Running session of the owner (no operator here: its status is written as the operator would). */
async function runningSession(): Promise<{ name: string; url: string; uid: string }> {
  const ownerToken = await token(users.owner);
  const name = `sh-${randomBytes(3).toString('hex')}`;
  const url = `http://${name}.vdi.localhost:8097/`;
  const created = await kube.apply(
    {
      ...sessionRef(name),
      spec: { user: `${users.owner}@example.com`, owner: ownerOf(ownerToken), template: 'share-test' },
    } as never,
    'vdi-tests',
  );
  await kube.mergePatch(sessionRef(name), { status: { phase: 'Running', url } }, 'status');
  await waitFor(
    `${name} Running in the API`,
    async () => {
      const r = await gqlAt(api.url, ownerToken, `{ sessions { name phase } }`);
      return (r.body.data?.sessions as { name: string; phase: string }[] | undefined)?.some(
        (x) => x.name === name && x.phase === 'Running',
      );
    },
    30_000,
    250,
  );
  return { name, url, uid: (created.metadata as { uid: string }).uid };
}

/** `user` opens the desktop through the portal: the cookie its ticket is traded for. */
async function cookieOf(user: string, s: { name: string; url: string }): Promise<string> {
  const r = await gqlAt(api.url, await token(user), OPEN, { name: s.name });
  expect(r.body.errors).toBeUndefined();
  const redeemed = await forwardAuth(s.name, (r.body.data!.openSession as { url: string }).url);
  expect(redeemed.status).toBe(302);
  return redeemed.setCookie!.split(';')[0]!;
}

/** The share Events of a session, by reason. */
async function events(session: string): Promise<{ reason: string; message: string }[]> {
  const list = await kube.call<{
    items: { reason: string; message: string; involvedObject: { name: string } }[];
  }>('GET', `/api/v1/namespaces/${ns.name}/events`);
  return list.items.filter((e) => e.involvedObject.name === session && e.reason.startsWith('Share'));
}

const share = async (s: { name: string }, role: string, expiresAt = inSeconds(3600), user = users.bob) => {
  const r = await gqlAt(api.url, await token(users.owner), SHARE, {
    input: { session: s.name, user, role, expiresAt },
  });
  expect(r.body.errors).toBeUndefined();
  return r.body.data!.shareSession as { name: string; role: string; expiresAt: string };
};

beforeAll(async () => {
  ns = await createTestNamespace('api-shares');
  // No operator here: its part in a deletion (the API's sessions carry its finalizer).
  releaser = releaseDeletedSessions(ns.kc, ns.name);
  kube = new KubeJsonClient(ns.kc);
  await installCrds(ns.kc);
  await admin.ensureApiServiceAccount();
  for (const u of Object.values(users))
    ids.push(
      await admin.createUser({ username: u, password: u, email: `${u}@example.com`, roles: ['vdi-user'] }),
    );
  api = await startApi(ns.kc, {
    VDI_OIDC_ISSUER: keycloakIssuer(),
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
  await releaser?.stop();
  await ns?.cleanup();
  for (const id of ids) await admin.deleteUser(id).catch(() => undefined);
  for (const id of groupIds) await admin.deleteGroup(id).catch(() => undefined);
}, 60_000);

describe('sharing a session (GraphQL, real Keycloak)', () => {
  it('refuses, writing nothing: not the owner, no such user, oneself, past or too far an expiry, a bad role', async () => {
    const s = await runningSession();
    const ownerToken = await token(users.owner);
    const input = { session: s.name, user: users.bob, role: 'view', expiresAt: inSeconds(3600) };
    const cases: [string, string, Record<string, unknown>, RegExp, string][] = [
      [
        'not the owner',
        await token(users.bob),
        { ...input, user: users.carol },
        /you have no session named/,
        'NOT_FOUND',
      ],
      [
        'no such user',
        ownerToken,
        { ...input, user: `nobody-${tag}` },
        /there is no user 'nobody-/,
        'BAD_USER_INPUT',
      ],
      ['oneself', ownerToken, { ...input, user: users.owner }, /with yourself/, 'BAD_USER_INPUT'],
      ['past', ownerToken, { ...input, expiresAt: inSeconds(-60) }, /in the past/, 'BAD_USER_INPUT'],
      [
        'too far',
        ownerToken,
        { ...input, expiresAt: inSeconds(8 * 86400) },
        /at most 7 day/,
        'BAD_USER_INPUT',
      ],
      [
        'bad role',
        ownerToken,
        { ...input, role: 'owner' },
        /role 'owner' is not one of view, control/,
        'BAD_USER_INPUT',
      ],
      ['no grantee', ownerToken, { ...input, user: null }, /exactly one of user or group/, 'BAD_USER_INPUT'],
    ];
    for (const [what, t, i, message, code] of cases) {
      const r = await gqlAt(api.url, t, SHARE, { input: i });
      expect({ what, message: r.body.errors?.[0]?.message }).toEqual({
        what,
        message: expect.stringMatching(message),
      });
      expect({ what, code: codeOf(r) }).toEqual({ what, code });
    }
    expect((await shareList()).filter((x) => x.spec.session === s.name)).toEqual([]);
  }, 120_000);

  it('grants a share owned by the session, lists it for the owner and the grantee, and not for others', async () => {
    const s = await runningSession();
    const granted = await share(s, 'view');
    expect(granted).toMatchObject({ session: s.name, user: users.bob, role: 'view', expired: false });
    const stored = (await shareList()).find((x) => x.metadata.name === granted.name)!;
    expect(stored.kind).toBe(KIND_SHARE);
    expect(stored.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: KIND_SESSION, name: s.name, uid: s.uid }),
    ]);
    expect(stored.metadata.labels).toMatchObject({
      'vdi.kasm.io/session': s.name,
      'vdi.kasm.io/grantee-user': users.bob,
    });
    // The grantee's subject, resolved at Keycloak: a later account of the same name is not the grantee.
    expect(stored.spec.grantee.subject).toBe(ownerOf(await token(users.bob)).subject);

    const listed = await gqlAt(api.url, await token(users.owner), SHARES, { session: s.name });
    expect(listed.body.data?.shares).toEqual([
      { name: granted.name, user: users.bob, role: 'view', expired: false, firstUsedBy: null },
    ]);
    const mine = await waitFor('the share in sharedWithMe', async () => {
      const r = await gqlAt(api.url, await token(users.bob), MINE);
      return (r.body.data?.sharedWithMe as { share: { name: string } }[]).find(
        (x) => x.share.name === granted.name,
      );
    });
    expect(mine).toEqual({
      owner: `${users.owner}@example.com`,
      phase: 'Running',
      openUrl: `${PORTAL}/open/${s.name}`,
      share: { name: granted.name, session: s.name, role: 'view' },
    });
    const carol = await gqlAt(api.url, await token(users.carol), MINE);
    expect(carol.body.data?.sharedWithMe).toEqual([]);
    // Others cannot list it.
    expect(codeOf(await gqlAt(api.url, await token(users.bob), SHARES, { session: s.name }))).toBe(
      'NOT_FOUND',
    );
    // Sharing again with the same grantee updates the one share.
    await share(s, 'control');
    expect((await shareList()).filter((x) => x.spec.session === s.name).map((x) => x.spec.role)).toEqual([
      'control',
    ]);
    const granted1 = await waitFor('a ShareGranted Event', async () =>
      (await events(s.name)).find((e) => e.reason === 'ShareGranted'),
    );
    expect(granted1.message).toMatch(new RegExp(`shared with user ${users.bob} \\(view\\)`));
  }, 120_000);

  it('forward-auth: view gets the view-only password, control the session password, carol nothing; first use recorded once', async () => {
    const s = await runningSession();
    const granted = await share(s, 'view');
    // carol, named by no share, gets no ticket.
    const carolOpen = await gqlAt(api.url, await token(users.carol), OPEN, { name: s.name });
    expect(codeOf(carolOpen)).toBe('NOT_FOUND');

    const cookie = await waitFor('bob can open the shared desktop', async () => {
      const r = await gqlAt(api.url, await token(users.bob), OPEN, { name: s.name });
      return r.body.errors ? undefined : cookieOf(users.bob, s);
    });
    const asViewer = await forwardAuth(s.name, s.url, cookie);
    expect(asViewer.status).toBe(200);
    expect(asViewer.authorization).toBe(viewOnlyAuthorization(TEST_SESSION_KEY, s.uid));
    expect(asViewer.authorization).not.toBe(desktopAuthorization(TEST_SESSION_KEY, s.uid));
    // The owner's own cookie still carries the session password.
    const ownerCookie = await cookieOf(users.owner, s);
    expect((await forwardAuth(s.name, s.url, ownerCookie)).authorization).toBe(
      desktopAuthorization(TEST_SESSION_KEY, s.uid),
    );
    // bob's cookie opens nothing but this session.
    const other = await runningSession();
    expect(
      (
        await forwardAuth(
          other.name,
          other.url,
          cookie.replace(s.name.replace(/-/g, '_'), other.name.replace(/-/g, '_')),
        )
      ).status,
    ).toBe(302);

    // First use: status and one ShareUsed Event, however many requests follow.
    await forwardAuth(s.name, s.url, cookie);
    const used = await waitFor('firstUsedAt recorded', async () => {
      const x = (await shareList()).find((y) => y.metadata.name === granted.name);
      return x?.status?.firstUsedAt ? x : undefined;
    });
    expect(used.status?.firstUsedBy).toBe(users.bob);
    await waitFor('a ShareUsed Event', async () =>
      (await events(s.name)).some((e) => e.reason === 'ShareUsed'),
    );
    expect((await events(s.name)).filter((e) => e.reason === 'ShareUsed')).toHaveLength(1);

    // Upgraded to control: the session password, within the watch's delay.
    const up = await gqlAt(api.url, await token(users.owner), UPDATE, {
      input: { name: granted.name, role: 'control' },
    });
    expect(up.body.data?.updateShare).toMatchObject({ role: 'control' });
    await waitFor('bob gets control', async () => {
      const a = await forwardAuth(s.name, s.url, cookie);
      return a.authorization === desktopAuthorization(TEST_SESSION_KEY, s.uid);
    });
    await waitFor('a ShareUpdated Event', async () =>
      (await events(s.name)).some((e) => e.reason === 'ShareUpdated'),
    );
    // Only the owner updates or revokes.
    expect(codeOf(await gqlAt(api.url, await token(users.bob), REVOKE, { name: granted.name }))).toBe(
      'NOT_FOUND',
    );
  }, 120_000);

  it('revocation ends access within seconds, with a ShareRevoked Event', async () => {
    const s = await runningSession();
    const granted = await share(s, 'control');
    const cookie = await waitFor('bob opens', async () => {
      const r = await gqlAt(api.url, await token(users.bob), OPEN, { name: s.name });
      return r.body.errors ? undefined : cookieOf(users.bob, s);
    });
    expect((await forwardAuth(s.name, s.url, cookie)).status).toBe(200);
    const r = await gqlAt(api.url, await token(users.owner), REVOKE, { name: granted.name });
    expect(r.body.errors).toBeUndefined();
    const since = Date.now();
    const refused = await waitFor(
      'bob refused',
      async () => {
        const a = await forwardAuth(s.name, s.url, cookie);
        return a.status !== 200 ? a : undefined;
      },
      5_000,
      50,
    );
    expect(Date.now() - since).toBeLessThan(5_000);
    expect(refused.status).toBe(302);
    expect(refused.why).toMatch(/no live share/);
    expect(refused.setCookie).toMatch(/Expires=Thu, 01 Jan 1970|Max-Age=0/i);
    expect(codeOf(await gqlAt(api.url, await token(users.bob), OPEN, { name: s.name }))).toBe('NOT_FOUND');
    await waitFor('a ShareRevoked Event', async () =>
      (await events(s.name)).some((e) => e.reason === 'ShareRevoked'),
    );
    // The owner is untouched.
    expect((await forwardAuth(s.name, s.url, await cookieOf(users.owner, s))).status).toBe(200);
  }, 120_000);

  it('expiry ends access at expiresAt, with a ShareExpired Event', async () => {
    const s = await runningSession();
    const expiresAt = inSeconds(6);
    await share(s, 'view', expiresAt);
    const cookie = await waitFor('bob opens', async () => {
      const r = await gqlAt(api.url, await token(users.bob), OPEN, { name: s.name });
      return r.body.errors ? undefined : cookieOf(users.bob, s);
    });
    expect((await forwardAuth(s.name, s.url, cookie)).status).toBe(200);
    const refused = await waitFor(
      'bob refused after expiry',
      async () => {
        const a = await forwardAuth(s.name, s.url, cookie);
        return a.status !== 200 ? a : undefined;
      },
      15_000,
      100,
    );
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    expect(refused.why).toMatch(/no live share/);
    await waitFor('a ShareExpired Event', async () =>
      (await events(s.name)).some((e) => e.reason === 'ShareExpired'),
    );
    const listed = await gqlAt(api.url, await token(users.owner), SHARES, { session: s.name });
    expect(listed.body.data?.shares).toEqual([expect.objectContaining({ expired: true })]);
    expect((await gqlAt(api.url, await token(users.bob), MINE)).body.data?.sharedWithMe).toEqual(
      expect.not.arrayContaining([
        expect.objectContaining({ share: expect.objectContaining({ session: s.name }) }),
      ]),
    );
  }, 120_000);

  it('a share dies with its session (owner reference)', async () => {
    const s = await runningSession();
    const granted = await share(s, 'view');
    await kube.delete(sessionRef(s.name));
    // No garbage collector runs the owner references here unless the controller manager does.
    await waitFor(
      'the share gone with its session',
      async () => !(await shareList()).some((x) => x.metadata.name === granted.name),
      60_000,
      500,
    );
  }, 90_000);
});

describe('sharing a session with a group (real Keycloak groups, forward-auth)', () => {
  const group = `sh-grp-${tag}`;
  const shareToGroup = async (s: { name: string }, role: string, g = group) =>
    gqlAt(api.url, await token(users.owner), SHARE, {
      input: { session: s.name, group: g, role, expiresAt: inSeconds(3600) },
    });
  const opens = async (user: string, s: { name: string }) =>
    !(await gqlAt(api.url, await token(user), OPEN, { name: s.name })).body.errors;
  let groupId: string;
  let bobId: string;

  beforeAll(async () => {
    groupId = await admin.createGroup(group);
    groupIds.push(groupId);
    bobId = ids[Object.keys(users).indexOf('bob')]!;
    await admin.addUserToGroup(bobId, groupId);
  }, 60_000);

  it("the test Keycloak puts group membership in the member's tokens, as the API reads it", async () => {
    expect(await admin.userGroups(bobId)).toEqual([group]);
    const r = await gqlAt(api.url, await token(users.bob), `{ me { user } }`);
    expect(r.body.errors).toBeUndefined();
    const claims = JSON.parse(
      Buffer.from((await token(users.bob)).split('.')[1]!, 'base64url').toString(),
    ) as {
      groups?: string[];
    };
    expect(claims.groups).toEqual([group]);
    const carol = JSON.parse(
      Buffer.from((await token(users.carol)).split('.')[1]!, 'base64url').toString(),
    ) as {
      groups?: string[];
    };
    expect(carol.groups ?? []).toEqual([]);
  });

  it('refuses, writing nothing, a share to a group the identity provider does not know', async () => {
    const s = await runningSession();
    const before = (await shareList()).length;
    const r = await shareToGroup(s, 'view', `no-such-group-${tag}`);
    expect(codeOf(r)).toBe('BAD_USER_INPUT');
    expect(r.body.errors?.[0]?.message).toMatch(
      /no group 'no-such-group-[0-9a-f]+' at the identity provider/,
    );
    expect(await shareList()).toHaveLength(before);
  });

  it('admits a member with the role of the share (view, then control); refuses a non-member', async () => {
    const s = await runningSession();
    const r = await shareToGroup(s, 'view');
    expect(r.body.errors).toBeUndefined();
    const granted = r.body.data!.shareSession as { name: string; group: string; role: string };
    expect(granted).toMatchObject({ group, role: 'view' });

    // carol is in no group: no ticket.
    expect(codeOf(await gqlAt(api.url, await token(users.carol), OPEN, { name: s.name }))).toBe('NOT_FOUND');
    const cookie = await waitFor('bob (a member) can open the shared desktop', async () =>
      (await opens(users.bob, s)) ? cookieOf(users.bob, s) : undefined,
    );
    const asViewer = await forwardAuth(s.name, s.url, cookie);
    expect(asViewer.status).toBe(200);
    expect(asViewer.authorization).toBe(viewOnlyAuthorization(TEST_SESSION_KEY, s.uid));
    const mine = await gqlAt(api.url, await token(users.bob), MINE);
    expect(mine.body.data?.sharedWithMe).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ share: expect.objectContaining({ name: granted.name }) }),
      ]),
    );

    const up = await gqlAt(api.url, await token(users.owner), UPDATE, {
      input: { name: granted.name, role: 'control' },
    });
    expect(up.body.errors).toBeUndefined();
    await waitFor('the member gets control', async () => {
      const a = await forwardAuth(s.name, s.url, cookie);
      return a.authorization === desktopAuthorization(TEST_SESSION_KEY, s.uid);
    });
  }, 120_000);

  it('revoking the group share refuses the member', async () => {
    const s = await runningSession();
    const r = await shareToGroup(s, 'control');
    expect(r.body.errors).toBeUndefined();
    const name = (r.body.data!.shareSession as { name: string }).name;
    const cookie = await waitFor('bob opens', async () =>
      (await opens(users.bob, s)) ? cookieOf(users.bob, s) : undefined,
    );
    expect((await forwardAuth(s.name, s.url, cookie)).status).toBe(200);
    expect((await gqlAt(api.url, await token(users.owner), REVOKE, { name })).body.errors).toBeUndefined();
    const refused = await waitFor('bob refused', async () => {
      const a = await forwardAuth(s.name, s.url, cookie);
      return a.status !== 200 ? a : undefined;
    });
    expect(refused.status).toBe(302);
    expect(refused.why).toMatch(/no live share/);
    expect(await opens(users.bob, s)).toBe(false);
  }, 120_000);

  it('taking the user out of the group refuses their next token, and the desktop cookie they already hold within the liveness cache period', async () => {
    const s = await runningSession();
    expect((await shareToGroup(s, 'view')).body.errors).toBeUndefined();
    const cookie = await waitFor('bob opens', async () =>
      (await opens(users.bob, s)) ? cookieOf(users.bob, s) : undefined,
    );
    await admin.removeUserFromGroup(bobId, groupId);
    try {
      expect(await admin.userGroups(bobId)).toEqual([]);
      // A new (or refreshed) token no longer names the group: no ticket.
      const r = await gqlAt(api.url, await token(users.bob), OPEN, { name: s.name });
      expect(codeOf(r)).toBe('NOT_FOUND');
      // The desktop cookie carries the groups of the token it was issued for; forward-auth asks
      // Keycloak which of them bob is still in (cached for VDI_ACCESS_LIVENESS_CACHE_SECONDS, 15 s)
      // before it admits him by a group share.
      const refused = await waitFor(
        'bob refused by forward-auth',
        async () => {
          const a = await forwardAuth(s.name, s.url, cookie);
          return a.status !== 200 ? a : undefined;
        },
        60_000,
      );
      expect(refused.status).toBe(302);
      expect(refused.why).toMatch(/no longer in its group/);
    } finally {
      await admin.addUserToGroup(bobId, groupId);
    }
  }, 120_000);
});
