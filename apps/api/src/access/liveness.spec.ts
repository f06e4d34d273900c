import { jest } from '@jest/globals';
import { LivenessChecker, type LivenessSettings } from './liveness.js';

const settings: LivenessSettings = {
  adminUrl: 'http://kc/admin/realms/vdi',
  tokenUrl: 'http://kc/realms/vdi/protocol/openid-connect/token',
  clientId: 'vdi-api',
  clientSecret: 's3cret',
  cacheSeconds: 15,
  graceSeconds: 120,
};

interface Realm {
  up: boolean;
  user?: { enabled: boolean; roles: string[]; sessions: string[]; groups?: string[] };
}

/** A fake Keycloak: token endpoint and the three admin reads, counting the reads. */
function keycloak(realm: Realm) {
  const calls: string[] = [];
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const impl = (async (input: string | URL | Request) => {
    const url = String(input);
    calls.push(url);
    if (!realm.up) throw new Error('connect ECONNREFUSED');
    if (url === settings.tokenUrl) return json({ access_token: 't', expires_in: 300 });
    const u = realm.user;
    if (!u) return json({ error: 'User not found' }, 404);
    if (url.endsWith('/users/sub-1')) return json({ id: 'sub-1', enabled: u.enabled });
    if (url.endsWith('/role-mappings/realm/composite')) return json(u.roles.map((name) => ({ name })));
    if (url.endsWith('/sessions')) return json(u.sessions.map((id) => ({ id })));
    if (url.includes('/users/sub-1/groups?'))
      return json((u.groups ?? []).map((path) => ({ name: path.split('/').pop(), path })));
    return json({}, 500);
  }) as typeof fetch;
  return { impl, calls };
}

const quiet = { warn: jest.fn(), log: jest.fn() };

describe('LivenessChecker', () => {
  let now = 1_000_000;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000_000;
  });

  it('is live with an enabled account, the role and the login session', async () => {
    const kc = keycloak({ up: true, user: { enabled: true, roles: ['vdi-user'], sessions: ['k1', 'k2'] } });
    const c = new LivenessChecker(settings, quiet, kc.impl, clock);
    await expect(c.check('sub-1', 'k2')).resolves.toEqual({ live: true });
  });

  it.each([
    ['account deleted', undefined],
    ['account disabled', { enabled: false, roles: ['vdi-user'], sessions: ['k1'] }],
    ['role vdi-user removed', { enabled: true, roles: ['offline_access'], sessions: ['k1'] }],
    ['logged out (login session ended)', { enabled: true, roles: ['vdi-admin'], sessions: ['other'] }],
  ])('is not live: %s', async (why, user) => {
    const kc = keycloak({ up: true, ...(user ? { user } : {}) });
    const c = new LivenessChecker(settings, quiet, kc.impl, clock);
    await expect(c.check('sub-1', 'k1')).resolves.toEqual({ live: false, why });
  });

  it('refuses a cookie without a login session', async () => {
    const kc = keycloak({ up: true });
    const c = new LivenessChecker(settings, quiet, kc.impl, clock);
    await expect(c.check('sub-1', undefined)).resolves.toMatchObject({ live: false });
    expect(kc.calls).toEqual([]);
  });

  it('reuses a verdict for the cache period only, and asks once for concurrent checks', async () => {
    const realm: Realm = { up: true, user: { enabled: true, roles: ['vdi-user'], sessions: ['k1'] } };
    const kc = keycloak(realm);
    const c = new LivenessChecker(settings, quiet, kc.impl, clock);
    await Promise.all([c.check('sub-1', 'k1'), c.check('sub-1', 'k1'), c.check('sub-1', 'k1')]);
    const reads = kc.calls.filter((u) => u.includes('/admin/')).length;
    expect(reads).toBe(3);
    realm.user!.sessions = [];
    now += 14_000;
    await expect(c.check('sub-1', 'k1')).resolves.toEqual({ live: true });
    now += 2_000;
    await expect(c.check('sub-1', 'k1')).resolves.toMatchObject({ live: false });
  });

  it('keeps a live verdict through an outage for the grace period, then fails closed (logged)', async () => {
    const realm: Realm = { up: true, user: { enabled: true, roles: ['vdi-user'], sessions: ['k1'] } };
    const kc = keycloak(realm);
    const log = { warn: jest.fn(), log: jest.fn() };
    const c = new LivenessChecker(settings, log, kc.impl, clock);
    await c.check('sub-1', 'k1');
    realm.up = false;
    now += 60_000;
    await expect(c.check('sub-1', 'k1')).resolves.toEqual({ live: true });
    expect(log.warn).toHaveBeenCalledWith(expect.objectContaining({ msg: 'identity provider unreachable' }));
    now += 61_000;
    await expect(c.check('sub-1', 'k1')).resolves.toMatchObject({ live: false });
    // A login never seen live is not live during an outage.
    await expect(c.check('sub-1', 'k9')).resolves.toMatchObject({ live: false });
  });

  it('names the missing permission when Keycloak answers 403', async () => {
    const impl = (async (input: string | URL | Request) =>
      String(input) === settings.tokenUrl
        ? new Response(JSON.stringify({ access_token: 't' }), { status: 200 })
        : new Response('{}', { status: 403 })) as typeof fetch;
    const log = { warn: jest.fn(), log: jest.fn() };
    const c = new LivenessChecker(settings, log, impl, clock);
    await c.check('sub-1', 'k1');
    expect(log.warn).toHaveBeenCalledWith(
      expect.objectContaining({ error: expect.stringContaining('realm-management/view-users') }),
    );
  });

  describe('groupsOf', () => {
    it('names the groups the user is in now, by name and path, cached for the cache period', async () => {
      const realm: Realm = {
        up: true,
        user: { enabled: true, roles: ['vdi-user'], sessions: ['k1'], groups: ['/team-a', '/org/team-b'] },
      };
      const kc = keycloak(realm);
      const c = new LivenessChecker(settings, quiet, kc.impl, clock);
      expect([...(await c.groupsOf('sub-1'))].sort()).toEqual(['/org/team-b', '/team-a', 'team-a', 'team-b']);
      realm.user!.groups = ['/org/team-b'];
      now += 14_000;
      expect((await c.groupsOf('sub-1')).has('team-a')).toBe(true);
      now += 2_000;
      expect((await c.groupsOf('sub-1')).has('team-a')).toBe(false);
      expect((await c.groupsOf('sub-1')).has('team-b')).toBe(true);
    });

    it('keeps the groups last seen through an outage for the grace period only, then none count', async () => {
      const realm: Realm = {
        up: true,
        user: { enabled: true, roles: ['vdi-user'], sessions: ['k1'], groups: ['/team-a'] },
      };
      const kc = keycloak(realm);
      const c = new LivenessChecker(settings, quiet, kc.impl, clock);
      expect((await c.groupsOf('sub-1')).has('team-a')).toBe(true);
      realm.up = false;
      now += 60_000;
      expect((await c.groupsOf('sub-1')).has('team-a')).toBe(true);
      now += 61_000;
      expect((await c.groupsOf('sub-1')).size).toBe(0);
    });

    it('has no groups for a deleted account', async () => {
      const kc = keycloak({ up: true });
      const c = new LivenessChecker(settings, quiet, kc.impl, clock);
      expect((await c.groupsOf('sub-1')).size).toBe(0);
    });
  });
});
