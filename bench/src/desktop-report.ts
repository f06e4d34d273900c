/**
 * The desktop phase's numbers judged against its targets: launch → first frame and
 * where its time goes, frames per second with CPU encoding, keypress → changed pixels against the
 * raw Selkies process measured the same way in the same run, and the CPU a desktop costs idle
 * and streaming. Pure: the phase measures, this file judges and writes the report's section.
 */
import type { CpuWindow, ProcessRole } from './desktop-cpu.js';
import {
  LAUNCH_MARKS,
  STAGE_GROUPS,
  isParallel,
  launchStages,
  medianSpan,
  medianStages,
  span,
  type LaunchMarks,
} from './launch-timeline.js';
import type { Summary } from './stats.js';

/** A desktop's CPU in three states, each a fixed window. */
export interface CpuStates {
  /** Nobody watches (the viewer has disconnected) and nothing moves. */
  idle: CpuWindow;
  /** One viewer connected, the picture still. */
  viewerStill: CpuWindow;
  /** One viewer, the picture changing: the terminal prints a line every 1/120 s. */
  streaming: CpuWindow;
}

/** One stream measured in Chromium: a resolution, its frame rate and the desktop's CPU. */
export interface StreamSample {
  width: number;
  height: number;
  /** Frames the page presented per second while the picture changed. */
  fps: number;
  cpu: CpuStates;
  /** Ctrl+C did not stop the load generator and the benchmark killed it (by pid). */
  loadKilled?: boolean;
}

/** One launch from the portal, with its marks (ms after the click). */
export interface LaunchRun {
  session: string;
  /** Launch click → first decoded frame. */
  ms: number;
  marks: LaunchMarks;
  /** CPU the pod used from its start to the first frame (core-seconds, its cgroup). */
  startCpuSeconds?: number;
  /** Time CFS throttled the pod (its CPU limit) from its start to the first frame. */
  startThrottledMs?: number;
  /** status.startPath of the session (Pool: claimed a warm desktop; absent in older reports). */
  startPath?: string;
  notes: string[];
}

export interface DesktopTarget {
  id: 'launchMs' | 'pooledFaster' | 'fps720' | 'fps1080' | 'keyP50' | 'keyP99' | 'keyRatio' | 'cpu';
  target: string;
  value: string;
  met: boolean | undefined;
  /** Numbers from the run next to a missed target; empty when met. */
  facts: string;
}

/** How the keypresses of one path were measured (see bench/src/desktop.ts, keyLatencies). */
export interface KeyProbeFacts {
  /** Changes after a key that were not about one character: not counted. */
  notKeys: number;
  /** Keys whose change never showed within the timeout. */
  misses: number;
  /** Counted keys found in the region around the previous key (the others searched the frame). */
  foundNearLast: number;
  /** `video-frame`: requestVideoFrameCallback; `animation-frame`: the canvas; `none`: no key counted. */
  clock: 'video-frame' | 'animation-frame' | 'none';
}

export interface DesktopResult {
  image: { ref: string; archiveBytes: number };
  /** The raw Selkies process (the image's rootfs, sandboxed like the pod, no Kubernetes). */
  raw: {
    /** Start → /api/health answers. */
    healthMs: number;
    /** Start → the launcher spawned Selkies (its process's start time). */
    selkiesSpawnedMs?: number;
    /** Page opened → first frame. */
    firstFrameMs: number;
    keyToPixels: Summary;
    keyProbe?: KeyProbeFacts;
    streams: StreamSample[];
  };
  /** The platform path: portal → API → operator → real node → Traefik → forward-auth → Selkies. */
  platform: {
    launches: LaunchRun[];
    /**
     * Launches of the same template from the same portal with a VDIPool of it warm on the real
     * node, measured with the same probe in the same run (absent in older reports).
     */
    pooledLaunches?: LaunchRun[];
    /**
     * The pool: its template (the CPU template without a home: a pool needs persistence none),
     * size, time from creation until that many were warm, and cold launches of that same template
     * in the same run (what the pooled ones are compared with).
     */
    pool?: { template: string; size: number; warmMs: number; cold: LaunchRun[] };
    keyToPixels: Summary;
    keyProbe?: KeyProbeFacts;
    streams: StreamSample[];
  };
  /** Pod resources of the CPU template (request / limit), for the CPU's context. */
  podCpu?: { request: string; limit: string };
  cores: number;
}

