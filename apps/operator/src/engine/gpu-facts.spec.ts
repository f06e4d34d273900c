import { gpuNode } from '@vdi/sim-nodes';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { eligible, gpuFacts } from './gpu-facts.js';

const ready = (n: V1Node): V1Node => ({
  ...n,
  status: { ...n.status, conditions: [{ type: 'Ready', status: 'True' }] },
});
const pod = (node: string, slices: number, phase = 'Running'): V1Pod => ({
  spec: {
    nodeName: node,
    containers: [{ name: 'd', resources: { limits: { 'nvidia.com/gpu': String(slices) } } }],
  },
  status: { phase },
});

describe('gpuFacts', () => {
  const l4 = ready(
    gpuNode({ name: 'l4', product: 'NVIDIA-L4', gpus: 1, replicas: 8, podCIDR: '198.18.1.0/24' }),
  );
  const h100 = ready(
    gpuNode({
      name: 'h100',
      product: 'NVIDIA-H100-80GB-HBM3',
      gpus: 2,
      replicas: 8,
      podCIDR: '198.18.2.0/24',
    }),
  );

  it('counts free slices per product from allocatable minus running pods', () => {
    const f = gpuFacts(
      [l4, h100],
      [pod('l4', 1), pod('l4', 1), pod('h100', 1), pod('l4', 1, 'Succeeded'), { spec: { containers: [] } }],
      'nvidia.com/gpu',
    );
    expect(f.products).toEqual([
      { product: 'NVIDIA-H100-80GB-HBM3-SHARED', free: 15, total: 16 },
      { product: 'NVIDIA-L4-SHARED', free: 6, total: 8 },
    ]);
    expect(f.free).toBe(21);
    expect(f.total).toBe(24);
  });

  it('gives a not-ready or cordoned node no free slices', () => {
    const down = { ...l4, status: { ...l4.status, conditions: [{ type: 'Ready', status: 'False' }] } };
    const cordoned = { ...h100, spec: { ...h100.spec, unschedulable: true } };
    const f = gpuFacts([down, cordoned], [], 'nvidia.com/gpu');
    expect(f.products).toEqual([{ product: 'NVIDIA-L4-SHARED', free: 0, total: 8 }]);
  });
});

describe('eligible', () => {
  const n = gpuNode({
    name: 'g',
    product: 'NVIDIA-L4',
    gpus: 1,
    replicas: 8,
    podCIDR: '198.18.1.0/24',
    labels: { pool: 'a' },
  });
  const gpuTol = { key: 'nvidia.com/gpu', operator: 'Exists' };
  it.each([
    [{ tolerations: [gpuTol] }, true],
    [{}, false],
    [{ tolerations: [gpuTol], nodeSelector: { pool: 'a' } }, true],
    [{ tolerations: [gpuTol], nodeSelector: { pool: 'b' } }, false],
    [{ tolerations: [gpuTol], gpuProducts: ['NVIDIA-L4-SHARED'] }, true],
    [{ tolerations: [gpuTol], gpuProducts: ['Tesla-T4-SHARED'] }, false],
    [{ tolerations: [{ operator: 'Exists' }] }, true],
    [
      { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'present', effect: 'NoSchedule' }] },
      true,
    ],
  ])('%j → %s', (placement, want) => {
    expect(eligible(n, placement)).toBe(want);
  });
});
