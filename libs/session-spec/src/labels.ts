/**
 * Labels, annotations and owner references shared by every child of a session.
 * Identities are arbitrary strings, so they go into annotations; labels carry a hash of the
 * session's owner (owner.ts: issuer + subject, or `spec.user` for an unclaimed 0.1.x session).
 */
import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import {
  API_VERSION,
  KIND_SESSION,
  SESSION_FINALIZER,
  type VDISession,
  type VDISessionSpec,
} from '@vdi/crd-types';
import { SessionSpecError } from './errors.js';
import { sessionOwnerHash } from './owner.js';

export const LABEL_SESSION = 'vdi.kasm.io/session';
/** sessionOwnerHash: the hash of the owner's issuer + subject (of `spec.user` when unclaimed). */
export const LABEL_USER_HASH = 'vdi.kasm.io/user-hash';
export const LABEL_TEMPLATE = 'vdi.kasm.io/template';
/** `spec.user`: the e-mail, for people reading the objects; it decides nothing. */
export const ANNOTATION_USER = 'vdi.kasm.io/user';
/**
 * On a claimed pool pod: when its session claimed it (RFC 3339). The slice it held warm before is
 * the pool's, not the user's: GPU time is counted from here (heldSlices).
 */
export const ANNOTATION_CLAIMED_AT = 'vdi.kasm.io/claimed-at';
/**
 * On the operator's Lease: the fingerprint of its holder's VDI_SESSION_KEY (poolKeyId; never the
 * key). Other operator replicas and the API compare it with their own key's.
 */
export const ANNOTATION_LEASE_KEY_ID = 'vdi.kasm.io/session-key-id';
/** The one field manager of everything the operator applies (server-side apply). */
export const FIELD_MANAGER = 'vdi-operator';

/** The label every object of the platform carries, and the selector of the operator's and the API's watches and lists. */
export const PART_OF = { 'app.kubernetes.io/part-of': 'vdi-platform' } as const;
export const MANAGED_SELECTOR = 'app.kubernetes.io/part-of=vdi-platform';

/**
 * A new session as the API creates it: its owner's hash and template as labels (the API's and the
 * operator's selectors), the e-mail for people reading it, and the operator's finalizer from the
 * start (the operator then has no finalizer of its own to add). The benchmark writes the same.
 */
export function newSession(name: string, namespace: string, spec: VDISessionSpec): VDISession {
  return {
    apiVersion: API_VERSION,
    kind: KIND_SESSION,
    metadata: {
      name,
      namespace,
      labels: { [LABEL_USER_HASH]: sessionOwnerHash({ spec }), [LABEL_TEMPLATE]: spec.template },
      annotations: { [ANNOTATION_USER]: spec.user },
      finalizers: [SESSION_FINALIZER],
    },
    spec,
  };
}

export function commonLabels(session: VDISession, component: string): Record<string, string> {
  const name = session.metadata.name!;
  return {
    'app.kubernetes.io/name': 'vdi-desktop',
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/component': component,
    ...PART_OF,
    'app.kubernetes.io/managed-by': FIELD_MANAGER,
    [LABEL_SESSION]: name,
    [LABEL_USER_HASH]: sessionOwnerHash(session),
    [LABEL_TEMPLATE]: session.spec.template,
  };
}

/** The selector of a session's desktop pod (used by its Service and NetworkPolicy). */
export function podSelector(session: VDISession): Record<string, string> {
  return { [LABEL_SESSION]: session.metadata.name! };
}

/** Makes the session the controlling owner: garbage collection removes the child with it. */
export function ownerReference(session: VDISession): V1OwnerReference {
  const { name, uid } = session.metadata;
  if (!name || !uid) {
    throw new SessionSpecError(
      'metadata.uid',
      'the session must be read from the API server (name and uid set) before rendering',
    );
  }
  return {
    apiVersion: API_VERSION,
    kind: KIND_SESSION,
    name,
    uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function childMeta(
  session: VDISession,
  name: string,
  namespace: string,
  component: string,
  owned = true,
): V1ObjectMeta {
  return {
    name,
    namespace,
    labels: commonLabels(session, component),
    annotations: { [ANNOTATION_USER]: session.spec.user },
    ...(owned ? { ownerReferences: [ownerReference(session)] } : {}),
  };
}
