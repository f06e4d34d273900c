/**
 * A small dynamic provisioner for the `local-path` StorageClass, standing in for K3s's
 * local-path-provisioner (whose helper pods cannot run under kwok). It does what the scheduler
 * and the PV controller expect of an external provisioner:
 *   - a claim of class local-path that the scheduler has given a node
 *     (`volume.kubernetes.io/selected-node`, WaitForFirstConsumer) gets a PersistentVolume on that
 *     node, pre-bound to the claim, so the pod can be bound right after;
 *   - a released volume of the class (its claim deleted, reclaim policy Delete) is deleted.
 * On the kwok nodes no directory is created (no container runs there). On the real node
 * (`@vdi/node`, label vdi.kasm.io/real-node=true) the volume is a real folder
 * `<stateDir>/storage/<pv>`, world-writable so a pod's non-root user can write it, removed on reclaim.
 * A failed provisioning or reclaim is retried after about a second.
 */
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { REAL_NODE_LABEL } from '@vdi/node';

export const PROVISIONER = 'rancher.io/local-path';
export const STORAGE_CLASS = 'local-path';

/** The retry delay after a failed provisioning or reclaim. */
export const RETRY_MS = 1000;

/** The PersistentVolume's name for a claim. */
export function volumeName(claim: k8s.V1PersistentVolumeClaim): string {
  return `pvc-${claim.metadata!.uid}`;
}

/**
 * The PersistentVolume for a claim placed on `node` (pure). `storageDir` is given for the real
 * node: the volume is then the folder `<storageDir>/<pv>`, which must exist (type Directory).
 */
export function volumeFor(
  claim: k8s.V1PersistentVolumeClaim,
  node: string,
  storageDir?: string,
): k8s.V1PersistentVolume {
  const ns = claim.metadata!.namespace!;
  const name = claim.metadata!.name!;
  const hostPath: k8s.V1HostPathVolumeSource = storageDir
    ? { path: path.join(storageDir, volumeName(claim)), type: 'Directory' }
    : {
        path: `/var/lib/rancher/k3s/storage/pvc-${claim.metadata!.uid}_${ns}_${name}`,
        type: 'DirectoryOrCreate',
      };
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
      hostPath,
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

/** The folder of a volume on the real node, when `pv` is one (its path lies in `storageDir`). */
export function realNodeFolder(
  pv: k8s.V1PersistentVolume,
  storageDir: string | undefined,
): string | undefined {
  const p = pv.spec?.hostPath?.path;
  if (!storageDir || !p) return undefined;
  const rel = path.relative(storageDir, p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) && !rel.includes('/') ? p : undefined;
}

/**
 * Runs the provisioner. `storageDir` (the cluster's `<stateDir>/storage`) enables real folders
 * for volumes on the real node; without it every volume is a kwok-style stand-in.
 */
export async function runProvisioner(
  kc: k8s.KubeConfig,
  log: (msg: string) => void,
  storageDir?: string,
): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const isRealNode = async (node: string) => {
    const n = await core.readNode({ name: node });
    return n.metadata?.labels?.[REAL_NODE_LABEL] === 'true';
  };
  const retry = (what: string, fn: () => Promise<void>) => {
    setTimeout(() => void fn(), RETRY_MS);
    log(`${what}: retrying in ${RETRY_MS} ms`);
  };
  const claims = k8s.makeInformer<k8s.V1PersistentVolumeClaim>(kc, '/api/v1/persistentvolumeclaims', () =>
    core.listPersistentVolumeClaimForAllNamespaces(),
  );
  const volumes = k8s.makeInformer<k8s.V1PersistentVolume>(kc, '/api/v1/persistentvolumes', () =>
    core.listPersistentVolume(),
  );
  const provision = async (claim: k8s.V1PersistentVolumeClaim): Promise<void> => {
    const node = needsVolume(claim);
    if (!node) return;
    const ns = claim.metadata!.namespace!;
    const name = claim.metadata!.name!;
    try {
      const real = storageDir !== undefined && (await isRealNode(node));
      if (real) {
        const dir = path.join(storageDir, volumeName(claim));
        mkdirSync(dir, { recursive: true });
        // World-writable: the pod's (non-root) user must be able to write its volume.
        chmodSync(dir, 0o777);
      }
      await core.createPersistentVolume({ body: volumeFor(claim, node, real ? storageDir : undefined) });
      log(`provisioned ${volumeName(claim)} for ${ns}/${name} on ${node}${real ? ' (real folder)' : ''}`);
    } catch (err) {
      if ((err as { code?: number }).code === 409) return;
      log(`provisioning ${ns}/${name} failed: ${String(err)}`);
      // Re-read the claim: it may be bound or gone by then.
      retry(`provisioning ${ns}/${name}`, async () => {
        try {
          await provision(await core.readNamespacedPersistentVolumeClaim({ name, namespace: ns }));
        } catch (e) {
          if ((e as { code?: number }).code !== 404)
            retry(`provisioning ${ns}/${name}`, () => provision(claim));
        }
      });
    }
  };
  const reclaim = async (pv: k8s.V1PersistentVolume): Promise<void> => {
    if (pv.spec?.storageClassName !== STORAGE_CLASS || pv.status?.phase !== 'Released') return;
    if (pv.spec.persistentVolumeReclaimPolicy !== 'Delete') return;
    const folder = realNodeFolder(pv, storageDir);
    try {
      if (folder && existsSync(folder)) rmSync(folder, { recursive: true, force: true });
      await core.deletePersistentVolume({ name: pv.metadata!.name! });
      log(`deleted released ${pv.metadata!.name}${folder ? ` and ${folder}` : ''}`);
    } catch (err) {
      if ((err as { code?: number }).code === 404) return;
      log(`deleting ${pv.metadata!.name} failed: ${String(err)}`);
      retry(`deleting ${pv.metadata!.name}`, async () => {
        try {
          await reclaim(await core.readPersistentVolume({ name: pv.metadata!.name! }));
        } catch (e) {
          if ((e as { code?: number }).code !== 404)
            retry(`deleting ${pv.metadata!.name}`, () => reclaim(pv));
        }
      });
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
