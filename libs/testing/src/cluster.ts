import { spawnSync } from 'node:child_process';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');

/**
 * Makes sure a cluster is there and returns its kubeconfig path: the cluster of
 * $VDI_TEST_KUBECONFIG when set (jest's global setup sets it after starting the local control
 * plane, and a developer may point it at any cluster), else the local control plane, started
 * through its CLI when absent and reused when running.
 */
export function ensureCluster(): string {
  const given = process.env.VDI_TEST_KUBECONFIG;
  if (given) return given;
  const r = spawnSync(
    process.execPath,
    [
      '--conditions=@vdi/source',
      '--import',
      'tsx',
      path.join(repoRoot, 'tools/controlplane/src/cli.ts'),
      'up',
    ],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) {
    throw new Error(
      `the local control plane did not start (exit ${r.status}); see the [cluster] lines above`,
    );
  }
  const kubeconfig = r.stdout.trim().split('\n').pop()!;
  process.env.VDI_TEST_KUBECONFIG = kubeconfig;
  return kubeconfig;
}

/** A KubeConfig for the test cluster's admin. */
export function testKubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(ensureCluster());
  return kc;
}
