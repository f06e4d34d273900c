import { startPlan } from './plan.js';

describe('startPlan', () => {
  it('runs the embedded cluster and the whole access path by default', () => {
    const p = startPlan({});
    expect(p.cluster).toEqual({ kind: 'embedded' });
    expect(p.components).toEqual(
      expect.arrayContaining([
        'kube-apiserver',
        'kwok',
        'operator',
        'api',
        'portal',
        'traefik',
        'desktop stand-ins',
      ]),
    );
  });
  it('uses the cluster KUBECONFIG points at and starts only the platform’s own processes', () => {
    const p = startPlan({ KUBECONFIG: '/home/me/.kube/k3s.yaml' });
    expect(p.cluster).toEqual({ kind: 'external', kubeconfig: '/home/me/.kube/k3s.yaml' });
    expect(p.components).toEqual(['keycloak', 'coturn', 'operator', 'api', 'portal']);
  });
  it('ignores an empty KUBECONFIG and honours VDI_EMBEDDED=1', () => {
    expect(startPlan({ KUBECONFIG: ' ' }).cluster.kind).toBe('embedded');
    expect(startPlan({ KUBECONFIG: '/x', VDI_EMBEDDED: '1' }).cluster.kind).toBe('embedded');
  });
});
