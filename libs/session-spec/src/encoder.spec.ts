import { chooseEncoder, hasNvenc, parseEncoderPlan, type GpuFacts } from './encoder.js';

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
    ['auto', 1, facts(1), { encoder: 'h264enc', device: 'nvenc', gpuProducts: ['NVIDIA-L4-SHARED'] }],
    ['h264enc', 1, facts(1), { encoder: 'h264enc', device: 'nvenc', gpuProducts: ['NVIDIA-L4-SHARED'] }],
    ['auto', 1, facts(0), { encoder: 'h264enc', device: 'cpu' }],
    ['auto', 1, facts(0, 0), { encoder: 'h264enc', device: 'cpu' }],
    ['auto', 0, facts(8), { encoder: 'h264enc', device: 'cpu' }],
    ['h264enc', 0, facts(8), { encoder: 'h264enc', device: 'cpu' }],
    ['vp9enc', 1, facts(8), { encoder: 'vp9enc', device: 'cpu' }],
    ['jpeg', 0, facts(0), { encoder: 'jpeg', device: 'cpu' }],
  ] as const)('%s with gpu %i → %j', (requested, gpu, f, plan) => {
    expect(chooseEncoder(requested, gpu, f)).toEqual(plan);
  });

  it('encodes H.264 on the CPU in a cluster without NVENC GPUs', () => {
    expect(
      chooseEncoder('h264enc', 1, {
        products: [{ product: 'NVIDIA-H100-80GB-HBM3-SHARED', free: 8, total: 8 }],
      }),
    ).toEqual({ encoder: 'h264enc', device: 'cpu' });
  });

  it('reads back only plans this version wrote', () => {
    const plan = { encoder: 'h264enc', device: 'nvenc', gpuProducts: ['NVIDIA-L4-SHARED'] } as const;
    expect(parseEncoderPlan(JSON.stringify(plan))).toEqual(plan);
    expect(parseEncoderPlan('{"encoder":"nvh264enc"}')).toBeUndefined();
    expect(parseEncoderPlan('{"encoder":"h264enc","device":"gpu"}')).toBeUndefined();
    expect(parseEncoderPlan('not json')).toBeUndefined();
    expect(parseEncoderPlan(undefined)).toBeUndefined();
  });
});
