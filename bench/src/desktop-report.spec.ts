import type { CpuWindow } from './desktop-cpu.js';
import {
  desktopTargets,
  renderDesktopSection,
  type DesktopResult,
  type LaunchRun,
  type StreamSample,
} from './desktop-report.js';
import { summarize } from './stats.js';

const win = (cores: number, split: Partial<CpuWindow['byRole']> = {}): CpuWindow => ({
  seconds: 10,
  cores,
  processCores: cores,
  byRole: { selkies: 0, launcher: 0, xvfb: 0, sound: 0, terminal: 0, load: 0, desktop: 0, ...split },
});

const stream = (height: 720 | 1080, fps: number, streaming: number, idle = 0.02): StreamSample => ({
  width: height === 720 ? 1280 : 1920,
  height,
  fps,
  cpu: {
    idle: win(idle),
    viewerStill: win(0.1),
    streaming: win(streaming, {
      selkies: streaming * 0.6,
      xvfb: streaming * 0.1,
      terminal: streaming * 0.2,
      load: streaming * 0.1,
    }),
  },
});

/** A launch whose parts take: to bound, to started, in the image, to Running, to the frame. */
const launch = (parts: [number, number, number, number, number]): LaunchRun => {
  const [bound, started, image, running, frame] = parts;
  const podBound = bound;
  const containerStarted = podBound + started;
  const healthy = containerStarted + image;
  const sessionRunning = healthy + running;
  const firstFrame = sessionRunning + frame;
  return {
    session: 'alice-x',
    ms: firstFrame,
    marks: {
      sessionSeen: 40,
      podSeen: 100,
      podBound,
      containerStarted,
      launcherUp: containerStarted + 300,
      soundUp: containerStarted + 1500,
      selkiesSpawned: containerStarted + 1100,
      desktopSpawned: containerStarted + 1200,
      healthy,
      podReady: healthy + running - 50,
      sessionRunning,
      firstFrame,
    },
    startCpuSeconds: 3.2,
    startThrottledMs: 120,
    notes: [],
  };
};

const result = (
  o: { launches?: LaunchRun[]; key?: number[]; raw?: number[]; fps?: number } = {},
): DesktopResult => ({
  image: { ref: 'vdi.local/desktop:abc', archiveBytes: 250 * 2 ** 20 },
  raw: {
    healthMs: 1800,
    selkiesSpawnedMs: 900,
    firstFrameMs: 1100,
    keyToPixels: summarize(o.raw ?? [25, 28, 30, 32, 40]),
    keyProbe: { notKeys: 1, misses: 0, foundNearLast: 4, clock: 'video-frame' },
    streams: [stream(720, 60, 0.3), stream(1080, 60, 0.6)],
  },
  platform: {
    launches: o.launches ?? [
      launch([200, 500, 2000, 600, 1000]),
      launch([220, 520, 2100, 700, 1100]),
      launch([210, 900, 2500, 800, 1300]),
    ],
    keyToPixels: summarize(o.key ?? [28, 30, 33, 35, 45]),
    streams: [stream(720, o.fps ?? 60, 0.35), stream(1080, 41, 0.9)],
  },
  podCpu: { request: '750m', limit: '1500m' },
  cores: 2,
});

