/**
 * Who owns a session, its home volume and its quota: the OIDC identity that created it, keyed on
 * the token's issuer and subject (`spec.owner`). A subject is never reassigned by its issuer; an
 * e-mail address is (a departed user's address handed to a newcomer), and a second identity
 * provider may vouch for the same address. So the e-mail (`spec.user`) is only ever shown.
 *
 * Sessions made before owners existed (0.1.x) carry only `spec.user` (the verified e-mail, else
 * the subject). They are "unclaimed": they keep running and rendering exactly as before (their
 * labels, names and home are derived from `spec.user`), but no user owns them until an admin's
 * migration, from a mapping the admin checked, sets their owner (see apps/api/src/owners).
 */
import { createHash } from 'node:crypto';
import type { SessionOwner, VDISession, VDISessionSpec } from '@vdi/crd-types';
import { derivedOnce } from './derived.js';
import { DNS1123_LABEL_MAX, homePvcName, identityHash, slugify } from './names.js';

export type { SessionOwner };

/** Annotations naming the owner of a per-user home volume: the operator mounts it only for that owner. */
export const ANNOTATION_OWNER_ISSUER = 'vdi.kasm.io/owner-issuer';
export const ANNOTATION_OWNER_SUBJECT = 'vdi.kasm.io/owner-subject';

/** Hex digits of an owner's hash: 64 bits, so no two owners share a home name by accident. */
const OWNER_HASH_LEN = 16;

/**
 * The owner as one string, for equality and for credentials that carry it (desktop cookies,
 * tickets): a JSON array, so no issuer or subject, whatever characters it holds, can make two
 * owners' keys equal.
 */
export function ownerKey(owner: SessionOwner): string {
  return JSON.stringify([owner.issuer, owner.subject]);
}

/** The owner of a key made by ownerKey, or undefined for anything else. */
export function parseOwnerKey(key: string): SessionOwner | undefined {
  try {
    const v: unknown = JSON.parse(key);
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === 'string' &&
      typeof v[1] === 'string' &&
      v[0] &&
      v[1]
    )
      return { issuer: v[0], subject: v[1] };
  } catch {
    /* not a key */
  }
  return undefined;
}

/** First 16 hex digits of SHA-256(ownerKey): label values and home names. */
export function ownerHash(owner: SessionOwner): string {
  const key = ownerKey(owner);
  return derivedOnce('', `owner-hash:${key}`, () =>
    createHash('sha256').update(key, 'utf8').digest('hex').slice(0, OWNER_HASH_LEN),
  );
}

/** Exact equality of issuer and subject (no case folding: OIDC compares both as exact strings). */
export function sameOwner(a: SessionOwner | undefined, b: SessionOwner | undefined): boolean {
  return Boolean(a && b && a.issuer === b.issuer && a.subject === b.subject);
}

/** Whether `owner` owns the session. An unclaimed session (no spec.owner) is owned by no one. */
export function ownedBy(session: Pick<VDISession, 'spec'>, owner: SessionOwner): boolean {
  return sameOwner(session.spec.owner, owner);
}

/**
 * The value of the session's `vdi.kasm.io/user-hash` label (and its children's): the owner's
 * hash; for an unclaimed session the hash of `spec.user`, as 0.1.x wrote it, so its objects are
 * rendered unchanged. The two never collide (16 and 10 hex digits).
 */
export function sessionOwnerHash(session: Pick<VDISession, 'spec'>): string {
  const owner = session.spec.owner;
  return owner ? ownerHash(owner) : identityHash(session.spec.user);
}

/**
 * The home volume claim an owner's sessions create when the owner has none yet:
 * `home-<readable subject>-<owner hash>`, a DNS-1123 label of at most 63 characters. The subject
 * (never the e-mail, which may change or move to someone else) keeps it readable beside
 * `kubectl get vdis -o wide`; the hash of issuer + subject keeps owners apart whose readable
 * parts are equal (the same subject from two issuers, subjects differing in case only).
 */
export function ownerHomeName(owner: SessionOwner): string {
  const hash = ownerHash(owner);
  const room = DNS1123_LABEL_MAX - 'home'.length - hash.length - 2;
  const slug = slugify(owner.subject).slice(0, room).replace(/-+$/g, '');
  return slug ? `home-${slug}-${hash}` : `home-${hash}`;
}

/**
 * The per-user home claim a session mounts when nothing is known about the cluster's claims: its
 * owner's own name, or for an unclaimed session (0.1.x) the e-mail-keyed name it always had. The
 * operator refines it with what exists (userHomeClaimName).
 */
export function defaultUserHomeClaim(spec: Pick<VDISessionSpec, 'user' | 'owner'>): string {
  return spec.owner ? ownerHomeName(spec.owner) : homePvcName(spec.user);
}

/** The annotations that hand a volume to an owner. */
export function ownerAnnotations(owner: SessionOwner): Record<string, string> {
  return { [ANNOTATION_OWNER_ISSUER]: owner.issuer, [ANNOTATION_OWNER_SUBJECT]: owner.subject };
}

/** The owner an object's annotations name, if both are there. */
export function annotatedOwner(
  meta: { annotations?: Record<string, string> } | undefined,
): SessionOwner | undefined {
  const issuer = meta?.annotations?.[ANNOTATION_OWNER_ISSUER];
  const subject = meta?.annotations?.[ANNOTATION_OWNER_SUBJECT];
  return issuer && subject ? { issuer, subject } : undefined;
}
