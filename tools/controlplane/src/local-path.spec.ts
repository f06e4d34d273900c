import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { needsVolume, realNodeFolder, volumeFor } from './local-path.js';

const claim = (o: Partial<V1PersistentVolumeClaim> & { node?: string } = {}): V1PersistentVolumeClaim => ({
  metadata: {
    name: 'home-alice',
    namespace: 'vdi-sessions',
    uid: 'u-1',
    annotations: o.node ? { 'volume.kubernetes.io/selected-node': o.node } : {},
  },
  spec: {
    storageClassName: 'local-path',
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: '10Gi' } },
    ...o.spec,
  },
  ...(o.status ? { status: o.status } : {}),
});

describe('local-path provisioner', () => {
  it('provisions only claims of its class that the scheduler has placed and that are not bound', () => {
    expect(needsVolume(claim({ node: 'gpu-1' }))).toBe('gpu-1');
    expect(needsVolume(claim())).toBeUndefined();
    expect(needsVolume(claim({ node: 'gpu-1', spec: { storageClassName: 'other' } }))).toBeUndefined();
    expect(
      needsVolume(claim({ node: 'gpu-1', spec: { storageClassName: 'local-path', volumeName: 'pv' } })),
    ).toBeUndefined();
  });

  it('makes a volume pinned to the node and pre-bound to the claim', () => {
    const pv = volumeFor(claim({ node: 'gpu-1' }), 'gpu-1');
    expect(pv.spec!.claimRef).toMatchObject({ namespace: 'vdi-sessions', name: 'home-alice', uid: 'u-1' });
    expect(pv.spec!.capacity).toEqual({ storage: '10Gi' });
    expect(pv.spec!.nodeAffinity!.required!.nodeSelectorTerms[0]!.matchExpressions![0]!.values).toEqual([
      'gpu-1',
    ]);
    expect(pv.spec!.persistentVolumeReclaimPolicy).toBe('Delete');
  });
});

describe('local-path on the real node', () => {
  it('makes the volume a folder of the storage directory that must exist', () => {
    const pv = volumeFor(claim({ node: 'vdi-worker-1' }), 'vdi-worker-1', '/state/cluster/storage');
    expect(pv.spec!.hostPath).toEqual({ path: '/state/cluster/storage/pvc-u-1', type: 'Directory' });
    expect(realNodeFolder(pv, '/state/cluster/storage')).toBe('/state/cluster/storage/pvc-u-1');
  });

  it('keeps kwok volumes as stand-ins and never treats them (or paths outside the folder) as its own', () => {
    const kwok = volumeFor(claim({ node: 'gpu-1' }), 'gpu-1');
    expect(kwok.spec!.hostPath!.type).toBe('DirectoryOrCreate');
    expect(realNodeFolder(kwok, '/state/cluster/storage')).toBeUndefined();
    const outside = volumeFor(claim({ node: 'n' }), 'n', '/state/cluster/storage');
    outside.spec!.hostPath!.path = '/state/cluster/storage/../etc';
    expect(realNodeFolder(outside, '/state/cluster/storage')).toBeUndefined();
    outside.spec!.hostPath!.path = '/state/cluster/storage';
    expect(realNodeFolder(outside, '/state/cluster/storage')).toBeUndefined();
    expect(realNodeFolder(kwok, undefined)).toBeUndefined();
  });
});
