/**
 * Fixtures for tests of the renderer and of its users (operator, API): a representative template,
 * session and platform options. Exported as `@vdi/session-spec/testing`; not for production code.
 */
import {
  API_VERSION,
  KIND_SESSION,
  KIND_TEMPLATE,
  withTemplateDefaults,
  type VDISession,
  type VDITemplate,
  type VDITemplateSpec,
} from '@vdi/crd-types';
import type { PlatformOptions } from './options.js';

export function sampleTemplate(name = 'ubuntu-desktop', spec: Partial<VDITemplateSpec> = {}): VDITemplate {
  return {
    apiVersion: API_VERSION,
    kind: KIND_TEMPLATE,
    metadata: { name, uid: '00000000-0000-4000-8000-00000000000a', generation: 1 },
    spec: withTemplateDefaults({
      image: 'ghcr.io/selkies-project/nvidia-egl-desktop:24.04',
      displayName: 'Ubuntu KDE',
      description: 'KDE Plasma desktop with GPU acceleration',
      ...spec,
      resources: {
        defaultGPU: 1,
        defaultMemory: '4Gi',
        defaultCPU: '2',
        maxGPU: 1,
        maxMemory: '16Gi',
        maxCPU: '8',
        ...spec.resources,
      },
    }),
  };
}

export function sampleSession(name = 'alice-1', spec: Partial<VDISession['spec']> = {}): VDISession {
  return {
    apiVersion: API_VERSION,
    kind: KIND_SESSION,
    metadata: { name, namespace: 'vdi-sessions', uid: '00000000-0000-4000-8000-000000000001', generation: 1 },
    spec: {
      user: 'alice@example.com',
      template: 'ubuntu-desktop',
      resources: { gpu: 1, memory: '4Gi' },
      ...spec,
    },
  };
}

export function sampleOptions(o: Partial<PlatformOptions> = {}): PlatformOptions {
  return {
    namespace: 'vdi-sessions',
    baseDomain: 'vdi.example.com',
    publicScheme: 'https',
    accessMode: 'forwardAuth',
    forwardAuthUrl: 'http://vdi-api.vdi-system.svc.cluster.local:4000/auth/session',
    entryPoints: ['websecure'],
    tls: {},
    gpuResourceName: 'nvidia.com/gpu',
    runtimeClassName: 'nvidia',
    storageClassName: 'local-path',
    turn: { host: 'turn.vdi.example.com', port: 3478, protocol: 'udp' },
    turnRest: {
      url: 'http://vdi-turn-rest.vdi-system.svc.cluster.local:8444',
      peer: { namespace: 'vdi-system', podLabels: { 'app.kubernetes.io/name': 'vdi-operator' } },
    },
    ingress: { namespace: 'kube-system', podLabels: { 'app.kubernetes.io/name': 'traefik' } },
    turnRelayCidrs: ['192.0.2.10/32'],
    turnRelayPorts: { min: 49152, max: 65535 },
    dns: { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } },
    cpuEncoderExtraCPU: '2',
    timeZone: 'UTC',
    ...o,
  };
}

/** A TURN REST key as turnRestKey would give it; a fixed value keeps golden files stable. */
export const sampleTurnRestKey = 'sample-turn-rest-key-not-a-real-hmac';

export const samplePassword = 'correct-horse-battery-staple-42';

/**
 * The operator's environment on the local test cluster (what the operator's integration tests
 * and the benchmark give it): sessions and its Lease in `namespace`, the local coturn's address,
 * plain http on port 8081. platformOptionsFromEnv of it is what that operator renders with.
 */
export function localOperatorEnv(namespace: string, sessionKey: string): Record<string, string> {
  return {
    VDI_SESSIONS_NAMESPACE: namespace,
    VDI_LEASE_NAMESPACE: namespace,
    VDI_TURN_SECRET_REF: `${namespace}/vdi-turn/static-auth-secret`,
    VDI_TURN_HOST: 'turn.vdi.localhost',
    VDI_TURN_RELAY_CIDRS: '198.19.0.1/32',
    VDI_PUBLIC_SCHEME: 'http',
    VDI_PUBLIC_PORT: '8081',
    VDI_SESSION_KEY: sessionKey,
  };
}
