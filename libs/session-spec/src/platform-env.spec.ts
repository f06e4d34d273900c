import { envReader, PlatformEnvError, platformOptionsFromEnv } from './platform-env.js';
import { localOperatorEnv, sampleOptions } from './testing.js';

const base = { VDI_TURN_HOST: 'turn.example.com', VDI_TURN_RELAY_CIDRS: '10.0.0.0/24' };

describe('platformOptionsFromEnv', () => {
  it('fills every option not given with its default', () => {
    // The sample options are a production-like set; the defaults differ from them in these.
    expect(platformOptionsFromEnv(base)).toEqual({
      ...sampleOptions(),
      namespace: 'vdi-sessions',
      baseDomain: 'vdi.localhost',
      turn: { host: 'turn.example.com', port: 3478, protocol: 'udp' },
      api: { namespace: 'vdi-system', podLabels: { 'app.kubernetes.io/name': 'vdi-api' } },
      turnRelayCidrs: ['10.0.0.0/24'],
      clusterCidrs: ['10.42.0.0/16', '10.43.0.0/16'],
    });
  });

  it("renders the local test cluster's operator environment as plain http on its port", () => {
    const o = platformOptionsFromEnv(localOperatorEnv('bench-1', 'k'));
    expect(o).toMatchObject({
      namespace: 'bench-1',
      publicScheme: 'http',
      publicPort: 8081,
      entryPoints: ['web'],
      turn: { host: 'turn.vdi.localhost' },
      turnRelayCidrs: ['198.19.0.1/32'],
    });
    expect(o.tls).toBeUndefined();
  });

  it('reads addresses, TLS and alternatives', () => {
    const o = platformOptionsFromEnv({
      ...base,
      VDI_TURN_REST_PEER_CIDRS: '198.19.192.1/32',
      VDI_API_PEER_CIDRS: '198.19.192.1/32, 198.19.192.2/32',
      VDI_TLS_CERT_RESOLVER: 'le',
      VDI_TURN_TLS_PORT: '443',
      VDI_RUNTIME_CLASS: '',
      VDI_STORAGE_CLASS: '',
    });
    expect(o.turnRest.peer).toEqual({ cidrs: ['198.19.192.1/32'] });
    expect(o.api).toEqual({ cidrs: ['198.19.192.1/32', '198.19.192.2/32'] });
    expect(o.tls).toEqual({ certResolver: 'le' });
    expect(o.turnAlternatives).toEqual([{ host: 'turn.example.com', port: 443, protocol: 'tcp', tls: true }]);
    expect(o).not.toHaveProperty('runtimeClassName');
    expect(o).not.toHaveProperty('storageClassName');
  });

  it.each([
    [{ VDI_TURN_HOST: '' }, /VDI_TURN_HOST is required/],
    [{ VDI_TURN_RELAY_CIDRS: ' , ' }, /VDI_TURN_RELAY_CIDRS is required/],
    [
      { VDI_SESSIONS_NAMESPACE: 'Not_A_Label' },
      /VDI_SESSIONS_NAMESPACE=Not_A_Label is not a valid namespace/,
    ],
    [{ VDI_TURN_PORT: '70000' }, /VDI_TURN_PORT=70000 must be an integer from 1 to 65535/],
    [{ VDI_TURN_RELAY_PORTS: '10-' }, /VDI_TURN_RELAY_PORTS=10- must be coturn's relay port range/],
    [{ VDI_GPU_RESOURCE: 'amd.com/gpu' }, /VDI_GPU_RESOURCE=amd.com\/gpu is not allowed/],
    [{ VDI_DNS_POD_LABELS: 'k8s-app' }, /VDI_DNS_POD_LABELS: 'k8s-app' is not key=value/],
    [{ VDI_TURN_REST_URL: 'not a url' }, /invalid platform settings: turnRest.url/],
  ])('refuses %j, naming the variable', (env, message) => {
    expect(() => platformOptionsFromEnv({ ...base, ...env })).toThrow(message);
    expect(() => platformOptionsFromEnv({ ...base, ...env })).toThrow(PlatformEnvError);
  });

  it("throws the caller's error", () => {
    class Mine extends Error {}
    expect(() => platformOptionsFromEnv({}, (m) => new Mine(m))).toThrow(Mine);
    expect(() => envReader({ N: 'x' }, (m) => new Mine(m)).int('N', 1, 0, 2)).toThrow(Mine);
  });
});
