/**
 * An operator a killed run left behind, on the real API server: it holds its namespace's Lease
 * with a session key of its own. The next start of an operator for that namespace stops it, and
 * the new one takes the Lease.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { KubeJsonClient } from '@vdi/kube-client';
import {
  createTestNamespace,
  ensureCluster,
  freePort,
  installCrds,
  TEST_SESSION_KEY,
  testKubeConfig,
  waitFor,
  type TestNamespace,
} from '@vdi/testing';
import { LAUNCHER_ENV } from './orphans.js';
import { nodeTs, operatorServiceEnv, startOperatorService, type ServiceProcess } from './services.js';

let ns: TestNamespace;
let kubeconfig: string;
let client: KubeJsonClient;
let orphan: ChildProcess | undefined;
let successor: ServiceProcess | undefined;

/** What the operator needs beyond startOperatorService's defaults (its TURN settings, a session key). */
const required = {
  VDI_TURN_SECRET_REF: 'default/vdi-turn/static-auth-secret',
  VDI_TURN_HOST: 'turn.vdi.localhost',
  VDI_TURN_RELAY_CIDRS: '198.19.0.1/32',
  VDI_SESSION_KEY: TEST_SESSION_KEY,
};

const leaseHolder = async () =>
  (
    await client
      .call<{ spec?: { holderIdentity?: string } }>(
        'GET',
        `/apis/coordination.k8s.io/v1/namespaces/${ns.name}/leases/vdi-operator`,
      )
      .catch(() => undefined)
  )?.spec?.holderIdentity;

beforeAll(async () => {
  kubeconfig = ensureCluster();
  await installCrds(testKubeConfig());
  ns = await createTestNamespace('orphans');
  client = new KubeJsonClient(testKubeConfig());
}, 120_000);

afterAll(async () => {
  orphan?.kill('SIGKILL');
  await successor?.stop();
  client?.close();
  await ns?.cleanup();
}, 60_000);

it('stops the operator a killed run left in the namespace, and the new one leads', async () => {
  // The orphan: an operator whose launcher (pid 1 started at tick 1: never this machine's init)
  // is gone, in a process group of its own, as spawnService leaves one behind.
  const [cmd, ...args] = nodeTs('apps/operator/src/main.ts');
  const env = operatorServiceEnv({
    kubeconfig,
    namespace: ns.name,
    metricsPort: await freePort(),
    identity: 'left-behind',
    env: required,
  });
  orphan = spawn(cmd!, args, {
    env: { ...env, [LAUNCHER_ENV]: '1:1' } as NodeJS.ProcessEnv,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  for (const stream of [orphan.stdout!, orphan.stderr!])
    stream.on('data', (b: Buffer) => output.push(String(b)));
  orphan.on('exit', (code, signal) => output.push(`[exited ${code ?? signal}]`));
  await waitFor(
    'the left-behind operator to hold the Lease',
    async () => (await leaseHolder()) === 'left-behind',
    90_000,
  );

  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    lines.push(String(chunk));
    return write(chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    successor = await startOperatorService({
      kubeconfig,
      namespace: ns.name,
      metricsPort: await freePort(),
      identity: 'successor',
      env: required,
    });
  } finally {
    process.stderr.write = write;
  }
  expect(lines.join('')).toContain(
    `stopped an orphaned operator of namespace ${ns.name} (pid ${orphan.pid})`,
  );
  await waitFor('the left-behind operator gone', async () => orphan!.signalCode === 'SIGKILL', 10_000);
  // Its Lease runs out and the successor takes it.
  await waitFor('the successor to hold the Lease', async () => (await leaseHolder()) === 'successor', 60_000);
}, 240_000);
