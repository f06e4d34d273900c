import { CLIENTS, DEMO_USERS, ROLES } from './config.js';
import { findClient, loadRealm, realmHash, renderRealm, type ClientRep } from './realm.js';

const realm = loadRealm();
const portal = findClient(realm, CLIENTS.portal);
const api = findClient(realm, CLIENTS.api);
const tests = findClient(realm, CLIENTS.tests);

const audienceOf = (c: ClientRep) =>
  (c.protocolMappers ?? [])
    .filter((m) => m.protocolMapper === 'oidc-audience-mapper' && m.config?.['access.token.claim'] === 'true')
    .map((m) => m.config?.['included.client.audience']);

describe('realm/vdi-realm.json', () => {
  it('is the enabled realm vdi with 5-minute access tokens', () => {
    expect(realm.realm).toBe('vdi');
    expect(realm.enabled).toBe(true);
    expect(realm.accessTokenLifespan).toBe(300);
  });

  it('defines the realm roles vdi-user and vdi-admin', () => {
    expect(realm.roles?.realm?.map((r) => r.name).sort()).toEqual([ROLES.admin, ROLES.user]);
  });

  it('has exactly the portal, API and tests clients', () => {
    expect(realm.clients?.map((c) => c.clientId).sort()).toEqual(['vdi-api', 'vdi-portal', 'vdi-tests']);
  });

  it('makes the portal a public client with the code flow only and PKCE S256 required', () => {
    expect(portal.publicClient).toBe(true);
    expect(portal.standardFlowEnabled).toBe(true);
    expect(portal.implicitFlowEnabled).toBe(false);
    expect(portal.directAccessGrantsEnabled).toBe(false);
    expect(portal.serviceAccountsEnabled).toBe(false);
    expect(portal.attributes?.['pkce.code.challenge.method']).toBe('S256');
  });

  it('allows the portal to redirect only to local hosts, with wildcards Keycloak understands', () => {
    expect(portal.redirectUris).toContain('http://localhost:3000/*');
    for (const uri of portal.redirectUris ?? []) {
      // Keycloak matches a redirect URI by prefix with a single trailing '*'; a '*' elsewhere
      // (e.g. in the host) is taken literally and matches nothing.
      expect(uri.indexOf('*')).toBe(uri.length - 1);
      expect(new URL(uri.replace(/\*$/, '')).hostname).toMatch(
        /^(localhost|127\.0\.0\.1|([a-z0-9-]+\.)*vdi\.localhost)$/,
      );
    }
    expect(portal.webOrigins).not.toContain('*');
  });

  it('puts vdi-api into the audience of portal and test tokens', () => {
    expect(audienceOf(portal)).toEqual([CLIENTS.api]);
    expect(audienceOf(tests)).toEqual([CLIENTS.api]);
  });

  it('has an API client that cannot log anyone in', () => {
    expect(api.publicClient).toBe(false);
    expect(api.standardFlowEnabled).toBe(false);
    expect(api.implicitFlowEnabled).toBe(false);
    expect(api.directAccessGrantsEnabled).toBe(false);
  });

  it('gives the API a service account that can only read users (desktop access revocation)', () => {
    expect(api.serviceAccountsEnabled).toBe(true);
    const sa = realm.users?.find((u) => u.serviceAccountClientId === CLIENTS.api);
    expect(sa?.clientRoles).toEqual({ 'realm-management': ['view-users'] });
    expect(sa?.credentials ?? []).toEqual([]);
  });

  it('gives tests the password grant, and says it is for the dev realm only', () => {
    expect(tests.directAccessGrantsEnabled).toBe(true);
    expect(tests.standardFlowEnabled).toBe(false);
    expect(tests.description).toMatch(/DEV REALM ONLY/);
  });

  it('puts group names (without the leading /) in the tokens the API reads, for GPU-hour budgets by group', () => {
    for (const c of [portal, tests]) {
      expect(
        c.protocolMappers?.find((m) => m.protocolMapper === 'oidc-group-membership-mapper')?.config,
      ).toMatchObject({
        'claim.name': 'groups',
        'full.path': 'false',
        'access.token.claim': 'true',
      });
    }
    expect((realm.groups as { name: string }[]).map((g) => g.name)).toEqual(['gpu-power']);
    expect(realm.users?.find((u) => u.username === 'bob')?.groups).toEqual(['/gpu-power']);
  });

  it('keeps descriptions within Keycloak’s 255-character column (longer ones fail the import)', () => {
    for (const c of realm.clients ?? []) expect((c.description ?? '').length).toBeLessThanOrEqual(255);
    for (const r of realm.roles?.realm ?? []) expect((r.description ?? '').length).toBeLessThanOrEqual(255);
  });

  it.each(Object.values(DEMO_USERS))('has demo user $username as documented', (u) => {
    const rep = realm.users?.find((x) => x.username === u.username);
    expect(rep).toBeDefined();
    expect(rep).toMatchObject({
      enabled: true,
      email: u.email,
      emailVerified: true,
      firstName: u.firstName,
      lastName: u.lastName,
      requiredActions: [],
    });
    expect(rep?.credentials).toEqual([{ type: 'password', value: u.password, temporary: false }]);
    expect([...(rep?.realmRoles ?? [])].sort()).toEqual([...u.roles].sort());
  });

  it('has no user beyond the documented demo users (and the API service account)', () => {
    expect(
      realm.users
        ?.filter((u) => u.serviceAccountClientId === undefined)
        .map((u) => u.username)
        .sort(),
    ).toEqual(
      Object.values(DEMO_USERS)
        .map((u) => u.username)
        .sort(),
    );
  });
});

describe('renderRealm', () => {
  it('adds extra portal origins as redirect URIs and web origins without touching the file', () => {
    const before = JSON.stringify(realm);
    const r = renderRealm(realm, ['http://portal.vdi.localhost:8080']);
    const p = findClient(r, CLIENTS.portal);
    expect(p.redirectUris).toContain('http://portal.vdi.localhost:8080/*');
    expect(p.webOrigins).toContain('http://portal.vdi.localhost:8080');
    expect(JSON.stringify(realm)).toBe(before);
    expect(realmHash(r)).not.toBe(realmHash(renderRealm(realm)));
    expect(realmHash(renderRealm(realm))).toBe(realmHash(realm));
  });
});
