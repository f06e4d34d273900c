/**
 * What a V8 CPU profile (`node --cpu-prof`) says about where a process spent its time: self time
 * by category (our source files, npm packages, Node's runtime, garbage collection, idle) and the
 * functions with the most self and inclusive time. Pure: the profile and the bundle's text come in.
 */

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Where each module of an esbuild bundle starts: esbuild opens each with a `// <path>` line. */
export interface ModuleRange {
  /** 0-based line of the `// path` comment. */
  line: number;
  file: string;
}

export function moduleRanges(bundle: string): ModuleRange[] {
  const out: ModuleRange[] = [];
  bundle.split('\n').forEach((text, line) => {
    const m = /^\/\/ ((?:apps|libs|bench|tools|node_modules)\/\S+\.[cm]?[tj]s)$/.exec(text);
    if (m) out.push({ line, file: m[1]! });
  });
  return out;
}

/** The source file that the bundle's 0-based `line` belongs to. */
export function fileAt(ranges: readonly ModuleRange[], line: number): string | undefined {
  let lo = 0;
  let hi = ranges.length - 1;
  let found: string | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid]!.line <= line) {
      found = ranges[mid]!.file;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** npm package of a file URL under node_modules (`@scope/name` or `name`). */
function packageOf(url: string): string | undefined {
  const i = url.lastIndexOf('/node_modules/');
  if (i < 0) return undefined;
  const [a, b] = url.slice(i + '/node_modules/'.length).split('/');
  return a?.startsWith('@') ? `${a}/${b}` : a;
}

export interface Located {
  /** What the time is charged to: `apps/operator`, `libs/session-spec`, `npm:pino`, `node:http`, `GC`, … */
  category: string;
  /** The source file (for our code) or the URL's last segments. */
  where: string;
}

/** The category and location of one call frame; `bundle` is the file name of the bundle, if any. */
export function locate(
  frame: CpuProfileNode['callFrame'],
  bundle?: { url: string; ranges: ModuleRange[] },
): Located {
  const { functionName: fn, url } = frame;
  if (fn === '(garbage collector)') return { category: 'GC', where: '' };
  if (fn === '(idle)') return { category: 'idle', where: '' };
  if (fn === '(program)') return { category: 'program (V8/native, unattributed)', where: '' };
  if (fn === '(root)') return { category: 'root', where: '' };
  if (bundle && url.endsWith(bundle.url)) {
    const file = fileAt(bundle.ranges, frame.lineNumber) ?? 'bundle';
    // The shipped bundle holds its npm packages too (tools/bundle).
    const bundledPkg = packageOf(`/${file}`);
    if (bundledPkg)
      return { category: `npm:${bundledPkg}`, where: file.slice(file.lastIndexOf('node_modules/') + 13) };
    const parts = file.split('/');
    return { category: parts.length > 2 ? `${parts[0]}/${parts[1]}` : file, where: file };
  }
  const pkg = packageOf(url);
  if (pkg) return { category: `npm:${pkg}`, where: url.slice(url.lastIndexOf('/node_modules/') + 14) };
  if (url.startsWith('node:')) {
    const mod = url
      .slice(5)
      .replace(/^internal\//, '')
      .split('/')[0]!;
    return { category: `node:${mod.replace(/^_/, '').replace(/_.*$/, '')}`, where: url };
  }
  const repo = /\/((?:apps|libs|bench|tools)\/[^/]+)\/(.*)$/.exec(url);
  if (repo) return { category: repo[1]!, where: `${repo[1]}/${repo[2]}` };
  if (url === '') return { category: 'V8 builtins', where: '' };
  return { category: 'other', where: url };
}

export interface ProfileSummary {
  /** Wall time the profile covers, ms. */
  durationMs: number;
  /** Sampled time that was not idle, ms. */
  busyMs: number;
  byCategory: { category: string; ms: number; share: number }[];
  topSelf: { fn: string; where: string; category: string; ms: number; share: number }[];
  /** Inclusive time of functions in our code (apps, libs), counted once per stack. */
  topInclusive: { fn: string; where: string; ms: number; share: number }[];
}

/**
 * Self time per profile node, µs, from the sample timeline (or hit counts when it is absent);
 * with `window` ([from, to] on the profile's clock), only the samples taken within it.
 */
function selfTimes(p: CpuProfile, window?: [number, number]): Map<number, number> {
  const self = new Map<number, number>();
  if (p.samples && p.timeDeltas && p.samples.length === p.timeDeltas.length) {
    // A sample's duration is the gap to the next one; the last sample gets the mean gap.
    const n = p.samples.length;
    const mean = n > 1 ? (p.endTime - p.startTime) / n : 0;
    let t = p.startTime;
    for (let i = 0; i < n; i++) {
      t += p.timeDeltas[i]!;
      if (window && (t < window[0] || t > window[1])) continue;
      const dt = i + 1 < n ? p.timeDeltas[i + 1]! : mean;
      self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + Math.max(0, dt));
    }
  } else {
    const interval = p.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0);
    const per = interval > 0 ? (p.endTime - p.startTime) / interval : 0;
    for (const n of p.nodes) self.set(n.id, (n.hitCount ?? 0) * per);
  }
  return self;
}

