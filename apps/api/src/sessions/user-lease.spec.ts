import { leaseExpired, userLeaseName, type LeaseObject } from './user-lease.js';

const lease = (renewTime: string | undefined, seconds = 15): LeaseObject => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: 'l', namespace: 'n' },
  spec: { ...(renewTime ? { renewTime } : {}), leaseDurationSeconds: seconds },
});

describe('user leases', () => {
  it('expire once their holder has not renewed within the duration', () => {
    const t = Date.parse('2026-11-29T10:00:00.000000Z');
    expect(leaseExpired(lease('2026-11-29T10:00:00.000000Z'), t + 14_000)).toBe(false);
    expect(leaseExpired(lease('2026-11-29T10:00:00.000000Z'), t + 16_000)).toBe(true);
    expect(leaseExpired(lease(undefined), t)).toBe(true);
  });

  it('are named per user, as DNS labels that do not reveal the user', () => {
    const a = userLeaseName('alice@example.com');
    expect(a).toMatch(/^vdi-quota-[a-z0-9]+$/);
    expect(a).not.toContain('alice');
    expect(userLeaseName('bob@example.com')).not.toBe(a);
    expect(userLeaseName('alice@example.com')).toBe(a);
  });
});
