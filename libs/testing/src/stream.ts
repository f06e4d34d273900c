/// <reference lib="dom" />
/**
 * Probes of a Selkies stream in a real page (Chromium through playwright-core): what the user
 * sees, read from the stream surface itself — the first frame, a change, keypress → changed
 * pixels (when and where), frames per second. Selkies 2.x paints the first websockets frame on
 * `canvas#videoCanvas` and then plays `video#videoStream`; WebRTC mode plays `video#stream`.
 * Everything runs inside the page, so a measurement does not include the test's own round trips.
 */
import type { Page } from 'playwright-core';
import { changedBox, expandBox, touchesInnerEdge, type Box } from './frame-diff.js';

export type { Box } from './frame-diff.js';

/** frame-diff.ts's functions as the page holds them (`window.__vdiFrameDiff`). */
interface FrameDiff {
  changedBox: typeof changedBox;
  expandBox: typeof expandBox;
  touchesInnerEdge: typeof touchesInnerEdge;
}

/** Installs frame-diff.ts's functions in the page, from their source text (idempotent). */
const FRAME_DIFF =
  `globalThis.__vdiFrameDiff ??= { changedBox: ${changedBox.toString()}, ` +
  `expandBox: ${expandBox.toString()}, touchesInnerEdge: ${touchesInnerEdge.toString()} };`;

export interface SurfaceSample {
  /** Which element showed the stream: `video#videoStream`, `canvas#videoCanvas`, … or none. */
  source: string;
  width: number;
  height: number;
  /** False when the surface is one flat colour (nothing decoded yet, or a black screen). */
  nonBlank: boolean;
  /** A checksum of the downscaled picture: equal samples show the same picture. */
  hash: string;
  /**
   * Pixels of the downscaled picture that moved by more than codec noise since the sample it was
   * compared with (`sampleSurface`'s `against`); absent when there was none to compare with.
   */
  changed?: number;
}

/**
 * esbuild (tsx) keeps function names by wrapping them in a `__name` helper that exists only in
 * Node; functions sent into the page would call it there. An identity stands in for it.
 */
const NAME_SHIM = 'globalThis.__name ??= (f) => f';

/** The stream surface the page shows now (see SURFACES), with its size. */
interface Surface {
  source: string;
  el: HTMLVideoElement | HTMLCanvasElement;
  isVideo: boolean;
  width: number;
  height: number;
}

/** The page-side probe (`window.__vdiStreamProbe`). */
interface PageProbe {
  surface(): Surface | undefined;
  /** Draws the surface at its own size onto the probe's full-size canvas and returns its context. */
  drawFull(s: Surface): CanvasRenderingContext2D;
  grab(): { source: string; width: number; height: number; data?: Uint8ClampedArray };
  /** The last downscaled pictures sampled, by `${hash}:${width}x${height}` (the 32 last used kept). */
  recent: Map<string, Uint8ClampedArray>;
  /** The keypress measurement armed by armKey (stream.ts, keyToPixels). */
  key?: Promise<KeyChange>;
}

/** The size every picture is downscaled to for sampling. */
const SCRATCH = { width: 320, height: 180 };

/** Builds the page-side probe (`window.__vdiStreamProbe`) unless the page has it. */
function installProbe(size: { width: number; height: number }): void {
  const w = window as unknown as { __vdiStreamProbe?: PageProbe };
  if (w.__vdiStreamProbe) return;
  const scratch = document.createElement('canvas');
  scratch.width = size.width;
  scratch.height = size.height;
  const ctx = scratch.getContext('2d', { willReadFrequently: true })!;
  // Full size for keypress → pixels: one typed character is too small to survive downscaling.
  const full = document.createElement('canvas');
  const fullCtx = full.getContext('2d', { willReadFrequently: true })!;
  const probe: PageProbe = {
    surface() {
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
        return { source, el, isVideo, width, height };
      }
      return undefined;
    },
    drawFull(s) {
      if (full.width !== s.width || full.height !== s.height) {
        full.width = s.width;
        full.height = s.height;
      }
      fullCtx.drawImage(s.el, 0, 0, s.width, s.height);
      return fullCtx;
    },
    grab() {
      const s = probe.surface();
      if (!s) return { source: 'none', width: 0, height: 0 };
      ctx.drawImage(s.el, 0, 0, scratch.width, scratch.height);
      return {
        source: s.source,
        width: s.width,
        height: s.height,
        data: ctx.getImageData(0, 0, scratch.width, scratch.height).data,
      };
    },
    recent: new Map(),
  };
  w.__vdiStreamProbe = probe;
}

/**
 * The page-side probe and frame-diff.ts's functions, installed in one page round trip per call
 * (idempotent: a page that has them keeps them; one that navigated gets them again).
 */
const INSTALL = `${NAME_SHIM}; ${FRAME_DIFF}; (${installProbe.toString()})(${JSON.stringify(SCRATCH)});`;

async function install(page: Page): Promise<void> {
  await page.evaluate(INSTALL);
}

