/**
 * The local Keycloak's admin REST API, for tests that change the realm's people while the
 * platform runs: add a user, change their e-mail, delete them — what an identity provider's admin
 * does when someone leaves and their address goes to someone else; create groups and change
 * who is in them (the tokens' `groups` claim). It logs in as the bootstrap
 * admin of the `master` realm (BOOTSTRAP_ADMIN, dev only) through `admin-cli`.
 */
import { BOOTSTRAP_ADMIN, CLIENTS, REALM, loadKeycloakConfig, type KeycloakConfig } from './config.js';
import { KeycloakHttpError } from './tokens.js';

export interface NewUser {
  username: string;
  password: string;
  email: string;
  /** Default true: the API shows only verified e-mails. */
  emailVerified?: boolean;
  firstName?: string;
  lastName?: string;
  /** Realm roles, e.g. `vdi-user`. */
  roles?: string[];
}

export interface UserRep {
  id: string;
  username: string;
  email?: string;
  emailVerified?: boolean;
  enabled?: boolean;
}

export class KeycloakAdmin {
  private token: { value: string; until: number } | undefined;

  constructor(private readonly cfg: KeycloakConfig = loadKeycloakConfig()) {}

  /** Creates an enabled user with a password and realm roles; returns its id (the tokens' `sub`). */
  async createUser(u: NewUser): Promise<string> {
    const res = await this.call('POST', '/users', {
      username: u.username,
      email: u.email,
      emailVerified: u.emailVerified ?? true,
      firstName: u.firstName ?? u.username,
      lastName: u.lastName ?? 'Test',
      enabled: true,
      requiredActions: [],
      credentials: [{ type: 'password', value: u.password, temporary: false }],
    });
    const id = res.headers.get('location')?.split('/').pop();
    if (!id) throw new Error(`Keycloak created user ${u.username} but named no id (no Location header)`);
    const roles = await Promise.all(
      (u.roles ?? []).map(async (name) =>
        (await this.call('GET', `/roles/${encodeURIComponent(name)}`)).json(),
      ),
    );
    if (roles.length) await this.call('POST', `/users/${id}/role-mappings/realm`, roles);
    return id;
  }

  /** Changes fields of a user (e.g. `{ email, emailVerified }`). */
  async updateUser(id: string, fields: Partial<Omit<UserRep, 'id'>>): Promise<void> {
    await this.call('PUT', `/users/${id}`, fields);
  }

  /** Deletes a user; a user already gone is not an error. */
  async deleteUser(id: string): Promise<void> {
    await this.call('DELETE', `/users/${id}`, undefined, [404]);
  }

  /**
   * Makes a running realm (imported before the API's service account existed) match the realm
   * file for it: `vdi-api` with service accounts on and realm-management/view-users, and the
   * portal's web origins of the file. Idempotent; a fresh start imports all of it anyway.
   */
  async ensureApiServiceAccount(webOrigins: string[] = []): Promise<void> {
    const client = async (clientId: string) => {
      const [c] = (await (
        await this.call('GET', `/clients?clientId=${encodeURIComponent(clientId)}`)
      ).json()) as (Record<string, unknown> & { id: string })[];
      if (!c) throw new Error(`client ${clientId} is missing from realm ${REALM}`);
      return c;
    };
    const api = await client(CLIENTS.api);
    if (api.serviceAccountsEnabled !== true) {
      await this.call('PUT', `/clients/${api.id}`, { ...api, serviceAccountsEnabled: true });
    }
    const sa = (await (await this.call('GET', `/clients/${api.id}/service-account-user`)).json()) as {
      id: string;
    };
    const rm = await client('realm-management');
    const role = await (await this.call('GET', `/clients/${rm.id}/roles/view-users`)).json();
    await this.call('POST', `/users/${sa.id}/role-mappings/clients/${rm.id}`, [role]);
    if (webOrigins.length) {
      const portal = await client(CLIENTS.portal);
      const have = (portal.webOrigins as string[] | undefined) ?? [];
      const missing = webOrigins.filter((o) => !have.includes(o));
      if (missing.length)
        await this.call('PUT', `/clients/${portal.id}`, { ...portal, webOrigins: [...have, ...missing] });
    }
  }

