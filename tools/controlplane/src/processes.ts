/**
 * Long-running local processes (etcd, kube-apiserver, …, later Traefik and Keycloak): started
 * detached with their output in a log file, tracked by pid in a state file, waited on with a
 * health probe, and stopped by process group so nothing is left behind.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface ManagedProcess {
  name: string;
  pid: number;
  log: string;
  port?: number;
}

export interface ProcessState {
  processes: ManagedProcess[];
}

export function readState(file: string): ProcessState {
  if (!existsSync(file)) return { processes: [] };
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ProcessState;
  } catch {
    return { processes: [] };
  }
}

export function writeState(file: string, state: ProcessState): void {
  writeFileSync(file, JSON.stringify(state, null, 2));
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Last lines of a log file, for error messages that point at the cause. */
export function tail(file: string, lines = 15): string {
  if (!existsSync(file)) return '(no log file)';
  const text = readFileSync(file, 'utf8').trimEnd().split('\n');
  return text.slice(-lines).join('\n');
}

/**
 * Starts `command` detached in its own process group, output appended to `logDir/<name>.log`.
 * The child outlives this process (the CLI exits; the cluster keeps running).
 */
export function startDetached(
  name: string,
  command: string,
  args: string[],
  logDir: string,
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; port?: number } = {},
): ManagedProcess {
  const log = path.join(logDir, `${name}.log`);
  const fd = openSync(log, 'a');
  writeFileSync(fd, `\n--- ${new Date().toISOString()} starting ${command} ${args.join(' ')}\n`);
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command}); see ${log}`);
  child.unref();
  return { name, pid: child.pid, log, ...(opts.port !== undefined ? { port: opts.port } : {}) };
}

/**
 * Polls `probe` until it resolves true. Fails fast, naming the log file, when the process dies;
 * fails with the log's tail after `timeoutMs`.
 */
export async function waitHealthy(
  proc: ManagedProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (!isAlive(proc.pid)) {
      throw new Error(`${proc.name} exited during start-up; see ${proc.log}\n${tail(proc.log)}`);
    }
    if (await probe().catch(() => false)) return Date.now() - start;
    if (Date.now() - start > timeoutMs) {
      throw new Error(
        `${proc.name} was not healthy after ${Math.round(timeoutMs / 1000)}s; see ${proc.log}\n${tail(proc.log)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Sends `sig` to the process group of `pid` (to the process alone when it leads none). */
export function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

/** Stops a process group: SIGTERM, then SIGKILL after `graceMs`. Resolves when it is gone. */
export async function stopProcess(pid: number, graceMs = 10_000): Promise<void> {
  const signal = (sig: NodeJS.Signals) => killGroup(pid, sig);
  if (!isAlive(pid)) return;
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) {
    signal('SIGKILL');
    while (isAlive(pid)) await new Promise((r) => setTimeout(r, 50));
  }
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
    sock.setTimeout(1000, () => {
      sock.destroy();
      resolve(false);
    });
  });
}

/**
 * A process's command line and environment as /proc gives them (NUL-separated, with a trailing
 * NUL): the argv of a running component, so it can be started again exactly as it was.
 */
export function parseProcList(raw: string): string[] {
  const parts = raw.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}
