/**
 * A small dynamic provisioner for the `local-path` StorageClass, standing in for K3s's
 * local-path-provisioner (whose helper pods cannot run under kwok). It does what the scheduler
 * and the PV controller expect of an external provisioner:
 *   - a claim of class local-path that the scheduler has given a node
 *     (`volume.kubernetes.io/selected-node`, WaitForFirstConsumer) gets a PersistentVolume on that
 *     node, pre-bound to the claim, so the pod can be bound right after;
 *   - a released volume of the class (its claim deleted, reclaim policy Delete) is deleted.
 * No directory is created: no container runs here.
 */
import * as k8s from '@kubernetes/client-node';

export const PROVISIONER = 'rancher.io/local-path';
export const STORAGE_CLASS = 'local-path';

/** The PersistentVolume for a claim placed on `node` (pure). */
export function volumeFor(claim: k8s.V1PersistentVolumeClaim, node: string): k8s.V1PersistentVolume {
  const ns = claim.metadata!.namespace!;
  const name = claim.metadata!.name!;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name: `pvc-${claim.metadata!.uid}`,
      annotations: { 'pv.kubernetes.io/provisioned-by': PROVISIONER },
    },
    spec: {
      capacity: { storage: claim.spec?.resources?.requests?.storage ?? '1Gi' },
      accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: STORAGE_CLASS,
      volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
      claimRef: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: ns,
        name,
        uid: claim.metadata!.uid,
      },
      hostPath: {
        path: `/var/lib/rancher/k3s/storage/pvc-${claim.metadata!.uid}_${ns}_${name}`,
        type: 'DirectoryOrCreate',
      },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] },
          ],
        },
      },
    },
  };
}

/** True when the claim waits for this provisioner to give it a volume on a chosen node. */
export function needsVolume(claim: k8s.V1PersistentVolumeClaim): string | undefined {
  const node = claim.metadata?.annotations?.['volume.kubernetes.io/selected-node'];
  if (!node || claim.spec?.volumeName || claim.status?.phase === 'Bound' || claim.metadata?.deletionTimestamp)
    return undefined;
  return claim.spec?.storageClassName === STORAGE_CLASS ? node : undefined;
}

export async function runProvisioner(kc: k8s.KubeConfig, log: (msg: string) => void): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const claims = k8s.makeInformer<k8s.V1PersistentVolumeClaim>(kc, '/api/v1/persistentvolumeclaims', () =>
    core.listPersistentVolumeClaimForAllNamespaces(),
  );
  const volumes = k8s.makeInformer<k8s.V1PersistentVolume>(kc, '/api/v1/persistentvolumes', () =>
    core.listPersistentVolume(),
  );
  const provision = async (claim: k8s.V1PersistentVolumeClaim) => {
    const node = needsVolume(claim);
    if (!node) return;
    try {
      await core.createPersistentVolume({ body: volumeFor(claim, node) });
      log(
        `provisioned pvc-${claim.metadata!.uid} for ${claim.metadata!.namespace}/${claim.metadata!.name} on ${node}`,
      );
    } catch (err) {
      if ((err as { code?: number }).code !== 409)
        log(`provisioning ${claim.metadata!.namespace}/${claim.metadata!.name} failed: ${String(err)}`);
    }
  };
  const reclaim = async (pv: k8s.V1PersistentVolume) => {
    if (pv.spec?.storageClassName !== STORAGE_CLASS || pv.status?.phase !== 'Released') return;
    if (pv.spec.persistentVolumeReclaimPolicy !== 'Delete') return;
    try {
      await core.deletePersistentVolume({ name: pv.metadata!.name! });
      log(`deleted released ${pv.metadata!.name}`);
    } catch (err) {
      if ((err as { code?: number }).code !== 404)
        log(`deleting ${pv.metadata!.name} failed: ${String(err)}`);
    }
  };
  claims.on('add', (c) => void provision(c));
  claims.on('update', (c) => void provision(c));
  volumes.on('add', (v) => void reclaim(v));
  volumes.on('update', (v) => void reclaim(v));
  for (const inf of [claims, volumes] as k8s.Informer<k8s.KubernetesObject>[]) {
    inf.on('error', () => setTimeout(() => void inf.start(), 1000));
  }
  await claims.start();
  await volumes.start();
  log('local-path provisioner running');
}
