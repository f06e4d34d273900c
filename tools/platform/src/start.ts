/**
 * `npm start`: the whole platform on this machine (tools/platform/src/stack.ts) — the embedded
 * control plane with simulated GPU nodes, Keycloak, coturn, the operator, the API, the portal,
 * Traefik and the desktop stand-ins — or, with KUBECONFIG set, the platform's own processes
 * against that cluster. Prints the portal URL and the demo logins; Ctrl-C stops everything it
 * started (a cluster or Keycloak that was already running before keeps running).
 */
import path from 'node:path';
import { DEMO_USERS } from '@vdi/keycloak';
import { startPlan } from './plan.js';
import { repoRoot } from './paths.js';
import { startStack } from './stack.js';

const plan = startPlan(process.env);
const say = (m: string) => process.stdout.write(`${m}\n`);
const t0 = Date.now();

const isRoot = process.getuid?.() === 0;
const access = plan.cluster.kind === 'embedded' && isRoot;
if (plan.cluster.kind === 'embedded' && !isRoot) {
  say(
    '[platform] not root: the desktop network (a network namespace) cannot be made, so Traefik and the desktop stand-ins do not start; the portal and API still do. Run as root for the whole path.',
  );
}

const stack = await startStack({
  stateDir: path.join(repoRoot, '.vdi', 'platform'),
  cluster:
    plan.cluster.kind === 'external'
      ? { kind: 'external', kubeconfig: plan.cluster.kubeconfig }
      : { kind: 'local' },
  access: access ? {} : false,
  // The one operator of this cluster: it writes every template's status (Ready, Sessions).
  operatorEnv: { VDI_TEMPLATE_STATUS: 'all' },
  stopInfrastructure: true,
  log: (m) => say(`[platform] ${m}`),
});

say('');
say(`The platform is up (${((Date.now() - t0) / 1000).toFixed(0)} s).`);
say('');
say(`  Portal:    ${stack.portalUrl}/`);
say(`  GraphQL:   ${stack.apiUrl}/graphql`);
say(`  Keycloak:  ${stack.keycloakIssuer}  (admin console: kcadmin/kcadmin)`);
say(`  Cluster:   export KUBECONFIG=${stack.kubeconfig}`);
say('');
say('  Demo logins (username/password):');
for (const u of Object.values(DEMO_USERS)) say(`    ${u.username}/${u.password}  ${u.roles.join(', ')}`);
say('');
if (access) {
  say(`  Desktops open at http://<session>.vdi.localhost:${stack.webPort}/`);
  if ('ref' in stack.realDesktop) {
    say(
      `    "XFCE desktop (CPU)" is REAL: Selkies in ${stack.realDesktop.ref} on the local cluster's node vdi-worker-1.`,
    );
    say(
      `    "XFCE desktop (CPU) over WebRTC" is the same desktop streaming over WebRTC through coturn at ${stack.turn.host}:${stack.turn.port}.`,
    );
    say(
      '    GPU desktops are STAND-INS (a page naming the session and user): the GPU nodes here are simulated.',
    );
  } else {
    say(
      `    They are STAND-INS (a page naming the session and user), not real Selkies desktops: ${stack.realDesktop.skipped}.`,
    );
  }
}
say(`  Logs: ${path.join(repoRoot, '.vdi', 'platform', 'logs')}`);
say('');
say('Press Ctrl-C to stop.');

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  say('\nStopping the platform ...');
  await stack.stop();
  say('Stopped.');
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
setInterval(() => undefined, 1 << 30);
