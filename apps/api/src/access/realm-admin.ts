/**
 * The API's one client of Keycloak's admin REST API: a service-account token (client credentials
 * of `VDI_OIDC_ADMIN_CLIENT_ID`, kept until half its lifetime) and GETs on the realm's admin API.
 * Shared by the identity liveness check (liveness.ts) and the share directory (shares/), which
 * asks whether a grantee exists — one token, one set of error messages.
 */

/** An error talking to the identity provider (network, 5xx, refused credentials). */
export class IdentityProviderError extends Error {
  override name = 'IdentityProviderError';
}

export interface RealmAdminSettings {
  /** Keycloak's admin API of the realm, e.g. http://localhost:8180/admin/realms/vdi. */
  adminUrl: string;
  /** The realm's token endpoint. */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
}

/** A fetch-like function (tests may pass their own). */
export type Fetch = typeof fetch;

export class RealmAdmin {
  private token: { value: string; until: number } | undefined;

  constructor(
    private readonly s: RealmAdminSettings,
    private readonly fetchImpl: Fetch = fetch,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * GET on the realm's admin API (`path` relative to it, e.g. `/users/<id>`): the JSON body, or
   * undefined for a status in `absent`. Throws IdentityProviderError for anything else.
   */
  async get(path: string, absent: number[] = []): Promise<unknown> {
    const url = `${this.s.adminUrl}${path}`;
    for (let attempt = 1; ; attempt++) {
      const res = await this.fetchImpl(url, {
        headers: { authorization: `Bearer ${await this.serviceToken()}` },
        signal: AbortSignal.timeout(5_000),
      }).catch((err: unknown) => {
        throw new IdentityProviderError(`GET ${url}: ${(err as Error).message}`);
      });
      if (absent.includes(res.status)) return undefined;
      // A token revoked or expired early: one fresh token, then give up.
      if (res.status === 401 && attempt === 1) {
        this.token = undefined;
        continue;
      }
      if (!res.ok) {
        throw new IdentityProviderError(
          `GET ${url} answered ${res.status}${res.status === 403 ? ` (does ${this.s.clientId}'s service account have realm-management/view-users?)` : ''}`,
        );
      }
      return res.json();
    }
  }

  private async serviceToken(): Promise<string> {
    if (this.token && this.token.until > this.now()) return this.token.value;
    const res = await this.fetchImpl(this.s.tokenUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(this.s.clientId)}:${encodeURIComponent(this.s.clientSecret)}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
      signal: AbortSignal.timeout(5_000),
    }).catch((err: unknown) => {
      throw new IdentityProviderError(`POST ${this.s.tokenUrl}: ${(err as Error).message}`);
    });
    const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number };
    if (!res.ok || !body.access_token) {
      throw new IdentityProviderError(
        `${this.s.tokenUrl} refused client ${this.s.clientId} (${res.status}): check VDI_OIDC_ADMIN_CLIENT_ID/SECRET and that the client has service accounts enabled`,
      );
    }
    this.token = { value: body.access_token, until: this.now() + ((body.expires_in ?? 60) * 1000) / 2 };
    return this.token.value;
  }
}