describe('desktop targets', () => {
  const byId = (d: DesktopResult) => Object.fromEntries(desktopTargets(d).map((t) => [t.id, t]));

  it('judges the median launch and names its largest parts, as numbers, when it misses', () => {
    expect(byId(result()).launchMs).toMatchObject({ met: true, facts: '' });
    const slow = byId(
      result({
        launches: [
          launch([200, 500, 4000, 600, 1500]),
          launch([200, 500, 4200, 700, 1600]),
          launch([200, 500, 3900, 900, 1400]),
        ],
      }),
    ).launchMs!;
    expect(slow.met).toBe(false);
    expect(slow.value).toMatch(
      /^6\.9 s \(median of 3; by part, medians: 0\.2 s \+ 0\.5 s \+ 4\.0 s \+ 0\.7 s \+ 1\.5 s/,
    );
    // Largest first: the image's start, then the way to the frame, then the probe.
    expect(slow.facts).toBe(
      'Largest parts (medians): container started → /api/health 4.0 s; session Running → first frame 1.5 s; ' +
        '/api/health → session Running 0.7 s. /api/health: the raw process 1.8 s after its start, the pod 4.0 s ' +
        'after its container started (2.22×).',
    );
    expect(slow.facts).not.toMatch(/ — |warm pool|shorten/);
  });

  it('compares the platform path with the raw process measured in the same run', () => {
    const ok = byId(result());
    expect(ok.keyRatio!.value).toBe(`${(33 / 30).toFixed(2)}×`);
    expect(ok.keyRatio!.met).toBe(true);
    const worse = byId(result({ key: [40, 45, 50, 52, 60] }));
    expect(worse.keyRatio!.met).toBe(false);
    expect(worse.keyP50!.met).toBe(false);
    expect(worse.keyP50!.facts).toBe(
      'raw Selkies, same probe, same run: p50 30 ms, p99 40 ms (n = 5); 2 cores on the machine',
    );
    expect(worse.keyRatio!.facts).toBe(
      'p50 platform 50 ms, raw Selkies 30 ms: 20 ms more on the platform path',
    );
  });

  it('takes frames per second from the platform path and gives the CPU next to a miss, without advice', () => {
    const t = byId(result());
    expect(t.fps720).toMatchObject({ met: true, facts: '' });
    expect(t.fps1080).toMatchObject({ met: false });
    expect(t.fps1080!.facts).toBe(
      'the desktop used 0.90 cores streaming (Selkies 0.54) on a machine of 2 cores',
    );
    expect(t.fps1080!.facts).not.toMatch(/NVENC|give the template/);
  });

  it('reports CPU per desktop in its three states against the raw process, without a verdict', () => {
    const t = byId(result()).cpu!;
    expect(t.met).toBeUndefined();
    expect(t.value).toBe('0.02 / 0.10 / 0.35 cores (raw Selkies 0.02 / 0.10 / 0.30; streaming 1.17×)');
  });
});

describe('desktop section', () => {
  const md = renderDesktopSection(result()).join('\n');

  it('has both paths, the launch parts per launch and the stage table', () => {
    expect(md).toMatch(/^## Desktop/);
    expect(md).toContain(
      '| raw Selkies | health 1.8 s, first frame +1.1 s | 30 ms / 38 ms / 40 ms (n = 5) | 5 counted (4 found near the last key); ' +
        '1 changes not one character, 0 never showed | video frames (requestVideoFrameCallback) |',
    );
    // A run without the probe's facts (an older result) still renders.
    expect(md).toMatch(/\| platform \| 4\.3 s, 4\.6 s, 5\.7 s \| .* \| 5 counted \| – \|/);
    expect(md).toContain('(the launcher spawned Selkies after 1.10 s, XFCE after 1.20 s)');
    // The sound server starts beside Xvfb and Selkies does not wait for it: not a stage.
    expect(md).not.toMatch(/\| launcher: sound server up/);
    expect(md).toContain(
      'Beside the stages: launcher: sound server up (or given up) (soundUp, pod log) 1.20 s after the launcher’s start ' +
        '(median; 1.20 s, 1.20 s, 1.20 s).',
    );
    expect(md).toContain(
      '| container started → /api/health (inside the image) | 2.10 s | 2.00 s | 2.10 s | 2.50 s |',
    );
    expect(md).toContain('| **click → first frame** | **4.64 s** | 4.30 s | 4.64 s | 5.71 s |');
    expect(md).toMatch(
      /\| operator: session → pod created \| podSeen \(watch\) \| 60 ms \| 60 ms \| 60 ms \| 60 ms \|/,
    );
    expect(md).toContain('the pod answered /api/health 2.10 s after its container started');
    expect(md).toContain('the raw process 1.80 s after its start (Selkies spawned after 0.90 s): 1.17×');
    expect(md).toContain('throttled by its CPU limit (1500m) for 120 ms');
  });

  it('has CPU per state, its split, and the ratios to the raw process', () => {
    expect(md).toContain('| platform | 1280×720 | 0.02 | 0.10 | 0.35 | 0.21 | 0.03 | 0.07 | 0.03 | 60 | – |');
    expect(md).toContain('| platform ÷ raw | 1920×1080 | 1.00× | 1.00× | 1.50× |');
    expect(md).toContain('The load generator stopped on Ctrl+C every time.');
    expect(md).toContain(
      '8 time-slices per GPU × the largest streaming CPU measured on the platform (0.90 cores) = 7.2 cores per GPU',
    );
    expect(md).not.toMatch(/NVENC|warm pool/);
  });

  it('says when the load generator had to be killed', () => {
    const d = result();
    d.platform.streams[0]!.loadKilled = true;
    expect(renderDesktopSection(d).join('\n')).toContain(
      'did not stop on Ctrl+C in 1280×720 and was killed by the benchmark',
    );
  });
});

describe('pooled launches', () => {
  /** A pooled launch: the claimed pod's marks start at the claim, after the click. */
  const pooledRun = (ms: number, startPath = 'Pool'): LaunchRun => ({
    session: 'alice-p',
    ms,
    marks: {
      sessionSeen: 40,
      podSeen: 300,
      podBound: 300,
      healthy: 350,
      sessionRunning: ms - 400,
      firstFrame: ms,
    },
    startPath,
    notes: [],
  });
  const withPool = (pooled: LaunchRun[], cold = [launch([200, 500, 2000, 600, 1000])]): DesktopResult => {
    const d = result();
    d.platform.pooledLaunches = pooled;
    d.platform.pool = { template: 'ubuntu-desktop-cpu-nohome', size: 1, warmMs: 21_000, cold };
    return d;
  };
  const target = (d: DesktopResult) => desktopTargets(d).find((t) => t.id === 'pooledFaster');

  it('has no pooled row for a run without a pool (older reports)', () => {
    expect(target(result())).toBeUndefined();
    expect(renderDesktopSection(result()).join('\n')).not.toContain('Launch from a warm pool');
  });

  it('judges pooled against cold launches of the same template: ratio and margin from the medians', () => {
    const t = target(withPool([pooledRun(1500), pooledRun(1700), pooledRun(1600)]));
    expect(t).toMatchObject({ met: true, facts: '' });
    expect(t!.value).toContain(
      '1.60 s pooled (median of 3) vs 4.30 s cold (median of 1): 0.37×, 2.70 s faster',
    );
  });

  it('misses when pooled is not faster, or a launch did not claim a warm desktop', () => {
    const slow = target(withPool([pooledRun(5000)]));
    expect(slow).toMatchObject({ met: false });
    expect(slow!.value).toContain('0.70 s slower');
    expect(slow!.facts).toContain('pooled 5.00 s; cold 4.30 s');
    const cold = target(withPool([pooledRun(1500, 'Cold')]));
    expect(cold).toMatchObject({ met: false });
    expect(cold!.facts).toContain('1 pooled launch(es) did not claim a warm desktop');
  });

  it('renders the pooled launches beside the cold ones, part by part', () => {
    const md = renderDesktopSection(withPool([pooledRun(1500), pooledRun(1700)])).join('\n');
    expect(md).toContain('### Launch from a warm pool');
    expect(md).toContain('| **click → first frame** | **4.30 s** | **1.60 s** | 4.30 s | 1.50 s | 1.70 s |');
    expect(md).toContain('| start path (status.startPath) | | | – | Pool | Pool |');
    expect(md).toContain('Pooled / cold (medians, same template): 0.37×; 2.70 s faster than a cold launch.');
  });
});
