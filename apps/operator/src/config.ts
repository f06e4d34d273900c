/**
 * The operator's configuration, read from the environment once at start and validated, so a
 * wrong value stops the process with a message naming the variable instead of failing later.
 */
import { DEFAULT_SESSIONS_NAMESPACE } from '@vdi/crd-types';

export interface OperatorConfig {
  sessionsNamespace: string;
  baseDomain: string;
  urlMode: 'host' | 'path';
  gpuResourceName: 'nvidia.com/gpu' | 'nvidia.com/gpu.shared';
  workers: number;
  startDeadlineSeconds: number;
  metricsPort: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function oneOf<T extends string>(
  env: NodeJS.ProcessEnv,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const v = env[name] ?? fallback;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(`${name}=${v} is not allowed; use one of: ${allowed.join(', ')}`);
  }
  return v as T;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  const v = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(`${name}=${raw} must be an integer from ${min} to ${max}`);
  }
  return v;
}

export function loadOperatorConfig(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const ns = env.VDI_SESSIONS_NAMESPACE ?? DEFAULT_SESSIONS_NAMESPACE;
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns)) {
    throw new ConfigError(`VDI_SESSIONS_NAMESPACE=${ns} is not a valid namespace name (DNS-1123 label)`);
  }
  const baseDomain = env.VDI_BASE_DOMAIN ?? 'vdi.localhost';
  if (!/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(baseDomain)) {
    throw new ConfigError(`VDI_BASE_DOMAIN=${baseDomain} is not a DNS name (e.g. vdi.example.com)`);
  }
  return {
    sessionsNamespace: ns,
    baseDomain,
    urlMode: oneOf(env, 'VDI_URL_MODE', ['host', 'path'] as const, 'host'),
    gpuResourceName: oneOf(
      env,
      'VDI_GPU_RESOURCE',
      ['nvidia.com/gpu', 'nvidia.com/gpu.shared'] as const,
      'nvidia.com/gpu',
    ),
    workers: int(env, 'VDI_WORKERS', 4, 1, 64),
    startDeadlineSeconds: int(env, 'VDI_START_DEADLINE_SECONDS', 300, 10, 86_400),
    metricsPort: int(env, 'VDI_METRICS_PORT', 8080, 1, 65_535),
  };
}
