/**
 * The benchmark's floor and the test helpers render with platformOptionsFromEnv
 * (libs/session-spec); the operator must render with the very same options for the same
 * environment, or the floor would measure writing other objects than the operator's.
 */
import { platformOptionsFromEnv } from '@vdi/session-spec';
import { localOperatorEnv } from '@vdi/session-spec/testing';
import { loadOperatorConfig } from '../config.js';

const KEY = '0f7c2b9e4d1a6c8e3b5f7a9c1e3d5b7f9a2c4e6b8d0f1a3c5e7b9d2f4a6c8e0b';
const base = { VDI_TURN_HOST: 'turn.example.com', VDI_TURN_RELAY_CIDRS: '10.0.0.0/24', VDI_SESSION_KEY: KEY };

describe("the operator's platform options", () => {
  it.each([
    ['defaults', base],
    ['the local test cluster', localOperatorEnv('bench-1', KEY)],
    [
      'everything set',
      {
        ...base,
        VDI_SESSIONS_NAMESPACE: 'desks',
        VDI_BASE_DOMAIN: 'desk.example.org',
        VDI_PUBLIC_SCHEME: 'https',
        VDI_PUBLIC_PORT: '8443',
        VDI_ACCESS_MODE: 'basicAuth',
        VDI_FORWARD_AUTH_URL: 'http://api.example:4000/auth/session',
        VDI_ENTRYPOINTS: 'a, b',
        VDI_TLS_CERT_RESOLVER: 'le',
        VDI_GPU_RESOURCE: 'nvidia.com/gpu.shared',
        VDI_RUNTIME_CLASS: '',
        VDI_STORAGE_CLASS: 'fast',
        VDI_TURN_PORT: '3479',
        VDI_TURN_PROTOCOL: 'tcp',
        VDI_TURN_TLS: 'true',
        VDI_TURN_TLS_PORT: '443',
        VDI_TURN_TLS_HOST: 'turns.example.com',
        VDI_TURN_REST_URL: 'http://198.19.192.1:9100',
        VDI_TURN_REST_PEER_CIDRS: '198.19.192.1/32',
        VDI_API_PEER_CIDRS: '198.19.192.1/32',
        VDI_INGRESS_NAMESPACE: 'ingress',
        VDI_INGRESS_POD_LABELS: 'app=traefik,tier=edge',
        VDI_TURN_RELAY_PORTS: '40000-40100',
        VDI_CLUSTER_CIDRS: '10.0.0.0/8',
        VDI_DNS_NAMESPACE: 'dns',
        VDI_DNS_POD_LABELS: 'app=coredns',
        VDI_CPU_ENCODER_EXTRA_CPU: '3',
        VDI_TIMEZONE: 'Europe/Paris',
      },
    ],
    [
      'pods named by labels',
      {
        ...base,
        VDI_OPERATOR_NAMESPACE: 'ops',
        VDI_OPERATOR_POD_LABELS: 'app=op',
        VDI_API_NAMESPACE: 'apis',
        VDI_API_POD_LABELS: 'app=api',
      },
    ],
  ])('are platformOptionsFromEnv of its environment (%s)', (_, env) => {
    expect(loadOperatorConfig(env).platform).toEqual(platformOptionsFromEnv(env));
  });
});
