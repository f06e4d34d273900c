/**
 * The operator's configuration, read from the environment once at start (in a cluster the
 * Deployment fills it from a ConfigMap with `envFrom`) and validated, so a wrong value stops the
 * process with a message naming the variable instead of failing later.
 */
import os from 'node:os';
import { DEFAULT_SESSIONS_NAMESPACE } from '@vdi/crd-types';
import { platformOptionErrors, secretWeakness, type PlatformOptions } from '@vdi/session-spec';
import type { LeaderOptions } from './engine/leader.js';

export interface OperatorConfig {
  sessionsNamespace: string;
  platform: PlatformOptions;
  /** Where the cluster's TURN shared secret lives: the operator reads it, no session pod ever does. */
  turnSecretRef: { namespace: string; name: string; key: string };
  turnCredentialTtlSeconds: number;
  /** Where the TURN REST endpoint listens (desktops reach it at platform.turnRest.url). */
  turnRestListen: { host: string; port: number };
  /** Derives each session's desktop password (shared with the API, never given to a pod). */
  sessionKey: string;
  /** `dev` accepts the placeholder secrets of the dev overlay; anything else refuses them. */
  environment: 'production' | 'dev';
  workers: number;
  startDeadlineSeconds: number;
  resyncSeconds: number;
  /** Seconds between looks at who watches each desktop with an idle timeout (idle culling). */
  viewerPollSeconds: number;
  /**
   * Which templates' status this operator writes: every template (`all`), none (`off`), or those
   * matching an equality label selector (`k=v,k2=v2`) — for several installations in one cluster.
   */
  templateStatus: 'all' | 'off' | Record<string, string>;
  /** GPU-hour accounting: seconds between counts of the time-slices each owner holds. */
  usageIntervalSeconds: number;
  /** Owners are warned when their budget would run out within this many seconds at their pace. */
  budgetWarnSeconds: number;
  metricsPort: number;
  leaderElection: LeaderOptions & { enabled: boolean };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = NodeJS.ProcessEnv;

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const v = env[name] || fallback;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(`${name}=${v} is not allowed; use one of: ${allowed.join(', ')}`);
  }
  return v as T;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  const v = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(`${name}=${raw} must be an integer from ${min} to ${max}`);
  }
  return v;
}

/** VDI_TEMPLATE_STATUS: all (default), off, or `key=value[,key=value]`. */
export function templateSelector(raw: string | undefined): OperatorConfig['templateStatus'] {
  const v = (raw ?? '').trim();
  if (v === '' || v === 'all') return 'all';
  if (v === 'off') return 'off';
  const selector: Record<string, string> = {};
  for (const part of v.split(',')) {
    const m = /^\s*([A-Za-z0-9][-A-Za-z0-9_./]*)\s*=\s*([-A-Za-z0-9_.]*)\s*$/.exec(part);
    if (!m) {
      throw new ConfigError(
        `VDI_TEMPLATE_STATUS=${raw}: '${part}' is not key=value; use all, off or key=value[,key=value]`,
      );
    }
    selector[m[1]!] = m[2]!;
  }
  return selector;
}