export const DESKTOP_TARGETS = {
  /** Seed: < 30 s. Ours, with the image already on the node. */
  launchMs: 5000,
  seedLaunchMs: 30_000,
  fps: 60,
  keyP50Ms: 50,
  keyP99Ms: 50,
  /** Platform path within this factor of the raw process, p50. */
  keyRatio: 1.2,
} as const;

const ms = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? `${Math.round(x)} ms` : '–');
const s1 = (x: number | undefined) =>
  x !== undefined && Number.isFinite(x) ? `${(x / 1000).toFixed(1)} s` : '–';
const s2 = (x: number | undefined) =>
  x !== undefined && Number.isFinite(x) ? `${(x / 1000).toFixed(2)} s` : '–';
const c2 = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(2) : '–');
const median = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const mid = (s.length - 1) / 2;
  return (s[Math.floor(mid)]! + s[Math.ceil(mid)]!) / 2;
};
const streamAt = (streams: StreamSample[], height: number) => streams.find((s) => s.height === height);
const ratio = (a: number, b: number) =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–';

/** The launch's largest parts by median, and the raw process's start against the pod's. */
function launchFacts(d: DesktopResult): string {
  const marks = d.platform.launches.map((l) => l.marks);
  const groups = STAGE_GROUPS.map((g) => ({ ...g, ms: medianSpan(marks, g.from, g.to) }))
    .filter((g) => Number.isFinite(g.ms))
    .sort((a, b) => b.ms - a.ms);
  const inImage = medianSpan(marks, 'containerStarted', 'healthy');
  return (
    `Largest parts (medians): ${groups
      .slice(0, 3)
      .map((g) => `${g.label.split(' (')[0]} ${s1(g.ms)}`)
      .join('; ')}. ` +
    `/api/health: the raw process ${s1(d.raw.healthMs)} after its start, the pod ${s1(inImage)} after its container ` +
    `started (${ratio(inImage, d.raw.healthMs)}).`
  );
}

