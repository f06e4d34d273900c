/**
 * How busy the whole machine was during a phase (other people's work shares these 2 cores): CPU
 * time of all processes from /proc/stat and the CPU pressure stall time from /proc/pressure/cpu.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { clockTicks } from './proc.js';

export interface MachineSnapshot {
  at: number;
  /** CPU time spent busy (not idle/iowait) on all CPUs, ms. */
  busyMs: number;
  /** Time some task waited for a CPU (PSI `some` total), µs; NaN without PSI. */
  pressureUs: number;
}

export interface MachineLoad {
  wallMs: number;
  /** Busy CPU time of the whole machine, in cores (2 = both CPUs busy throughout). */
  busyCores: number;
  /** Share of the time some runnable task waited for a CPU (PSI some). */
  cpuPressure: number;
}

/** Busy ticks from the first (aggregate) line of /proc/stat. */
export function busyTicks(stat: string): number {
  const f = stat.split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
  return f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + (f[7] ?? 0);
}

export function pressureTotalUs(text: string): number {
  return Number(/^some .*total=(\d+)/m.exec(text)?.[1] ?? NaN);
}

export function machineSnapshot(): MachineSnapshot {
  let pressureUs = NaN;
  try {
    pressureUs = pressureTotalUs(readFileSync('/proc/pressure/cpu', 'utf8'));
  } catch {
    /* no PSI */
  }
  return {
    at: Date.now(),
    busyMs: (busyTicks(readFileSync('/proc/stat', 'utf8')) * 1000) / clockTicks(),
    pressureUs,
  };
}

export function machineLoad(a: MachineSnapshot, b: MachineSnapshot): MachineLoad {
  const wallMs = b.at - a.at;
  return {
    wallMs,
    busyCores: wallMs > 0 ? (b.busyMs - a.busyMs) / wallMs : NaN,
    cpuPressure: wallMs > 0 ? (b.pressureUs - a.pressureUs) / 1000 / wallMs : NaN,
  };
}

export interface MachineInfo {
  cpus: number;
  model: string;
  memoryGiB: number;
  node: string;
  kernel: string;
  loadAverage: number[];
}

export function machineInfo(): MachineInfo {
  return {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kernel: os.release(),
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
