/**
 * The desktop image, run the way the platform's pod runs it — uid 1000, read-only root, no
 * capabilities, writable home, /tmp, /dev/shm and /run/user/1000 only — and used in real Chromium:
 * Selkies answers its health check, locks everything else behind the session's password, streams
 * a non-blank picture, and text typed into the desktop's terminal changes the picture.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, sampleSurface, waitChange, waitFirstFrame, waitStill } from '@vdi/testing';
import {
  desktopImage,
  ensureDesktopImage,
  processTree,
  runDesktop,
  runDesktopToExit,
  runInImage,
  type DesktopImage,
  type DesktopProcess,
} from '../src/index.js';

const log = (m: string) => process.stderr.write(`${m}\n`);
let image: DesktopImage;
let desktop: DesktopProcess | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  image = await ensureDesktopImage(log);
  desktop = await runDesktop(image, { width: 1280, height: 720 });
  log(`[desktop image] ${image.ref}: /api/health answered ${desktop.healthyAfterMs} ms after start`);
  browser = await launchChromium();
}, 1_200_000);

afterAll(async () => {
  await browser?.close();
  await desktop?.stop();
});

const running = () => {
  if (!desktop) throw new Error('the desktop did not start (see beforeAll)');
  return desktop;
};

describe('the desktop image', () => {
  it('names its inputs: the reference and the archive follow the hash of build.sh and what it reads', () => {
    const again = desktopImage();
    expect(again.ref).toMatch(/^vdi\.local\/desktop:[0-9a-f]{12}$/);
    expect(path.basename(again.path)).toBe(`desktop-${again.ref.split(':')[1]}.oci.tar`);
    expect(again.built).toBe(true);
  });

  it("starts Selkies from the image's byte-code: nothing of the venv is compiled again at start on the read-only root", () => {
    // What `python -m selkies` imports before it serves (its __main__), traced by Python itself.
    const trace = runInImage(image, [
      '/opt/selkies/bin/python3',
      '-v',
      '-c',
      'from selkies.settings import settings; import selkies.display_utils, selkies.webrtc_mode, selkies.websockets_mode, selkies.stream_server, selkies.session',
    ]);
    const fromPyc = trace.match(/^# code object from '?\/opt\/selkies\/.*__pycache__.*\.pyc'?$/gm) ?? [];
    const compiled = trace.match(/^# code object from '?\/opt\/selkies\/.*\.py'?$/gm) ?? [];
    const stale = trace.match(/^# bytecode is stale for .*$/gm) ?? [];
    // Several hundred modules (aiohttp, PIL, the WebRTC stack, pixelflux's Python side, ...).
    expect(fromPyc.length).toBeGreaterThan(200);
    expect(stale).toEqual([]);
    expect(compiled).toEqual([]);
  });

  it('runs as uid 1000 with no capabilities and no way to gain any', () => {
    const pids = processTree(running().proc.pid!);
    const status = pids
      .map((p) => {
        try {
          return readFileSync(`/proc/${p}/status`, 'utf8');
        } catch {
          return '';
        }
      })
      .filter(Boolean);
    // setpriv, bwrap, the entrypoint, Xvfb, PulseAudio, the XFCE session and Selkies at least.
    expect(status.length).toBeGreaterThanOrEqual(5);
    for (const s of status) {
      expect(/^Uid:\s+(\d+)/m.exec(s)![1]).toBe('1000');
      expect(/^CapEff:\s+(\w+)/m.exec(s)![1]).toBe('0000000000000000');
    }
    expect(status.filter((s) => /^NoNewPrivs:\s+1/m.test(s)).length).toBeGreaterThanOrEqual(
      status.length - 1,
    );
  });

  it('answers /api/health without a password and everything else only with the session’s', async () => {
    const d = running();
    expect((await fetch(`${d.url}api/health`)).status).toBe(200);
    expect((await fetch(d.url)).status).toBe(401);
    const wrong = `Basic ${Buffer.from(`${d.user}:not-the-password`).toString('base64')}`;
    expect((await fetch(d.url, { headers: { authorization: wrong } })).status).toBe(401);
    const right = `Basic ${Buffer.from(`${d.user}:${d.password}`).toString('base64')}`;
    const page = await fetch(d.url, { headers: { authorization: right } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
  });

  it('streams the desktop into Chromium, and what is typed into its terminal shows up', async () => {
    const d = running();
    const context = await browser!.newContext({
      viewport: { width: 1280, height: 720 },
      httpCredentials: { username: d.user, password: d.password },
    });
    try {
      const page = await context.newPage();
      const opened = Date.now();
      await page.goto(d.url);
      const first = await waitFirstFrame(page, 60_000);
      log(
        `[desktop image] first non-blank frame ${Date.now() - opened} ms after opening the page (${first.source})`,
      );
      expect(first.nonBlank).toBe(true);
      expect(first.width).toBe(1280);
      expect(first.height).toBe(720);
      // XFCE starts a terminal at login; once the picture settles, type into it.
      const before = await waitStill(page, 500, 30_000);
      await page.mouse.click(640, 360);
      await page.keyboard.type('echo vdi-was-here', { delay: 30 });
      const after = await waitChange(page, before, 15_000);
      expect(after.hash).not.toBe(before.hash);
      expect((await sampleSurface(page)).nonBlank).toBe(true);
    } finally {
      await context.close();
    }
  }, 180_000);

  it('refuses to start, with the reason, when /tmp is not writable', async () => {
    const r = await runDesktopToExit(image, { readOnlyTmp: true });
    expect(r.code).toBe(78);
    expect(r.output).toMatch(/\/tmp is not a writable directory/);
  }, 60_000);

  it("does not stream over WebRTC without the platform's TURN credentials: a refused key stops it with the reason", async () => {
    const asked: string[] = [];
    const endpoint = http.createServer((req, res) => {
      asked.push(req.url ?? '');
      res.writeHead(403).end('forbidden\n');
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    try {
      const port = (endpoint.address() as AddressInfo).port;
      const r = await runDesktopToExit(image, {
        env: {
          SELKIES_MODE: 'webrtc',
          SELKIES_TURN_REST_URI: `http://127.0.0.1:${port}/turn/vdi-sessions/s-1`,
          SELKIES_TURN_REST_API_KEY: 'the-key-of-s-1',
        },
      });
      expect(r.code).toBe(78);
      expect(r.output).toMatch(/TURN REST endpoint .* refused this desktop's key \(HTTP 403\)/);
      // It asked as Selkies would, with the session's key; Selkies itself never started.
      expect(asked[0]).toBe('/turn/vdi-sessions/s-1?service=turn&key=the-key-of-s-1');
    } finally {
      endpoint.close();
    }
  }, 60_000);
});
