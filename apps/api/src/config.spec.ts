import { ConfigError, loadConfig } from './config.js';

const KEY = '3f9a1c7e5b2d8f4a6c0e9b3d7f1a5c2e';
const COOKIE = '7d2b9f4e1a6c3e8b5f0a2d7c4e9b1f6a';

describe('loadConfig', () => {
  it('fills defaults around the issuer', () => {
    const c = loadConfig({ VDI_OIDC_ISSUER: 'http://localhost:8180/realms/vdi/', VDI_SESSION_KEY: KEY });
    expect(c).toEqual({
      oidcIssuer: 'http://localhost:8180/realms/vdi',
      oidcAudience: 'vdi-api',
      oidcJwksUri: 'http://localhost:8180/realms/vdi/protocol/openid-connect/certs',
      clockToleranceSeconds: 30,
      sessionsNamespace: 'vdi-sessions',
      maxSessionsPerUser: 3,
      maxGpusPerUser: 1,
      gpuBudgets: [],
      gpuResourceName: 'nvidia.com/gpu',
      portalUrl: 'http://localhost:3000',
      corsOrigins: [],
      access: {
        cookieSecret: expect.stringMatching(/^[0-9a-f]{64}$/),
        cookieSecretGenerated: true,
        ticketTtlSeconds: 60,
        cookieTtlSeconds: 43200,
        sessionKey: KEY,
        operatorLease: { namespace: 'vdi-system', name: 'vdi-operator' },
      },
      environment: 'production',
    });
    expect(
      loadConfig({
        VDI_OIDC_ISSUER: 'http://x/',
        VDI_SESSION_KEY: KEY,
        VDI_ACCESS_COOKIE_SECRET: COOKIE,
        VDI_CORS_ORIGINS: 'http://vdi.localhost:8081, https://vdi.example.com',
        VDI_PORTAL_URL: 'https://vdi.example.com/',
      }),
    ).toMatchObject({
      portalUrl: 'https://vdi.example.com',
      corsOrigins: ['http://vdi.localhost:8081', 'https://vdi.example.com'],
      access: { cookieSecret: COOKIE, cookieSecretGenerated: false },
    });
    expect(
      loadConfig({
        VDI_OIDC_ISSUER: 'http://x/',
        VDI_SESSION_KEY: KEY,
        VDI_GPU_RESOURCE: 'nvidia.com/gpu.shared',
      }),
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
        VDI_ACCESS_COOKIE_SECRET: 'short',
        VDI_CORS_ORIGINS: 'http://vdi.localhost/path',
        VDI_ACCESS_TICKET_TTL_SECONDS: '1',
        VDI_SESSION_KEY: 'change-me-please-0123456789abcdef',
        VDI_GPU_BUDGETS: 'default=40h/month; everyone=1h/day',
        VDI_OPERATOR_LEASE: 'vdi-operator',
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
      'VDI_ACCESS_COOKIE_SECRET must be at least 32 characters',
      "VDI_CORS_ORIGINS: 'http://vdi.localhost/path' is not an origin",
      'VDI_ACCESS_TICKET_TTL_SECONDS',
      'VDI_SESSION_KEY is unfit: it is a placeholder',
      "VDI_GPU_BUDGETS: 'everyone=1h/day' must start with default=",
      "VDI_OPERATOR_LEASE: 'vdi-operator' is not namespace/name of a Lease",
    ]) {
      expect(msg).toContain(name);
    }
  });

  it('refuses a missing or weak session key, and placeholders outside VDI_ENVIRONMENT=dev', () => {
    const issuer = { VDI_OIDC_ISSUER: 'http://x/' };
    expect(() => loadConfig(issuer)).toThrow(/VDI_SESSION_KEY is unfit: it is empty/);
    expect(() => loadConfig({ ...issuer, VDI_SESSION_KEY: 'abc' })).toThrow(/it has 3 characters/);
    const placeholder = { ...issuer, VDI_SESSION_KEY: 'dev-only-session-key-replace-me-0123456789abcdef' };
    expect(() => loadConfig(placeholder)).toThrow(/placeholders are accepted only with VDI_ENVIRONMENT=dev/);
    expect(loadConfig({ ...placeholder, VDI_ENVIRONMENT: 'dev' }).environment).toBe('dev');
    expect(() =>
      loadConfig({ ...issuer, VDI_SESSION_KEY: KEY, VDI_ACCESS_COOKIE_SECRET: 'x'.repeat(40) }),
    ).toThrow(/VDI_ACCESS_COOKIE_SECRET is unfit: it is a placeholder/);
  });
});
