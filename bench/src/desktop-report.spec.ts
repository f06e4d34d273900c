import { desktopTargets, renderDesktopSection, type DesktopResult } from './desktop-report.js';
import { summarize } from './stats.js';

const result = (
  o: { launch?: number[]; key?: number[]; raw?: number[]; fps?: number } = {},
): DesktopResult => ({
  image: { ref: 'vdi.local/desktop:abc', archiveBytes: 250 * 2 ** 20 },
  raw: {
    healthMs: 1800,
    firstFrameMs: 1100,
    keyToPixels: summarize(o.raw ?? [25, 28, 30, 32, 40]),
    streams: [{ width: 1280, height: 720, fps: 60, cpuCores: 0.3 }],
  },
  platform: {
    launchToFirstFrameMs: o.launch ?? [4200, 4500, 6000],
    breakdownMs: { createToScheduled: 300, scheduledToReady: 3000, readyToFirstFrame: 1200 },
    keyToPixels: summarize(o.key ?? [28, 30, 33, 35, 45]),
    streams: [
      { width: 1280, height: 720, fps: o.fps ?? 60, cpuCores: 0.35, idleCpuCores: 0.02 },
      { width: 1920, height: 1080, fps: 41, cpuCores: 0.9 },
    ],
  },
  cores: 2,
});

describe('desktop targets', () => {
  const byId = (d: DesktopResult) => Object.fromEntries(desktopTargets(d).map((t) => [t.id, t]));

  it('judges the median launch and explains a miss with the start-up share', () => {
    expect(byId(result()).launchMs).toMatchObject({ met: true, why: '' });
    const slow = byId(result({ launch: [8000, 8100, 9000] })).launchMs!;
    expect(slow.met).toBe(false);
    expect(slow.value).toMatch(/^8\.1 s \(median of 3/);
    expect(slow.why).toMatch(/warm pool/);
  });

  it('compares the platform path with the raw process measured in the same run', () => {
    const ok = byId(result());
    expect(ok.keyRatio!.value).toBe(`${(33 / 30).toFixed(2)}×`);
    expect(ok.keyRatio!.met).toBe(true);
    const worse = byId(result({ key: [40, 45, 50, 52, 60] }));
    expect(worse.keyRatio!.met).toBe(false);
    expect(worse.keyP50!.met).toBe(false);
    expect(worse.keyP50!.why).toMatch(/raw Selkies process measured the same way shows 30 ms p50/);
  });

  it('takes frames per second from the platform path and says when 1080p misses on the CPU', () => {
    const t = byId(result());
    expect(t.fps720!.met).toBe(true);
    expect(t.fps1080).toMatchObject({ met: false });
    expect(t.fps1080!.why).toMatch(/NVENC/);
  });

  it('writes a section with both paths and the per-GPU CPU estimate', () => {
    const md = renderDesktopSection(result()).join('\n');
    expect(md).toMatch(/^## Desktop/);
    expect(md).toContain('| raw Selkies | 1280×720 | 60 | 0.30 | – |');
    expect(md).toContain('| platform | 1920×1080 | 41 | 0.90 | – |');
    expect(md).toContain('about 7.2 cores per GPU node');
  });
});
