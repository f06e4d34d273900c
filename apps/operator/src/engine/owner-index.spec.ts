import type { VDISession } from '@vdi/crd-types';
import { ownerHash } from '@vdi/session-spec';
import { OwnerIndex } from './owner-index.js';

const alice = { issuer: 'https://idp', subject: 'alice' };
const bob = { issuer: 'https://idp', subject: 'bob' };
const session = (name: string, owner: typeof alice, namespace = 'vdi'): VDISession =>
  ({
    apiVersion: 'vdi.kasm.io/v1alpha1',
    kind: 'VDISession',
    metadata: { name, namespace },
    spec: { user: `${owner.subject}@example.com`, owner, template: 'xfce' },
  }) as VDISession;

describe('OwnerIndex', () => {
  it("gives each owner's cached sessions, and forgets those that leave", () => {
    const index = new OwnerIndex();
    index.set(session('a1', alice));
    index.set(session('b1', bob));
    index.set(session('a2', alice));
    index.set(session('a1', alice, 'other'));
    // An update of a session already indexed changes nothing.
    index.set(session('a1', alice));
    expect(index.keys(ownerHash(alice))).toEqual(['vdi/a1', 'vdi/a2', 'other/a1']);
    expect(index.keys(ownerHash(bob))).toEqual(['vdi/b1']);
    index.delete(session('a1', alice));
    expect(index.keys(ownerHash(alice))).toEqual(['vdi/a2', 'other/a1']);
    // A session never indexed, or deleted twice: nothing else moves.
    index.delete(session('zz', bob));
    index.delete(session('a1', alice));
    expect(index.keys(ownerHash(bob))).toEqual(['vdi/b1']);
    expect(index.keys('no-such-owner')).toEqual([]);
  });

  it('moves a session whose owner changed to its new owner', () => {
    const index = new OwnerIndex();
    index.set(session('s1', alice));
    index.set(session('s1', bob));
    expect(index.keys(ownerHash(alice))).toEqual([]);
    expect(index.keys(ownerHash(bob))).toEqual(['vdi/s1']);
  });
});
