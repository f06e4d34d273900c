import type { V1Pod } from '@kubernetes/client-node';
import { desktopBaseUrl } from './desktop-api.js';

const pod = (status: V1Pod['status'], deleting = false): V1Pod => ({
  metadata: { name: 'alice-1', ...(deleting ? { deletionTimestamp: new Date() } : {}) },
  status,
});

describe('desktopBaseUrl', () => {
  it("is a running pod's address on the desktop port (IPv6 in brackets)", () => {
    expect(desktopBaseUrl(pod({ phase: 'Running', podIP: '198.19.192.7' }))).toBe('http://198.19.192.7:8080');
    expect(desktopBaseUrl(pod({ phase: 'Running', podIP: 'fd00::7' }))).toBe('http://[fd00::7]:8080');
  });

  it('is undefined for a pod without an address, not running, or being deleted', () => {
    expect(desktopBaseUrl(undefined)).toBeUndefined();
    expect(desktopBaseUrl(pod({ phase: 'Pending' }))).toBeUndefined();
    expect(desktopBaseUrl(pod({ phase: 'Pending', podIP: '198.19.192.7' }))).toBeUndefined();
    expect(desktopBaseUrl(pod({ phase: 'Running', podIP: '198.19.192.7' }, true))).toBeUndefined();
  });
});
