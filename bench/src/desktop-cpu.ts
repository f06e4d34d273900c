/**
 * The CPU a desktop uses, measured from outside it: the pod's own cgroup (cpuacct.usage, every
 * process the pod ever ran, exited ones included) and, per process, /proc/<pid>/stat — user +
 * system time plus the time of the children each has reaped, so CPU of processes that exited
 * inside the window is not lost. The raw Selkies process has no cgroup of its own; its process
 * tree is measured the same way. Also the processes' start times (the launch timeline) and the
 * roles that split a desktop's CPU (Selkies, Xvfb, the desktop, the terminal, the load).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const TICKS = 100; // USER_HZ

/** What a process of a desktop is, for the split of its CPU. */
export type ProcessRole = 'selkies' | 'launcher' | 'xvfb' | 'sound' | 'terminal' | 'load' | 'desktop';

/** The marker in the load generator's command line (so it can be found and stopped). */
export const LOAD_MARKER = 'vdi-bench-motion';

/** The role of a process from its command name and command line. */
export function processRole(comm: string, cmdline: string): ProcessRole {
  if (cmdline.includes(LOAD_MARKER)) return 'load';
  if (comm === 'Xvfb') return 'xvfb';
  if (comm === 'pulseaudio' || comm.startsWith('pipewire') || comm === 'wireplumber') return 'sound';
  // The platform's launcher (`python3 …/launcher.py`); `selkies-session` launched earlier images,
  // whose raw runs still classify.
  if (/\blauncher\.py\b/.test(cmdline) || /\bselkies-session\b/.test(cmdline)) return 'launcher';
  if (/ -m selkies\b/.test(cmdline)) return 'selkies';
  if (comm.startsWith('xfce4-terminal')) return 'terminal';
  return 'desktop';
}

export interface ProcSample {
  pid: number;
  comm: string;
  cmdline: string;
  /** utime + stime + cutime + cstime, in seconds. */
  cpuSeconds: number;
  /** Start, epoch ms (10 ms resolution). */
  startedAt: number;
}

/** Epoch ms of the machine's boot, from /proc/uptime (10 ms resolution). */
function bootEpochMs(): number {
  const up = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  return Date.now() - up * 1000;
}

/** One process's stat line, split after the command name (which may hold spaces). */
export function parseStat(stat: string): { comm: string; fields: string[] } {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  return {
    comm: stat.slice(open + 1, close),
    fields: stat
      .slice(close + 2)
      .trim()
      .split(' '),
  };
}

