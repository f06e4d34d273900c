import { startPlan } from './plan.js';

describe('startPlan', () => {
  it('runs the embedded cluster by default', () => {
    const p = startPlan({});
    expect(p.cluster).toEqual({ kind: 'embedded' });
    expect(p.components).toContain('kube-apiserver');
  });
  it('uses the cluster KUBECONFIG points at and starts no control plane', () => {
    const p = startPlan({ KUBECONFIG: '/home/me/.kube/k3s.yaml' });
    expect(p.cluster).toEqual({ kind: 'external', kubeconfig: '/home/me/.kube/k3s.yaml' });
    expect(p.components).toEqual([]);
  });
  it('ignores an empty KUBECONFIG and honours VDI_EMBEDDED=1', () => {
    expect(startPlan({ KUBECONFIG: ' ' }).cluster.kind).toBe('embedded');
    expect(startPlan({ KUBECONFIG: '/x', VDI_EMBEDDED: '1' }).cluster.kind).toBe('embedded');
  });
});
