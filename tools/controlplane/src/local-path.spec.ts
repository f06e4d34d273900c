import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { needsVolume, volumeFor } from './local-path.js';

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
