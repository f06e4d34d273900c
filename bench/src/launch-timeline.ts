/**
 * Where a desktop launch's time goes: the marks one launch leaves — in the benchmark's watches and
 * page, in containerd's and the kubelet's logs, in the desktop's own log — put on one clock (ms
 * after the Launch click) and cut into consecutive stages along the critical path. Pure: the
 * desktop phase collects the raw material (src/launch-recorder.ts), this file parses and judges it.
 */

/** One point of a launch, in the order the critical path passes it. */
export const LAUNCH_MARKS = [
  // The portal and the API.
  { id: 'sessionSeen', stage: 'portal → API → VDISession created', source: 'watch' },
  { id: 'podSeen', stage: 'operator: session → pod created', source: 'watch' },
  { id: 'podBound', stage: 'scheduler: pod bound to the node', source: 'watch' },
  // The node.
  { id: 'sandboxStart', stage: 'kubelet: volumes, Secret → RunPodSandbox', source: 'containerd' },
  { id: 'sandboxReady', stage: 'containerd: sandbox (pause, CNI)', source: 'containerd' },
  { id: 'containerCreated', stage: 'containerd: CreateContainer', source: 'containerd' },
  { id: 'containerStarted', stage: 'containerd: StartContainer', source: 'containerd' },
  // Inside the image: the platform's launcher (its `[vdi-launcher] … event=…` lines), then Selkies'
  // own lines; timestamped by the container runtime.
  { id: 'launcherUp', stage: 'entrypoint → launcher (Python) up', source: 'pod log' },
  // The launcher starts the sound server beside Xvfb and starts Selkies once X serves, without
  // waiting for sound: off the critical path, shown beside the stages.
  { id: 'soundUp', stage: 'launcher: sound server up (or given up)', source: 'pod log', parallel: true },
  { id: 'xUp', stage: 'launcher: Xvfb up at the session’s size', source: 'pod log' },
  { id: 'selkiesSpawned', stage: 'launcher: Selkies spawned', source: 'pod log' },
  { id: 'desktopSpawned', stage: 'launcher: XFCE spawned', source: 'pod log' },
  { id: 'selkiesStarting', stage: 'Selkies imports (XFCE starting beside it)', source: 'pod log' },
  { id: 'selkiesListening', stage: 'Selkies sets up its server', source: 'pod log' },
  { id: 'healthy', stage: 'GET /api/health answers', source: 'bench poll' },
  // Back up through Kubernetes to the browser.
  { id: 'probeReady', stage: 'kubelet readiness probe (period 1 s)', source: 'kubelet' },
  { id: 'podReady', stage: 'kubelet → pod Ready in the API', source: 'watch' },
  { id: 'sessionRunning', stage: 'operator: pod Ready → session Running', source: 'watch' },
  { id: 'portalRunning', stage: 'API → portal (live subscription)', source: 'page' },
  { id: 'openRequest', stage: 'portal: Running seen → openSession sent', source: 'page' },
  { id: 'navigation', stage: 'API: openSession (ticket) → navigation', source: 'page' },
  { id: 'desktopPage', stage: 'ticket, forward-auth, Selkies page loaded', source: 'page' },
  { id: 'streamSocket', stage: 'Selkies client → stream websocket', source: 'page' },
  { id: 'streamData', stage: 'first stream data (capture + encoder start)', source: 'page' },
  { id: 'firstFrame', stage: 'decoded and painted', source: 'page' },
] as const;

export type LaunchMarkId = (typeof LAUNCH_MARKS)[number]['id'];

/** Whether a mark lies beside the critical path (its time overlaps the stages; not one of them). */
export const isParallel = (m: (typeof LAUNCH_MARKS)[number]): boolean => 'parallel' in m && m.parallel;

/** Marks of one launch: ms after the click; a mark that was not seen is absent. */
export type LaunchMarks = Partial<Record<LaunchMarkId, number>>;

export interface LaunchStage {
  /** The mark the stage ends at. */
  id: LaunchMarkId;
  label: string;
  /** ms from the previous present mark (or the click) to this one. */
  ms: number;
  /** ms after the click when the stage ended. */
  at: number;
}

/**
 * The stages of one launch: consecutive present marks, in critical-path order. A missing mark
 * folds its time into the next stage (its label then names both); a mark beside the critical
 * path (isParallel) is not a stage.
 */