function list(env: Env, name: string, fallback: string): string[] {
  return (env[name] ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `a=b,c=d` → { a: 'b', c: 'd' }. */
function labels(env: Env, name: string, fallback: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of list(env, name, fallback)) {
    const [k, v, ...rest] = pair.split('=');
    if (!k || v === undefined || rest.length > 0)
      throw new ConfigError(`${name}: '${pair}' is not key=value`);
    out[k] = v;
  }
  return out;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function loadOperatorConfig(env: Env = process.env): OperatorConfig {
  const ns = env.VDI_SESSIONS_NAMESPACE || DEFAULT_SESSIONS_NAMESPACE;
  if (!DNS_LABEL.test(ns))
    throw new ConfigError(`VDI_SESSIONS_NAMESPACE=${ns} is not a valid namespace name (DNS-1123 label)`);
  const turnHost = env.VDI_TURN_HOST;
  if (!turnHost)
    throw new ConfigError(
      'VDI_TURN_HOST is required: the host name or address of the TURN server (coturn) that desktops and browsers use',
    );
  const relay = list(env, 'VDI_TURN_RELAY_CIDRS', '');
  if (relay.length === 0) {
    throw new ConfigError(
      "VDI_TURN_RELAY_CIDRS is required: the addresses the TURN relay sends from (coturn uses host networking, so the nodes' addresses, e.g. 10.0.0.0/24)",
    );
  }
  const secretRef = env.VDI_TURN_SECRET_REF ?? 'vdi-system/vdi-turn/static-auth-secret';
  const refParts = secretRef.split('/');
  if (refParts.length !== 3 || refParts.some((p) => !p)) {
    throw new ConfigError(
      `VDI_TURN_SECRET_REF=${secretRef} must be namespace/name/key of the Secret holding coturn's static-auth-secret`,
    );
  }
  if (env.VDI_URL_MODE && env.VDI_URL_MODE !== 'host') {
    throw new ConfigError(
      `VDI_URL_MODE=${env.VDI_URL_MODE} is not supported: desktops are served only at <session>.<VDI_BASE_DOMAIN>. ` +
        "With paths under one host every desktop would share the portal's origin, so one user's desktop page " +
        'could read other desktops and script the portal. Remove VDI_URL_MODE and point a wildcard DNS name at Traefik.',
    );
  }
  if (env.VDI_TLS_SECRET) {
    throw new ConfigError(
      'VDI_TLS_SECRET is no longer read: the operator would need read access to the TLS key. Put the wildcard ' +
        "certificate in Traefik's default TLSStore (kube-system) instead; desktops on https use it. Remove VDI_TLS_SECRET.",
    );
  }
  const turnPort = int(env, 'VDI_TURN_PORT', 3478, 1, 65535);
  // TURN over TLS (e.g. 443 through a firewall that blocks UDP): coturn terminates TLS there.
  const turnTlsPort = env.VDI_TURN_TLS_PORT ? int(env, 'VDI_TURN_TLS_PORT', 443, 1, 65535) : undefined;
  const restPeerCidrs = list(env, 'VDI_TURN_REST_PEER_CIDRS', '');
  const apiPeerCidrs = list(env, 'VDI_API_PEER_CIDRS', '');
  const relayPorts = /^(\d{1,5})-(\d{1,5})$/.exec(env.VDI_TURN_RELAY_PORTS || '49152-65535');
  if (!relayPorts)
    throw new ConfigError(
      `VDI_TURN_RELAY_PORTS=${env.VDI_TURN_RELAY_PORTS} must be coturn's relay port range as min-max (its --min-port and --max-port, e.g. 49152-65535)`,
    );
  const tlsResolver = env.VDI_TLS_CERT_RESOLVER;
  const sessionKey = env.VDI_SESSION_KEY;
  const environment = oneOf(env, 'VDI_ENVIRONMENT', ['production', 'dev'] as const, 'production');
  const weakKey = secretWeakness(sessionKey);
  if (!sessionKey || (weakKey && !(environment === 'dev' && sessionKey.length >= 16))) {
    throw new ConfigError(
      `VDI_SESSION_KEY is unfit: ${weakKey ?? 'it is empty'}. It derives every desktop's password and must be the same ` +
        'for the operator and the API (Secret vdi-system/vdi-session-key, e.g. openssl rand -hex 32).' +
        (environment === 'dev' ? '' : ' Placeholders are accepted only with VDI_ENVIRONMENT=dev.'),
    );
  }
  const publicScheme = oneOf(env, 'VDI_PUBLIC_SCHEME', ['http', 'https'] as const, 'https');
  const platform: PlatformOptions = {
    namespace: ns,
    baseDomain: env.VDI_BASE_DOMAIN || 'vdi.localhost',
    publicScheme,
    ...(env.VDI_PUBLIC_PORT ? { publicPort: int(env, 'VDI_PUBLIC_PORT', 443, 1, 65535) } : {}),
    accessMode: oneOf(env, 'VDI_ACCESS_MODE', ['forwardAuth', 'basicAuth'] as const, 'forwardAuth'),
    forwardAuthUrl:
      env.VDI_FORWARD_AUTH_URL || 'http://vdi-api.vdi-system.svc.cluster.local:4000/auth/session',
    entryPoints: list(env, 'VDI_ENTRYPOINTS', publicScheme === 'https' ? 'websecure' : 'web'),
    ...(tlsResolver ? { tls: { certResolver: tlsResolver } } : publicScheme === 'https' ? { tls: {} } : {}),
    gpuResourceName: oneOf(
      env,
      'VDI_GPU_RESOURCE',
      ['nvidia.com/gpu', 'nvidia.com/gpu.shared'] as const,
      'nvidia.com/gpu',
    ),
    ...(env.VDI_RUNTIME_CLASS !== '' ? { runtimeClassName: env.VDI_RUNTIME_CLASS ?? 'nvidia' } : {}),
    ...(env.VDI_STORAGE_CLASS !== '' ? { storageClassName: env.VDI_STORAGE_CLASS ?? 'local-path' } : {}),
    turn: {
      host: turnHost,
      port: turnPort,
      protocol: oneOf(env, 'VDI_TURN_PROTOCOL', ['udp', 'tcp'] as const, 'udp'),
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
              podLabels: labels(env, 'VDI_OPERATOR_POD_LABELS', 'app.kubernetes.io/name=vdi-operator'),
            },
    },
    // The API closes a revoked user's stream connections at the desktop itself (its pods; a host
    // process, the local stack, by address).
    api:
      apiPeerCidrs.length > 0
        ? { cidrs: apiPeerCidrs }
        : {
            namespace: env.VDI_API_NAMESPACE || 'vdi-system',
            podLabels: labels(env, 'VDI_API_POD_LABELS', 'app.kubernetes.io/name=vdi-api'),
          },
    ingress: {
      namespace: env.VDI_INGRESS_NAMESPACE || 'kube-system',
      podLabels: labels(env, 'VDI_INGRESS_POD_LABELS', 'app.kubernetes.io/name=traefik'),
    },
    turnRelayCidrs: relay,
    turnRelayPorts: { min: Number(relayPorts[1]), max: Number(relayPorts[2]) },
    // K3s's defaults; closed to desktops even when a template opens the internet.
    clusterCidrs: list(env, 'VDI_CLUSTER_CIDRS', '10.42.0.0/16,10.43.0.0/16'),
    dns: {
      namespace: env.VDI_DNS_NAMESPACE || 'kube-system',
      podLabels: labels(env, 'VDI_DNS_POD_LABELS', 'k8s-app=kube-dns'),
    },
    cpuEncoderExtraCPU: env.VDI_CPU_ENCODER_EXTRA_CPU || '2',
    timeZone: env.VDI_TIMEZONE || 'UTC',
  };
  const problems = platformOptionErrors(platform);
  if (problems.length > 0) throw new ConfigError(`invalid platform settings: ${problems.join('; ')}`);
  const leaseSeconds = int(env, 'VDI_LEASE_SECONDS', 10, 2, 300);
  return {
    sessionsNamespace: ns,
    platform,
    turnSecretRef: { namespace: refParts[0]!, name: refParts[1]!, key: refParts[2]! },
    // Short-lived: a credential read from a desktop keeps relaying until it expires (coturn's
    // REST scheme cannot revoke it), so at most an hour.
    turnCredentialTtlSeconds: int(env, 'VDI_TURN_CREDENTIAL_TTL_SECONDS', 3600, 600, 3600),
    turnRestListen: {
      host: env.VDI_TURN_REST_HOST || '0.0.0.0',
      port: int(env, 'VDI_TURN_REST_PORT', 8444, 0, 65_535),
    },
    sessionKey,
    environment,
    workers: int(env, 'VDI_WORKERS', 4, 1, 64),
    startDeadlineSeconds: int(env, 'VDI_START_DEADLINE_SECONDS', 300, 5, 86_400),
    resyncSeconds: int(env, 'VDI_RESYNC_SECONDS', 300, 5, 86_400),
    viewerPollSeconds: int(env, 'VDI_VIEWER_POLL_SECONDS', 30, 1, 3_600),
    templateStatus: templateSelector(env.VDI_TEMPLATE_STATUS),
    usageIntervalSeconds: int(env, 'VDI_USAGE_INTERVAL_SECONDS', 60, 1, 3_600),
    budgetWarnSeconds: int(env, 'VDI_BUDGET_WARN_SECONDS', 900, 0, 86_400),
    metricsPort: int(env, 'VDI_METRICS_PORT', 8080, 0, 65_535),
    leaderElection: {
      enabled: env.VDI_LEADER_ELECTION !== 'false',
      namespace: env.VDI_LEASE_NAMESPACE || 'vdi-system',
      name: env.VDI_LEASE_NAME || 'vdi-operator',
      identity: env.VDI_POD_NAME || `${os.hostname()}-${process.pid}`,
      leaseSeconds,
      renewSeconds: Math.max(1, Math.floor((leaseSeconds * 2) / 3)),
      retrySeconds: Math.max(1, Math.floor(leaseSeconds / 5)),
    },
  };
}
