/**
 * The portal's runtime configuration, read from the server's environment when a page renders
 * (never baked into the build), so one image serves dev and prod.
 */
export interface RuntimeConfig {
  keycloakUrl: string;
  realm: string;
  clientId: string;
  apiUrl: string;
}

export class RuntimeConfigError extends Error {
  override name = 'RuntimeConfigError';
}

function url(env: Record<string, string | undefined>, name: string, fallback: string): string {
  const v = env[name] ?? fallback;
  let parsed: URL;
  try {
    parsed = new URL(v);
  } catch {
    throw new RuntimeConfigError(`${name}=${v} is not an absolute URL (e.g. https://sso.example.com)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new RuntimeConfigError(`${name}=${v} must use http or https`);
  }
  return v.replace(/\/+$/, '');
}

export function readRuntimeConfig(env: Record<string, string | undefined>): RuntimeConfig {
  return {
    keycloakUrl: url(env, 'VDI_KEYCLOAK_URL', 'http://localhost:8180'),
    realm: env.VDI_KEYCLOAK_REALM ?? 'vdi',
    clientId: env.VDI_KEYCLOAK_CLIENT ?? 'vdi-portal',
    apiUrl: url(env, 'VDI_API_URL', 'http://localhost:4000'),
  };
}
