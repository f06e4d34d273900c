/**
 * The operator's configuration, read from the environment once at start (in a cluster the
 * Deployment fills it from a ConfigMap with `envFrom`) and validated, so a wrong value stops the
 * process with a message naming the variable instead of failing later.
 */
import os from 'node:os';
import {
  DEFAULT_PREPULL_PAUSE_IMAGE,
  envReader,
  platformOptionsFromEnv,
  secretWeakness,
  type PlatformOptions,
} from '@vdi/session-spec';
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
  /** Seconds between writes of a ledger whose holdings did not change (time since is read from its checkpoints). */
  usageCheckpointSeconds: number;
  /** Owners are warned when their budget would run out within this many seconds at their pace. */
  budgetWarnSeconds: number;
  metricsPort: number;
  leaderElection: LeaderOptions & { enabled: boolean };
  /**
   * Image pre-pull: a puller DaemonSet per template in the operator's namespace (the Lease's), for
   * the templates templateStatus selects. `enabled` false (VDI_PREPULL=false) removes them all.
   */
  prepull: { enabled: boolean; pauseImage: string };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = NodeJS.ProcessEnv;

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

/** The error every wrong value of the operator's environment becomes. */
const fail = (message: string) => new ConfigError(message);

export function loadOperatorConfig(env: Env = process.env): OperatorConfig {
  const read = envReader(env, fail);
  // What desktops are rendered with: the same mapping the benchmark renders its floor with.
  const platform = platformOptionsFromEnv(env, fail);
  const ns = platform.namespace;
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
  const sessionKey = env.VDI_SESSION_KEY;
  const environment = read.oneOf('VDI_ENVIRONMENT', ['production', 'dev'] as const, 'production');
  const weakKey = secretWeakness(sessionKey);
  if (!sessionKey || (weakKey && !(environment === 'dev' && sessionKey.length >= 16))) {
    throw new ConfigError(
      `VDI_SESSION_KEY is unfit: ${weakKey ?? 'it is empty'}. It derives every desktop's password and must be the same ` +
        'for the operator and the API (Secret vdi-system/vdi-session-key, e.g. openssl rand -hex 32).' +
        (environment === 'dev' ? '' : ' Placeholders are accepted only with VDI_ENVIRONMENT=dev.'),
    );
  }
  const leaseSeconds = read.int('VDI_LEASE_SECONDS', 10, 2, 300);
  return {
    sessionsNamespace: ns,
    platform,
    turnSecretRef: { namespace: refParts[0]!, name: refParts[1]!, key: refParts[2]! },
    // Short-lived: a credential read from a desktop keeps relaying until it expires (coturn's
    // REST scheme cannot revoke it), so at most an hour.
    turnCredentialTtlSeconds: read.int('VDI_TURN_CREDENTIAL_TTL_SECONDS', 3600, 600, 3600),
    turnRestListen: {
      host: env.VDI_TURN_REST_HOST || '0.0.0.0',
      port: read.int('VDI_TURN_REST_PORT', 8444, 0, 65_535),
    },
    sessionKey,
    environment,
    workers: read.int('VDI_WORKERS', 4, 1, 64),
    startDeadlineSeconds: read.int('VDI_START_DEADLINE_SECONDS', 300, 5, 86_400),
    resyncSeconds: read.int('VDI_RESYNC_SECONDS', 300, 5, 86_400),
    viewerPollSeconds: read.int('VDI_VIEWER_POLL_SECONDS', 30, 1, 3_600),
    templateStatus: templateSelector(env.VDI_TEMPLATE_STATUS),
    usageIntervalSeconds: read.int('VDI_USAGE_INTERVAL_SECONDS', 60, 1, 3_600),
    usageCheckpointSeconds: read.int('VDI_USAGE_CHECKPOINT_SECONDS', 900, 1, 86_400),
    budgetWarnSeconds: read.int('VDI_BUDGET_WARN_SECONDS', 900, 0, 86_400),
    metricsPort: read.int('VDI_METRICS_PORT', 8080, 0, 65_535),
    prepull: {
      enabled: read.oneOf('VDI_PREPULL', ['true', 'false'] as const, 'true') === 'true',
      // The holding container of every puller pod: the node's own sandbox image costs no pull.
      pauseImage: env.VDI_PREPULL_PAUSE_IMAGE || DEFAULT_PREPULL_PAUSE_IMAGE,
    },
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
