import type { VDITemplate } from '@vdi/crd-types';
import { templateStatus } from './template-status.js';

const template = (resources: Record<string, unknown>, status?: VDITemplate['status']): VDITemplate =>
  ({
    apiVersion: 'vdi.kasm.io/v1alpha1',
    kind: 'VDITemplate',
    metadata: { name: 'xfce', generation: 3 },
    spec: { displayName: 'XFCE', image: 'ghcr.io/example/desktop:1', resources },
    ...(status ? { status } : {}),
  }) as VDITemplate;
const now = new Date('2026-12-04T12:00:00Z');

describe('templateStatus', () => {
  it('a template a default session resolves from is ready, with its session count', () => {
    const s = templateStatus(template({ defaultGPU: 1, maxGPU: 1 }), 4, now);
    expect(s).toEqual({
      observedGeneration: 3,
      ready: true,
      sessions: 4,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Valid',
          message: 'sessions can be created from this template',
          lastTransitionTime: '2026-12-04T12:00:00Z',
          observedGeneration: 3,
        },
      ],
    });
  });

  it('a template whose defaults break its own bounds is not ready, and says what to fix', () => {
    const s = templateStatus(template({ defaultGPU: 1, maxGPU: 0 }), 0, now);
    expect(s.ready).toBe(false);
    expect(s.message).toMatch(
      /^the template cannot become a desktop: .*GPU.*; fix its spec \(kubectl edit vditemplate xfce\)$/,
    );
    expect(s.conditions?.[0]).toMatchObject({ status: 'False', reason: 'Invalid', message: s.message });
  });

  it('keeps the time of the last transition while Ready does not change', () => {
    const first = templateStatus(template({}), 0, now);
    const later = templateStatus(template({}, first), 2, new Date('2026-12-04T13:00:00Z'));
    expect(later.conditions?.[0]?.lastTransitionTime).toBe('2026-12-04T12:00:00Z');
    const broken = templateStatus(
      template({ defaultGPU: 1, maxGPU: 0 }, later),
      2,
      new Date('2026-12-04T14:00:00Z'),
    );
    expect(broken.conditions?.[0]?.lastTransitionTime).toBe('2026-12-04T14:00:00Z');
  });
});
