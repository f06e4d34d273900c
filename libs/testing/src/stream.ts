/// <reference lib="dom" />
/**
 * Probes of a Selkies stream in a real page (Chromium through playwright-core): what the user
 * sees, read from the stream surface itself — the first frame, a change, keypress → changed
 * pixels, frames per second. Selkies 2.x paints the first websockets frame on
 * `canvas#videoCanvas` and then plays `video#videoStream`; WebRTC mode plays `video#stream`.
 * Everything runs inside the page, so a measurement does not include the test's own round trips.
 */
import type { Page } from 'playwright-core';

export interface SurfaceSample {
  /** Which element showed the stream: `video#videoStream`, `canvas#videoCanvas`, … or none. */
  source: string;
  width: number;
  height: number;
  /** False when the surface is one flat colour (nothing decoded yet, or a black screen). */
  nonBlank: boolean;
  /** A checksum of the downscaled picture: equal samples show the same picture. */
  hash: string;
}

/**
 * esbuild (tsx) keeps function names by wrapping them in a `__name` helper that exists only in
 * Node; functions sent into the page would call it there. An identity stands in for it.
 */
const NAME_SHIM = 'globalThis.__name ??= (f) => f';

/** The page-side probe, installed once per page (idempotent). */
async function install(page: Page): Promise<void> {
  await page.evaluate(NAME_SHIM);
  await page.evaluate(() => {
    type Probe = {
      grab(full?: boolean): { source: string; width: number; height: number; data?: Uint8ClampedArray };
      armed?: { base: Uint8ClampedArray; pressedAt?: number; resolve: (ms: number) => void };
    };
    const w = window as unknown as { __vdiStreamProbe?: Probe };
    if (w.__vdiStreamProbe) return;
    const scratch = document.createElement('canvas');
    scratch.width = 320;
    scratch.height = 180;
    const ctx = scratch.getContext('2d', { willReadFrequently: true })!;
    // Full size for keypress → pixels: one typed character is too small to survive downscaling.
    const full = document.createElement('canvas');
    const fullCtx = full.getContext('2d', { willReadFrequently: true })!;
    const probe: Probe = {
      grab(atFullSize?: boolean) {
        const candidates: [string, HTMLVideoElement | HTMLCanvasElement | null][] = [
          ['video#videoStream', document.querySelector<HTMLVideoElement>('video#videoStream')],
          ['video#stream', document.querySelector<HTMLVideoElement>('video#stream')],
          ['canvas#videoCanvas', document.querySelector<HTMLCanvasElement>('canvas#videoCanvas')],
        ];
        for (const [source, el] of candidates) {
          if (!el) continue;
          const isVideo = el instanceof HTMLVideoElement;
          const width = isVideo ? el.videoWidth : el.width;
          const height = isVideo ? el.videoHeight : el.height;
          if (!width || !height || (isVideo && el.readyState < 2)) continue;
          const style = getComputedStyle(el);
          if (style.display === 'none' || style.visibility === 'hidden') continue;
          if (atFullSize) {
            if (full.width !== width || full.height !== height) {
              full.width = width;
              full.height = height;
            }
            fullCtx.drawImage(el, 0, 0, width, height);
            return { source, width, height, data: fullCtx.getImageData(0, 0, width, height).data };
          }
          ctx.drawImage(el, 0, 0, scratch.width, scratch.height);
          return { source, width, height, data: ctx.getImageData(0, 0, scratch.width, scratch.height).data };
        }
        return { source: 'none', width: 0, height: 0 };
      },
    };
    // Keypress → changed pixels: the keydown's time in the page, then every animation frame until
    // the picture differs from the one before the key (enough pixels, by more than codec noise).
    window.addEventListener(
      'keydown',
      () => {
        if (probe.armed && probe.armed.pressedAt === undefined) probe.armed.pressedAt = performance.now();
      },
      { capture: true },
    );
    const tick = () => {
      const a = probe.armed;
      if (a?.pressedAt !== undefined) {
        // The frame's time, before the comparison's own cost.
        const now = performance.now();
        const g = probe.grab(true);
        if (g.data && g.data.length === a.base.length) {
          let changed = 0;
          for (let i = 0; i < g.data.length; i += 4) {
            const d =
              Math.abs(g.data[i]! - a.base[i]!) +
              Math.abs(g.data[i + 1]! - a.base[i + 1]!) +
              Math.abs(g.data[i + 2]! - a.base[i + 2]!);
            if (d > 96) changed++;
          }
          if (changed >= 3) {
            probe.armed = undefined;
            a.resolve(now - a.pressedAt);
          }
        }
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    w.__vdiStreamProbe = probe;
  });
}

/** What the stream surface shows now. */
export async function sampleSurface(page: Page): Promise<SurfaceSample> {
  await install(page);
  return page.evaluate(() => {
    const probe = (
      window as unknown as {
        __vdiStreamProbe: {
          grab(): { source: string; width: number; height: number; data?: Uint8ClampedArray };
        };
      }
    ).__vdiStreamProbe;
    const g = probe.grab();
    if (!g.data) return { source: g.source, width: 0, height: 0, nonBlank: false, hash: '' };
    let h = 0x811c9dc5;
    let min = 255;
    let max = 0;
    for (let i = 0; i < g.data.length; i += 4) {
      const lum = (g.data[i]! * 3 + g.data[i + 1]! * 6 + g.data[i + 2]!) / 10;
      min = Math.min(min, lum);
      max = Math.max(max, lum);
      // Quantized, so codec noise of a still picture does not count as a change.
      h = Math.imul(h ^ (g.data[i]! >> 4), 16777619) >>> 0;
      h = Math.imul(h ^ (g.data[i + 1]! >> 4), 16777619) >>> 0;
      h = Math.imul(h ^ (g.data[i + 2]! >> 4), 16777619) >>> 0;
    }
    return {
      source: g.source,
      width: g.width,
      height: g.height,
      nonBlank: max - min > 24,
      hash: h.toString(16),
    };
  });
}

async function poll<T>(what: string, timeoutMs: number, f: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A page that navigates meanwhile (a redirect, the connecting page reloading) is asked again.
    const v = await f().catch((err: unknown) => {
      if (/Execution context was destroyed|navigat/i.test(String(err))) return undefined;
      throw err;
    });
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits for the first decoded, non-blank frame; resolves with it and the milliseconds it took. */
export async function waitFirstFrame(
  page: Page,
  timeoutMs = 30_000,
): Promise<SurfaceSample & { ms: number }> {
  const t0 = Date.now();
  const s = await poll('a non-blank frame on the stream surface', timeoutMs, async () => {
    const x = await sampleSurface(page);
    return x.nonBlank ? x : undefined;
  });
  return { ...s, ms: Date.now() - t0 };
}

/** Waits until the picture differs from `before`. */
export async function waitChange(
  page: Page,
  before: SurfaceSample,
  timeoutMs = 15_000,
): Promise<SurfaceSample> {
  return poll('a change of the picture', timeoutMs, async () => {
    const x = await sampleSurface(page);
    return x.nonBlank && x.hash !== before.hash ? x : undefined;
  });
}

/** Waits until the picture has not changed for `quietMs` (a cursor blink counts as a change). */
export async function waitStill(page: Page, quietMs = 300, timeoutMs = 10_000): Promise<SurfaceSample> {
  let last = await sampleSurface(page);
  let since = Date.now();
  return poll('a still picture', timeoutMs, async () => {
    const x = await sampleSurface(page);
    if (x.hash !== last.hash) {
      last = x;
      since = Date.now();
      return undefined;
    }
    return Date.now() - since >= quietMs ? x : undefined;
  });
}

/**
 * Keypress → changed pixels, in the page: arms the probe on the current picture, presses `key`
 * through the browser (a real keydown the Selkies client sends to the desktop), and resolves with
 * the milliseconds from the keydown to the first animation frame that shows the change.
 */
export async function keyToPixelsMs(page: Page, key: string, timeoutMs = 5_000): Promise<number> {
  await install(page);
  const result = page.evaluate(
    (limit) =>
      new Promise<number>((resolve, reject) => {
        type Armed = { base: Uint8ClampedArray; pressedAt?: number; resolve: (ms: number) => void };
        const probe = (
          window as unknown as {
            __vdiStreamProbe: { grab(full?: boolean): { data?: Uint8ClampedArray }; armed?: Armed };
          }
        ).__vdiStreamProbe;
        const base = probe.grab(true).data;
        if (!base) return reject(new Error('no stream surface to measure on'));
        const timer = setTimeout(() => {
          probe.armed = undefined;
          reject(new Error(`no change within ${limit} ms of the key`));
        }, limit);
        probe.armed = {
          base: new Uint8ClampedArray(base),
          resolve: (ms) => {
            clearTimeout(timer);
            resolve(ms);
          },
        };
      }),
    timeoutMs,
  );
  // The probe is armed once evaluate has run its synchronous part; a tick later is safe.
  await page.waitForTimeout(20);
  await page.keyboard.press(key);
  return result;
}

/**
 * Frames per second the page shows over `windowMs`, from the video element's own counter of
 * presented frames (`getVideoPlaybackQuality`), or the Selkies client's `window.fps` where the
 * canvas paints.
 */
export async function framesPerSecond(page: Page, windowMs = 5_000): Promise<number> {
  await page.evaluate(NAME_SHIM);
  const read = () =>
    page.evaluate(() => {
      const v =
        document.querySelector<HTMLVideoElement>('video#videoStream') ??
        document.querySelector<HTMLVideoElement>('video#stream');
      const q = v && v.readyState >= 2 ? v.getVideoPlaybackQuality?.() : undefined;
      return {
        frames: q ? q.totalVideoFrames - q.droppedVideoFrames : undefined,
        fps: (window as unknown as { fps?: number }).fps,
        at: performance.now(),
      };
    });
  const a = await read();
  await page.waitForTimeout(windowMs);
  const b = await read();
  if (a.frames !== undefined && b.frames !== undefined && b.frames > a.frames)
    return ((b.frames - a.frames) * 1000) / (b.at - a.at);
  return Number(b.fps ?? NaN);
}
