/**
 * CPU time and memory of a process from /proc, so a benchmark measures the operator (or an API
 * server, an etcd) by its own accounting and not by what the benchmark's process sees.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcSample {
  /** User + system CPU time since the process started, in ms. */
  cpuMs: number;
  /** Resident set size now (VmRSS). */
  rssBytes: number;
  /** Peak resident set size since start (VmHWM). */
  peakRssBytes: number;
}

/** User + system CPU ticks from the text of /proc/<pid>/stat (the command name may hold spaces). */
export function cpuTicks(stat: string): number {
  // Fields after the command's closing parenthesis start at field 3 (state); utime and stime
  // are fields 14 and 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

/** VmRSS and VmHWM in bytes from the text of /proc/<pid>/status. */
export function memory(status: string): { rssBytes: number; peakRssBytes: number } {
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssBytes: kb('VmRSS') * 1024, peakRssBytes: kb('VmHWM') * 1024 };
}

let ticksPerSecond: number | undefined;

/** The kernel's clock ticks per second (getconf CLK_TCK; 100 on Linux unless built otherwise). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU time and memory of `pid`, or undefined when it is gone. */
export function sampleProcess(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return { cpuMs: (cpuTicks(stat) * 1000) / clockTicks(), ...memory(status) };
  } catch {
    return undefined;
  }
}

/**
 * Samples a process every `intervalMs` and keeps the largest RSS seen: VmHWM is the peak since
 * the process started, this is the peak within a phase.
 */
/** What each key grew by between two readings of running totals (CPU time by process, requests by kind): keys in both. */
export function delta(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) if (a[k] !== undefined) out[k] = v - a[k]!;
  return out;
}

export class ProcWatcher {
  private timer: NodeJS.Timeout;
  private first?: ProcSample;
  private last?: ProcSample;
  private peak = 0;

  constructor(
    readonly pid: number,
    intervalMs = 250,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const s = sampleProcess(this.pid);
    if (!s) return;
    this.first ??= s;
    this.last = s;
    this.peak = Math.max(this.peak, s.rssBytes);
  }

  /** CPU time used, the RSS peak within the watch and the process's own peak since it started. */
  stop(): { cpuMs: number; peakRssBytes: number; rssBytes: number; processPeakRssBytes: number } {
    clearInterval(this.timer);
    this.sample();
    return {
      cpuMs: this.last && this.first ? this.last.cpuMs - this.first.cpuMs : NaN,
      peakRssBytes: this.peak,
      rssBytes: this.last?.rssBytes ?? NaN,
      processPeakRssBytes: this.last?.peakRssBytes ?? NaN,
    };
  }
}

/**
 * Waits until process `pid` has used less than `maxCores` of a core over a whole `windowMs`
 * (sampled every `windowMs`), at most `timeoutMs`; returns how long that took and whether it got
 * there. For a freshly started JVM (Keycloak compiles its hot code for a minute after a start)
 * before a measurement it would share the 2 cores with.
 */
export async function waitQuiet(
  pid: number,
  o: { windowMs?: number; maxCores?: number; timeoutMs?: number } = {},
): Promise<{ waitedMs: number; quiet: boolean }> {
  const windowMs = o.windowMs ?? 2_000;
  const maxCores = o.maxCores ?? 0.1;
  const t0 = Date.now();
  let last = sampleProcess(pid)?.cpuMs;
  while (last !== undefined && Date.now() - t0 < (o.timeoutMs ?? 90_000)) {
    await new Promise((r) => setTimeout(r, windowMs));
    const now = sampleProcess(pid)?.cpuMs;
    if (now === undefined) break;
    if (now - last < maxCores * windowMs) return { waitedMs: Date.now() - t0, quiet: true };
    last = now;
  }
  return { waitedMs: Date.now() - t0, quiet: last === undefined };
}
