/**
 * The API's configuration, read once from the environment at start. Every problem names the
 * variable and what it should hold, and all problems are reported together.
 */
import { DEFAULT_SESSIONS_NAMESPACE } from '@vdi/crd-types';

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
  /** The extended resource GPU nodes advertise and desktop pods ask for (as the operator's VDI_GPU_RESOURCE). */
  gpuResourceName: 'nvidia.com/gpu' | 'nvidia.com/gpu.shared';
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
  if (!DNS1123_LABEL.test(sessionsNamespace)) {
    problems.push(`VDI_SESSIONS_NAMESPACE: '${sessionsNamespace}' is not a namespace name (DNS-1123 label)`);
  }
  const gpuResourceName = env.VDI_GPU_RESOURCE || 'nvidia.com/gpu';
  if (gpuResourceName !== 'nvidia.com/gpu' && gpuResourceName !== 'nvidia.com/gpu.shared') {
    problems.push(`VDI_GPU_RESOURCE: '${gpuResourceName}' must be nvidia.com/gpu or nvidia.com/gpu.shared`);
  }
  const config: ApiConfig = {
    oidcIssuer,
    oidcAudience,
    oidcJwksUri,
    clockToleranceSeconds: int('VDI_OIDC_CLOCK_TOLERANCE_SECONDS', 30, 0),
    sessionsNamespace,
    maxSessionsPerUser: int('VDI_QUOTA_SESSIONS_PER_USER', 3, 0),
    maxGpusPerUser: int('VDI_QUOTA_GPUS_PER_USER', 1, 0),
    gpuResourceName: gpuResourceName as ApiConfig['gpuResourceName'],
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** Nest injection token of the ApiConfig. */
export const API_CONFIG = Symbol('API_CONFIG');
