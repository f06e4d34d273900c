/**
 * What the local Keycloak is: its version, ports, public URL (the token issuer), where its
 * distribution is cached and where the running instance keeps its state. Every value has a
 * default and an environment override, so `cli.ts up` works with no arguments and CI can move
 * things out of the way. Also the realm's fixed names (clients, roles, demo users) that the API,
 * the portal and the tests share with `realm/vdi-realm.json`.
 */
import os from 'node:os';
import path from 'node:path';

/** The repository root (tools/keycloak/src → ../../..; the same from dist/). */
export const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
export const keycloakToolDir = path.resolve(import.meta.dirname, '..');

/**
 * The newest 26.x that Maven Central serves as org.keycloak:keycloak-quarkus-dist (checked
 * against maven-metadata.xml: 26.7.3 after 26.7.0 and 26.5.6).
 */
export const KEYCLOAK_VERSION = '26.7.3';
export const DEFAULT_PORT = 8180;
export const DEFAULT_MANAGEMENT_PORT = 9180;

export const REALM = 'vdi';
export const CLIENTS = {
  /** The Next.js portal: public, authorization code + PKCE S256. */
  portal: 'vdi-portal',
  /** The API: the audience (`aud`) of the portal's access tokens. */
  api: 'vdi-api',
  /** Tests only (dev realm): public, password grant. */
  tests: 'vdi-tests',
} as const;
/** Dev-only secret of the `vdi-api` client (token introspection); never reuse it anywhere real. */
export const API_CLIENT_SECRET = 'vdi-api-dev-secret';
export const ROLES = { user: 'vdi-user', admin: 'vdi-admin' } as const;

export interface DemoUser {
  username: string;
  password: string;
  email: string;
  firstName: string;
  lastName: string;
  roles: string[];
}

/** The demo users of the realm file; passwords are the user names (local development only). */
export const DEMO_USERS = {
  alice: {
    username: 'alice',
    password: 'alice',
    email: 'alice@example.com',
    firstName: 'Alice',
    lastName: 'Liddell',
    roles: [ROLES.user],
  },
  bob: {
    username: 'bob',
    password: 'bob',
    email: 'bob@example.com',
    firstName: 'Bob',
    lastName: 'Builder',
    roles: [ROLES.user],
  },
  admin: {
    username: 'admin',
    password: 'admin',
    email: 'admin@example.com',
    firstName: 'Ada',
    lastName: 'Admin',
    roles: [ROLES.user, ROLES.admin],
  },
} as const satisfies Record<string, DemoUser>;

/** Temporary admin of the `master` realm (admin console at <url>/admin), created at every start. */
export const BOOTSTRAP_ADMIN = { username: 'kcadmin', password: 'kcadmin' } as const;

export interface KeycloakConfig {
  version: string;
  port: number;
  managementPort: number;
  /** The one public URL Keycloak is pinned to (`--hostname`); the issuer is `<url>/realms/vdi`. */
  url: string;
  issuer: string;
  /** Where this process talks to Keycloak: the address it binds (127.0.0.1), not the public name. */
  internalUrl: string;
  /** `<state>/keycloak`: state.json (pid), keycloak.log, Narayana's object store. */
  stateDir: string;
  /** `<cache>/keycloak`: one unpacked distribution per version. */
  cacheDir: string;
  /** Extra portal origins (VDI_PORTAL_ORIGINS) allowed as redirect URIs and CORS origins. */
  portalOrigins: string[];
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) {
    throw new Error(`${name}=${raw} is not a valid port; unset it or give an integer from 1 to 65535`);
  }
  return n;
}

/**
 * Parses `VDI_PORTAL_ORIGINS` (comma-separated origins such as `http://portal.vdi.localhost:8080`).
 * Keycloak matches redirect URIs by prefix with one trailing `*` only and web origins exactly, so
 * hosts cannot be wildcarded: every extra portal host is listed here.
 */
export function parseOrigins(spec: string | undefined): string[] {
  if (spec === undefined || spec.trim() === '') return [];
  return spec.split(',').map((raw) => {
    const entry = raw.trim();
    let u: URL;
    try {
      u = new URL(entry);
    } catch {
      throw new Error(
        `VDI_PORTAL_ORIGINS entry '${entry}' is not an origin; give scheme://host[:port], e.g. http://portal.vdi.localhost:8080`,
      );
    }
    if (
      (u.protocol !== 'http:' && u.protocol !== 'https:') ||
      entry.includes('*') ||
      u.origin !== entry.replace(/\/$/, '').toLowerCase()
    ) {
      throw new Error(
        `VDI_PORTAL_ORIGINS entry '${entry}' must be a bare http(s) origin without path, query or wildcard, e.g. http://portal.vdi.localhost:8080`,
      );
    }
    return u.origin;
  });
}

export interface KeycloakOptions {
  port?: number;
  managementPort?: number;
  version?: string;
}

export function loadKeycloakConfig(
  env: NodeJS.ProcessEnv = process.env,
  opts: KeycloakOptions = {},
): KeycloakConfig {
  const p = opts.port ?? port(env, 'VDI_KEYCLOAK_PORT', DEFAULT_PORT);
  const mp = opts.managementPort ?? port(env, 'VDI_KEYCLOAK_MANAGEMENT_PORT', DEFAULT_MANAGEMENT_PORT);
  if (p === mp) {
    throw new Error(
      `Keycloak's HTTP port and management port are both ${p}; set VDI_KEYCLOAK_MANAGEMENT_PORT to another port`,
    );
  }
  const version = opts.version ?? env.VDI_KEYCLOAK_VERSION ?? KEYCLOAK_VERSION;
  if (!/^\d+\.\d+\.\d+$/.test(version)) {
    throw new Error(`VDI_KEYCLOAK_VERSION=${version} is not a release version like ${KEYCLOAK_VERSION}`);
  }
  const url = `http://localhost:${p}`;
  return {
    version,
    port: p,
    managementPort: mp,
    url,
    issuer: `${url}/realms/${REALM}`,
    internalUrl: `http://127.0.0.1:${p}`,
    stateDir: path.resolve(env.VDI_STATE_DIR ?? path.join(repoRoot, '.vdi'), 'keycloak'),
    cacheDir: path.resolve(env.VDI_CACHE ?? path.join(os.homedir(), '.cache', 'vdi-platform'), 'keycloak'),
    portalOrigins: parseOrigins(env.VDI_PORTAL_ORIGINS),
  };
}

/** The realm's OIDC endpoints: `public` as tokens and browsers see them, `internal` to call from here. */
export function realmEndpoints(cfg: Pick<KeycloakConfig, 'url' | 'internalUrl'>) {
  const at = (base: string) => {
    const realm = `${base}/realms/${REALM}`;
    const oidc = `${realm}/protocol/openid-connect`;
    return {
      issuer: realm,
      discovery: `${realm}/.well-known/openid-configuration`,
      jwks: `${oidc}/certs`,
      token: `${oidc}/token`,
      authorization: `${oidc}/auth`,
      userinfo: `${oidc}/userinfo`,
      introspection: `${oidc}/token/introspect`,
      endSession: `${oidc}/logout`,
    };
  };
  return { public: at(cfg.url), internal: at(cfg.internalUrl) };
}