export function launchStages(marks: LaunchMarks): LaunchStage[] {
  const out: LaunchStage[] = [];
  let prev = 0;
  let skipped: string[] = [];
  for (const m of LAUNCH_MARKS) {
    if (isParallel(m)) continue;
    const at = marks[m.id];
    if (at === undefined || !Number.isFinite(at)) {
      skipped.push(m.stage);
      continue;
    }
    out.push({ id: m.id, label: [...skipped, m.stage].join(' + '), ms: at - prev, at });
    prev = at;
    skipped = [];
  }
  return out;
}

const median = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const mid = (s.length - 1) / 2;
  return (s[Math.floor(mid)]! + s[Math.ceil(mid)]!) / 2;
};

/** Per mark: the median over launches of the stage that ends there (marks every launch has). */
export function medianStages(launches: LaunchMarks[]): LaunchStage[] {
  const common = LAUNCH_MARKS.filter((m) => launches.length && launches.every((l) => l[m.id] !== undefined));
  const only = (l: LaunchMarks): LaunchMarks => Object.fromEntries(common.map((m) => [m.id, l[m.id]]));
  const per = launches.map((l) => launchStages(only(l)));
  return (per[0] ?? []).map((s, i) => ({
    ...s,
    ms: median(per.map((p) => p[i]!.ms)),
    at: median(per.map((p) => p[i]!.at)),
  }));
}

/** The groups a report sums stages into, so the big shares read at a glance. */
export const STAGE_GROUPS: { label: string; from: LaunchMarkId | 'click'; to: LaunchMarkId }[] = [
  { label: 'click → pod bound (portal, API, operator, scheduler)', from: 'click', to: 'podBound' },
  { label: 'pod bound → container started (kubelet, containerd)', from: 'podBound', to: 'containerStarted' },
  { label: 'container started → /api/health (inside the image)', from: 'containerStarted', to: 'healthy' },
  {
    label: '/api/health → session Running (probe, kubelet, operator)',
    from: 'healthy',
    to: 'sessionRunning',
  },
  {
    label: 'session Running → first frame (API, portal, browser, Selkies)',
    from: 'sessionRunning',
    to: 'firstFrame',
  },
];

/** ms between two marks of a launch (the click is 0); NaN when one is missing. */
export function span(marks: LaunchMarks, from: LaunchMarkId | 'click', to: LaunchMarkId): number {
  const a = from === 'click' ? 0 : marks[from];
  const b = marks[to];
  return a === undefined || b === undefined ? NaN : b - a;
}

/** The median of `span` over launches. */
export function medianSpan(launches: LaunchMarks[], from: LaunchMarkId | 'click', to: LaunchMarkId): number {
  return median(launches.map((l) => span(l, from, to)));
}

// ---------------------------------------------------------------------------------------------
// Parsers of the node's logs. Each returns epoch ms; the caller subtracts the click.

