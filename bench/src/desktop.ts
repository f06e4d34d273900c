/**
 * The desktop phase: the platform's Selkies image measured twice in the same run, with the same
 * probes in the same Chromium — as a raw process (the image run with bubblewrap as the pod runs
 * it, no Kubernetes, no Traefik) and on the platform's path (portal → API → operator → the real
 * node → Traefik → forward-auth). Launch click → first decoded frame, frames per second with CPU
 * encoding at 1280×720 and 1920×1080, keypress → changed pixels, and the CPU the desktop uses.
 * Needs root (the real node and the sandbox), like `npm start`'s real desktops.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDesktopImage, processTree, runDesktop, type DesktopImage } from '@vdi/desktop-image';
import { KubeJsonClient } from '@vdi/kube-client';
import { passwordGrant } from '@vdi/keycloak';
import { REAL_DESKTOP_TEMPLATE, startStack, type Stack } from '@vdi/platform';
import {
  framesPerSecond,
  keyToPixelsMs,
  launchChromium,
  sampleSurface,
  waitChange,
  waitFirstFrame,
  waitFor,
  waitStill,
} from '@vdi/testing';
import * as k8s from '@kubernetes/client-node';
import type { Browser, Page } from 'playwright-core';
import type { DesktopResult, StreamSample } from './desktop-report.js';
import { summarize } from './stats.js';

type Log = (m: string) => void;

export interface DesktopPhaseOptions {
  /** Keypresses per latency measurement. */
  presses: number;
  /** Launches through the portal (the median is judged). */
  launches: number;
  /** Seconds of each frame-rate window. */
  fpsSeconds: number;
  /** Traefik's port for the phase's stack (a web origin of the dev realm). */
  webPort: number;
}

export const DESKTOP_DEFAULTS: DesktopPhaseOptions = {
  presses: 40,
  launches: 3,
  fpsSeconds: 5,
  webPort: 8092,
};

const TICKS = 100; // USER_HZ

/** CPU seconds (user + system) of the given processes so far. */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      ticks += Number(rest[11]) + Number(rest[12]);
    } catch {
      /* gone */
    }
  }
  return ticks / TICKS;
}