  /** Gives a user a realm role (again). */
  async addRealmRole(id: string, role: string): Promise<void> {
    const rep = await (await this.call('GET', `/roles/${encodeURIComponent(role)}`)).json();
    await this.call('POST', `/users/${id}/role-mappings/realm`, [rep]);
  }

  /** Takes a realm role away from a user (nothing happens when they do not have it). */
  async removeRealmRole(id: string, role: string): Promise<void> {
    const rep = await (await this.call('GET', `/roles/${encodeURIComponent(role)}`)).json();
    await this.call('DELETE', `/users/${id}/role-mappings/realm`, [rep]);
  }

  /**
   * Creates a top-level group; returns its id. Members' tokens carry its name (no leading '/') in
   * the `groups` claim (the realm's group membership mapper), from their next token on.
   */
  async createGroup(name: string): Promise<string> {
    const res = await this.call('POST', '/groups', { name });
    const id = res.headers.get('location')?.split('/').pop();
    if (!id) throw new Error(`Keycloak created group ${name} but named no id (no Location header)`);
    return id;
  }

  /** The id of the top-level group with exactly this name, or undefined. */
  async groupByName(name: string): Promise<string | undefined> {
    const res = await this.call(
      'GET',
      `/groups?search=${encodeURIComponent(name)}&exact=true&briefRepresentation=true`,
    );
    return ((await res.json()) as { id: string; name: string }[]).find((g) => g.name === name)?.id;
  }

  /** Deletes a group (its members stay); a group already gone is not an error. */
  async deleteGroup(id: string): Promise<void> {
    await this.call('DELETE', `/groups/${id}`, undefined, [404]);
  }

  /** Puts a user in a group (again: no error when they already are). */
  async addUserToGroup(userId: string, groupId: string): Promise<void> {
    await this.call('PUT', `/users/${userId}/groups/${groupId}`);
  }

  /** Takes a user out of a group (nothing happens when they are not in it). */
  async removeUserFromGroup(userId: string, groupId: string): Promise<void> {
    await this.call('DELETE', `/users/${userId}/groups/${groupId}`, undefined, [404]);
  }

  /** The names of the groups a user is in. */
  async userGroups(userId: string): Promise<string[]> {
    const res = await this.call('GET', `/users/${userId}/groups?briefRepresentation=true`);
    return ((await res.json()) as { name: string }[]).map((g) => g.name);
  }

  /** The users with exactly this e-mail. */
  async usersByEmail(email: string): Promise<UserRep[]> {
    const res = await this.call('GET', `/users?exact=true&email=${encodeURIComponent(email)}`);
    return (await res.json()) as UserRep[];
  }

  private async adminToken(): Promise<string> {
    if (this.token && this.token.until > Date.now()) return this.token.value;
    const url = `${this.cfg.internalUrl}/realms/master/protocol/openid-connect/token`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'admin-cli',
        username: BOOTSTRAP_ADMIN.username,
        password: BOOTSTRAP_ADMIN.password,
      }).toString(),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number };
    if (!res.ok || !body.access_token) {
      throw new KeycloakHttpError(
        `${url} refused the bootstrap admin (${res.status})`,
        res.status,
        undefined,
        undefined,
      );
    }
    // Renewed well before it expires (admin-cli tokens live 60 s by default).
    this.token = { value: body.access_token, until: Date.now() + ((body.expires_in ?? 60) * 1000) / 2 };
    return this.token.value;
  }

  private async call(method: string, path: string, body?: unknown, alsoOk: number[] = []): Promise<Response> {
    const url = `${this.cfg.internalUrl}/admin/realms/${REALM}${path}`;
    const res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${await this.adminToken()}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(15_000),
    });
    if (!res.ok && !alsoOk.includes(res.status)) {
      const text = await res.text();
      throw new KeycloakHttpError(
        `${method} ${url} answered ${res.status}: ${text.slice(0, 300)}`,
        res.status,
        undefined,
        undefined,
      );
    }
    return res;
  }
}
