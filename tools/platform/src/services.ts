/**
 * The platform's own Node services (operator, API, portal) as child processes, the way they run
 * in a cluster: each with its environment, its output kept (and optionally written to a log
 * file), a readiness URL waited for, and a stop that waits for the exit. `npm start`, the
 * end-to-end tests and the benchmarks all start them through here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { ensureApiBuild } from './build-api.js';
import { LAUNCHER_ENV, launcherId, stopOrphans } from './orphans.js';
import { repoRoot } from './paths.js';

export { repoRoot };

export interface ServiceProcess {
  name: string;
  proc: ChildProcess;
  /** Output lines, most recent last (bounded). */
  logs: string[];
  exited: Promise<number | null>;
  /** Sends `signal` (SIGTERM by default) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface SpawnOptions {
  name: string;
  /** Executable and arguments; a `.ts` entry of the repo runs with Node and tsx. */
  command: string[];
  env: Record<string, string | undefined>;
  /** 200 from this URL means ready. */
  readyUrl: string;
  readyTimeoutMs?: number;
  /** Output is appended here as well as kept in memory. */
  logFile?: string;
  cwd?: string;
}

const MAX_LINES = 5_000;

/** Node with the workspace source condition and tsx, for a TypeScript entry of the repo. */
export function nodeTs(entry: string, nodeArgs: string[] = []): string[] {
  return [
    process.execPath,
    ...nodeArgs,
    '--conditions=@vdi/source',
    '--import',
    'tsx',
    path.resolve(repoRoot, entry),
  ];
}

export async function spawnService(o: SpawnOptions): Promise<ServiceProcess> {
  const [cmd, ...args] = o.command;
  const proc = spawn(cmd!, args, {
    cwd: o.cwd ?? repoRoot,
    // Marked with its launcher: once that is gone, a later start can tell it was left behind (orphans.ts).
    env: {
      ...(Object.fromEntries(Object.entries(o.env).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv),
      [LAUNCHER_ENV]: launcherId(),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: Ctrl-C in the terminal reaches the launcher, which stops it in order.
    detached: true,
  });
  const logs: string[] = [];
  let file: ReturnType<typeof createWriteStream> | undefined;
  if (o.logFile) {
    mkdirSync(path.dirname(o.logFile), { recursive: true });
    file = createWriteStream(o.logFile, { flags: 'a' });
  }
  const collect = (b: Buffer) => {
    file?.write(b);
    for (const line of b.toString().split('\n')) {
      if (line) logs.push(line);
    }
    if (logs.length > MAX_LINES) logs.splice(0, logs.length - MAX_LINES);
  };
  proc.stdout!.on('data', collect);
  proc.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      file?.end();
      resolve(code);
    }),
  );
  const service: ServiceProcess = {
    name: o.name,
    proc,
    logs,
    exited,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) {
        try {
          process.kill(-proc.pid!, signal);
        } catch {
          proc.kill(signal);
        }
        // A service that ignores SIGTERM for 10 s is killed.
        const t = setTimeout(() => proc.exitCode === null && proc.kill('SIGKILL'), 10_000);
        const code = await exited;
        clearTimeout(t);
        return code;
      }
      return exited;
    },
  };
  const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(
        `${o.name} exited (${proc.exitCode ?? proc.signalCode}) before it was ready:\n  ${logs.slice(-15).join('\n  ')}`,
      );
    }
    const r = await fetch(o.readyUrl, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
    if (r?.status === 200) return service;
    if (Date.now() > deadline) {
      await service.stop('SIGKILL');
      throw new Error(
        `${o.name} was not ready at ${o.readyUrl} within ${(o.readyTimeoutMs ?? 60_000) / 1000}s:\n  ${logs.slice(-15).join('\n  ')}`,
      );
    }
    await new Promise((res) => setTimeout(res, 200));
  }
}

export interface OperatorServiceOptions {
  kubeconfig: string;
  namespace: string;
  metricsPort: number;
  /** Further VDI_* settings (see apps/operator/src/config.ts). */
  env?: Record<string, string>;
  identity?: string;
  logFile?: string;
  nodeArgs?: string[];
}

/**
 * The operator (apps/operator) against `kubeconfig`, sessions and its Lease in `namespace`. An
 * operator of the same namespace and cluster that a killed run left behind is stopped first: it
 * would keep the Lease, with a session key nobody else has (orphans.ts).
 */
export function startOperatorService(o: OperatorServiceOptions): Promise<ServiceProcess> {
  stopOrphans(
    `operator of namespace ${o.namespace}`,
    (p) =>
      p.cmdline.some((a) => a.endsWith(path.join('apps', 'operator', 'src', 'main.ts'))) &&
      p.env.VDI_LEASE_NAMESPACE === o.namespace &&
      p.env.KUBECONFIG === o.kubeconfig,
  );
  return spawnService({
    name: `operator ${o.identity ?? ''}`.trim(),
    command: nodeTs('apps/operator/src/main.ts', o.nodeArgs),
    env: operatorServiceEnv(o),
    readyUrl: `http://127.0.0.1:${o.metricsPort}/readyz`,
    ...(o.logFile ? { logFile: o.logFile } : {}),
  });
}

/** The environment startOperatorService runs the operator with. */
export function operatorServiceEnv(o: OperatorServiceOptions): Record<string, string | undefined> {
  return {
    ...process.env,
    KUBECONFIG: o.kubeconfig,
    VDI_SESSIONS_NAMESPACE: o.namespace,
    VDI_LEASE_NAMESPACE: o.namespace,
    VDI_METRICS_PORT: String(o.metricsPort),
    VDI_METRICS_HOST: '127.0.0.1',
    // A free port on loopback unless the stack names one (it does, for WebRTC desktops).
    VDI_TURN_REST_PORT: '0',
    VDI_TURN_REST_HOST: '127.0.0.1',
    // Templates are cluster-wide and test stacks share the cluster: only an operator asked to
    // (npm start's) writes their status.
    VDI_TEMPLATE_STATUS: 'off',
    ...(o.identity ? { VDI_POD_NAME: o.identity } : {}),
    ...o.env,
  };
}

export interface ApiServiceOptions {
  kubeconfig: string;
  port: number;
  /** VDI_OIDC_ISSUER, VDI_SESSIONS_NAMESPACE, … (see apps/api/src/config.ts). */
  env: Record<string, string>;
  logFile?: string;
  host?: string;
}

/** The GraphQL API (apps/api), compiled first when its sources changed (see build-api.ts). */
export function startApiService(o: ApiServiceOptions): Promise<ServiceProcess> {
  return spawnService({
    name: 'api',
    command: nodeTs(ensureApiBuild()),
    env: {
      ...process.env,
      KUBECONFIG: o.kubeconfig,
      PORT: String(o.port),
      HOST: o.host ?? '127.0.0.1',
      ...o.env,
    },
    readyUrl: `http://127.0.0.1:${o.port}/readyz`,
    ...(o.logFile ? { logFile: o.logFile } : {}),
  });
}
