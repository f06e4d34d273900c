import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('fills defaults around the issuer', () => {
    const c = loadConfig({ VDI_OIDC_ISSUER: 'http://localhost:8180/realms/vdi/' });
    expect(c).toEqual({
      oidcIssuer: 'http://localhost:8180/realms/vdi',
      oidcAudience: 'vdi-api',
      oidcJwksUri: 'http://localhost:8180/realms/vdi/protocol/openid-connect/certs',
      clockToleranceSeconds: 30,
      sessionsNamespace: 'vdi-sessions',
      maxSessionsPerUser: 3,
      maxGpusPerUser: 1,
      gpuResourceName: 'nvidia.com/gpu',
    });
    expect(
      loadConfig({ VDI_OIDC_ISSUER: 'http://x/', VDI_GPU_RESOURCE: 'nvidia.com/gpu.shared' }),
    ).toMatchObject({
      gpuResourceName: 'nvidia.com/gpu.shared',
    });
  });

  it('names every bad variable at once', () => {
    let err: unknown;
    try {
      loadConfig({
        VDI_SESSIONS_NAMESPACE: 'Not_A_Namespace',
        VDI_QUOTA_SESSIONS_PER_USER: 'three',
        VDI_QUOTA_GPUS_PER_USER: '-1',
        VDI_OIDC_JWKS_URI: 'ftp://x',
        VDI_GPU_RESOURCE: 'amd.com/gpu',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    for (const name of [
      'VDI_OIDC_ISSUER is required',
      'VDI_SESSIONS_NAMESPACE',
      'VDI_QUOTA_SESSIONS_PER_USER',
      'VDI_QUOTA_GPUS_PER_USER',
      'VDI_OIDC_JWKS_URI',
      'VDI_GPU_RESOURCE',
    ]) {
      expect(msg).toContain(name);
    }
  });
});
