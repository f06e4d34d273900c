import { controlNode, defaultNodes, gpuNode, productSlug } from './nodes.js';

describe('gpuNode', () => {
  it.each([
    [1, 8, '8'],
    [2, 8, '16'],
    [4, 4, '16'],
  ])('advertises %i GPU(s) × %i replicas as nvidia.com/gpu=%s', (gpus, replicas, slices) => {
    const n = gpuNode({ name: 'g', product: 'NVIDIA-L4', gpus, replicas, podCIDR: '198.18.1.0/24' });
    expect(n.status!.capacity!['nvidia.com/gpu']).toBe(slices);
    expect(n.status!.allocatable!['nvidia.com/gpu']).toBe(slices);
    expect(n.metadata!.labels!['nvidia.com/gpu.count']).toBe(String(gpus));
    expect(n.metadata!.labels!['nvidia.com/gpu.replicas']).toBe(String(replicas));
  });

  it('carries the GFD labels of a time-sliced, not renamed GPU and the GPU taint', () => {
    const n = gpuNode({
      name: 'g',
      product: 'NVIDIA-H100-80GB-HBM3',
      gpus: 1,
      replicas: 8,
      podCIDR: '198.18.1.0/24',
    });
    expect(n.metadata!.labels).toMatchObject({
      'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3-SHARED',
      'nvidia.com/gpu.sharing-strategy': 'time-slicing',
      'nvidia.com/gpu.memory': '81559',
    });
    expect(n.metadata!.annotations!['kwok.x-k8s.io/node']).toBe('fake');
    expect(n.spec!.taints).toEqual([{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }]);
  });

  it('adds extra labels and taints after the GPU ones', () => {
    const n = gpuNode({
      name: 'g',
      product: 'Tesla-T4',
      gpus: 1,
      replicas: 8,
      podCIDR: '198.18.1.0/24',
      labels: { x: 'y' },
      taints: [{ key: 't', effect: 'NoExecute' }],
    });
    expect(n.metadata!.labels!.x).toBe('y');
    expect(n.spec!.taints!.map((t) => t.key)).toEqual(['nvidia.com/gpu', 't']);
  });
});

describe('controlNode', () => {
  it('has no GPU and no taint', () => {
    const n = controlNode('c', '198.18.0.0/24');
    expect(n.status!.capacity!['nvidia.com/gpu']).toBeUndefined();
    expect(n.spec!.taints).toBeUndefined();
  });
});

describe('defaultNodes', () => {
  it('makes a control node plus one node per GPU entry, with distinct names and pod CIDRs', () => {
    const nodes = defaultNodes(
      [
        { product: 'NVIDIA-L4', gpus: 1 },
        { product: 'NVIDIA-L4', gpus: 2 },
        { product: 'NVIDIA-H100-80GB-HBM3', gpus: 1 },
      ],
      8,
    );
    expect(nodes.map((n) => n.metadata!.name)).toEqual([
      'vdi-control',
      'vdi-gpu-nvidia-l4-0',
      'vdi-gpu-nvidia-l4-1',
      'vdi-gpu-nvidia-h100-80gb-hbm3-0',
    ]);
    expect(new Set(nodes.map((n) => n.spec!.podCIDR)).size).toBe(4);
  });
});

describe('productSlug', () => {
  it('makes a DNS label from a product name', () => {
    expect(productSlug('NVIDIA A100 (SXM4)')).toBe('nvidia-a100-sxm4');
  });
});

describe('nodePodCidr', () => {
  it('gives each node its own /24 of the pod range', async () => {
    const { nodePodCidr, defaultNodes } = await import('./nodes.js');
    expect(nodePodCidr('198.18.0.0/16', 0)).toBe('198.18.0.0/24');
    expect(nodePodCidr('198.19.0.0/17', 2)).toBe('198.19.2.0/24');
    expect(() => nodePodCidr('198.19.0.0/25', 0)).toThrow(/\/24 or larger/);
    expect(() => nodePodCidr('198.19.0.0/23', 2)).toThrow(/room for 2 nodes/);
    expect(
      defaultNodes([{ product: 'NVIDIA-L4', gpus: 1 }], 8, '198.19.0.0/17').map((n) => n.spec!.podCIDR),
    ).toEqual(['198.19.0.0/24', '198.19.1.0/24']);
  });
});