/** The targets of the desktop phase, each with the run's numbers next to one that is missed. */
export function desktopTargets(d: DesktopResult): DesktopTarget[] {
  const T = DESKTOP_TARGETS;
  const out: DesktopTarget[] = [];
  const launch = median(d.platform.launches.map((l) => l.ms));
  const marks = d.platform.launches.map((l) => l.marks);
  const groups = STAGE_GROUPS.map((g) => `${s1(medianSpan(marks, g.from, g.to))}`).join(' + ');
  out.push({
    id: 'launchMs',
    target: `launch click → first frame ≤ ${s1(T.launchMs)} (seed: < ${s1(T.seedLaunchMs)}), image on the node`,
    value: `${s1(launch)} (median of ${d.platform.launches.length}; by part, medians: ${groups}; see “Launch”)`,
    met: Number.isFinite(launch) ? launch <= T.launchMs : undefined,
    facts: launch <= T.launchMs ? '' : launchFacts(d),
  });
  const pooled = d.platform.pooledLaunches ?? [];
  const cold = d.platform.pool?.cold ?? [];
  if (pooled.length) {
    const p = median(pooled.map((l) => l.ms));
    const c = median(cold.map((l) => l.ms));
    const notPool = pooled.filter((l) => l.startPath !== 'Pool').length;
    const faster = Number.isFinite(p) && Number.isFinite(c) ? p < c && notPool === 0 : undefined;
    out.push({
      id: 'pooledFaster',
      target:
        'pooled launch faster than cold: click → first frame, one template with and without a warm VDIPool (same run, same probe)',
      value:
        `${s2(p)} pooled (median of ${pooled.length}) vs ${s2(c)} cold (median of ${cold.length}): ` +
        `${ratio(p, c)}, ${Number.isFinite(p) && Number.isFinite(c) ? `${s2(Math.abs(c - p))} ${c >= p ? 'faster' : 'slower'}` : '–'}` +
        `; see “Launch from a warm pool”`,
      met: faster,
      facts:
        faster === false
          ? `pooled ${pooled.map((l) => s2(l.ms)).join(', ')}; cold ${cold.map((l) => s2(l.ms)).join(', ')}` +
            (notPool ? `; ${notPool} pooled launch(es) did not claim a warm desktop (startPath ≠ Pool)` : '')
          : '',
    });
  }
  for (const [id, height] of [
    ['fps720', 720],
    ['fps1080', 1080],
  ] as const) {
    const p = streamAt(d.platform.streams, height) ?? streamAt(d.raw.streams, height);
    const where = streamAt(d.platform.streams, height) ? 'platform' : 'raw process';
    out.push({
      id,
      target: `≥ ${T.fps} frames/s at ${height === 720 ? '1280×720' : '1920×1080'}, CPU encoding (seed: 60 at 1080p)`,
      value: p ? `${p.fps.toFixed(0)} frames/s (${where}), ${c2(p.cpu.streaming.cores)} cores` : '–',
      met: p ? p.fps >= T.fps * 0.95 : undefined,
      facts:
        !p || p.fps >= T.fps * 0.95
          ? ''
          : `the desktop used ${c2(p.cpu.streaming.cores)} cores streaming (Selkies ${c2(p.cpu.streaming.byRole.selkies)}) ` +
            `on a machine of ${d.cores} cores` +
            (p.cpu.streaming.throttledMs ? `, throttled ${ms(p.cpu.streaming.throttledMs)}` : ''),
    });
  }
  const key = d.platform.keyToPixels;
  const raw = d.raw.keyToPixels;
  out.push({
    id: 'keyP50',
    target: `keypress → changed pixels p50 < ${T.keyP50Ms} ms (seed: < 50 ms stream latency)`,
    value: `${ms(key.p50)} (raw Selkies ${ms(raw.p50)}; ${key.n} presses)`,
    met: Number.isFinite(key.p50) ? key.p50 < T.keyP50Ms : undefined,
    facts: key.p50 < T.keyP50Ms ? '' : latencyFacts(d),
  });
  out.push({
    id: 'keyP99',
    target: `keypress → changed pixels p99 < ${T.keyP99Ms} ms`,
    value: `${ms(key.p99)} (raw Selkies ${ms(raw.p99)})`,
    met: Number.isFinite(key.p99) ? key.p99 < T.keyP99Ms : undefined,
    facts: key.p99 < T.keyP99Ms ? '' : latencyFacts(d),
  });
  const q = key.p50 / raw.p50;
  out.push({
    id: 'keyRatio',
    target: `platform path p50 within ${T.keyRatio}× of the raw Selkies process (same run, same probe)`,
    value: Number.isFinite(q) ? `${q.toFixed(2)}×` : '–',
    met: Number.isFinite(q) ? q <= T.keyRatio : undefined,
    facts:
      !Number.isFinite(q) || q <= T.keyRatio
        ? ''
        : `p50 platform ${ms(key.p50)}, raw Selkies ${ms(raw.p50)}: ${ms(key.p50 - raw.p50)} more on the platform path`,
  });
  const p720 = streamAt(d.platform.streams, 720);
  const r720 = streamAt(d.raw.streams, 720);
  if (p720) {
    out.push({
      id: 'cpu',
      target: 'CPU per desktop at 1280×720 (no target; reported): idle / one viewer, still / streaming',
      value:
        `${c2(p720.cpu.idle.cores)} / ${c2(p720.cpu.viewerStill.cores)} / ${c2(p720.cpu.streaming.cores)} cores` +
        (r720
          ? ` (raw Selkies ${c2(r720.cpu.idle.cores)} / ${c2(r720.cpu.viewerStill.cores)} / ${c2(r720.cpu.streaming.cores)}; streaming ${ratio(p720.cpu.streaming.cores, r720.cpu.streaming.cores)})`
          : ''),
      met: undefined,
      facts: '',
    });
  }
  return out;
}

function latencyFacts(d: DesktopResult): string {
  const raw = d.raw.keyToPixels;
  return `raw Selkies, same probe, same run: p50 ${ms(raw.p50)}, p99 ${ms(raw.p99)} (n = ${raw.n}); ${d.cores} cores on the machine`;
}

const ROLES: [ProcessRole[], string][] = [
  [['selkies'], 'Selkies'],
  [['xvfb'], 'Xvfb'],
  [['desktop', 'terminal', 'launcher', 'sound'], 'XFCE, terminal, launcher, sound server'],
  [['load'], 'load generator'],
];
const roleCores = (w: CpuWindow, roles: ProcessRole[]) => roles.reduce((a, r) => a + (w.byRole[r] ?? 0), 0);

