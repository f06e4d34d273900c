import { ConfigError, loadOperatorConfig } from './config.js';

const KEY = '9c2e7a4f1b8d3e6a0c5f2b9e7d4a1c8f';
const base = { VDI_TURN_HOST: 'turn.example.com', VDI_TURN_RELAY_CIDRS: '10.0.0.0/24', VDI_SESSION_KEY: KEY };

describe('loadOperatorConfig', () => {
  it('has working defaults once the TURN server is named', () => {
    const c = loadOperatorConfig({ ...base, VDI_POD_NAME: 'op-0' });
    expect(c.sessionsNamespace).toBe('vdi-sessions');
    expect(c.platform).toMatchObject({
      baseDomain: 'vdi.localhost',
      publicScheme: 'https',
      accessMode: 'forwardAuth',
      entryPoints: ['websecure'],
      gpuResourceName: 'nvidia.com/gpu',
      runtimeClassName: 'nvidia',
      storageClassName: 'local-path',
      turn: { host: 'turn.example.com', port: 3478, protocol: 'udp' },
      turnRelayCidrs: ['10.0.0.0/24'],
      ingress: { namespace: 'kube-system', podLabels: { 'app.kubernetes.io/name': 'traefik' } },
    });
    expect(c.turnSecretRef).toEqual({ namespace: 'vdi-system', name: 'vdi-turn', key: 'static-auth-secret' });
    expect(c.leaderElection).toMatchObject({ enabled: true, identity: 'op-0', leaseSeconds: 10 });
    expect(c.platform.tls).toEqual({});
    expect(c).toMatchObject({ sessionKey: KEY, environment: 'production', turnCredentialTtlSeconds: 3600 });
  });

  it('writes every template status by default; off, or only templates matching a label selector', () => {
    expect(loadOperatorConfig(base)).toMatchObject({
      templateStatus: 'all',
      usageIntervalSeconds: 60,
      usageCheckpointSeconds: 900,
      budgetWarnSeconds: 900,
    });
    expect(loadOperatorConfig({ ...base, VDI_TEMPLATE_STATUS: 'off' }).templateStatus).toBe('off');
    expect(
      loadOperatorConfig({ ...base, VDI_TEMPLATE_STATUS: 'vdi.kasm.io/install=blue, tier=gpu' })
        .templateStatus,
    ).toEqual({ 'vdi.kasm.io/install': 'blue', tier: 'gpu' });
    expect(() => loadOperatorConfig({ ...base, VDI_TEMPLATE_STATUS: 'blue' })).toThrow(
      /VDI_TEMPLATE_STATUS=blue: 'blue' is not key=value; use all, off or key=value/,
    );
    expect(() => loadOperatorConfig({ ...base, VDI_USAGE_INTERVAL_SECONDS: '0' })).toThrow(
      /VDI_USAGE_INTERVAL_SECONDS=0 must be an integer from 1 to 3600/,
    );
  });

  it('accepts a placeholder session key only in the dev environment', () => {
    const placeholder = { VDI_SESSION_KEY: 'dev-only-session-key-replace-me-0123456789abcdef' };
    expect(() => loadOperatorConfig({ ...base, ...placeholder })).toThrow(
      /VDI_SESSION_KEY is unfit: .*placeholder/,
    );
    expect(loadOperatorConfig({ ...base, ...placeholder, VDI_ENVIRONMENT: 'dev' }).sessionKey).toBe(
      placeholder.VDI_SESSION_KEY,
    );
  });

  it('serves TURN credentials on the operator pods by default, or names a host process by address', () => {
    const c = loadOperatorConfig(base);
    expect(c.turnRestListen).toEqual({ host: '0.0.0.0', port: 8444 });
    expect(c.platform.turnRest).toEqual({
      url: 'http://vdi-turn-rest.vdi-system.svc.cluster.local:8444',
      peer: { namespace: 'vdi-system', podLabels: { 'app.kubernetes.io/name': 'vdi-operator' } },
    });
    const local = loadOperatorConfig({
      ...base,
      VDI_TURN_REST_URL: 'http://198.19.192.1:9100',
      VDI_TURN_REST_HOST: '198.19.192.1',
      VDI_TURN_REST_PORT: '9100',
      VDI_TURN_REST_PEER_CIDRS: '198.19.192.1/32',
    });
    expect(local.turnRestListen).toEqual({ host: '198.19.192.1', port: 9100 });
    expect(local.platform.turnRest.peer).toEqual({ cidrs: ['198.19.192.1/32'] });
  });

  it('offers TURN over TLS beside the UDP relay when a TLS port is set', () => {
    expect(loadOperatorConfig(base).platform.turnAlternatives).toBeUndefined();
    const c = loadOperatorConfig({ ...base, VDI_TURN_TLS_PORT: '443' });
    expect(c.platform.turnAlternatives).toEqual([
      { host: 'turn.example.com', port: 443, protocol: 'tcp', tls: true },
    ]);
  });

  it('lets an empty VDI_RUNTIME_CLASS or VDI_STORAGE_CLASS mean "cluster default"', () => {
    const c = loadOperatorConfig({ ...base, VDI_RUNTIME_CLASS: '', VDI_STORAGE_CLASS: '' });
    expect(c.platform.runtimeClassName).toBeUndefined();
    expect(c.platform.storageClassName).toBeUndefined();
  });

  it.each([
    [{ VDI_TURN_HOST: '' }, /VDI_TURN_HOST is required/],
    [{ VDI_TURN_RELAY_CIDRS: '' }, /VDI_TURN_RELAY_CIDRS is required/],
    [
      { VDI_URL_MODE: 'path' },
      /VDI_URL_MODE=path is not supported: .*one user's desktop page could read other desktops/,
    ],
    [{ VDI_TLS_SECRET: 'vdi-tls' }, /VDI_TLS_SECRET is no longer read: .*default TLSStore/],
    [{ VDI_SESSION_KEY: '' }, /VDI_SESSION_KEY is unfit: it is empty/],
    [{ VDI_SESSION_KEY: 'short' }, /VDI_SESSION_KEY is unfit: it has 5 characters/],
    [
      { VDI_TURN_CREDENTIAL_TTL_SECONDS: '86400' },
      /VDI_TURN_CREDENTIAL_TTL_SECONDS=86400 must be an integer from 600 to 3600/,
    ],
    [{ VDI_ENVIRONMENT: 'staging' }, /VDI_ENVIRONMENT=staging is not allowed/],
    [{ VDI_GPU_RESOURCE: 'amd.com/gpu' }, /VDI_GPU_RESOURCE/],
    [{ VDI_WORKERS: '0' }, /VDI_WORKERS=0 must be an integer from 1 to 64/],
    [{ VDI_SESSIONS_NAMESPACE: 'Bad_NS' }, /VDI_SESSIONS_NAMESPACE=Bad_NS/],
    [{ VDI_BASE_DOMAIN: 'http://x' }, /baseDomain/],
    [{ VDI_TURN_SECRET_REF: 'just-a-name' }, /VDI_TURN_SECRET_REF=just-a-name must be namespace\/name\/key/],
    [{ VDI_INGRESS_POD_LABELS: 'traefik' }, /VDI_INGRESS_POD_LABELS: 'traefik' is not key=value/],
    [{ VDI_TURN_REST_URL: 'vdi-turn-rest:8444' }, /turnRest.url (.* is not an absolute URL|must be http)/],
    [{ VDI_TURN_REST_URL: 'http://x:8444/?a=1' }, /must have no query/],
    [{ VDI_TURN_TLS_PORT: '70000' }, /VDI_TURN_TLS_PORT=70000 must be an integer from 1 to 65535/],
  ])('rejects %p naming the variable', (env, msg) => {
    expect(() => loadOperatorConfig({ ...base, ...env })).toThrow(ConfigError);
    expect(() => loadOperatorConfig({ ...base, ...env })).toThrow(msg);
  });
});
