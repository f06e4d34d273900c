/**
 * Services a killed run left behind. The platform's services run in process groups of their own
 * (spawnService: `detached`), so when the test or launcher that started them is killed (a jest
 * timeout, Ctrl-C twice, a CI job cancelled) they live on, re-parented to PID 1. An orphaned
 * operator is the harmful one: it keeps its namespace's Lease and its own random session key, so
 * the next run's operator never leads and every desktop it answers for refuses the next run's
 * passwords (401 at the desktop).
 *
 * spawnService marks each service with its launcher (VDI_LAUNCHER: the pid and start time of the
 * process that started it). Before a service starts, the processes whose launcher is gone that
 * match it (command line and environment: the same entry point, namespace and cluster) are
 * stopped. A service whose launcher is alive belongs to a run in progress and is never touched.
 * (Re-parenting does not tell: a CI runner or container init may adopt orphans instead of PID 1.)
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcFacts {
  pid: number;
  /** One letter: R, S, D, Z (a zombie: exited, not yet reaped), … */
  state: string;
  ppid: number;
  /** Start time after boot, in clock ticks: with the pid, tells a process from a later one of the same pid. */
  started: number;
  /** Process group: orphans are stopped as a whole group (a service and its children). */
  pgid: number;
  cmdline: string[];
  env: Record<string, string>;
}

/**
 * Parent and process group from /proc/<pid>/stat: `pid (comm) state ppid pgrp …`, where comm may
 * itself hold spaces and parentheses (so the fields are read after its last `)`).
 */
export function parseStat(
  stat: string,
): { state: string; ppid: number; pgid: number; started: number } | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  // Fields 3 (state) onwards; starttime is field 22.
  const fields = stat.slice(close + 2).split(' ');
  const state = fields[0] ?? '';
  const [ppid, pgid, started] = [fields[1], fields[2], fields[19]].map(Number) as [number, number, number];
  return state && [ppid, pgid, started].every(Number.isInteger) ? { state, ppid, pgid, started } : undefined;
}

/** The environment variable spawnService marks each service with: its launcher's `pid:starttime`. */
export const LAUNCHER_ENV = 'VDI_LAUNCHER';

/** This process as a launcher (`pid:starttime`), for LAUNCHER_ENV. */
export function launcherId(proc = '/proc'): string {
  let started = 0;
  try {
    started = parseStat(readFileSync(`${proc}/self/stat`, 'utf8'))?.started ?? 0;
  } catch {
    // No /proc (not Linux): the pid alone.
  }
  return `${process.pid}:${started}`;
}

/** NUL-separated `KEY=value` pairs (/proc/<pid>/environ). */
export function parseEnviron(raw: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of raw.split('\0')) {
    const eq = pair.indexOf('=');
    if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/** Every process this user may read (others, and those gone meanwhile, are skipped). */
export function readProcs(proc = '/proc'): ProcFacts[] {
  const out: ProcFacts[] = [];
  let names: string[];
  try {
    names = readdirSync(proc);
  } catch {
    return out; // No /proc (not Linux): nothing known, nothing stopped.
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = parseStat(readFileSync(`${proc}/${name}/stat`, 'utf8'));
      if (!stat) continue;
      out.push({
        pid: Number(name),
        ...stat,
        cmdline: readFileSync(`${proc}/${name}/cmdline`, 'utf8').split('\0').filter(Boolean),
        env: parseEnviron(readFileSync(`${proc}/${name}/environ`, 'utf8')),
      });
    } catch {
      // Gone, or not ours to read.
    }
  }
  return out;
}

/**
 * The live processes of `procs` whose launcher (LAUNCHER_ENV) is gone that `match` accepts, never
 * `self`. A process without the mark (started before it existed) counts as orphaned once it was
 * re-parented to PID 1.
 */
export function orphansOf(
  procs: readonly ProcFacts[],
  match: (p: ProcFacts) => boolean,
  self = process.pid,
): ProcFacts[] {
  const alive = new Set(procs.filter((p) => p.state !== 'Z').map((p) => `${p.pid}:${p.started}`));
  const orphaned = (p: ProcFacts) => {
    const launcher = p.env[LAUNCHER_ENV];
    return launcher ? !alive.has(launcher) : p.ppid === 1;
  };
  return procs.filter((p) => p.state !== 'Z' && p.pid !== self && orphaned(p) && match(p));
}

/**
 * Stops (SIGKILL, the whole process group when the orphan leads one) every orphan `match`
 * accepts, says so on stderr with `what` and why, and returns their pids.
 */
export function stopOrphans(
  what: string,
  match: (p: ProcFacts) => boolean,
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): number[] {
  const found = orphansOf(readProcs(), match);
  for (const p of found) {
    try {
      process.kill(p.pgid === p.pid ? -p.pid : p.pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
    write(
      `[platform] stopped an orphaned ${what} (pid ${p.pid}), left running by a run that was killed: it would hold what the new one needs`,
    );
  }
  return found.map((p) => p.pid);
}
