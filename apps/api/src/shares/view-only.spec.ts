import type { VDISession } from '@vdi/crd-types';
import { poolPodPassword, viewOnlyAuthorization, viewOnlyPasswordFor } from '@vdi/session-spec';
import { viewOnlyAuthorizationOf } from './view-only.js';

const KEY = 'k'.repeat(40);
const session = (desktopPod?: string) =>
  ({
    metadata: { name: 's1', uid: 'uid-1' },
    spec: {},
    ...(desktopPod ? { status: { desktopPod } } : {}),
  }) as unknown as VDISession;
const basic = (h: string) => Buffer.from(h.replace(/^Basic /, ''), 'base64').toString();

describe('viewOnlyAuthorizationOf', () => {
  it("is the session's own view-only password for a desktop of its own", () => {
    expect(viewOnlyAuthorizationOf(KEY, session())).toBe(viewOnlyAuthorization(KEY, 'uid-1'));
  });
  it("follows a claimed warm desktop's pod password", () => {
    expect(basic(viewOnlyAuthorizationOf(KEY, session('warm-cpu-abc123')))).toBe(
      `vdi:${viewOnlyPasswordFor(poolPodPassword(KEY, 'warm-cpu-abc123'))}`,
    );
  });
});
