import { chooseEncoder, hasNvenc, type GpuFacts } from './encoder.js';

describe('hasNvenc', () => {
  it.each([
    ['NVIDIA-L4', true],
    ['NVIDIA-L4-SHARED', true],
    ['Tesla-T4-SHARED', true],
    ['NVIDIA-A10', true],
    ['NVIDIA-A10G', true],
    ['NVIDIA-L40S', true],
    ['NVIDIA-RTX-A6000', true],
    ['NVIDIA-GeForce-RTX-4090', true],
    ['NVIDIA-A100-SXM4-40GB', false],
    ['NVIDIA-A100-SXM4-80GB-SHARED', false],
    ['NVIDIA-A30', false],
    ['NVIDIA-H100-80GB-HBM3', false],
    ['NVIDIA-H200', false],
    ['NVIDIA-L4X', false],
    ['unknown', false],
  ])('%s → %s', (product, want) => {
    expect(hasNvenc(product)).toBe(want);
  });
});

describe('chooseEncoder', () => {
  const facts = (l4Free: number, h100Free = 8): GpuFacts => ({
    products: [
      { product: 'NVIDIA-L4-SHARED', free: l4Free, total: 8 },
      { product: 'NVIDIA-H100-80GB-HBM3-SHARED', free: h100Free, total: 8 },
    ],
  });

  it.each([
    ['auto', 1, facts(1), { encoder: 'nvh264enc', gpuProducts: ['NVIDIA-L4-SHARED'] }],
    ['auto', 1, facts(0), { encoder: 'x264enc' }],
    ['auto', 1, facts(0, 0), { encoder: 'x264enc' }],
    ['auto', 0, facts(8), { encoder: 'x264enc' }],
    ['x264enc', 1, facts(8), { encoder: 'x264enc' }],
    ['nvh264enc', 1, facts(0), { encoder: 'nvh264enc', gpuProducts: ['NVIDIA-L4-SHARED'] }],
    ['vp9enc', 0, facts(0), { encoder: 'vp9enc' }],
  ] as const)('%s with gpu %i → %j', (requested, gpu, f, plan) => {
    expect(chooseEncoder(requested, gpu, f)).toEqual(plan);
  });

  it('refuses NVENC for a session without GPU, and NVENC in a cluster without NVENC GPUs', () => {
    expect(() => chooseEncoder('nvh264enc', 0, facts(8))).toThrow(/no GPU/);
    expect(() =>
      chooseEncoder('nvh264enc', 1, {
        products: [{ product: 'NVIDIA-H100-80GB-HBM3-SHARED', free: 8, total: 8 }],
      }),
    ).toThrow(/no GPU node in the cluster has NVENC \(GPUs here: NVIDIA-H100-80GB-HBM3\)/);
  });
});
