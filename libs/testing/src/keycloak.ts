import { spawnSync } from 'node:child_process';
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');

/**
 * Makes sure the local Keycloak runs and returns its realm's issuer: $VDI_TEST_KEYCLOAK_ISSUER
 * when set (the global setup of the projects that log in sets it after starting Keycloak), else
 * Keycloak started through its CLI when absent and reused when running.
 */
export function ensureKeycloak(): string {
  const given = process.env.VDI_TEST_KEYCLOAK_ISSUER;
  if (given) return given;
  const r = spawnSync(
    process.execPath,
    ['--conditions=@vdi/source', '--import', 'tsx', path.join(repoRoot, 'tools/keycloak/src/cli.ts'), 'up'],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' },
  );
  if (r.status !== 0)
    throw new Error(`Keycloak did not start (exit ${r.status}); see the [keycloak] lines above`);
  const issuer = r.stdout.trim().split('\n').pop()!;
  process.env.VDI_TEST_KEYCLOAK_ISSUER = issuer;
  return issuer;
}