/** Scratch pixels (RGB sum) a pixel must move by to count as changed: more than codec noise. */
const PIXEL_THRESHOLD = 96;

/** Pixels that must change for a frame to count as changed (more than codec noise's odd pixel). */
const MIN_CHANGED = 3;

/**
 * What the stream surface shows now. With `against` (an earlier sample of the same page), also
 * how many pixels of the downscaled picture moved by more than codec noise since then: an encoder
 * refining a still picture flips the quantized checksum without changing what a user sees.
 */
export async function sampleSurface(page: Page, against?: SurfaceSample): Promise<SurfaceSample> {
  await install(page);
  return page.evaluate(
    ({ against, threshold, scratch }) => {
      const probe = (window as unknown as { __vdiStreamProbe: PageProbe }).__vdiStreamProbe;
      const diff = (window as unknown as { __vdiFrameDiff: FrameDiff }).__vdiFrameDiff;
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
      const hash = h.toString(16);
      const key = (x: { hash: string; width: number; height: number }) => `${x.hash}:${x.width}x${x.height}`;
      probe.recent.delete(key({ hash, width: g.width, height: g.height }));
      probe.recent.set(key({ hash, width: g.width, height: g.height }), g.data);
      const sample = { source: g.source, width: g.width, height: g.height, nonBlank: max - min > 24, hash };
      const base = against ? probe.recent.get(key(against)) : undefined;
      if (against && base) {
        // Kept while something compares with it: the least recently used pictures go first.
        probe.recent.delete(key(against));
        probe.recent.set(key(against), base);
      }
      for (const k of probe.recent.keys()) {
        if (probe.recent.size <= 32) break;
        probe.recent.delete(k);
      }
      if (!against) return sample;
      const all = g.data.length / 4;
      // A new size or surface counts as a change of every pixel.
      if (against.width !== g.width || against.height !== g.height || against.source !== g.source)
        return { ...sample, changed: all };
      // A picture this page no longer holds (it navigated): compared by checksum.
      if (!base) return { ...sample, changed: against.hash === hash ? 0 : all };
      const region = { x: 0, y: 0, width: scratch.width, height: scratch.height };
      return { ...sample, changed: diff.changedBox(base, scratch.width, g.data, region, threshold).changed };
    },
    { against: against ?? null, threshold: PIXEL_THRESHOLD, scratch: SCRATCH },
  );
}

/** Whether `x` shows another picture than the sample it was taken against. */
function moved(x: SurfaceSample, before: SurfaceSample): boolean {
  return x.changed === undefined ? x.hash !== before.hash : x.changed >= MIN_CHANGED;
}

