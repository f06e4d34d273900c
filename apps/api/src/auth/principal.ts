/**
 * Who is calling, taken from a verified access token. `owner` — the token's issuer and subject —
 * is who owns what the caller creates and may use (sessions, their home volume, the quota): an
 * issuer never gives a subject to anyone else. `user` is how the platform shows the caller
 * (`VDISession.spec.user`, kubectl's User column, the portal): the verified e-mail when the token
 * has one, else the subject. It decides nothing, because an e-mail address can be reassigned to
 * another person or vouched for by a second identity provider.
 */
import type { SessionOwner } from '@vdi/crd-types';

export const ROLE_USER = 'vdi-user';
export const ROLE_ADMIN = 'vdi-admin';

export interface Principal {
  /** The identity that owns sessions: iss + sub. */
  owner: SessionOwner;
  /** Shown only: the verified e-mail, else the subject. */
  user: string;
  subject: string;
  username: string;
  email?: string;
  name?: string;
  roles: string[];
  /** Groups from the token's `groups` claim (Keycloak's group membership mapper), without a leading '/'. */
  groups: string[];
  isAdmin: boolean;
  /** The identity provider's login session the token belongs to (`sid`), when it names one. */
  sessionId?: string;
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
  const issuer = typeof payload.iss === 'string' ? payload.iss : '';
  if (!issuer) throw new ClaimsError('the token has no issuer (iss)');
  // The bounds of VDISession.spec.owner (OIDC Core: a sub is at most 255 ASCII characters).
  if (subject.length > 255 || issuer.length > 1024 || /\s/.test(issuer)) {
    throw new ClaimsError(
      'the token identity cannot own sessions (a subject over 255 characters, or an issuer over 1024 or with white space)',
    );
  }
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
    owner: { issuer, subject },
    user,
    subject,
    username,
    ...(email ? { email } : {}),
    ...(typeof payload.name === 'string' ? { name: payload.name } : {}),
    roles,
    groups: Array.isArray(payload.groups)
      ? payload.groups
          .filter((g): g is string => typeof g === 'string' && g !== '')
          .map((g) => g.replace(/^\//, ''))
      : [],
    isAdmin: roles.includes(ROLE_ADMIN),
    ...(typeof payload.sid === 'string' && payload.sid ? { sessionId: payload.sid } : {}),
  };
}

/** Users need `vdi-user` (or `vdi-admin`) to use the platform at all. */
export function mayUsePlatform(p: Principal): boolean {
  return p.roles.includes(ROLE_USER) || p.isAdmin;
}
