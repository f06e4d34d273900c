/**
 * The stream probes (stream.ts) in a real Chromium, on a page that paints `canvas#videoCanvas` the
 * way Selkies' first frames do: a still picture an encoder keeps refining is still, a typed line
 * and a cursor-sized blink are changes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './browser.js';
import { sampleSurface, waitChange, waitStill } from './stream.js';

let browser: Browser;
let page: Page;

/**
 * A 1280×720 "desktop": a dark terminal with a prompt. `window.noise(on)` makes every frame
 * repaint the picture with a few levels of noise on every pixel (what a lossy encoder's refreshes
 * do to a still picture); `window.blink(ms)` toggles a 10×20 block (a terminal cursor);
 * `window.type(text)` draws a line of text.
 */
const DESKTOP = `<!doctype html><html><body style="margin:0;background:#000">
<canvas id="videoCanvas" width="1280" height="720"></canvas>
<script>
const c = document.getElementById('videoCanvas');
const g = c.getContext('2d');
let typed = '';
let cursor = false;
let noisy = false;
function paint() {
  g.fillStyle = '#303030'; g.fillRect(0, 0, 1280, 720);
  g.fillStyle = '#1e1e2e'; g.fillRect(100, 100, 800, 400);
  g.fillStyle = '#d0d0d0'; g.font = '16px monospace';
  g.fillText('user@desktop:~$ ' + typed, 110, 130);
  if (cursor) g.fillRect(600, 300, 10, 20);
  if (noisy) {
    const img = g.getImageData(0, 0, 1280, 720);
    for (let i = 0; i < img.data.length; i += 4) {
      const n = ((Math.random() * 13) | 0) - 6;
      img.data[i] += n; img.data[i + 1] += n; img.data[i + 2] += n;
    }
    g.putImageData(img, 0, 0);
  }
}
paint();
let blinker;
window.noise = (on) => { noisy = on; };
window.blink = (ms) => { clearInterval(blinker); if (ms) blinker = setInterval(() => { cursor = !cursor; }, ms); };
window.type = (text) => { typed = text; };
(function frame() { if (noisy) paint(); requestAnimationFrame(frame); })();
setInterval(() => { if (!noisy) paint(); }, 50);
</script></body></html>`;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

beforeEach(async () => {
  await page?.close();
  page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.setContent(DESKTOP);
});

describe('the stream probes on a real page', () => {
  it('a still picture an encoder keeps refining is still, though its checksum moves', async () => {
    await page.evaluate(() => (window as unknown as { noise(on: boolean): void }).noise(true));
    const hashes = new Set<string>();
    for (let i = 0; i < 10; i++) {
      hashes.add((await sampleSurface(page)).hash);
      await new Promise((r) => setTimeout(r, 30));
    }
    // The noise does move the quantized checksum: a checksum alone would never see it still.
    expect(hashes.size).toBeGreaterThan(1);
    const still = await waitStill(page, 500, 10_000);
    expect(still.source).toBe('canvas#videoCanvas');
    expect(still.nonBlank).toBe(true);
    const again = await sampleSurface(page, still);
    expect(again.changed).toBeLessThan(3);
  });

  it('a typed line is a change, with the pixels it moved', async () => {
    await page.evaluate(() => (window as unknown as { noise(on: boolean): void }).noise(true));
    const before = await waitStill(page, 300, 10_000);
    await page.evaluate(() => (window as unknown as { type(t: string): void }).type('echo typed'));
    const after = await waitChange(page, before, 5_000);
    expect(after.changed).toBeGreaterThanOrEqual(3);
    expect(after.hash).not.toBe(before.hash);
  });

  it('no change yet: waitChange fails and says how much moved', async () => {
    const before = await waitStill(page, 300, 10_000);
    await expect(waitChange(page, before, 1_000)).rejects.toThrow(
      /a change of the picture: not within 1 s \(at most [0-2] pixels moved; 3 needed\)/,
    );
  });

  it('a blinking cursor is never still, and the error says what kept changing', async () => {
    await page.evaluate(() => (window as unknown as { blink(ms: number): void }).blink(200));
    const error = await waitStill(page, 500, 3_000).then(
      () => undefined,
      (e: unknown) => String(e),
    );
    expect(error).toMatch(
      /a still picture: not within 3 s \((\d+) changes, the last [\d, ]+ pixels of 320x180/,
    );
    const changes = Number(/\((\d+) changes/.exec(error!)![1]);
    // 200 ms blinks in 3 s: about 15, each seen.
    expect(changes).toBeGreaterThanOrEqual(5);
    // Stopped: the picture is still again.
    await page.evaluate(() => (window as unknown as { blink(ms: number): void }).blink(0));
    await expect(waitStill(page, 500, 5_000)).resolves.toMatchObject({ nonBlank: true });
  });
});
