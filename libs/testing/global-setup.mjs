// jest globalSetup of every integration project: make sure the cluster is there before any test
// runs, and tell the test workers where it is (VDI_TEST_KUBECONFIG, inherited by the workers).
// The cluster CLI runs in a child process: it starts the local control plane, or reuses it.
// With VDI_TEST_KUBECONFIG already set, that cluster is used and nothing is started.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

export default async function globalSetup() {
  if (process.env.VDI_TEST_KUBECONFIG) return;
  const root = path.resolve(import.meta.dirname, '..', '..');
  const r = spawnSync(
    process.execPath,
    ['--conditions=@vdi/source', '--import', 'tsx', path.join(root, 'tools/controlplane/src/cli.ts'), 'up'],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
    },
  );
  if (r.status !== 0)
    throw new Error(
      `the local control plane did not start (exit ${r.status}); see the [cluster] lines above`,
    );
  process.env.VDI_TEST_KUBECONFIG = r.stdout.trim().split('\n').pop();
}
