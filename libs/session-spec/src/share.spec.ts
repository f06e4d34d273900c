import type { VDIShare } from '@vdi/crd-types';
import { sessionPassword } from './secrets.js';
import {
  DEFAULT_SHARE_MAX_SECONDS,
  expiryProblem,
  grantedRole,
  labelValue,
  shareInputProblem,
  shareIsLive,
  shareName,
  shareNames,
  viewOnlyAuthorization,
  viewOnlyPassword,
  viewOnlyPasswordFor,
} from './share.js';

const KEY = 'k'.repeat(40);
const NOW = Date.parse('2030-01-01T12:00:00Z');
const sharer = { username: 'alice', subject: 'sub-alice' };

function share(
  name: string,
  spec: Partial<VDIShare['spec']>,
  meta: Partial<VDIShare['metadata']> = {},
): VDIShare {
  return {
    apiVersion: 'vdi.kasm.io/v1alpha1',
    kind: 'VDIShare',
    metadata: { name, uid: `uid-${name}`, ...meta },
    spec: {
      session: 's1',
      grantee: { user: 'bob' },
      role: 'view',
      expiresAt: '2030-01-01T13:00:00Z',
      ...spec,
    },
  };
}

describe('view-only password', () => {
  it('is derived from the session password: stable, per session, never the password itself', () => {
    const a = viewOnlyPassword(KEY, 'uid-a');
    expect(viewOnlyPassword(KEY, 'uid-a')).toBe(a);
    expect(viewOnlyPassword(KEY, 'uid-b')).not.toBe(a);
    expect(a).not.toBe(sessionPassword(KEY, 'uid-a'));
    expect(viewOnlyPasswordFor(sessionPassword(KEY, 'uid-a'))).toBe(a);
    expect(a).toHaveLength(32);
  });

  it('makes a Basic header for the desktop user', () => {
    const h = viewOnlyAuthorization(KEY, 'uid-a');
    expect(Buffer.from(h.replace(/^Basic /, ''), 'base64').toString()).toBe(
      `vdi:${viewOnlyPassword(KEY, 'uid-a')}`,
    );
  });

  it('refuses to derive from a short password', () => {
    expect(() => viewOnlyPasswordFor('short')).toThrow(/session password/);
  });
});

describe('shareInputProblem', () => {
  const ok = { session: 's1', user: 'bob', role: 'view', expiresAt: '2030-01-01T13:00:00Z' };
  it('accepts a user or a group, a role and an expiry within the maximum', () => {
    expect(shareInputProblem(ok, sharer, NOW)).toBeUndefined();
    expect(
      shareInputProblem({ ...ok, user: undefined, group: 'team-a', role: 'control' }, sharer, NOW),
    ).toBeUndefined();
  });
  it.each([
    [{ user: undefined }, /exactly one of user or group/],
    [{ group: 'team-a' }, /exactly one of user or group/],
    [{ user: 'alice' }, /with yourself/],
    [{ user: 'sub-alice' }, /with yourself/],
    [{ role: 'admin' }, /role 'admin' is not one of view, control/],
    [{ expiresAt: 'tomorrow' }, /not an RFC 3339 time/],
    [{ expiresAt: '2030-01-01T11:59:59Z' }, /in the past/],
    [{ expiresAt: '2030-01-01T12:00:00Z' }, /in the past/],
    [{ expiresAt: '2030-01-08T12:00:01Z' }, /more than 7 day\(s\) ahead/],
  ])('refuses %j', (change, why) => {
    expect(shareInputProblem({ ...ok, ...change }, sharer, NOW)).toMatch(why);
  });
  it('takes the maximum given', () => {
    expect(expiryProblem('2030-01-01T14:00:00Z', NOW, 3600)).toMatch(/1 hour\(s\)/);
    expect(expiryProblem('2030-01-08T12:00:00Z', NOW, DEFAULT_SHARE_MAX_SECONDS)).toBeUndefined();
  });
});

describe('which share admits whom', () => {
  const bob = { subject: 'sub-bob', username: 'bob', groups: ['team-a'] };
  it('is live until expiresAt, and not while being deleted', () => {
    const s = share('a', {});
    expect(shareIsLive(s, NOW)).toBe(true);
    expect(shareIsLive(s, Date.parse('2030-01-01T13:00:00Z'))).toBe(false);
    expect(shareIsLive(share('b', {}, { deletionTimestamp: new Date(NOW) }), NOW)).toBe(false);
  });
  it('names a user by subject when it has one, else by username; a group by membership', () => {
    expect(shareNames({ user: 'bob' }, bob)).toBe(true);
    expect(shareNames({ user: 'bob', subject: 'sub-bob' }, bob)).toBe(true);
    // A later account named bob is not the grantee.
    expect(shareNames({ user: 'bob', subject: 'sub-old-bob' }, bob)).toBe(false);
    expect(shareNames({ group: 'team-a' }, bob)).toBe(true);
    expect(shareNames({ group: 'team-b' }, bob)).toBe(false);
    expect(shareNames({ user: 'carol' }, bob)).toBe(false);
  });
  it('gives the strongest live role, and nothing from expired shares', () => {
    const view = share('v', { role: 'view' });
    const control = share('c', { role: 'control', grantee: { group: 'team-a' } });
    const expired = share('x', { role: 'control', expiresAt: '2030-01-01T11:00:00Z' });
    expect(grantedRole([view, expired], bob, NOW)?.role).toBe('view');
    expect(grantedRole([view, control], bob, NOW)).toEqual({ role: 'control', share: control });
    expect(grantedRole([expired], bob, NOW)).toBeUndefined();
    expect(grantedRole([view], { ...bob, subject: 'x', username: 'carol' }, NOW)).toBeUndefined();
  });
});

describe('names and labels', () => {
  it('one share name per (session, grantee)', () => {
    expect(shareName('s1', { user: 'bob' })).toBe(shareName('s1', { user: 'bob' }));
    expect(shareName('s1', { user: 'bob' })).not.toBe(shareName('s1', { group: 'bob' }));
    expect(shareName('s1', { user: 'bob' })).toMatch(/^s1-share-[0-9a-f]{10}$/);
  });
  it('keeps valid label values and makes others valid', () => {
    expect(labelValue('bob')).toBe('bob');
    for (const v of ['bob@example.com', '/team a/x', '-x-', 'é'.repeat(80)]) {
      const l = labelValue(v);
      expect(l).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/);
      expect(labelValue(v)).toBe(l);
    }
    expect(labelValue('a@x')).not.toBe(labelValue('a#x'));
  });
});