/** The report's pooled launches beside cold ones of the same template: the same parts, the ratio and the margin. */
function renderPooled(d: DesktopResult): string[] {
  const runs = d.platform.pooledLaunches ?? [];
  const pool = d.platform.pool;
  if (!runs.length || !pool) return [];
  const all = [...pool.cold, ...runs];
  const head = [...pool.cold.map((_, i) => `cold ${i + 1}`), ...runs.map((_, i) => `pooled ${i + 1}`)];
  const marks = all.map((r) => r.marks);
  const coldMarks = pool.cold.map((r) => r.marks);
  const pooledMarks = runs.map((r) => r.marks);
  const p = median(runs.map((r) => r.ms));
  const c = median(pool.cold.map((r) => r.ms));
  const margin =
    Number.isFinite(p) && Number.isFinite(c) ? `${s2(Math.abs(c - p))} ${c >= p ? 'faster' : 'slower'}` : '–';
  return [
    '### Launch from a warm pool',
    '',
    `The template ${pool.template} (the CPU template without a home: a pool needs persistence none; the same image, ` +
      `resources and display), launched from the portal in this run with the same probe as above: ${pool.cold.length} ` +
      `times cold, then ${runs.length} times with a VDIPool of it (size ${pool.size}, warm ${s1(pool.warmMs)} after its ` +
      'creation) on the real node; before each pooled launch the benchmark waited until the pool had a warm desktop ' +
      'again. A pooled desktop’s pod is watched from its claim (the moment it is labelled for the session); its marks ' +
      'before the click (started for the pool) are dropped, so those parts show –.',
    '',
    `| part | cold median | pooled median | ${head.join(' | ')} |`,
    `| --- | --: | --: | ${head.map(() => '--:').join(' | ')} |`,
    ...STAGE_GROUPS.map(
      (g) =>
        `| ${g.label} | ${s2(medianSpan(coldMarks, g.from, g.to))} | ${s2(medianSpan(pooledMarks, g.from, g.to))} | ` +
        `${marks.map((m) => s2(span(m, g.from, g.to))).join(' | ')} |`,
    ),
    `| **click → first frame** | **${s2(c)}** | **${s2(p)}** | ${all.map((r) => s2(r.ms)).join(' | ')} |`,
    `| start path (status.startPath) | | | ${all.map((r) => r.startPath ?? '–').join(' | ')} |`,
    '',
    `Pooled / cold (medians, same template): ${ratio(p, c)}; ${margin} than a cold launch. For reference, the CPU ` +
      `template with its home (above): ${s2(median(d.platform.launches.map((r) => r.ms)))} (median).`,
    '',
    ...all.flatMap((r, i) => r.notes.map((n) => `- ${head[i]}: ${n}`)),
    ...(all.some((r) => r.notes.length) ? [''] : []),
  ];
}

