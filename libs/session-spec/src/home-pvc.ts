/**
 * The home volume. With persistence `user` it belongs to the session's owner, not to a session:
 * it has no owner reference and outlives every session (JupyterHub-style), so the same claim is
 * rendered identically by all of the owner's sessions, and it is annotated with the owner (issuer
 * + subject) so that no other identity's session ever mounts it (userHomeClaimName). With
 * `session` it is owned by the session; with `none` there is no claim (the pod uses an emptyDir).
 */
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { SessionReason, type VDISession } from '@vdi/crd-types';
import { SessionSpecError } from './errors.js';
import { ANNOTATION_USER, LABEL_USER_HASH, PART_OF, childMeta } from './labels.js';
import { childNames, homePvcName } from './names.js';
import type { PlatformOptions } from './options.js';
import {
  annotatedOwner,
  ownerAnnotations,
  ownerHomeName,
  sameOwner,
  sessionOwnerHash,
  type SessionOwner,
} from './owner.js';
import type { EffectiveSession } from './resolve.js';

/** The subset of a claim userHomeClaimName reads (cached claims are passed as they are). */
export interface ClaimFacts {
  metadata?: {
    name?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    ownerReferences?: unknown[];
  };
}

const whose = (o: SessionOwner | undefined) =>
  o ? `subject ${o.subject} of ${o.issuer}` : 'no owner (no vdi.kasm.io/owner-* annotations)';

/** A per-user home: a home claim no session owns. */
const isUserHome = (c: ClaimFacts) =>
  c.metadata?.labels?.['app.kubernetes.io/component'] === 'home' && !c.metadata.ownerReferences?.length;

/**
 * The name of the per-user home claim `session` mounts, given the claims of its namespace, and
 * the check that it is the session owner's:
 *
 * - a session with an owner: the claim named `ownerHomeName(owner)` when it exists (it must be
 *   annotated with that owner); else the one claim the admin migration handed to the owner (an
 *   e-mail-keyed home from 0.1.x, annotated with the owner); else `ownerHomeName(owner)`, which
 *   the operator then creates;
 * - an unclaimed session: `homePvcName(spec.user)` as in 0.1.x, unless the migration handed that
 *   claim to an owner (then it is that owner's, not this ownerless session's).
 *
 * Throws a SessionSpecError (reason HomeNotOwned) naming the claim and the fix otherwise.
 */
export function userHomeClaimName(session: Pick<VDISession, 'spec'>, claims: readonly ClaimFacts[]): string {
  const owner = session.spec.owner;
  const byName = (name: string) => claims.find((c) => c.metadata?.name === name);
  if (!owner) {
    const name = homePvcName(session.spec.user);
    const handedTo = annotatedOwner(byName(name)?.metadata);
    if (handedTo) {
      throw new SessionSpecError(
        'spec.owner',
        `the home volume ${name} of '${session.spec.user}' now belongs to ${whose(handedTo)}, and this session has no owner: migrate the session too (apps/api owners migration) or delete it`,
        SessionReason.HomeNotOwned,
      );
    }
    return name;
  }
  const own = ownerHomeName(owner);
  const existing = byName(own);
  if (existing) {
    const holder = annotatedOwner(existing.metadata);
    if (!sameOwner(holder, owner)) {
      throw new SessionSpecError(
        'spec.owner',
        `the home volume ${own} is annotated for ${whose(holder)}, not for this session's owner (${whose(owner)}); an admin must check who it belongs to`,
        SessionReason.HomeNotOwned,
      );
    }
    return own;
  }
  const handed = claims
    .filter((c) => isUserHome(c) && sameOwner(annotatedOwner(c.metadata), owner))
    .map((c) => c.metadata!.name!)
    .sort();
  if (handed.length > 1) {
    throw new SessionSpecError(
      'spec.owner',
      `several home volumes are annotated for ${whose(owner)} (${handed.join(', ')}); keep one: remove the vdi.kasm.io/owner-* annotations of the others`,
      SessionReason.HomeNotOwned,
    );
  }
  return handed[0] ?? own;
}

/**
 * Whether a per-user home of these claims could still be handed to an owner under a name other
 * than `ownerHomeName(owner)`: only a home without owner annotations can (a 0.1.x e-mail-keyed
 * home, or an ownerless session's, until the admin migration annotates it). When there is none,
 * userHomeClaimName of a session with an owner can only answer `ownerHomeName(owner)`, whatever
 * else the API server holds: a reconciler need not ask it beyond its cache.
 */
export function mayHandOverHomes(claims: readonly ClaimFacts[]): boolean {
  return claims.some((c) => isUserHome(c) && !annotatedOwner(c.metadata));
}

export function homeClaim(
  session: VDISession,
  eff: EffectiveSession,
  o: PlatformOptions,
): V1PersistentVolumeClaim | undefined {
  if (eff.persistence === 'none') return undefined;
  const spec = {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: eff.homeSize } },
    ...(o.storageClassName ? { storageClassName: o.storageClassName } : {}),
  };
  if (eff.persistence === 'session') {
    return {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: childMeta(session, childNames(session.metadata.name!).sessionHome, o.namespace, 'home'),
      spec,
    };
  }
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: eff.userHomeClaim,
      namespace: o.namespace,
      // Only owner-level labels: every session of the owner renders the same claim.
      labels: {
        'app.kubernetes.io/name': 'vdi-home',
        'app.kubernetes.io/component': 'home',
        ...PART_OF,
        'app.kubernetes.io/managed-by': 'vdi-operator',
        [LABEL_USER_HASH]: sessionOwnerHash(session),
      },
      annotations: {
        [ANNOTATION_USER]: session.spec.user,
        ...(session.spec.owner ? ownerAnnotations(session.spec.owner) : {}),
      },
    },
    spec,
  };
}
