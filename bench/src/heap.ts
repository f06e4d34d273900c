/**
 * A Node process's memory as V8 sees it, beside its RSS: the heap by space (from the probe inside
 * the process, src/probe.ts) and how much of the RSS lies outside V8's heap (code, native
 * libraries, malloc arenas, buffers). Pure: the phases take the probe's answer, the report
 * renders it.
 */
import type { HeapSpace, ProbeAnswer } from './probe.js';

export interface ProcessMemory {
  /** RSS when the probe answered (process.memoryUsage().rss). */
  rssBytes: number;
  heapSpaces: HeapSpace[];
  heap: ProbeAnswer['heap'];
  /** ArrayBuffers and other memory V8 was told about (process.memoryUsage().external). */
  externalBytes: number;
}

/** The memory part of a probe's answer. */
export function processMemory(p: ProbeAnswer): ProcessMemory {
  return {
    rssBytes: p.memory.rss,
    heapSpaces: p.heapSpaces,
    heap: p.heap,
    externalBytes: p.memory.external,
  };
}

/** RSS that is not V8's heap: the RSS less the heap's resident pages (never below 0). */
export function rssOutsideHeap(m: ProcessMemory): number {
  return Math.max(0, m.rssBytes - m.heap.physicalBytes);
}

const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;

/** `old 80.1 / 95.3 MB` per space that holds anything (used / resident), largest first. */
export function heapBySpace(m: ProcessMemory): string {
  return [...m.heapSpaces]
    .filter((s) => s.physicalBytes > 0 || s.usedBytes > 0)
    .sort((a, b) => b.physicalBytes - a.physicalBytes)
    .map(
      (s) =>
        `${s.name.replace(/_space$/, '').replace(/_/g, ' ')} ${(s.usedBytes / 1e6).toFixed(1)} / ${mb(s.physicalBytes)}`,
    )
    .join(', ');
}

/** The report's rows for one process: heap by space, the heap in total, the RSS outside it. */
export function memoryRows(who: string, m: ProcessMemory): [string, string][] {
  const outside = rssOutsideHeap(m);
  return [
    [`${who}: V8 heap by space (used / resident)`, heapBySpace(m)],
    [
      `${who}: V8 heap in total (used / resident)`,
      `${mb(m.heap.usedBytes)} / ${mb(m.heap.physicalBytes)}; V8’s own malloc ${mb(m.heap.mallocedBytes)}, external ${mb(m.externalBytes)}`,
    ],
    [
      `${who}: RSS outside V8’s heap`,
      `${mb(outside)} of ${mb(m.rssBytes)} RSS (${m.rssBytes > 0 ? ((outside / m.rssBytes) * 100).toFixed(0) : '–'} %)`,
    ],
  ];
}
