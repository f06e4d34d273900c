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

  it('are named per owner (issuer + subject), as DNS labels that reveal neither', () => {
    const issuer = 'https://id.example.com/realms/vdi';
    const a = userLeaseName({ issuer, subject: 'alice-subject' });
    expect(a).toMatch(/^vdi-quota-[0-9a-f]{16}$/);
    expect(a).not.toContain('alice');
    expect(userLeaseName({ issuer, subject: 'bob-subject' })).not.toBe(a);
    // A newcomer given alice's e-mail has another subject, so another lock and another quota.
    expect(userLeaseName({ issuer, subject: 'newcomer-subject' })).not.toBe(a);
    expect(userLeaseName({ issuer, subject: 'alice-subject' })).toBe(a);
  });
});
