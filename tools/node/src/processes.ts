/**
 * The node's processes (containerd, kubelet) and the ones they leave behind (shims, container
 * processes): started detached with their output in a log file, found again after a crash by
 * their command line or their cgroup, and stopped by pid.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { NETPOL_BINARY } from './netpol.js';

export interface NodeProcess {
  name: string;
  pid: number;
  log: string;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie is gone for every purpose here.
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** The binary each recorded process runs (what its command line names). */
const BINARY_OF: Record<string, string> = { netpol: NETPOL_BINARY };

/**
 * Whether a recorded process still runs: its pid is alive and still runs the binary it was started
 * as. A record outliving its machine (a snapshot restored elsewhere, a reboot) names pids that
 * other processes may hold by now; those are neither this node's nor to be killed.
 */
export function isRecordedAlive(x: Pick<NodeProcess, 'name' | 'pid'>): boolean {
  if (!isAlive(x.pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${x.pid}/cmdline`, 'utf8').split('\0');
    const binary = BINARY_OF[x.name] ?? x.name;
    return path.basename(cmdline[0] ?? '') === binary;
  } catch {
    return false;
  }
}

export function startDetached(
  name: string,
  command: string,
  args: string[],
  logDir: string,
  env: NodeJS.ProcessEnv,
): NodeProcess {
  const log = path.join(logDir, `${name}.log`);
  const fd = openSync(log, 'a');
  writeFileSync(fd, `\n--- ${new Date().toISOString()} starting ${command} ${args.join(' ')}\n`);
  const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command}); see ${log}`);
  child.unref();
  return { name, pid: child.pid, log };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stopPid(pid: number, graceMs = 10_000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    while (isAlive(pid)) await new Promise((r) => setTimeout(r, 50));
  }
}

export function killNow(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** Pids whose command line contains `needle` (e.g. the node's containerd socket path). */
export function pidsWithCmdline(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) out.push(Number(d));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** The v1 hierarchies mounted under /sys/fs/cgroup (cpu, memory, …; `unified` is the v2 one). */
export function cgroupHierarchies(): string[] {
  const base = '/sys/fs/cgroup';
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .map((d) => path.join(base, d))
    .filter((d) => existsSync(path.join(d, 'cgroup.procs')));
}

/** Every cgroup folder at or below `/<root>` in every hierarchy, deepest first. */
export function cgroupDirs(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return;
    }
    for (const e of entries) walk(path.join(dir, e));
    out.push(dir);
  };
  for (const h of cgroupHierarchies()) {
    const top = path.join(h, root);
    if (existsSync(top)) walk(top);
  }
  return out;
}

/** Pids of every process in the node's cgroups (the containers), from all hierarchies. */
export function cgroupPids(root: string): number[] {
  const pids = new Set<number>();
  for (const dir of cgroupDirs(root)) {
    try {
      for (const l of readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n'))
        if (l) pids.add(Number(l));
    } catch {
      /* removed meanwhile */
    }
  }
  return [...pids];
}
