/**
 * Who is calling, taken from a verified access token. `user` is the identity written into
 * `VDISession.spec.user`: the verified email when the token has one, else the token subject
 * (never a client-chosen value, and never `preferred_username`, which some realms let users change).
 */
export const ROLE_USER = 'vdi-user';
export const ROLE_ADMIN = 'vdi-admin';

export interface Principal {
  user: string;
  subject: string;
  username: string;
  email?: string;
  name?: string;
  roles: string[];
  isAdmin: boolean;
}

export class ClaimsError extends Error {
  override name = 'ClaimsError';
}

/** The audiences of a token: `aud` may be one string or an array (Keycloak sends a string for one). */
export function audiences(aud: unknown): string[] {
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud)) return aud.filter((a): a is string => typeof a === 'string');
  return [];
}

/** Realm roles from Keycloak's `realm_access.roles` claim. */
export function realmRoles(payload: Record<string, unknown>): string[] {
  const access = payload.realm_access as { roles?: unknown } | undefined;
  const roles = access?.roles;
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [];
}

/** The principal of an already verified payload; throws ClaimsError when identity claims are missing. */
export function principalFromClaims(payload: Record<string, unknown>): Principal {
  const subject = typeof payload.sub === 'string' ? payload.sub : '';
  if (!subject) throw new ClaimsError('the token has no subject (sub)');
  const email = typeof payload.email === 'string' && payload.email ? payload.email : undefined;
  const emailVerified = payload.email_verified === true;
  const username =
    typeof payload.preferred_username === 'string' && payload.preferred_username
      ? payload.preferred_username
      : (email ?? subject);
  const roles = realmRoles(payload);
  const user = email && emailVerified ? email : subject;
  if (/\s/.test(user) || user.length > 256) {
    throw new ClaimsError(
      'the token identity cannot own sessions (whitespace or longer than 256 characters)',
    );
  }
  return {
    user,
    subject,
    username,
    ...(email ? { email } : {}),
    ...(typeof payload.name === 'string' ? { name: payload.name } : {}),
    roles,
    isAdmin: roles.includes(ROLE_ADMIN),
  };
}

/** Users need `vdi-user` (or `vdi-admin`) to use the platform at all. */
export function mayUsePlatform(p: Principal): boolean {
  return p.roles.includes(ROLE_USER) || p.isAdmin;
}
