import { fileAt, locate, moduleRanges, summarizeProfile, type CpuProfile } from './profile.js';

const bundle = [
  '// apps/operator/src/main.ts',
  'import x from "y";',
  '// libs/session-spec/src/pod.ts',
  'function desktopPod() {}',
  'function more() {}',
  '// apps/operator/src/engine/reconcile.ts',
  'class Reconciler {}',
  '// node_modules/@kubernetes/client-node/dist/watch.js',
  'class Watch {}',
].join('\n');

describe('moduleRanges / fileAt', () => {
  const ranges = moduleRanges(bundle);
  it('finds the module comments esbuild writes', () => {
    expect(ranges).toEqual([
      { line: 0, file: 'apps/operator/src/main.ts' },
      { line: 2, file: 'libs/session-spec/src/pod.ts' },
      { line: 5, file: 'apps/operator/src/engine/reconcile.ts' },
      { line: 7, file: 'node_modules/@kubernetes/client-node/dist/watch.js' },
    ]);
  });
  it.each([
    [1, 'apps/operator/src/main.ts'],
    [3, 'libs/session-spec/src/pod.ts'],
    [4, 'libs/session-spec/src/pod.ts'],
    [6, 'apps/operator/src/engine/reconcile.ts'],
  ])('line %p is in %p', (line, file) => {
    expect(fileAt(ranges, line)).toBe(file);
  });
});

describe('locate', () => {
  const b = { url: '/repo/node_modules/.cache/vdi-bench/operator.mjs', ranges: moduleRanges(bundle) };
  it.each([
    [{ functionName: '(garbage collector)', url: '', lineNumber: -1 }, 'GC'],
    [
      {
        functionName: 'desktopPod',
        url: 'file:///repo/node_modules/.cache/vdi-bench/operator.mjs',
        lineNumber: 3,
      },
      'libs/session-spec',
    ],
    [
      {
        functionName: 'reconcile',
        url: 'file:///repo/node_modules/.cache/vdi-bench/operator.mjs',
        lineNumber: 6,
      },
      'apps/operator',
    ],
    [
      {
        functionName: 'watch',
        url: 'file:///repo/node_modules/.cache/vdi-bench/operator.mjs',
        lineNumber: 8,
      },
      'npm:@kubernetes/client-node',
    ],
    [
      {
        functionName: 'deserialize',
        url: 'file:///repo/node_modules/@kubernetes/client-node/dist/x.js',
        lineNumber: 1,
      },
      'npm:@kubernetes/client-node',
    ],
    [
      { functionName: 'write', url: 'file:///repo/node_modules/pino/lib/proto.js', lineNumber: 1 },
      'npm:pino',
    ],
    [{ functionName: 'onread', url: 'node:internal/stream_base_commons', lineNumber: 1 }, 'node:stream'],
    [{ functionName: 'request', url: 'node:_http_client', lineNumber: 1 }, 'node:http'],
    [{ functionName: 'parse', url: '', lineNumber: -1 }, 'V8 builtins'],
  ])('%p is charged to %p', (frame, category) => {
    expect(locate(frame, b).category).toBe(category);
  });
});

describe('summarizeProfile', () => {
  // root → main (our code) → [desktopPod (self 30), JSON.parse (self 20)], root → idle (50)
  const profile: CpuProfile = {
    startTime: 0,
    endTime: 100_000,
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 5] },
      {
        id: 2,
        callFrame: {
          functionName: 'main',
          url: 'file:///r/node_modules/.cache/vdi-bench/operator.mjs',
          lineNumber: 1,
        },
        children: [3, 4],
      },
      {
        id: 3,
        callFrame: {
          functionName: 'desktopPod',
          url: 'file:///r/node_modules/.cache/vdi-bench/operator.mjs',
          lineNumber: 3,
        },
      },
      { id: 4, callFrame: { functionName: 'parse', url: '', lineNumber: -1 } },
      { id: 5, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
    ],
    // 10 ms apart: 3 samples in desktopPod, 2 in parse, 5 idle.
    samples: [3, 3, 3, 4, 4, 5, 5, 5, 5, 5],
    timeDeltas: [0, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000],
  };
  const s = summarizeProfile(profile, {
    bundleUrl: 'node_modules/.cache/vdi-bench/operator.mjs',
    bundleText: bundle,
  });

  it('counts busy time without idle', () => {
    expect(s.durationMs).toBe(100);
    expect(s.busyMs).toBe(50);
  });
  it('charges self time to categories', () => {
    expect(s.byCategory).toEqual([
      { category: 'libs/session-spec', ms: 30, share: 0.6 },
      { category: 'V8 builtins', ms: 20, share: 0.4 },
    ]);
  });
  it('lists functions by self time', () => {
    expect(s.topSelf.map((f) => [f.fn, f.ms])).toEqual([
      ['desktopPod', 30],
      ['parse', 20],
    ]);
  });
  it('counts only the samples within a window of the profile clock', () => {
    // Samples are taken at 0, 10, …, 90 ms: 20–40 ms holds desktopPod's last and parse's two.
    const w = summarizeProfile(profile, { window: [20_000, 40_000] });
    expect(w.durationMs).toBe(20);
    expect(w.topSelf.map((f) => [f.fn, f.ms])).toEqual([
      ['parse', 20],
      ['desktopPod', 10],
    ]);
  });

  it('gives our functions their inclusive time', () => {
    expect(s.topInclusive.map((f) => [f.fn, f.where, f.ms])).toEqual([
      ['main', 'apps/operator/src/main.ts', 50],
      ['desktopPod', 'libs/session-spec/src/pod.ts', 30],
    ]);
  });
});