/** Asks `f` until it answers; on timeout the error says `what`, and `detail()` when given. */
async function poll<T>(
  what: string,
  timeoutMs: number,
  f: () => Promise<T | undefined>,
  detail?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A page that navigates meanwhile (a redirect, the connecting page reloading) is asked again.
    const v = await f().catch((err: unknown) => {
      if (/Execution context was destroyed|navigat/i.test(String(err))) return undefined;
      throw err;
    });
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs / 1000} s${detail ? ` (${detail()})` : ''}`);
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

/** Waits until the picture differs from `before` by more than codec noise. */
export async function waitChange(
  page: Page,
  before: SurfaceSample,
  timeoutMs = 15_000,
): Promise<SurfaceSample> {
  let most = 0;
  return poll(
    'a change of the picture',
    timeoutMs,
    async () => {
      const x = await sampleSurface(page, before);
      most = Math.max(most, x.changed ?? 0);
      return x.nonBlank && moved(x, before) ? x : undefined;
    },
    () => `at most ${most} pixels moved; ${MIN_CHANGED} needed`,
  );
}

/**
 * Waits until the picture has not changed for `quietMs` (a cursor blink counts as a change; an
 * encoder refining the same picture does not).
 */
export async function waitStill(page: Page, quietMs = 300, timeoutMs = 10_000): Promise<SurfaceSample> {
  let last = await sampleSurface(page);
  let since = Date.now();
  const changes: number[] = [];
  return poll(
    'a still picture',
    timeoutMs,
    async () => {
      const x = await sampleSurface(page, last);
      if (moved(x, last)) {
        changes.push(x.changed ?? -1);
        last = x;
        since = Date.now();
        return undefined;
      }
      return Date.now() - since >= quietMs ? x : undefined;
    },
    () =>
      `${changes.length} changes, the last ${changes.slice(-5).join(', ')} pixels of ` +
      `${SCRATCH.width}x${SCRATCH.height}; surface ${last.source} ${last.width}x${last.height}`,
  );
}

/** Where a key's effect showed on the stream, and when. */
export interface KeyChange {
  /** keydown → the first frame shown that differs from the picture before the key, ms. */
  ms: number;
  /** Where that frame differs (stream pixels). */
  box: Box;
  /** How many pixels differ in it. */
  changed: number;
  /** `hint`: found in the region around the hint; `full`: the whole frame was searched. */
  searched: 'hint' | 'full';
  /**
   * How the frame was timed: `video-frame` — requestVideoFrameCallback on the video, at the time
   * the frame is expected on screen; `animation-frame` — the canvas, at the animation frame that
   * drew it.
   */
  clock: 'video-frame' | 'animation-frame';
  /** The stream's size (the frame the box is in). */
  width: number;
  height: number;
}

export interface KeyOptions {
  /** Where the change is expected (the last key's box): searched first, grown by `margin`. */
  hint?: Box;
  /** Pixels the hint grows by on each side (default: 48 across, 24 down). */
  margin?: { x: number; y: number };
  timeoutMs?: number;
}

/**
 * Keypress → changed pixels, in the page: arms the probe on the current picture, presses `key`
 * through the browser (a real keydown the Selkies client sends to the desktop), and resolves with
 * the time from the keydown to the first frame shown that differs, and where it differs. Each frame
 * is checked when it is shown — `requestVideoFrameCallback` on the video, animation frames while
 * the canvas paints — not by polling; the region around `hint` is searched first, the whole frame
 * only when the change is not (all) there.
 */
export async function keyToPixels(page: Page, key: string, o: KeyOptions = {}): Promise<KeyChange> {
  await install(page);
  await page.evaluate(
    ({ limit, hint, margin, minChanged }) => {
      const probe = (window as unknown as { __vdiStreamProbe: PageProbe }).__vdiStreamProbe;
      const diff = (window as unknown as { __vdiFrameDiff: FrameDiff }).__vdiFrameDiff;
      const first = probe.surface();
      if (!first) {
        probe.key = Promise.reject(new Error('no stream surface to measure on'));
        probe.key.catch(() => undefined);
        return;
      }
      const { width, height } = first;
      const base = probe.drawFull(first).getImageData(0, 0, width, height).data;
      probe.key = new Promise<KeyChange>((resolve, reject) => {
        let pressedAt: number | undefined;
        let done = false;
        const onKey = () => {
          pressedAt ??= performance.now();
        };
        window.addEventListener('keydown', onKey, { capture: true });
        const finish = () => {
          done = true;
          clearTimeout(timer);
          window.removeEventListener('keydown', onKey, { capture: true });
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`no change within ${limit} ms of the key`));
        }, limit);
        // One shown frame: does it differ from the picture before the key, and where?
        const check = (shownAt: number, clock: KeyChange['clock']) => {
          // A frame shown before the keydown cannot show its effect.
          if (pressedAt === undefined || shownAt < pressedAt) return;
          const s = probe.surface();
          if (!s || s.width !== width || s.height !== height) return;
          const c = probe.drawFull(s);
          let searched: KeyChange['searched'] = 'full';
          let found: { changed: number; box?: Box } | undefined;
          if (hint) {
            const region = diff.expandBox(hint, margin.x, margin.y, width, height);
            if (region.width > 0 && region.height > 0) {
              const r = diff.changedBox(
                base,
                width,
                c.getImageData(region.x, region.y, region.width, region.height).data,
                region,
              );
              if (r.box && r.changed >= minChanged && !diff.touchesInnerEdge(r.box, region, width, height)) {
                found = r;
                searched = 'hint';
              }
            }
          }
          if (!found) {
            const r = diff.changedBox(base, width, c.getImageData(0, 0, width, height).data, {
              x: 0,
              y: 0,
              width,
              height,
            });
            if (r.changed >= minChanged) found = r;
          }
          if (!found?.box) return;
          finish();
          resolve({
            ms: shownAt - pressedAt,
            box: found.box,
            changed: found.changed,
            searched,
            clock,
            width,
            height,
          });
        };
        // Every frame as it is shown, on whichever surface shows the stream at that moment.
        const next = () => {
          if (done) return;
          const s = probe.surface();
          const video = s?.isVideo ? (s.el as HTMLVideoElement) : undefined;
          if (video && typeof video.requestVideoFrameCallback === 'function') {
            video.requestVideoFrameCallback((now, meta) => {
              if (done) return;
              check(meta.expectedDisplayTime ?? now, 'video-frame');
              next();
            });
          } else {
            requestAnimationFrame(() => {
              if (done) return;
              check(performance.now(), 'animation-frame');
              next();
            });
          }
        };
        next();
      });
      // Read by the second evaluate; never an unhandled rejection meanwhile.
      probe.key.catch(() => undefined);
    },
    {
      limit: o.timeoutMs ?? 5_000,
      hint: o.hint,
      margin: o.margin ?? { x: 48, y: 24 },
      minChanged: MIN_CHANGED,
    },
  );
  // Armed: the picture before the key is taken and the keydown listener is in place.
  await page.keyboard.press(key);
  return page.evaluate(() => (window as unknown as { __vdiStreamProbe: PageProbe }).__vdiStreamProbe.key!);
}

/** keyToPixels' milliseconds alone (keydown → the first frame shown that differs). */
export async function keyToPixelsMs(page: Page, key: string, timeoutMs = 5_000): Promise<number> {
  return (await keyToPixels(page, key, { timeoutMs })).ms;
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
