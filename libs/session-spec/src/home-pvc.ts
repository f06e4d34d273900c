/**
 * The home volume. With persistence `user` it belongs to the user, not to a session: it has no
 * owner reference and outlives every session (JupyterHub-style), so the same claim is rendered
 * identically by all of the user's sessions. With `session` it is owned by the session; with
 * `none` there is no claim (the pod uses an emptyDir).
 */
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { VDISession } from '@vdi/crd-types';
import { ANNOTATION_USER, LABEL_USER_HASH, childMeta } from './labels.js';
import { childNames, homePvcName, identityHash } from './names.js';
import type { PlatformOptions } from './options.js';
import type { EffectiveSession } from './resolve.js';

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
      name: homePvcName(session.spec.user),
      namespace: o.namespace,
      // Only user-level labels: every session of the user renders the same claim.
      labels: {
        'app.kubernetes.io/name': 'vdi-home',
        'app.kubernetes.io/component': 'home',
        'app.kubernetes.io/part-of': 'vdi-platform',
        'app.kubernetes.io/managed-by': 'vdi-operator',
        [LABEL_USER_HASH]: identityHash(session.spec.user),
      },
      annotations: { [ANNOTATION_USER]: session.spec.user },
    },
    spec,
  };
}
