/**
 * The platform's GraphQL API as the browser tests use it beside the browser: a demo user's token
 * from Keycloak (password grant) and one request. For set-up and checks the page cannot show.
 */
import { passwordGrant } from '@vdi/keycloak';

export interface SessionView {
  name: string;
  user: string;
  phase: string;
  url?: string | null;
  maxLifetime?: string | null;
  expiresAt?: string | null;
  state?: string;
  viewers?: number | null;
  idleSince?: string | null;
  idleUntil?: string | null;
}

/** One GraphQL request as `user` (password = user name, the demo realm's logins). */
export async function gqlAs<T>(
  apiUrl: string,
  user: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const token = (await passwordGrant(user, user)).access_token;
  const res = await fetch(`${apiUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(`${user}: ${body.errors.map((e) => e.message).join('; ')}`);
  return body.data!;
}

/** The sessions `user` sees (all of them for an admin with `all`). */
export const sessionsAs = async (apiUrl: string, user: string, all = false): Promise<SessionView[]> =>
  (
    await gqlAs<{ sessions: SessionView[] }>(
      apiUrl,
      user,
      `query($all: Boolean) { sessions(all: $all) { name user phase state url maxLifetime expiresAt viewers idleSince idleUntil } }`,
      { all },
    )
  ).sessions;