/** Processes of a pod on this machine (its cgroup names the pod's uid). */
function podPids(uid: string): number[] {
  const marks = [`pod${uid}`, `pod${uid.replace(/-/g, '_')}`];
  return readdirSync('/proc')
    .filter((x) => /^\d+$/.test(x))
    .filter((d) => {
      try {
        const cg = readFileSync(`/proc/${d}/cgroup`, 'utf8');
        return marks.some((m) => cg.includes(m));
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Cores used by `pids` over `ms` while `during` runs. */
async function coresDuring(pids: () => number[], during: () => Promise<unknown>): Promise<number> {
  const a = cpuSeconds(pids());
  const t0 = Date.now();
  await during();
  return (cpuSeconds(pids()) - a) / ((Date.now() - t0) / 1000);
}

/** Keypress → pixels, `n` times, alternating a letter and Backspace in the desktop's terminal. */
async function keyLatencies(page: Page, n: number, log: Log): Promise<number[]> {
  const out: number[] = [];
  await page.mouse.click(640, 360);
  // The first keys after the click can go to the window manager's focus change: press until one
  // shows in the terminal, then clear the line.
  for (let i = 0; ; i++) {
    const before = await sampleSurface(page);
    await page.keyboard.press('x');
    const shown = await waitChange(page, before, 1_500).then(
      () => true,
      () => false,
    );
    if (shown) break;
    if (i >= 20) throw new Error('no key reached the desktop’s terminal after 20 presses');
  }
  await page.keyboard.press('Control+U');
  let misses = 0;
  for (let i = 0; out.length < n; i++) {
    await waitStill(page, 250, 10_000).catch(() => undefined);
    try {
      out.push(await keyToPixelsMs(page, i % 2 ? 'Backspace' : 'x'));
    } catch (err) {
      // A key that never showed (focus moved): counted, the terminal clicked again.
      if (++misses > 5)
        throw new Error(`${misses} keys never showed on the stream: ${(err as Error).message}`);
      await page.mouse.click(640, 360);
    }
  }
  if (misses) log(`${misses} of ${n + misses} keys never showed (focus moved); measured the rest`);
  return out;
}

/**
 * A moving picture (the terminal scrolling output as fast as it can), the frame rate the page
 * shows and the desktop's CPU meanwhile; then quiet again.
 */
async function motion(
  page: Page,
  pids: () => number[],
  seconds: number,
  width: number,
  height: number,
): Promise<StreamSample> {
  await page.mouse.click(Math.round(width / 2), Math.round(height / 2));
  await page.keyboard.type('yes vdi-benchmark-motion', { delay: 20 });
  await page.keyboard.press('Enter');
  await page.waitForTimeout(1_000);
  let fps = NaN;
  const cpuCores = await coresDuring(pids, async () => {
    fps = await framesPerSecond(page, seconds * 1000);
  });
  await page.keyboard.press('Control+C');
  await page.keyboard.type('clear', { delay: 20 });
  await page.keyboard.press('Enter');
  await waitStill(page, 500, 15_000).catch(() => undefined);
  const idleCpuCores = await coresDuring(pids, () => new Promise((r) => setTimeout(r, 3_000)));
  return { width, height, fps, cpuCores, idleCpuCores };
}

async function rawProcess(image: DesktopImage, browser: Browser, o: DesktopPhaseOptions, log: Log) {
  const streams: StreamSample[] = [];
  let healthMs = NaN;
  let firstFrameMs = NaN;
  let keys: number[] = [];
  for (const [width, height] of [
    [1280, 720],
    [1920, 1080],
  ] as const) {
    const d = await runDesktop(image, { width, height, framerate: 60 });
    const context = await browser.newContext({
      viewport: { width, height },
      httpCredentials: { username: d.user, password: d.password },
    });
    try {
      const page = await context.newPage();
      const opened = Date.now();
      await page.goto(d.url);
      await waitFirstFrame(page, 60_000);
      if (width === 1280) {
        healthMs = d.healthyAfterMs;
        firstFrameMs = Date.now() - opened;
      }
      await waitStill(page, 500, 30_000).catch(() => undefined);
      if (width === 1280) keys = await keyLatencies(page, o.presses, log);
      const sample = await motion(
        page,
        () => [d.proc.pid!, ...processTree(d.proc.pid!)],
        o.fpsSeconds,
        width,
        height,
      );
      streams.push(sample);
      log(
        `raw Selkies ${width}×${height}: ${sample.fps.toFixed(0)} frames/s, ${sample.cpuCores.toFixed(2)} cores`,
      );
    } finally {
      await context.close();
      await d.stop();
    }
  }
  log(
    `raw Selkies: health ${healthMs} ms, first frame +${firstFrameMs} ms, keypress → pixels p50 ${summarize(keys).p50.toFixed(0)} ms`,
  );
  return { healthMs, firstFrameMs, keyToPixels: summarize(keys), streams };
}

async function gql<T>(stack: Stack, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const token = (await passwordGrant('alice', 'alice')).access_token;
  const res = await fetch(`${stack.apiDirectUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
  return body.data!;
}

interface SessionStatus {
  name: string;
  phase?: string;
  url?: string;
}

/** One desktop through the portal: login, Launch, first frame; the session's own timestamps. */
async function launchOnce(stack: Stack, browser: Browser, client: KubeJsonClient, keycloakUrl: string) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.goto(stack.portalUrl);
  await page.getByRole('button', { name: 'Log in' }).first().click();
  await page.waitForURL((u) => u.origin === new URL(keycloakUrl).origin);
  await page.locator('#username').fill('alice');
  await page.locator('#password').fill('alice');
  await page.locator('#kc-login').click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
  const card = page.locator('article, li, section').filter({ hasText: 'XFCE desktop (CPU)' }).first();
  const button = page.getByRole('button', { name: 'Launch XFCE desktop (CPU)' });
  await card.waitFor();
  const clicked = Date.now();
  await button.click();
  // The desktop's own address, after forward-auth traded the ticket for the cookie.
  await page.waitForURL(
    (u) => u.hostname.endsWith('.vdi.localhost') && u.hostname !== 'vdi.localhost' && !u.search,
    { timeout: 120_000 },
  );
  const session = new URL(page.url()).hostname.split('.')[0]!;
  await waitFirstFrame(page, 60_000);
  const firstFrame = Date.now();
  const s = await client.get<{ status?: { createdAt?: string; scheduledAt?: string; readyAt?: string } }>({
    apiVersion: 'vdi.kasm.io/v1alpha1',
    kind: 'VDISession',
    metadata: { name: session, namespace: stack.sessionsNamespace },
  });
  const at = (t?: string) => (t ? Date.parse(t) : NaN);
  return {
    session,
    page,
    context,
    launchMs: firstFrame - clicked,
    breakdown: {
      createToScheduled: at(s?.status?.scheduledAt) - clicked,
      scheduledToReady: at(s?.status?.readyAt) - at(s?.status?.scheduledAt),
      readyToFirstFrame: firstFrame - at(s?.status?.readyAt),
    },
  };
}

async function deleteAll(stack: Stack): Promise<void> {
  const { sessions } = await gql<{ sessions: SessionStatus[] }>(stack, '{ sessions { name } }');
  for (const s of sessions)
    await gql(stack, 'mutation($n: String!) { deleteSession(name: $n) }', { n: s.name });
  await waitFor(
    'alice’s desktops deleted',
    async () =>
      (await gql<{ sessions: SessionStatus[] }>(stack, '{ sessions { name } }')).sessions.length === 0,
    120_000,
  );
}

export async function desktopPhase(o: DesktopPhaseOptions, log: Log): Promise<DesktopResult> {
  if (process.getuid?.() !== 0)
    throw new Error('the desktop phase needs root (the real node and the sandbox)');
  const image = await ensureDesktopImage(log);
  const browser = await launchChromium();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'vdi-bench-desktop-'));
  let stack: Stack | undefined;
  try {
    const raw = await rawProcess(image, browser, o, log);

    stack = await startStack({
      stateDir: tmp,
      cluster: { kind: 'local' },
      sessionsNamespace: 'vdi-bench-desktop',
      access: { webPort: o.webPort, adminPort: o.webPort + 1 },
      quotas: { sessionsPerUser: 3, gpusPerUser: 1 },
      log: (m) => log(`stack: ${m}`),
    });
    if (!('ref' in stack.realDesktop)) throw new Error(`no real desktop: ${stack.realDesktop.skipped}`);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(stack.kubeconfig);
    const client = new KubeJsonClient(kc);
    const keycloakUrl = stack.keycloakIssuer.replace(/\/realms\/.*$/, '');
    try {
      await deleteAll(stack);
      const launches: number[] = [];
      let breakdown = { createToScheduled: NaN, scheduledToReady: NaN, readyToFirstFrame: NaN };
      const streams: StreamSample[] = [];
      let keys: number[] = [];
      for (let i = 0; i < o.launches; i++) {
        const l = await launchOnce(stack, browser, client, keycloakUrl);
        launches.push(l.launchMs);
        log(`platform launch ${i + 1}: click → first frame ${(l.launchMs / 1000).toFixed(1)} s`);
        if (i === Math.floor((o.launches - 1) / 2)) breakdown = l.breakdown;
        if (i === 0) {
          const pod = await client.get<k8s.V1Pod>({
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: l.session, namespace: stack.sessionsNamespace },
          });
          const uid = pod!.metadata!.uid!;
          await waitStill(l.page, 500, 30_000).catch(() => undefined);
          keys = await keyLatencies(l.page, o.presses, log);
          streams.push(await motion(l.page, () => podPids(uid), o.fpsSeconds, 1280, 720));
          log(
            `platform 1280×720: ${streams[0]!.fps.toFixed(0)} frames/s, ${streams[0]!.cpuCores.toFixed(2)} cores`,
          );
        }
        await l.context.close();
        await deleteAll(stack);
      }
      // 1920×1080 on the platform: the same template, the session asks for the size.
      const { createSession } = await gql<{ createSession: { name: string } }>(
        stack,
        'mutation($i: CreateSessionInput!) { createSession(input: $i) { name } }',
        { i: { template: REAL_DESKTOP_TEMPLATE, width: 1920, height: 1080 } },
      );
      await waitFor(
        'the 1080p desktop Running',
        async () =>
          (await gql<{ sessions: SessionStatus[] }>(stack!, '{ sessions { name phase } }')).sessions.some(
            (s) => s.name === createSession.name && s.phase === 'Running',
          ),
        180_000,
      );
      const { openSession } = await gql<{ openSession: { url: string } }>(
        stack,
        'mutation($n: String!) { openSession(name: $n) { url } }',
        { n: createSession.name },
      );
      const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
      try {
        const page = await context.newPage();
        await page.goto(openSession.url, { referer: `${stack.portalUrl}/` });
        await waitFirstFrame(page, 60_000);
        await waitStill(page, 500, 30_000).catch(() => undefined);
        const pod = await client.get<k8s.V1Pod>({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: createSession.name, namespace: stack.sessionsNamespace },
        });
        streams.push(await motion(page, () => podPids(pod!.metadata!.uid!), o.fpsSeconds, 1920, 1080));
        log(
          `platform 1920×1080: ${streams[1]!.fps.toFixed(0)} frames/s, ${streams[1]!.cpuCores.toFixed(2)} cores`,
        );
      } finally {
        await context.close();
        await deleteAll(stack);
      }
      return {
        image: { ref: image.ref, archiveBytes: statSync(image.path).size },
        raw,
        platform: {
          launchToFirstFrameMs: launches,
          breakdownMs: breakdown,
          keyToPixels: summarize(keys),
          streams,
        },
        cores: os.cpus().length,
      };
    } finally {
      client.close();
    }
  } finally {
    await browser.close();
    await stack?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}
