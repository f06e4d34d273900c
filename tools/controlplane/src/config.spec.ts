import { loadConfig, parseGpuNodes } from './config.js';

describe('parseGpuNodes', () => {
  it('reads PRODUCT[:GPUS] entries', () => {
    expect(parseGpuNodes('NVIDIA-L4:1, NVIDIA-H100-80GB-HBM3:2,Tesla-T4')).toEqual([
      { product: 'NVIDIA-L4', gpus: 1 },
      { product: 'NVIDIA-H100-80GB-HBM3', gpus: 2 },
      { product: 'Tesla-T4', gpus: 1 },
    ]);
  });
  it('accepts no GPU nodes', () => {
    expect(parseGpuNodes('none')).toEqual([]);
    expect(parseGpuNodes('')).toEqual([]);
  });
  it.each(['L4:0', 'L4:17', 'L4:x', ':1', 'a b'])('rejects %p with a message that shows the format', (s) => {
    expect(() => parseGpuNodes(s)).toThrow(/PRODUCT\[:GPUS\]|1 to 16/);
  });
});

describe('loadConfig', () => {
  it('defaults to an L4 node and an H100 node with 8 slices per GPU', () => {
    const c = loadConfig({});
    expect(c.replicas).toBe(8);
    expect(c.gpuNodes.map((g) => g.product)).toEqual(['NVIDIA-L4', 'NVIDIA-H100-80GB-HBM3']);
    expect(c.podCidr).toBe('198.18.0.0/16');
  });
  it('names the variable of an invalid port', () => {
    expect(() => loadConfig({ VDI_APISERVER_PORT: 'abc' } as NodeJS.ProcessEnv)).toThrow(
      /VDI_APISERVER_PORT/,
    );
  });
});