/** containerd's logrus line: `time="2026-12-04T13:22:44.462238038Z" level=info msg="…"`. */
function containerdLine(line: string): { at: number; msg: string } | undefined {
  const m = /^time="([^"]+)"\s+level=\w+\s+msg="((?:[^"\\]|\\.)*)"/.exec(line);
  if (!m) return undefined;
  const at = Date.parse(m[1]!);
  return Number.isFinite(at) ? { at, msg: m[2]!.replace(/\\"/g, '"') } : undefined;
}

/**
 * A pod's sandbox and its container `container` in containerd's log: RunPodSandbox asked and
 * answered, CreateContainer answered, StartContainer answered — found by the pod's uid, then the
 * sandbox's and the container's ids.
 */
export function containerdMarks(
  log: string,
  podUid: string,
  container: string,
): Partial<Record<'sandboxStart' | 'sandboxReady' | 'containerCreated' | 'containerStarted', number>> {
  const out: Partial<
    Record<'sandboxStart' | 'sandboxReady' | 'containerCreated' | 'containerStarted', number>
  > = {};
  let sandbox: string | undefined;
  let id: string | undefined;
  for (const raw of log.split('\n')) {
    const l = containerdLine(raw);
    if (!l) continue;
    if (l.msg.startsWith('RunPodSandbox for ') && l.msg.includes(`uid:"${podUid}"`)) {
      const ret = /returns sandbox id "([0-9a-f]+)"/.exec(l.msg);
      if (ret) {
        sandbox = ret[1];
        out.sandboxReady = l.at;
      } else out.sandboxStart ??= l.at;
    } else if (sandbox && l.msg.startsWith(`CreateContainer within sandbox "${sandbox}"`)) {
      const ret = new RegExp(`for name:"${container}" returns container id "([0-9a-f]+)"`).exec(l.msg);
      if (ret) {
        id = ret[1];
        out.containerCreated = l.at;
      }
    } else if (id && l.msg === `StartContainer for "${id}" returns successfully`) {
      out.containerStarted = l.at;
    }
  }
  return out;
}

/**
 * klog's header `I1204 13:22:46.019729   10623 file.go:1] …`: month, day and local time; the year
 * is `year` (the log has none).
 */
function klogTime(line: string, year: number): number | undefined {
  const m = /^[IWEF](\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{1,6})/.exec(line);
  if (!m) return undefined;
  const [, mo, d, h, mi, s, frac] = m;
  const ms = Number(frac!.padEnd(6, '0')) / 1000;
  return new Date(year, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)).getTime() + ms;
}

/** When the kubelet's readiness probe first found the pod `namespace/name` ready. */
export function kubeletProbeReady(
  log: string,
  namespace: string,
  name: string,
  year: number,
): number | undefined {
  const needle = `"SyncLoop (probe)" probe="readiness" status="ready" pod="${namespace}/${name}"`;
  for (const line of log.split('\n')) {
    if (!line.includes(needle)) continue;
    const at = klogTime(line, year);
    if (at !== undefined) return at;
  }
  return undefined;
}

/**
 * The platform launcher's events (images/desktop: `[vdi-launcher] t_ms=<ms> event=<name> k=v…` on
 * stderr) by the mark they set. `restart`, `stopping` and `stopped` are not part of a start.
 */
const LAUNCHER_EVENTS: Partial<Record<string, LaunchMarkId>> = {
  start: 'launcherUp',
  'sound-up': 'soundUp',
  // The session goes on without sound: the sound step ended there.
  'sound-failed': 'soundUp',
  'x-up': 'xUp',
  'selkies-spawned': 'selkiesSpawned',
  'desktop-spawned': 'desktopSpawned',
  // No X11 session installed: the step ended without a desktop.
  'desktop-missing': 'desktopSpawned',
};

/**
 * The event of a launcher line and its fields (logfmt: `key=value`, a value with spaces, quotes
 * or `=` in double quotes with backslash escapes), or undefined for any other line.
 */
export function launcherEvent(line: string): { event: string; fields: Record<string, string> } | undefined {
  if (!line.startsWith('[vdi-launcher] ')) return undefined;
  const fields: Record<string, string> = {};
  for (const m of line.slice('[vdi-launcher] '.length).matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const v = m[2]!;
    fields[m[1]!] = v.startsWith('"')
      ? v.slice(1, -1).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
      : v;
  }
  const event = fields.event;
  if (!event) return undefined;
  delete fields.event;
  return { event, fields };
}

/** Selkies' own start-up lines, by the mark they set. */
const SELKIES_LINES: [LaunchMarkId, RegExp][] = [
  ['selkiesStarting', /^INFO:main:Selkies \S+ starting/],
  ['selkiesListening', /Selkies server running on /],
];

/**
 * Marks from a container log read with timestamps (`<RFC 3339 nano> <line>`, as
 * `kubectl logs --timestamps` and the pods/log API give it): the first line matching each.
 */
export function podLogMarks(log: string): LaunchMarks {
  const out: LaunchMarks = {};
  for (const raw of log.split('\n')) {
    const sp = raw.indexOf(' ');
    if (sp < 0) continue;
    const at = Date.parse(raw.slice(0, sp));
    if (!Number.isFinite(at)) continue;
    const line = raw.slice(sp + 1);
    const launcher = launcherEvent(line);
    if (launcher) {
      const id = LAUNCHER_EVENTS[launcher.event];
      if (id && out[id] === undefined) out[id] = at;
      continue;
    }
    for (const [id, re] of SELKIES_LINES) if (out[id] === undefined && re.test(line)) out[id] = at;
  }
  return out;
}

/** Shifts epoch-ms marks to ms after `click`. */
export function relativeTo(click: number, marks: Partial<Record<LaunchMarkId, number>>): LaunchMarks {
  const out: LaunchMarks = {};
  for (const [k, v] of Object.entries(marks)) if (v !== undefined) out[k as LaunchMarkId] = v - click;
  return out;
}
