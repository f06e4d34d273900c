/**
 * The platform options from the operator's environment (VDI_* variables, each with its default):
 * what the operator renders with, and what the benchmark's floor must render with to write the
 * objects the operator would. A plain function of an env-like record, so both read the same
 * mapping instead of one copying the other's defaults.
 *
 * A wrong value throws (by default a PlatformEnvError) with a message naming the variable.
 */
import { DEFAULT_SESSIONS_NAMESPACE } from '@vdi/crd-types';
import { platformOptionErrors, type PlatformOptions } from './options.js';

export type EnvRecord = Readonly<Record<string, string | undefined>>;

export class PlatformEnvError extends Error {
  override name = 'PlatformEnvError';
}

type Fail = (message: string) => Error;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * PlatformOptions from `env`. `fail` makes the error thrown for a wrong value (the operator's
 * configuration passes its own ConfigError).
 */
export function platformOptionsFromEnv(
  env: EnvRecord,
  fail: Fail = (m) => new PlatformEnvError(m),
): PlatformOptions {
  const read = envReader(env, fail);
  const ns = env.VDI_SESSIONS_NAMESPACE || DEFAULT_SESSIONS_NAMESPACE;
  if (!DNS_LABEL.test(ns))
    throw fail(`VDI_SESSIONS_NAMESPACE=${ns} is not a valid namespace name (DNS-1123 label)`);
  const turnHost = env.VDI_TURN_HOST;
  if (!turnHost)
    throw fail(
      'VDI_TURN_HOST is required: the host name or address of the TURN server (coturn) that desktops and browsers use',
    );
  const relay = read.list('VDI_TURN_RELAY_CIDRS', '');
  if (relay.length === 0) {
    throw fail(
      "VDI_TURN_RELAY_CIDRS is required: the addresses the TURN relay sends from (coturn uses host networking, so the nodes' addresses, e.g. 10.0.0.0/24)",
    );
  }
  const turnPort = read.int('VDI_TURN_PORT', 3478, 1, 65535);
  // TURN over TLS (e.g. 443 through a firewall that blocks UDP): coturn terminates TLS there.
  const turnTlsPort = env.VDI_TURN_TLS_PORT ? read.int('VDI_TURN_TLS_PORT', 443, 1, 65535) : undefined;
  const restPeerCidrs = read.list('VDI_TURN_REST_PEER_CIDRS', '');
  const apiPeerCidrs = read.list('VDI_API_PEER_CIDRS', '');
  const relayPorts = /^(\d{1,5})-(\d{1,5})$/.exec(env.VDI_TURN_RELAY_PORTS || '49152-65535');
  if (!relayPorts)
    throw fail(
      `VDI_TURN_RELAY_PORTS=${env.VDI_TURN_RELAY_PORTS} must be coturn's relay port range as min-max (its --min-port and --max-port, e.g. 49152-65535)`,
    );
  const tlsResolver = env.VDI_TLS_CERT_RESOLVER;
  const publicScheme = read.oneOf('VDI_PUBLIC_SCHEME', ['http', 'https'] as const, 'https');
  const platform: PlatformOptions = {
    namespace: ns,
    baseDomain: env.VDI_BASE_DOMAIN || 'vdi.localhost',
    publicScheme,
    ...(env.VDI_PUBLIC_PORT ? { publicPort: read.int('VDI_PUBLIC_PORT', 443, 1, 65535) } : {}),
    accessMode: read.oneOf('VDI_ACCESS_MODE', ['forwardAuth', 'basicAuth'] as const, 'forwardAuth'),
    forwardAuthUrl:
      env.VDI_FORWARD_AUTH_URL || 'http://vdi-api.vdi-system.svc.cluster.local:4000/auth/session',
    entryPoints: read.list('VDI_ENTRYPOINTS', publicScheme === 'https' ? 'websecure' : 'web'),
    ...(tlsResolver ? { tls: { certResolver: tlsResolver } } : publicScheme === 'https' ? { tls: {} } : {}),
    gpuResourceName: read.oneOf(
      'VDI_GPU_RESOURCE',
      ['nvidia.com/gpu', 'nvidia.com/gpu.shared'] as const,
      'nvidia.com/gpu',
    ),
    ...(env.VDI_RUNTIME_CLASS !== '' ? { runtimeClassName: env.VDI_RUNTIME_CLASS ?? 'nvidia' } : {}),
    ...(env.VDI_STORAGE_CLASS !== '' ? { storageClassName: env.VDI_STORAGE_CLASS ?? 'local-path' } : {}),
    turn: {
      host: turnHost,
      port: turnPort,
      protocol: read.oneOf('VDI_TURN_PROTOCOL', ['udp', 'tcp'] as const, 'udp'),
      ...(env.VDI_TURN_TLS === 'true' ? { tls: true } : {}),
    },
    ...(turnTlsPort
      ? {
          turnAlternatives: [
            {
              host: env.VDI_TURN_TLS_HOST || turnHost,
              port: turnTlsPort,
              protocol: 'tcp' as const,
              tls: true,
            },
          ],
        }
      : {}),
    turnRest: {
      url: env.VDI_TURN_REST_URL || 'http://vdi-turn-rest.vdi-system.svc.cluster.local:8444',
      // In a cluster the operator's pods serve it; a host process (the local stack) is named by address.
      peer:
        restPeerCidrs.length > 0
          ? { cidrs: restPeerCidrs }
          : {
              namespace: env.VDI_OPERATOR_NAMESPACE || 'vdi-system',
              podLabels: read.labels('VDI_OPERATOR_POD_LABELS', 'app.kubernetes.io/name=vdi-operator'),
            },
    },
    // The API closes a revoked user's stream connections at the desktop itself (its pods; a host
    // process, the local stack, by address).
    api:
      apiPeerCidrs.length > 0
        ? { cidrs: apiPeerCidrs }
        : {
            namespace: env.VDI_API_NAMESPACE || 'vdi-system',
            podLabels: read.labels('VDI_API_POD_LABELS', 'app.kubernetes.io/name=vdi-api'),
          },
    ingress: {
      namespace: env.VDI_INGRESS_NAMESPACE || 'kube-system',
      podLabels: read.labels('VDI_INGRESS_POD_LABELS', 'app.kubernetes.io/name=traefik'),
    },
    turnRelayCidrs: relay,
    turnRelayPorts: { min: Number(relayPorts[1]), max: Number(relayPorts[2]) },
    // K3s's defaults; closed to desktops even when a template opens the internet.
    clusterCidrs: read.list('VDI_CLUSTER_CIDRS', '10.42.0.0/16,10.43.0.0/16'),
    dns: {
      namespace: env.VDI_DNS_NAMESPACE || 'kube-system',
      podLabels: read.labels('VDI_DNS_POD_LABELS', 'k8s-app=kube-dns'),
    },
    cpuEncoderExtraCPU: env.VDI_CPU_ENCODER_EXTRA_CPU || '2',
    timeZone: env.VDI_TIMEZONE || 'UTC',
  };
  const problems = platformOptionErrors(platform);
  if (problems.length > 0) throw fail(`invalid platform settings: ${problems.join('; ')}`);
  return platform;
}

/** Typed reads of env variables, each failing with a message naming the variable. */
export function envReader(env: EnvRecord, fail: Fail = (m) => new PlatformEnvError(m)) {
  const list = (name: string, fallback: string): string[] =>
    (env[name] ?? fallback)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return {
    oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
      const v = env[name] || fallback;
      if (!(allowed as readonly string[]).includes(v))
        throw fail(`${name}=${v} is not allowed; use one of: ${allowed.join(', ')}`);
      return v as T;
    },
    int(name: string, fallback: number, min: number, max: number): number {
      const raw = env[name];
      const v = raw === undefined || raw === '' ? fallback : Number(raw);
      if (!Number.isInteger(v) || v < min || v > max)
        throw fail(`${name}=${raw} must be an integer from ${min} to ${max}`);
      return v;
    },
    list,
    /** `a=b,c=d` → { a: 'b', c: 'd' }. */
    labels(name: string, fallback: string): Record<string, string> {
      const out: Record<string, string> = {};
      for (const pair of list(name, fallback)) {
        const [k, v, ...rest] = pair.split('=');
        if (!k || v === undefined || rest.length > 0) throw fail(`${name}: '${pair}' is not key=value`);
        out[k] = v;
      }
      return out;
    },
  };
}
