/**
 * Loaded into a measured process with `node --import` (bundled to plain JS first): counts that
 * process's requests to the Kubernetes API by verb and resource, through Node's
 * `http.client.request.start` diagnostics channel (no patching of the client), and serves the
 * counts with the process's own CPU and memory accounting — V8's heap by space included — as JSON
 * on 127.0.0.1:$BENCH_PROBE_PORT.
 *
 * $BENCH_PROBE_APISERVER (`host:port`) limits the counting to that API server.
 */
import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import { constants as perfConstants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { classifyRequest } from './requests.js';

export interface ProbeAnswer {
  pid: number;
  /** `VERB resource` → requests started. */
  requests: Record<string, number>;
  cpu: NodeJS.CpuUsage;
  memory: NodeJS.MemoryUsage;
  /** process.resourceUsage().maxRSS, in KiB. */
  maxRssKiB: number;
  /** V8's heap by space (new, old, code, large object, …), read with `memory`. */
  heapSpaces: HeapSpace[];
  /** V8's whole heap: what is resident of it, and what V8 holds outside it with malloc. */
  heap: { totalBytes: number; physicalBytes: number; usedBytes: number; mallocedBytes: number };
  /** The monotonic clock V8's CPU profiles use (µs) and the wall clock (ms), read together. */
  monotonicUs: number;
  wallMs: number;
  /** The process's garbage collection since the probe loaded: pauses on the main thread, by kind. */
  gc: GcTotals;
}

/** Garbage-collection pauses (PerformanceObserver 'gc' entries): all of them, and the major ones. */
export type GcTotals = {
  count: number;
  ms: number;
  majorCount: number;
  majorMs: number;
};

/** One space of V8's heap (v8.getHeapSpaceStatistics()). */
export interface HeapSpace {
  name: string;
  /** Reserved for the space. */
  sizeBytes: number;
  usedBytes: number;
  /** Resident: what of the space counts in the RSS. */
  physicalBytes: number;
}

/** The heap by space and in total, now. */
export function heapNow(): Pick<ProbeAnswer, 'heapSpaces' | 'heap'> {
  const h = v8.getHeapStatistics();
  return {
    heapSpaces: v8.getHeapSpaceStatistics().map((x) => ({
      name: x.space_name,
      sizeBytes: x.space_size,
      usedBytes: x.space_used_size,
      physicalBytes: x.physical_space_size,
    })),
    heap: {
      totalBytes: h.total_heap_size,
      physicalBytes: h.total_physical_size,
      usedBytes: h.used_heap_size,
      mallocedBytes: h.malloced_memory,
    },
  };
}

const apiserver = process.env.BENCH_PROBE_APISERVER;
const port = Number(process.env.BENCH_PROBE_PORT ?? 0);
const counts: Record<string, number> = {};
const gc: GcTotals = { count: 0, ms: 0, majorCount: 0, majorMs: 0 };

new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.count++;
    gc.ms += e.duration;
    if ((e as { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) {
      gc.majorCount++;
      gc.majorMs += e.duration;
    }
  }
}).observe({ entryTypes: ['gc'] });

diagnostics.subscribe('http.client.request.start', (message) => {
  const req = (message as { request: http.ClientRequest }).request;
  if (apiserver && req.getHeader('host') !== apiserver) return;
  const k = classifyRequest(req.method, req.path, String(req.getHeader('content-type') ?? ''));
  const key = `${k.verb} ${k.resource}`;
  counts[key] = (counts[key] ?? 0) + 1;
});

if (port > 0) {
  const server = http.createServer((_req, res) => {
    const answer: ProbeAnswer = {
      pid: process.pid,
      requests: counts,
      cpu: process.cpuUsage(),
      memory: process.memoryUsage(),
      maxRssKiB: process.resourceUsage().maxRSS,
      ...heapNow(),
      monotonicUs: Number(process.hrtime.bigint() / 1000n),
      wallMs: Date.now(),
      gc,
    };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
  });
  // A child process that inherits the environment (NODE_OPTIONS) finds the port taken: it then
  // goes unprobed instead of failing.
  server.on('error', (err) => process.stderr.write(`[bench probe] not serving: ${String(err)}\n`));
  server.listen(port, '127.0.0.1');
  // Never what keeps the process alive.
  server.unref();
}
