/**
 * The API's configuration, read once from the environment at start. Every problem names the
 * variable and what it should hold, and all problems are reported together.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_SESSIONS_NAMESPACE } from '@vdi/crd-types';
import { secretWeakness } from '@vdi/session-spec';
import { parseBudgetRules, type BudgetRule } from './usage/budget-rules.js';

export interface ApiConfig {
  /** Expected `iss` of access tokens, e.g. http://localhost:8180/realms/vdi. */
  oidcIssuer: string;
  /** Must be in `aud` (a string or an array). */
  oidcAudience: string;
  /** Where the signing keys are; defaults to Keycloak's path under the issuer. */
  oidcJwksUri: string;
  /** Allowed clock difference when checking `exp` / `nbf`, in seconds. */
  clockToleranceSeconds: number;
  sessionsNamespace: string;
  /** Sessions a user may hold at once (not counting ones being deleted). */
  maxSessionsPerUser: number;
  /** GPU time-slices a user may hold at once. */
  maxGpusPerUser: number;
  /** GPU-hour budgets (VDI_GPU_BUDGETS; usage/budget-rules.ts); empty: no budgets. */
  gpuBudgets: BudgetRule[];
  /** The extended resource GPU nodes advertise and desktop pods ask for (as the operator's VDI_GPU_RESOURCE). */
  gpuResourceName: 'nvidia.com/gpu' | 'nvidia.com/gpu.shared';
  /** The portal, where a browser without access to a desktop is sent (`<portal>/open/<session>`). */
  portalUrl: string;
  /** Browser origins allowed to call the API (the portal's), for CORS. */
  corsOrigins: string[];
  access: {
    /** HMAC key of the per-session cookies; every replica needs the same one. */
    cookieSecret: string;
    /** True when no VDI_ACCESS_COOKIE_SECRET was given and this process made one up. */
    cookieSecretGenerated: boolean;
    /** How long an openSession ticket can be redeemed. */
    ticketTtlSeconds: number;
    /** How long a desktop cookie lasts before the user has to go through the portal again. */
    cookieTtlSeconds: number;
    /** Derives each desktop's password (the operator's VDI_SESSION_KEY; see secretWeakness). */
    sessionKey: string;
    /**
     * The operator's leader Lease (VDI_OPERATOR_LEASE, `namespace/name`): its holder writes its
     * session key's fingerprint there, which the API compares with its own (session-key-check.ts).
     */
    operatorLease: { namespace: string; name: string };
  };
  /**
   * The API's own service account at the identity provider (Keycloak admin API, view-users): how
   * it sees that a desktop cookie's login, account or role is gone (access/liveness.ts). Unset:
   * desktop access is not revocable (logged at start).
   */
  identity?: {
    clientId: string;
    clientSecret: string;
    /** How long a liveness verdict is reused (≤ 30). */
    cacheSeconds: number;
    /** How long an identity last seen live stays live while the identity provider cannot be asked. */
    graceSeconds: number;
  };
  /** `dev` accepts the dev overlay's placeholder secrets; anything else refuses them. */
  environment: 'production' | 'dev';
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid API configuration:\n  ${problems.join('\n  ')}`);
  }
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const problems: string[] = [];
  const url = (name: string, value: string | undefined): string => {
    if (!value) {
      problems.push(`${name} is required (an http(s) URL)`);
      return '';
    }
    try {
      const u = new URL(value);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    } catch {
      problems.push(`${name}: '${value}' is not an http(s) URL`);
    }
    return value;
  };
  const int = (name: string, fallback: number, min: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) {
      problems.push(`${name}: '${raw}' must be an integer ≥ ${min}`);
      return fallback;
    }
    return n;
  };

  const oidcIssuer = url('VDI_OIDC_ISSUER', env.VDI_OIDC_ISSUER)?.replace(/\/+$/, '');
  const oidcAudience = env.VDI_OIDC_AUDIENCE ?? 'vdi-api';
  if (!oidcAudience.trim()) problems.push('VDI_OIDC_AUDIENCE must not be empty');
  const oidcJwksUri = env.VDI_OIDC_JWKS_URI
    ? url('VDI_OIDC_JWKS_URI', env.VDI_OIDC_JWKS_URI)
    : `${oidcIssuer}/protocol/openid-connect/certs`;
  const sessionsNamespace = env.VDI_SESSIONS_NAMESPACE || DEFAULT_SESSIONS_NAMESPACE;
  const leaseRef = env.VDI_OPERATOR_LEASE || 'vdi-system/vdi-operator';
  const [leaseNamespace = '', leaseName = '', ...leaseRest] = leaseRef.split('/');
  if (
    leaseRest.length ||
    !DNS1123_LABEL.test(leaseNamespace) ||
    !/^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(leaseName)
  ) {
    problems.push(
      `VDI_OPERATOR_LEASE: '${leaseRef}' is not namespace/name of a Lease (the operator's VDI_LEASE_NAMESPACE/VDI_LEASE_NAME)`,
    );
  }
  if (!DNS1123_LABEL.test(sessionsNamespace)) {
    problems.push(`VDI_SESSIONS_NAMESPACE: '${sessionsNamespace}' is not a namespace name (DNS-1123 label)`);
  }
  const gpuResourceName = env.VDI_GPU_RESOURCE || 'nvidia.com/gpu';
  if (gpuResourceName !== 'nvidia.com/gpu' && gpuResourceName !== 'nvidia.com/gpu.shared') {
    problems.push(`VDI_GPU_RESOURCE: '${gpuResourceName}' must be nvidia.com/gpu or nvidia.com/gpu.shared`);
  }
  const portalUrl = url('VDI_PORTAL_URL', env.VDI_PORTAL_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
  const corsOrigins = (env.VDI_CORS_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const o of corsOrigins) {
    let ok = false;
    try {
      ok = new URL(o).origin === o;
    } catch {
      /* reported below */
    }
    if (!ok) problems.push(`VDI_CORS_ORIGINS: '${o}' is not an origin (scheme://host[:port], no path)`);
  }
  const givenSecret = env.VDI_ACCESS_COOKIE_SECRET;
  if (givenSecret !== undefined && givenSecret.length < 32) {
    problems.push('VDI_ACCESS_COOKIE_SECRET must be at least 32 characters (e.g. openssl rand -hex 32)');
  }
  const environment = env.VDI_ENVIRONMENT || 'production';
  if (environment !== 'production' && environment !== 'dev') {
    problems.push(`VDI_ENVIRONMENT: '${environment}' must be production or dev`);
  }
  const sessionKey = env.VDI_SESSION_KEY ?? '';
  const weakKey = secretWeakness(sessionKey);
  if (weakKey && !(environment === 'dev' && sessionKey.length >= 16)) {
    problems.push(
      `VDI_SESSION_KEY is unfit: ${weakKey}. It must be the operator's key (Secret vdi-system/vdi-session-key)` +
        (environment === 'dev' ? '' : '; placeholders are accepted only with VDI_ENVIRONMENT=dev'),
    );
  }
  if (givenSecret && secretWeakness(givenSecret) && environment !== 'dev') {
    problems.push(`VDI_ACCESS_COOKIE_SECRET is unfit: ${secretWeakness(givenSecret)}`);
  }
  const adminClientId = env.VDI_OIDC_ADMIN_CLIENT_ID ?? '';
  const adminClientSecret = env.VDI_OIDC_ADMIN_CLIENT_SECRET ?? '';
  if (adminClientId && !adminClientSecret) {
    problems.push(
      "VDI_OIDC_ADMIN_CLIENT_SECRET is required with VDI_OIDC_ADMIN_CLIENT_ID (the client secret of the API's service account, from its Secret)",
    );
  }
  const livenessCache = int('VDI_ACCESS_LIVENESS_CACHE_SECONDS', 15, 1);
  if (livenessCache > 30) {
    problems.push(
      `VDI_ACCESS_LIVENESS_CACHE_SECONDS: '${livenessCache}' must be at most 30 (revocation within 60 s)`,
    );
  }
  const budgets = parseBudgetRules(env.VDI_GPU_BUDGETS);
  problems.push(...budgets.problems);
  const config: ApiConfig = {
    oidcIssuer,
    oidcAudience,
    oidcJwksUri,
    clockToleranceSeconds: int('VDI_OIDC_CLOCK_TOLERANCE_SECONDS', 30, 0),
    sessionsNamespace,
    maxSessionsPerUser: int('VDI_QUOTA_SESSIONS_PER_USER', 3, 0),
    maxGpusPerUser: int('VDI_QUOTA_GPUS_PER_USER', 1, 0),
    gpuBudgets: budgets.rules,
    gpuResourceName: gpuResourceName as ApiConfig['gpuResourceName'],
    portalUrl,
    corsOrigins,
    access: {
      cookieSecret: givenSecret || randomBytes(32).toString('hex'),
      cookieSecretGenerated: !givenSecret,
      ticketTtlSeconds: int('VDI_ACCESS_TICKET_TTL_SECONDS', 60, 5),
      cookieTtlSeconds: int('VDI_ACCESS_COOKIE_TTL_SECONDS', 12 * 3600, 60),
      sessionKey,
      operatorLease: { namespace: leaseNamespace, name: leaseName },
    },
    ...(adminClientId && adminClientSecret
      ? {
          identity: {
            clientId: adminClientId,
            clientSecret: adminClientSecret,
            cacheSeconds: Math.min(livenessCache, 30),
            graceSeconds: int('VDI_ACCESS_LIVENESS_GRACE_SECONDS', 120, 0),
          },
        }
      : {}),
    environment: environment as ApiConfig['environment'],
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** Nest injection token of the ApiConfig. */
export const API_CONFIG = Symbol('API_CONFIG');
