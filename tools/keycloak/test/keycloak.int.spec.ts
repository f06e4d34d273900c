/**
 * The local Keycloak issues the tokens the API will verify: real tokens from the realm's own
 * token endpoint for the demo users, signed by the realm key (checked against the JWKS with
 * node:crypto), issued by the pinned URL whatever the Host header, for the audience vdi-api, with
 * the documented roles and email. The portal's public client takes the code flow with PKCE S256
 * only.
 *
 * Keycloak is started once, or reused when it already runs, and is left running afterwards:
 * a developer's next run reuses it (about a second instead of ~30 s), and CI tears the whole
 * machine down. `cli.ts down` stops it. The second, throw-away instance of the last test (own port
 * and state directory, free ports) is always stopped: it is what proves `stop()` leaves nothing behind.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { isAlive, portInUse } from '@vdi/controlplane';
import { CLIENTS, DEMO_USERS, loadKeycloakConfig, realmEndpoints } from '../src/config.js';
import { groupRssMiB, start, status, stop } from '../src/keycloak.js';
import {
  audiences,
  authorizationCodeLogin,
  fetchJwks,
  getJson,
  introspect,
  KeycloakHttpError,
  passwordGrant,
  realmRoles,
  verifyJwt,
  type Jwks,
} from '../src/tokens.js';

const cfg = loadKeycloakConfig();
const sorted = (xs: readonly string[]) => [...xs].sort();
let jwks: Jwks;

beforeAll(async () => {
  // A cold start (first fetch + Quarkus build) takes ~1 min on 2 cores: beyond the 120 s default
  // only when Maven Central is slow, but give it room.
  await start();
  jwks = await fetchJwks(cfg);
}, 600_000);

function getWithHost(url: string, host: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { host } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
      })
      .on('error', reject);
  });
}

describe('local Keycloak, realm vdi', () => {
  it('publishes the pinned issuer in discovery, whatever the Host header says', async () => {
    const doc = await getJson(realmEndpoints(cfg).internal.discovery);
    // The pinned public URL (http://localhost:8180 unless VDI_KEYCLOAK_PORT moves it).
    expect(doc.issuer).toBe(`http://localhost:${cfg.port}/realms/vdi`);
    expect(doc.jwks_uri).toBe(realmEndpoints(cfg).public.jwks);
    expect(doc.code_challenge_methods_supported).toContain('S256');
    const spoofed = await getWithHost(realmEndpoints(cfg).internal.discovery, 'evil.example:6666');
    expect(spoofed.issuer).toBe(cfg.issuer);
    expect(spoofed.token_endpoint).toBe(realmEndpoints(cfg).public.token);
  });

  it('reports ready on the management port', async () => {
    const health = await getJson(`http://127.0.0.1:${cfg.managementPort}/health/ready`);
    expect(health.status).toBe('UP');
  });

  it.each(Object.values(DEMO_USERS))(
    'issues $username a signed access token for vdi-api with roles and email',
    async (u) => {
      const t = await passwordGrant(u.username, u.password);
      expect(t.token_type).toBe('Bearer');
      expect(t.expires_in).toBe(300);
      const claims = verifyJwt(t.access_token, jwks, { issuer: cfg.issuer, audience: CLIENTS.api });
      expect(audiences(claims)).toContain('vdi-api');
      expect(sorted(realmRoles(claims))).toEqual(sorted(u.roles));
      expect(claims).toMatchObject({
        email: u.email,
        email_verified: true,
        preferred_username: u.username,
        given_name: u.firstName,
        family_name: u.lastName,
        azp: CLIENTS.tests,
      });
      const id = verifyJwt(t.id_token ?? '', jwks, { issuer: cfg.issuer, audience: CLIENTS.tests });
      expect(id.sub).toBe(claims.sub);
    },
  );

  it('refuses a wrong password and an unknown user', async () => {
    await expect(passwordGrant('alice', 'not-alice')).rejects.toMatchObject({
      name: 'KeycloakHttpError',
      error: 'invalid_grant',
    });
    await expect(passwordGrant('mallory', 'mallory')).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('logs a user in to the portal with the code flow and PKCE S256; the token is for vdi-api', async () => {
    const t = await authorizationCodeLogin(DEMO_USERS.admin.username, DEMO_USERS.admin.password);
    const claims = verifyJwt(t.access_token, jwks, { issuer: cfg.issuer, audience: CLIENTS.api });
    expect(claims.azp).toBe(CLIENTS.portal);
    expect(sorted(realmRoles(claims))).toEqual(['vdi-admin', 'vdi-user']);
    // The portal also sees the roles in its ID token (to show admin pages), not only the API.
    const id = verifyJwt(t.id_token ?? '', jwks, { issuer: cfg.issuer, audience: CLIENTS.portal });
    expect(sorted(realmRoles(id))).toEqual(['vdi-admin', 'vdi-user']);
    expect(id.email).toBe(DEMO_USERS.admin.email);
  });

  it('refuses the portal client without PKCE, to unregistered redirect URIs, and for the password grant', async () => {
    await expect(authorizationCodeLogin('alice', 'alice', { pkce: false })).rejects.toMatchObject({
      error: 'invalid_request',
    });
    await expect(
      authorizationCodeLogin('alice', 'alice', { redirectUri: 'http://evil.example/callback' }),
    ).rejects.toBeInstanceOf(KeycloakHttpError);
    await expect(authorizationCodeLogin('alice', 'wrong')).rejects.toThrow(/login of 'alice' failed/);
    await expect(passwordGrant('alice', 'alice', { clientId: CLIENTS.portal })).rejects.toMatchObject({
      error: 'unauthorized_client',
    });
  });

  it('lets the API introspect a token with its client secret', async () => {
    const t = await passwordGrant('bob', 'bob');
    const info = await introspect(t.access_token);
    expect(info).toMatchObject({ active: true, username: 'bob', iss: cfg.issuer });
    expect(audiences(info)).toContain('vdi-api');
  });

  it('is reused, not restarted, when start() runs again', async () => {
    const before = await status();
    const r = await start({ log: () => undefined });
    expect(r.reused).toBe(true);
    expect(r.pid).toBe(before.pid);
    expect(before.running).toBe(true);
    expect(before.rssMiB).toBeGreaterThan(100);
  });
});

/** A port nothing listens on right now (the kernel's pick). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

describe('a throw-away Keycloak on other ports', () => {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'vdi-kc-'));
  let env: NodeJS.ProcessEnv = {};
  beforeAll(async () => {
    env = {
      ...process.env,
      VDI_STATE_DIR: stateDir,
      VDI_KEYCLOAK_PORT: String(await freePort()),
      VDI_KEYCLOAK_MANAGEMENT_PORT: String(await freePort()),
    };
  });
  afterAll(async () => {
    await stop({ env, log: () => undefined });
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('issues tokens under its own issuer and stops without leaving a process or a port', async () => {
    const other = loadKeycloakConfig(env);
    const r = await start({ env });
    expect(r.issuer).toBe(`http://localhost:${other.port}/realms/vdi`);
    const t = await passwordGrant('alice', 'alice', { config: other });
    const claims = verifyJwt(t.access_token, await fetchJwks(other), {
      issuer: other.issuer,
      audience: 'vdi-api',
    });
    expect(claims.email).toBe('alice@example.com');

    await stop({ env });
    expect(isAlive(r.pid)).toBe(false);
    expect(groupRssMiB(r.pid)).toBeUndefined(); // no member of its process group (the JVM) is left
    expect(await portInUse(other.port)).toBe(false);
    expect(await portInUse(other.managementPort)).toBe(false);
    expect(existsSync(path.join(stateDir, 'keycloak', 'state.json'))).toBe(false);
    // The shared instance is untouched.
    expect((await status()).running).toBe(true);
  }, 300_000);
});
