// jest globalSetup of the integration projects that log in through Keycloak (api, portal,
// deploy): the cluster as for every integration project, then the local Keycloak, started or
// reused through its CLI, its issuer handed to the test workers (VDI_TEST_KEYCLOAK_ISSUER, read
// by keycloakIssuer). Here, before any test runs and without a hook timeout: its first start on a
// fresh machine (download, Quarkus build) takes minutes, which no beforeAll should absorb.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import clusterSetup from './global-setup.mjs';

export default async function globalSetup(globalConfig, projectConfig) {
  await clusterSetup(globalConfig, projectConfig);
  if (process.env.VDI_TEST_KEYCLOAK_ISSUER) return;
  const root = path.resolve(import.meta.dirname, '..', '..');
  const r = spawnSync(
    process.execPath,
    ['--conditions=@vdi/source', '--import', 'tsx', path.join(root, 'tools/keycloak/src/cli.ts'), 'up'],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' },
  );
  if (r.status !== 0)
    throw new Error(`Keycloak did not start (exit ${r.status}); see the [keycloak] lines above`);
  process.env.VDI_TEST_KEYCLOAK_ISSUER = r.stdout.trim().split('\n').pop();
}