export function summarizeProfile(
  p: CpuProfile,
  opts: {
    bundleUrl?: string;
    bundleText?: string;
    top?: number;
    /** Only samples within [from, to] µs on the profile's (monotonic) clock. */
    window?: [number, number];
  } = {},
): ProfileSummary {
  const top = opts.top ?? 15;
  const bundle =
    opts.bundleUrl && opts.bundleText
      ? { url: opts.bundleUrl, ranges: moduleRanges(opts.bundleText) }
      : undefined;
  const self = selfTimes(p, opts.window);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const located = new Map(p.nodes.map((n) => [n.id, locate(n.callFrame, bundle)]));
  const idle = new Set(['idle', 'root']);
  let busy = 0;
  const cat = new Map<string, number>();
  const fnSelf = new Map<string, { fn: string; where: string; category: string; us: number }>();
  for (const n of p.nodes) {
    const us = self.get(n.id) ?? 0;
    const loc = located.get(n.id)!;
    if (idle.has(loc.category)) continue;
    busy += us;
    cat.set(loc.category, (cat.get(loc.category) ?? 0) + us);
    const fn = n.callFrame.functionName || '(anonymous)';
    const key = `${fn}@${loc.where}:${n.callFrame.lineNumber}`;
    const e = fnSelf.get(key) ?? { fn, where: loc.where, category: loc.category, us: 0 };
    e.us += us;
    fnSelf.set(key, e);
  }

  // Inclusive time: a depth-first walk with the functions on the current stack, so recursion
  // (and a function reached twice on one stack) counts once.
  const inclusive = new Map<string, { fn: string; where: string; us: number }>();
  const ours = (loc: Located) => /^(apps|libs)\//.test(loc.category);
  const subtree = new Map<number, number>();
  const total = (id: number): number => {
    const cached = subtree.get(id);
    if (cached !== undefined) return cached;
    const n = byId.get(id)!;
    let t = located.get(id)!.category === 'idle' ? 0 : (self.get(id) ?? 0);
    for (const c of n.children ?? []) t += total(c);
    subtree.set(id, t);
    return t;
  };
  const onStack = new Map<string, number>();
  const walk = (id: number) => {
    const n = byId.get(id)!;
    const loc = located.get(id)!;
    const key = `${n.callFrame.functionName || '(anonymous)'}@${loc.where}:${n.callFrame.lineNumber}`;
    const mine = ours(loc);
    if (mine) {
      if (!onStack.get(key)) {
        const e = inclusive.get(key) ?? {
          fn: n.callFrame.functionName || '(anonymous)',
          where: loc.where,
          us: 0,
        };
        e.us += total(id);
        inclusive.set(key, e);
      }
      onStack.set(key, (onStack.get(key) ?? 0) + 1);
    }
    for (const c of n.children ?? []) walk(c);
    if (mine) onStack.set(key, onStack.get(key)! - 1);
  };
  const childIds = new Set(p.nodes.flatMap((n) => n.children ?? []));
  for (const n of p.nodes) if (!childIds.has(n.id)) walk(n.id);

  const share = (us: number) => (busy > 0 ? us / busy : 0);
  return {
    durationMs: opts.window
      ? (Math.min(opts.window[1], p.endTime) - Math.max(opts.window[0], p.startTime)) / 1000
      : (p.endTime - p.startTime) / 1000,
    busyMs: busy / 1000,
    byCategory: [...cat]
      .filter(([, us]) => us > 0)
      .map(([category, us]) => ({ category, ms: us / 1000, share: share(us) }))
      .sort((a, b) => b.ms - a.ms),
    topSelf: [...fnSelf.values()]
      .filter((e) => e.us > 0)
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ fn: e.fn, where: e.where, category: e.category, ms: e.us / 1000, share: share(e.us) })),
    topInclusive: [...inclusive.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ fn: e.fn, where: e.where, ms: e.us / 1000, share: share(e.us) })),
  };
}
