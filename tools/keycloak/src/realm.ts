/**
 * The `vdi` realm: `realm/vdi-realm.json` is the source (roles, clients, demo users). Before each
 * start it is rendered — the extra portal origins of VDI_PORTAL_ORIGINS added to the portal
 * client — and written to the distribution's `data/import`, which `--import-realm` reads.
 * Keycloak runs on an in-memory database, so every start imports the current file: what the
 * file says is what runs.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CLIENTS, keycloakToolDir } from './config.js';

export const realmFile = path.join(keycloakToolDir, 'realm', 'vdi-realm.json');

/** The parts of Keycloak's RealmRepresentation this tool reads or changes. */
export interface ProtocolMapperRep {
  name: string;
  protocol: string;
  protocolMapper: string;
  config?: Record<string, string>;
}
export interface ClientRep {
  clientId: string;
  description?: string;
  publicClient?: boolean;
  bearerOnly?: boolean;
  standardFlowEnabled?: boolean;
  implicitFlowEnabled?: boolean;
  directAccessGrantsEnabled?: boolean;
  serviceAccountsEnabled?: boolean;
  redirectUris?: string[];
  webOrigins?: string[];
  attributes?: Record<string, string>;
  protocolMappers?: ProtocolMapperRep[];
  secret?: string;
}
export interface UserRep {
  username: string;
  enabled?: boolean;
  email?: string;
  emailVerified?: boolean;
  firstName?: string;
  lastName?: string;
  requiredActions?: string[];
  credentials?: { type: string; value: string; temporary?: boolean }[];
  realmRoles?: string[];
  /** Set on a client's service-account user. */
  serviceAccountClientId?: string;
  clientRoles?: Record<string, string[]>;
  /** Group paths, e.g. /gpu-power (the `groups` claim carries the names). */
  groups?: string[];
}
export interface RealmRep {
  realm: string;
  enabled?: boolean;
  accessTokenLifespan?: number;
  roles?: { realm?: { name: string; description?: string; composite?: boolean }[] };
  clients?: ClientRep[];
  users?: UserRep[];
  [key: string]: unknown;
}

export function loadRealm(file: string = realmFile): RealmRep {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RealmRep;
  } catch (err) {
    throw new Error(`cannot read the realm file ${file}: ${(err as Error).message}`);
  }
}

export function findClient(realm: RealmRep, clientId: string): ClientRep {
  const c = realm.clients?.find((x) => x.clientId === clientId);
  if (!c) throw new Error(`client '${clientId}' is missing from the realm file ${realmFile}`);
  return c;
}

/**
 * The realm as it is imported: the file plus, for each extra origin, `<origin>/*` as a redirect
 * URI and `<origin>` as a web origin of the portal client. Does not modify `realm`.
 */
export function renderRealm(realm: RealmRep, extraPortalOrigins: string[] = []): RealmRep {
  const out = structuredClone(realm);
  if (extraPortalOrigins.length === 0) return out;
  const portal = findClient(out, CLIENTS.portal);
  const redirects = new Set(portal.redirectUris ?? []);
  const origins = new Set(portal.webOrigins ?? []);
  for (const o of extraPortalOrigins) {
    redirects.add(`${o}/*`);
    origins.add(o);
  }
  portal.redirectUris = [...redirects];
  portal.webOrigins = [...origins];
  return out;
}

/** Short content hash: a running Keycloak whose realm differs from the file is restarted. */
export function realmHash(realm: RealmRep): string {
  return createHash('sha256').update(JSON.stringify(realm)).digest('hex').slice(0, 16);
}