/** The report's "Launch" part: where the time goes, stage by stage. */
function renderLaunch(d: DesktopResult): string[] {
  const runs = d.platform.launches;
  const marks = runs.map((r) => r.marks);
  const med = medianStages(marks);
  const source = new Map(LAUNCH_MARKS.map((m) => [m.id as string, m.source as string]));
  const head = runs.map((_, i) => `launch ${i + 1}`);
  const out: string[] = [
    '### Launch: where the time goes',
    '',
    `${runs.length} launches from the portal (Chromium, logged in as alice, the image on the node), each measured on this ` +
      'process’s clock from the Launch click. Marks: watches of the session and its pod (watch), a poll of /api/health at ' +
      'the pod’s address every 25 ms (bench poll), containerd’s and the kubelet’s logs, the desktop’s own log lines ' +
      '(timestamped by the container runtime) and the portal’s page (its live subscription, requests, websockets).',
    '',
    `| part | median | ${head.join(' | ')} |`,
    `| --- | --: | ${head.map(() => '--:').join(' | ')} |`,
    ...STAGE_GROUPS.map(
      (g) =>
        `| ${g.label} | ${s2(medianSpan(marks, g.from, g.to))} | ${marks.map((m) => s2(span(m, g.from, g.to))).join(' | ')} |`,
    ),
    `| **click → first frame** | **${s2(median(runs.map((r) => r.ms)))}** | ${runs.map((r) => s2(r.ms)).join(' | ')} |`,
    '',
    'Stage by stage (each stage ends at its mark; medians per stage, so they need not add up to the median total):',
    '',
    `| stage | ends at (source) | median | ${head.join(' | ')} |`,
    `| --- | --- | --: | ${head.map(() => '--:').join(' | ')} |`,
  ];
  const per = marks.map((m) => new Map(launchStages(m).map((s) => [s.id, s])));
  for (const s of med) {
    out.push(
      `| ${s.label} | ${s.id} (${source.get(s.id)}) | ${ms(s.ms)} | ${per.map((p) => ms(p.get(s.id)?.ms)).join(' | ')} |`,
    );
  }
  out.push('');
  const beside = LAUNCH_MARKS.filter((m) => isParallel(m) && marks.some((l) => l[m.id] !== undefined));
  for (const m of beside)
    out.push(
      `Beside the stages: ${m.stage} (${m.id}, ${m.source}) ${s2(medianSpan(marks, 'launcherUp', m.id))} after the ` +
        `launcher’s start (median; ${marks.map((l) => s2(span(l, 'launcherUp', m.id))).join(', ')}).`,
      '',
    );
  const cpu = runs.map((r) => r.startCpuSeconds).filter((x): x is number => x !== undefined);
  const thr = runs.map((r) => r.startThrottledMs).filter((x): x is number => x !== undefined);
  const inImage = medianSpan(marks, 'containerStarted', 'healthy');
  const selkiesSpawned = medianSpan(marks, 'containerStarted', 'selkiesSpawned');
  const desktopSpawned = medianSpan(marks, 'containerStarted', 'desktopSpawned');
  out.push(
    `Inside the image, against the raw process started the same way without Kubernetes: the pod answered /api/health ` +
      `${s2(inImage)} after its container started (the launcher spawned Selkies after ${s2(selkiesSpawned)}, XFCE after ` +
      `${s2(desktopSpawned)}), the raw process ` +
      `${s2(d.raw.healthMs)} after its start (Selkies spawned after ${s2(d.raw.selkiesSpawnedMs)}): ${ratio(inImage, d.raw.healthMs)}. ` +
      (cpu.length
        ? `From its start to the first frame the pod used ${c2(median(cpu))} core-seconds (median)` +
          (thr.length
            ? ` and was throttled by its CPU limit${d.podCpu ? ` (${d.podCpu.limit})` : ''} for ${ms(median(thr))}.`
            : '.')
        : ''),
    '',
  );
  const notes = runs.flatMap((r, i) => r.notes.map((n) => `launch ${i + 1}: ${n}`));
  if (notes.length) out.push(...notes.map((n) => `- ${n}`), '');
  return out;
}

