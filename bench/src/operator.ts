/**
 * The operator as a child process of the benchmark: the bundled apps/operator (see build.ts) with
 * the request probe loaded, its own metrics and probe ports, optionally `--cpu-prof`. CPU time
 * and RSS come from /proc (its own accounting); requests from the probe.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { freePort, waitFor } from '@vdi/testing';
import type { Builds } from './build.js';
import type { ProbeAnswer } from './probe.js';
import { sampleProcess, type ProcSample } from './proc.js';
import { metricSum } from './prom.js';
import { withShippedRuntime } from './shipped.js';

export interface OperatorProcess {
  proc: ChildProcess;
  pid: number;
  identity: string;
  metricsPort: number;
  logs: string[];
  exited: Promise<number | null>;
  /** Wall-clock ms when /readyz first answered 200 (caches synced). */
  readyAt: number;
  alive(): boolean;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  metrics(): Promise<string>;
  probe(): Promise<ProbeAnswer>;
  sample(): ProcSample | undefined;
}

export interface StartOptions {
  builds: Builds;
  kubeconfig: string;
  apiserverHost: string;
  env: Record<string, string>;
  identity: string;
  /** Directory for `--cpu-prof` output; no profiling when absent. */
  cpuProfDir?: string;
  /** How long to wait for /readyz (the API server may be away in a chaos run). */
  readyTimeoutMs?: number;
}

const MAX_LOG_LINES = 2_000;

export async function startOperator(o: StartOptions): Promise<OperatorProcess> {
  const metricsPort = await freePort();
  const probePort = await freePort();
  const args = [
    ...(o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] : []),
    // `kill -USR2 <pid>` writes a V8 heap snapshot into the benchmark's working directory (what
    // holds the operator's memory, by object), without stopping the run.
    '--heapsnapshot-signal=SIGUSR2',
    '--import',
    pathToFileURL(o.builds.probe).href,
    o.builds.operator,
  ];
  const proc = spawn(process.execPath, args, {
    env: {
      ...process.env,
      KUBECONFIG: o.kubeconfig,
      VDI_METRICS_PORT: String(metricsPort),
      VDI_METRICS_HOST: '127.0.0.1',
      VDI_TURN_REST_PORT: '0',
      VDI_TURN_REST_HOST: '127.0.0.1',
      VDI_POD_NAME: o.identity,
      BENCH_PROBE_PORT: String(probePort),
      BENCH_PROBE_APISERVER: o.apiserverHost,
      // With every runtime setting the shipped image and Deployment give it (V8 heap bounds, …).
      ...withShippedRuntime('operator', o.env),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const collect = (b: Buffer) => {
    for (const line of b.toString().split('\n')) if (line) logs.push(line);
    if (logs.length > MAX_LOG_LINES) logs.splice(0, logs.length - MAX_LOG_LINES);
  };
  proc.stdout!.on('data', collect);
  proc.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  const op: OperatorProcess = {
    proc,
    pid: proc.pid!,
    identity: o.identity,
    metricsPort,
    logs,
    exited,
    readyAt: 0,
    alive,
    async stop(signal = 'SIGTERM') {
      if (alive()) proc.kill(signal);
      const t = setTimeout(() => alive() && proc.kill('SIGKILL'), 60_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
    async metrics() {
      return (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    },
    async probe() {
      return (await (await fetch(`http://127.0.0.1:${probePort}/`)).json()) as ProbeAnswer;
    },
    sample: () => sampleProcess(proc.pid!),
  };
  try {
    await waitFor(
      `operator ${o.identity} ready`,
      async () => {
        if (!alive())
          throw new Error(
            `operator exited (${proc.exitCode ?? proc.signalCode}): ${logs.slice(-5).join('\n')}`,
          );
        const r = await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined);
        return r?.status === 200;
      },
      o.readyTimeoutMs ?? 60_000,
      25,
    );
  } catch (err) {
    if (alive()) proc.kill('SIGKILL');
    throw err;
  }
  op.readyAt = Date.now();
  return op;
}

/** Waits until the operator holds its Lease (gauge `vdi_operator_leader` 1); returns when. */
export async function waitLeader(op: OperatorProcess, timeoutMs = 60_000): Promise<number> {
  await waitFor(
    `operator ${op.identity} to lead`,
    async () => {
      if (!op.alive()) throw new Error(`operator ${op.identity} exited: ${op.logs.slice(-5).join('\n')}`);
      return metricSum(await op.metrics(), 'vdi_operator_leader') === 1;
    },
    timeoutMs,
    25,
  );
  return Date.now();
}
