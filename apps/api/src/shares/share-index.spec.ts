import type { VDIShare } from '@vdi/crd-types';
import { ShareIndex } from './share-index.js';

function share(name: string, spec: Partial<VDIShare['spec']>, uid = `uid-${name}`): VDIShare {
  return {
    apiVersion: 'vdi.kasm.io/v1alpha1',
    kind: 'VDIShare',
    metadata: { name, uid },
    spec: {
      session: 's1',
      grantee: { user: 'bob' },
      role: 'view',
      expiresAt: '2030-01-01T13:00:00Z',
      ...spec,
    },
  };
}
const names = (it: Iterable<VDIShare>) => [...it].map((s) => s.metadata.name).sort();
const bob = { username: 'bob', subject: 'sub-bob', groups: ['team-a'] };

describe('ShareIndex', () => {
  it('finds shares by session and by grantee (user, subject, group) from the events', () => {
    const ix = new ShareIndex();
    ix.apply('add', share('a', {}));
    ix.apply('add', share('b', { session: 's2', grantee: { group: 'team-a' } }));
    ix.apply('add', share('c', { session: 's2', grantee: { user: 'robert', subject: 'sub-bob' } }));
    ix.apply('add', share('d', { grantee: { user: 'carol' } }));
    expect(names(ix.ofSession('s1'))).toEqual(['a', 'd']);
    expect(names(ix.ofSession('s2'))).toEqual(['b', 'c']);
    expect(names(ix.ofSession('none'))).toEqual([]);
    expect(names(ix.ofGrantee(bob))).toEqual(['a', 'b', 'c']);
    expect(ix.size).toBe(4);
  });

  it('moves a share on update and forgets it on delete', () => {
    const ix = new ShareIndex();
    ix.apply('add', share('a', {}));
    expect(ix.apply('update', share('a', { role: 'control' }))).toMatchObject({
      kind: 'roleChanged',
      closeRole: 'view',
    });
    expect([...ix.ofSession('s1')][0]!.spec.role).toBe('control');
    expect(
      ix.apply('update', share('a', { role: 'control', expiresAt: '2030-01-02T00:00:00Z' })),
    ).toMatchObject({
      kind: 'expiryChanged',
    });
    expect(ix.apply('update', share('a', { role: 'control', expiresAt: '2030-01-02T00:00:00Z' }))).toEqual({
      kind: 'none',
    });
    expect(ix.apply('delete', share('a', { role: 'view' }))).toMatchObject({
      kind: 'revoked',
      closeRole: 'control',
    });
    expect(names(ix.ofSession('s1'))).toEqual([]);
    expect(ix.ofGrantee(bob)).toEqual([]);
    expect(ix.size).toBe(0);
  });

  it('treats a share made again under the same name as a new grant', () => {
    const ix = new ShareIndex();
    ix.apply('add', share('a', {}));
    expect(ix.apply('update', share('a', { role: 'control' }, 'uid-new'))).toMatchObject({ kind: 'granted' });
    expect(ix.size).toBe(1);
  });
});
