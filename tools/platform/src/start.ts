/**
 * `npm start`: the platform on this machine. Today that is the local control plane with its
 * simulated GPU nodes (or the cluster of $KUBECONFIG); the operator, API, portal, Keycloak,
 * Traefik and coturn join as their issues land, and this command says so instead of faking them.
 * Ctrl-C stops what it started (a cluster that was already running keeps running).
 */
import { down, status, up } from '@vdi/controlplane';
import { startPlan } from './plan.js';

const plan = startPlan(process.env);
const say = (m: string) => process.stdout.write(`${m}\n`);

// Only what this command started is stopped on Ctrl-C (a cluster that was already running stays).
let startedCluster = false;
if (plan.cluster.kind === 'external') {
  say(`Using the cluster of KUBECONFIG=${plan.cluster.kubeconfig}; no local control plane is started.`);
} else {
  const r = await up();
  startedCluster = !r.reused;
  const s = await status();
  say('');
  say(
    `Local cluster ${r.reused ? 'was already running' : `started in ${(r.startedInMs / 1000).toFixed(1)}s`}.`,
  );
  say(`  export KUBECONFIG=${r.kubeconfig}`);
  say(`  kubectl get nodes -L nvidia.com/gpu.product   # simulated GPU nodes, 8 time-slices per GPU`);
  say(
    `  versions: ${Object.entries(s.versions)
      .map(([k, v]) => `${k.replace('_VERSION', '').toLowerCase()} ${v}`)
      .join(', ')}`,
  );
}
say(`Not part of the platform yet: ${plan.notYet.join(', ')}.`);
say('Press Ctrl-C to stop.');

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  if (startedCluster) {
    say('\nStopping the local cluster ...');
    await down();
  }
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
setInterval(() => undefined, 1 << 30);