/** The report's "CPU per desktop" part. */
function renderCpu(d: DesktopResult): string[] {
  const rows: string[] = [];
  const both: [string, StreamSample[]][] = [
    ['raw Selkies', d.raw.streams],
    ['platform', d.platform.streams],
  ];
  for (const [label, streams] of both) {
    for (const s of streams) {
      const st = s.cpu.streaming;
      rows.push(
        `| ${label} | ${s.width}×${s.height} | ${c2(s.cpu.idle.cores)} | ${c2(s.cpu.viewerStill.cores)} | ${c2(st.cores)} | ` +
          `${ROLES.map(([r]) => c2(roleCores(st, r))).join(' | ')} | ${s.fps.toFixed(0)} | ${st.throttledMs === undefined ? '–' : ms(st.throttledMs)} |`,
      );
    }
  }
  const ratios: string[] = [];
  for (const p of d.platform.streams) {
    const r = d.raw.streams.find((x) => x.height === p.height);
    if (!r) continue;
    ratios.push(
      `| platform ÷ raw | ${p.width}×${p.height} | ${ratio(p.cpu.idle.cores, r.cpu.idle.cores)} | ${ratio(p.cpu.viewerStill.cores, r.cpu.viewerStill.cores)} | ` +
        `${ratio(p.cpu.streaming.cores, r.cpu.streaming.cores)} | ${ROLES.map(([x]) => ratio(roleCores(p.cpu.streaming, x), roleCores(r.cpu.streaming, x))).join(' | ')} | | |`,
    );
  }
  const killed = [...d.raw.streams, ...d.platform.streams].filter((s) => s.loadKilled);
  const worst = Math.max(0, ...d.platform.streams.map((s) => s.cpu.streaming.cores));
  const check = d.platform.streams
    .map((s) => `${s.height}p ${c2(s.cpu.streaming.cores)} vs ${c2(s.cpu.streaming.processCores)}`)
    .join(', ');
  return [
    '### CPU per desktop (cores)',
    '',
    `Each state is a ${Math.round(d.platform.streams[0]?.cpu.idle.seconds ?? 10)} s window. Platform: the pod’s cgroup ` +
      '(cpuacct.usage: every process of the pod, exited ones included); raw: its process tree from /proc (user + system ' +
      'time, with the time of reaped children). **idle**: the viewer has closed its page (no websocket) and nothing moves; ' +
      '**viewer, still**: one viewer connected, the picture unchanged; **streaming**: one viewer while the terminal prints a ' +
      'line every 1/120 s (a Python loop, the load generator, stopped with Ctrl+C afterwards and checked gone by its pid ' +
      'before the idle window). The split of streaming comes from the processes.',
    '',
    `| path | resolution | idle | viewer, still | streaming | ${ROLES.map(([, l]) => l).join(' | ')} | frames/s | throttled |`,
    `| --- | --- | --: | --: | --: | ${ROLES.map(() => '--:').join(' | ')} | --: | --: |`,
    ...rows,
    ...ratios,
    '',
    `Cross-check, cgroup vs the pod’s processes while streaming: ${check}.` +
      (killed.length
        ? ` The load generator did not stop on Ctrl+C in ${killed.map((s) => `${s.width}×${s.height}`).join(', ')} and was killed by the benchmark.`
        : ' The load generator stopped on Ctrl+C every time.'),
    '',
    `8 time-slices per GPU × the largest streaming CPU measured on the platform (${c2(worst)} cores) = ${(8 * worst).toFixed(1)} cores ` +
      `per GPU with CPU encoding${d.podCpu ? ` (the CPU template asks ${d.podCpu.request}, limit ${d.podCpu.limit})` : ''}.`,
    '',
  ];
}

/** Counted keys, those found near the last one, and the changes that were not counted. */
function keyFacts(sum: Summary, k: KeyProbeFacts | undefined): string {
  if (!k) return `${sum.n} counted`;
  return (
    `${sum.n} counted (${k.foundNearLast} found near the last key); ` +
    `${k.notKeys} changes not one character, ${k.misses} never showed`
  );
}

const clockText = (k: KeyProbeFacts | undefined) =>
  !k || k.clock === 'none'
    ? '–'
    : k.clock === 'video-frame'
      ? 'video frames (requestVideoFrameCallback)'
      : 'animation frames (canvas)';

/** The report's "Desktop" section. */
export function renderDesktopSection(d: DesktopResult): string[] {
  const sum = (x: Summary) => `${ms(x.p50)} / ${ms(x.p95)} / ${ms(x.p99)} (n = ${x.n})`;
  return [
    '## Desktop',
    '',
    `Image \`${d.image.ref}\` (${(d.image.archiveBytes / 2 ** 20).toFixed(0)} MiB archive). The raw process is the same ` +
      'image run as uid 1000 on a read-only root without Kubernetes; the platform path is a session launched from the ' +
      'portal in Chromium, on the real node, through Traefik and forward-auth. Both are measured by the same probe in ' +
      'the page: the keydown’s timestamp, then each frame checked as it is shown (`requestVideoFrameCallback` on the ' +
      'video, at the time the frame is expected on screen; animation frames while the canvas paints) until one differs ' +
      'from the picture before the key. A key counts only when its change is about one character of the terminal ' +
      '(a letter typed, then Backspace).',
    '',
    '| path | launch → first frame | keypress → pixels p50 / p95 / p99 | keys | frames timed by |',
    '| --- | --- | --- | --- | --- |',
    `| raw Selkies | health ${s1(d.raw.healthMs)}, first frame +${s1(d.raw.firstFrameMs)} | ${sum(d.raw.keyToPixels)} | ${keyFacts(d.raw.keyToPixels, d.raw.keyProbe)} | ${clockText(d.raw.keyProbe)} |`,
    `| platform | ${d.platform.launches.map((l) => s1(l.ms)).join(', ')} | ${sum(d.platform.keyToPixels)} | ${keyFacts(d.platform.keyToPixels, d.platform.keyProbe)} | ${clockText(d.platform.keyProbe)} |`,
    '',
    ...renderLaunch(d),
    ...renderPooled(d),
    ...renderCpu(d),
  ];
}
