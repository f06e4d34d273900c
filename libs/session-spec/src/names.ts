/**
 * Kubernetes names derived from user identities and session names: DNS-1123 safe, bounded,
 * deterministic, and distinct for distinct identities (a short hash of the exact identity is
 * always part of the name, so `alice@example.com` and `alice@example.org` never collide even
 * though their readable parts do).
 */
import { createHash } from 'node:crypto';

/** Longest DNS-1123 label (names of Services, labels' values, PVCs we make readable). */
export const DNS1123_LABEL_MAX = 63;
const HASH_LEN = 10;

/** The first `HASH_LEN` hex digits of SHA-256(identity). */
export function identityHash(identity: string): string {
  return createHash('sha256').update(identity, 'utf8').digest('hex').slice(0, HASH_LEN);
}

/** Lower-case `[a-z0-9-]` with no leading/trailing/double dashes; may be empty. */
export function slugify(text: string): string {
  return text
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * `<prefix>-<readable slug>-<hash>`, at most 63 characters and a valid DNS-1123 label, for any
 * identity string (empty, non-ASCII, very long). `prefix` must itself be a short DNS label.
 */
export function identityName(prefix: string, identity: string): string {
  if (!/^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$/.test(prefix)) {
    throw new Error(`invalid name prefix '${prefix}': 1-20 characters of [a-z0-9-], starting with a letter`);
  }
  const hash = identityHash(identity);
  const room = DNS1123_LABEL_MAX - prefix.length - hash.length - 2;
  const slug = slugify(identity).slice(0, room).replace(/-+$/g, '');
  return slug ? `${prefix}-${slug}-${hash}` : `${prefix}-${hash}`;
}

/** The per-user home volume claim, shared by all sessions of one user. */
export function homePvcName(user: string): string {
  return identityName('home', user);
}

/** Names of a session's children. Session names are DNS-1035 labels of at most 50 characters (CRD rule), so these fit. */
export function childNames(session: string) {
  return {
    pod: session,
    service: session,
    networkPolicy: session,
    ingressRoute: session,
    forwardAuthMiddleware: `${session}-forward-auth`,
    authSecret: `${session}-auth`,
    /** The home volume of a session whose template has persistence `session`. */
    sessionHome: `${session}-home`,
  };
}
