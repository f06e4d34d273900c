import { ConfigError, loadOperatorConfig } from './config.js';

describe('loadOperatorConfig', () => {
  it('has working defaults', () => {
    expect(loadOperatorConfig({})).toEqual({
      sessionsNamespace: 'vdi-sessions',
      baseDomain: 'vdi.localhost',
      urlMode: 'host',
      gpuResourceName: 'nvidia.com/gpu',
      workers: 4,
      startDeadlineSeconds: 300,
      metricsPort: 8080,
    });
  });
  it.each([
    [{ VDI_URL_MODE: 'subdomain' }, /VDI_URL_MODE=subdomain.*host, path/],
    [{ VDI_GPU_RESOURCE: 'amd.com/gpu' }, /VDI_GPU_RESOURCE/],
    [{ VDI_WORKERS: '0' }, /VDI_WORKERS=0 must be an integer from 1 to 64/],
    [{ VDI_SESSIONS_NAMESPACE: 'Bad_NS' }, /VDI_SESSIONS_NAMESPACE=Bad_NS/],
    [{ VDI_BASE_DOMAIN: 'http://x' }, /VDI_BASE_DOMAIN/],
  ])('rejects %p naming the variable', (env, msg) => {
    expect(() => loadOperatorConfig(env)).toThrow(ConfigError);
    expect(() => loadOperatorConfig(env)).toThrow(msg);
  });
});