/** Samples of the given processes now (those that are gone are left out). */
export function sampleProcs(pids: number[]): ProcSample[] {
  const boot = bootEpochMs();
  const out: ProcSample[] = [];
  for (const pid of pids) {
    try {
      const { comm, fields } = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      // Fields after the name: state is [0]; utime [11], stime [12], cutime [13], cstime [14], starttime [19].
      const t = (i: number) => Number(fields[i]);
      out.push({
        pid,
        comm,
        cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim(),
        cpuSeconds: (t(11) + t(12) + t(13) + t(14)) / TICKS,
        startedAt: boot + (t(19) / TICKS) * 1000,
      });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** Cores per role between two samples over `seconds`; processes new in `b` count from zero. */
export function coresByRole(a: ProcSample[], b: ProcSample[], seconds: number): Record<ProcessRole, number> {
  const out: Record<ProcessRole, number> = {
    selkies: 0,
    launcher: 0,
    xvfb: 0,
    sound: 0,
    terminal: 0,
    load: 0,
    desktop: 0,
  };
  const before = new Map(a.map((p) => [p.pid, p]));
  const same = (x: ProcSample, y: ProcSample | undefined) => y !== undefined && y.startedAt === x.startedAt;
  for (const p of b) {
    const prev = before.get(p.pid);
    // A reused pid (another start time) is a new process.
    const base = same(p, prev) ? prev!.cpuSeconds : 0;
    out[processRole(p.comm, p.cmdline)] += Math.max(0, p.cpuSeconds - base) / seconds;
  }
  // A process that exited inside the window reappears whole in its parent's reaped-children time:
  // take back what it had used before the window.
  const after = new Map(b.map((p) => [p.pid, p]));
  for (const p of a)
    if (!same(p, after.get(p.pid))) out[processRole(p.comm, p.cmdline)] -= p.cpuSeconds / seconds;
  return out;
}

/** Processes of a pod on this machine: those whose cgroup path names the pod's uid. */
export function podPids(uid: string): number[] {
  const marks = [`pod${uid}`, `pod${uid.replace(/-/g, '_')}`];
  return readdirSync('/proc')
    .filter((x) => /^\d+$/.test(x))
    .filter((d) => {
      try {
        const cg = readFileSync(`/proc/${d}/cgroup`, 'utf8');
        return marks.some((m) => cg.includes(m));
      } catch {
        return false;
      }
    })
    .map(Number);
}

/**
 * The pod's cgroup folders (cgroup v1): cpuacct for its usage, cpu for its throttling — the
 * parent of a pod process's container cgroup.
 */
export function podCgroup(uid: string): { cpuacct: string; cpu: string } | undefined {
  for (const pid of podPids(uid)) {
    try {
      const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
      const find = (ctrl: string) => {
        const l = lines.find((x) => x.split(':')[1]?.split(',').includes(ctrl));
        const p = l?.split(':').slice(2).join(':');
        if (!p) return undefined;
        // The pod's folder: the path component that names the pod (containers sit below it).
        const parts = p.split('/');
        const i = parts.findIndex((x) => x.startsWith('pod') && x.includes(uid.slice(0, 8)));
        return i < 0 ? undefined : path.join('/sys/fs/cgroup', ctrl, ...parts.slice(0, i + 1));
      };
      const cpuacct = find('cpuacct');
      const cpu = find('cpu');
      if (cpuacct && cpu) return { cpuacct, cpu };
    } catch {
      /* gone */
    }
  }
  return undefined;
}

/** The cgroup's CPU so far, seconds (cpuacct.usage, ns). */
export function cgroupCpuSeconds(dir: string): number {
  return Number(readFileSync(path.join(dir, 'cpuacct.usage'), 'utf8').trim()) / 1e9;
}

/** CFS throttling of a cgroup so far (cpu.stat). */
export function cgroupThrottling(dir: string): { periods: number; throttled: number; throttledMs: number } {
  const stat = Object.fromEntries(
    readFileSync(path.join(dir, 'cpu.stat'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' ') as [string, string]),
  );
  return {
    periods: Number(stat.nr_periods ?? 0),
    throttled: Number(stat.nr_throttled ?? 0),
    throttledMs: Number(stat.throttled_time ?? 0) / 1e6,
  };
}

/** A desktop as the CPU probe sees it: its processes, and its cgroup when it is a pod. */
export interface DesktopProcesses {
  pids(): number[];
  cgroup?: { cpuacct: string; cpu: string };
}

/** One measured window of a desktop's CPU. */
export interface CpuWindow {
  seconds: number;
  /** Cores of the whole desktop: the pod's cgroup, or the raw process tree. */
  cores: number;
  /** The same from the processes (a cross-check of the cgroup for pods). */
  processCores: number;
  byRole: Record<ProcessRole, number>;
  /** CFS throttling inside the window (pods with a CPU limit). */
  throttledMs?: number;
}

/** Measures the desktop’s CPU while `during` runs. */
export async function measureCpu(d: DesktopProcesses, during: () => Promise<unknown>): Promise<CpuWindow> {
  const a = sampleProcs(d.pids());
  const ca = d.cgroup ? cgroupCpuSeconds(d.cgroup.cpuacct) : NaN;
  const ta = d.cgroup ? cgroupThrottling(d.cgroup.cpu) : undefined;
  const t0 = Date.now();
  await during();
  const b = sampleProcs(d.pids());
  const seconds = (Date.now() - t0) / 1000;
  const byRole = coresByRole(a, b, seconds);
  const processCores = Object.values(byRole).reduce((x, y) => x + y, 0);
  const cb = d.cgroup ? cgroupCpuSeconds(d.cgroup.cpuacct) : NaN;
  const tb = d.cgroup ? cgroupThrottling(d.cgroup.cpu) : undefined;
  return {
    seconds,
    cores: d.cgroup ? (cb - ca) / seconds : processCores,
    processCores,
    byRole,
    ...(ta && tb ? { throttledMs: tb.throttledMs - ta.throttledMs } : {}),
  };
}

/** Pids of the load generator among the desktop's processes. */
export function loadPids(d: DesktopProcesses): number[] {
  return sampleProcs(d.pids())
    .filter((p) => p.cmdline.includes(LOAD_MARKER))
    .map((p) => p.pid);
}
