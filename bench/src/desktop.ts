/**
 * The desktop phase: the platform's Selkies image measured twice in the same run, with the same
 * probes in the same Chromium — as a raw process (the image run with bubblewrap as the pod runs
 * it, no Kubernetes, no Traefik) and on the platform's path (portal → API → operator → the real
 * node → Traefik → forward-auth). Launch click → first decoded frame with where its time goes,
 * frames per second with CPU encoding at 1280×720 and 1920×1080, keypress → changed pixels, and
 * the CPU a desktop uses idle, watched and streaming. Needs root (the real node and the sandbox),
 * like `npm start`'s real desktops, and holds the real node's lock while it runs.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { down as clusterDown, loadConfig, up as clusterUp } from '@vdi/controlplane';
import { ensureDesktopImage, processTree, runDesktop, type DesktopImage } from '@vdi/desktop-image';
import { KubeJsonClient } from '@vdi/kube-client';
import { passwordGrant } from '@vdi/keycloak';
import { REAL_DESKTOP_TEMPLATE, startStack, type Stack } from '@vdi/platform';
import {
  framesPerSecond,
  holdRealNode,
  keyToPixels,
  launchChromium,
  waitFirstFrame,
  waitFor,
  waitStill,
  type Box,
  type KeyChange,
} from '@vdi/testing';
import * as k8s from '@kubernetes/client-node';
import type { Browser, Page } from 'playwright-core';
import {
  LOAD_MARKER,
  cgroupCpuSeconds,
  cgroupThrottling,
  loadPids,
  measureCpu,
  podCgroup,
  podPids,
  sampleProcs,
  processRole,
  type DesktopProcesses,
} from './desktop-cpu.js';
import type { DesktopResult, KeyProbeFacts, LaunchRun, StreamSample } from './desktop-report.js';
import { LaunchRecorder, PageMarks } from './launch-recorder.js';
import { relativeTo } from './launch-timeline.js';
import { boxText, isCharSized } from './keys.js';
import { summarize } from './stats.js';

type Log = (m: string) => void;

export interface DesktopPhaseOptions {
  /** Keypresses per latency measurement. */
  presses: number;
  /** Launches through the portal (the median is judged). */
  launches: number;
  /** Launches through the portal with a VDIPool of the same template warm (compared with the cold ones). */
  pooled: number;
  /** Warm desktops the benchmark's VDIPool keeps. */
  poolSize: number;
  /** Seconds of each measured window (frames per second, each CPU state). */
  windowSeconds: number;
  /** Traefik's port for the phase's stack (a web origin of the dev realm). */
  webPort: number;
}

export const DESKTOP_DEFAULTS: DesktopPhaseOptions = {
  presses: 40,
  launches: 5,
  pooled: 3,
  poolSize: 1,
  windowSeconds: 10,
  webPort: 8092,
};

/**
 * The load that keeps the picture changing while streaming: a line every 1/120 s in the
 * terminal (so every frame at 60 frames/s differs), cheap itself, and named by LOAD_MARKER so it
 * can be found, checked and stopped.
 */
const LOAD_COMMAND =
  `python3 -c 'import time,itertools;[print(i,flush=True) or time.sleep(1/120) for i in itertools.count()]' ` +
  LOAD_MARKER;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Clicks into the desktop's terminal (the window at the top left of the screen) and makes sure
 * keys reach it: the first keys after the click can go to the window manager's focus change, and
 * a change on the stream proves nothing by itself (the click redraws the window; a cursor blinks).
 * So it types a letter and, when that changed about one character (isCharSized), deletes it with
 * Backspace, which must change about one character at the same place too. Returns where the
 * Backspace changed the picture: the region the next key is looked for first.
 */
async function focusTerminal(page: Page, log: Log): Promise<Box> {
  await page.mouse.click(400, 300);
  // Letters typed that no Backspace followed: removed at the end (extra ones at an empty prompt
  // change nothing).
  let unmatched = 0;
  const seen: string[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      await waitStill(page, 250, 5_000).catch(() => undefined);
      const typed = await keyToPixels(page, 'x', { timeoutMs: 1_500 }).catch(() => undefined);
      seen.push(typed ? boxText(typed.box) : 'no change');
      if (!typed || !isCharSized(typed.box)) {
        unmatched++;
        continue;
      }
      const erased = await keyToPixels(page, 'Backspace', { hint: typed.box, timeoutMs: 1_500 }).catch(
        () => undefined,
      );
      seen.push(erased ? `⌫ ${boxText(erased.box)}` : '⌫ no change');
      if (erased && isCharSized(erased.box) && overlaps(erased.box, typed.box)) return erased.box;
    }
    throw new Error(
      `no key reached the desktop’s terminal as one character after 20 tries (changes seen: ${seen.join(', ')})`,
    );
  } finally {
    if (seen.length > 2) log(`focusing the terminal took ${seen.length} keys: ${seen.join(', ')}`);
    for (let i = 0; i < unmatched; i++) await page.keyboard.press('Backspace');
  }
}

/** Whether two boxes overlap or touch (a letter and the Backspace that erases it). */
const overlaps = (a: Box, b: Box) =>
  a.x <= b.x + b.width && b.x <= a.x + a.width && a.y <= b.y + b.height && b.y <= a.y + a.height;

/** Keypresses measured, and those whose change was not a keypress reaching the terminal. */
export interface KeyRun {
  ms: number[];
  /** A change that was not about one character (a redraw, a clock): not counted. */
  notKeys: number;
  /** No change at all within the timeout (focus moved): the terminal clicked again. */
  misses: number;
  /** Of the counted keys: found in the region around the last key (the rest searched the frame). */
  foundNearLast: number;
  clock: KeyChange['clock'] | 'none';
}

/** What the report states about how the keys were measured. */
const keyProbe = (k: KeyRun): KeyProbeFacts => ({
  notKeys: k.notKeys,
  misses: k.misses,
  foundNearLast: k.foundNearLast,
  clock: k.clock,
});

/**
 * Keypress → pixels, `n` times, alternating a letter and Backspace in the desktop's terminal. A
 * key counts only when its change is about one character (isCharSized); the region of the last
 * counted key is searched first.
 */
async function keyLatencies(page: Page, n: number, log: Log): Promise<KeyRun> {
  const run: KeyRun = { ms: [], notKeys: 0, misses: 0, foundNearLast: 0, clock: 'none' };
  let hint = await focusTerminal(page, log);
  const limit = Math.max(5, Math.ceil(n / 4));
  for (let i = 0; run.ms.length < n; i++) {
    await waitStill(page, 250, 10_000).catch(() => undefined);
    let r: KeyChange;
    try {
      r = await keyToPixels(page, i % 2 ? 'Backspace' : 'x', { hint });
    } catch (err) {
      // A key that never showed (focus moved): counted, the terminal clicked again.
      if (++run.misses > limit)
        throw new Error(`${run.misses} keys never showed on the stream: ${(err as Error).message}`);
      hint = await focusTerminal(page, log);
      continue;
    }
    if (!isCharSized(r.box)) {
      if (++run.notKeys > limit)
        throw new Error(
          `${run.notKeys} changes after a key were not one character (the last ${boxText(r.box)}): ` +
            'is the terminal focused at the top left of the desktop?',
        );
      continue;
    }
    run.ms.push(r.ms);
    run.clock = r.clock;
    if (r.searched === 'hint') run.foundNearLast++;
    hint = r.box;
  }
  if (run.misses || run.notKeys)
    log(
      `${run.misses} keys never showed (focus moved), ${run.notKeys} changes were not one character; ` +
        `measured ${n} keys`,
    );
  return run;
}

/**
 * Ctrl+C as a person types it: key `c`, lower case. Playwright's `Control+C` sends key `C`, which
 * Selkies (rightly) injects as the keysym `C` with a synthesized Shift: Ctrl+Shift+C, the
 * terminal's Copy, so the program in it never got SIGINT.
 */
const CTRL_C = 'Control+c';

/** Types the load command into the terminal and waits until its process runs (two tries). */
async function startLoad(page: Page, d: DesktopProcesses, log: Log): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await focusTerminal(page, log);
    await page.keyboard.type(LOAD_COMMAND, { delay: 15 });
    await page.keyboard.press('Enter');
    const running = await waitFor(
      'the load generator running',
      async () => loadPids(d).length > 0,
      10_000,
    ).then(
      () => true,
      () => false,
    );
    if (running) return;
    if (attempt >= 2)
      throw new Error('the load generator typed into the desktop’s terminal did not start (twice)');
    // Whatever the terminal made of the line: abandon it.
    await page.keyboard.press(CTRL_C);
  }
}

/**
 * Stops the load generator with Ctrl+C in the terminal; when it still runs after 5 s, kills it by
 * pid. Returns whether it had to be killed; throws when it cannot be stopped at all.
 */
async function stopLoad(page: Page, d: DesktopProcesses, log: Log): Promise<boolean> {
  await page.keyboard.press(CTRL_C);
  const stopped = await waitFor(
    'the load generator stopped',
    async () => loadPids(d).length === 0,
    5_000,
  ).then(
    () => true,
    () => false,
  );
  if (!stopped) {
    const pids = loadPids(d);
    log(`the load generator did not stop on Ctrl+C; killing pids ${pids.join(', ')}`);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
    }
    await waitFor('the load generator killed', async () => loadPids(d).length === 0, 5_000);
  }
  await page.keyboard.type('clear', { delay: 15 });
  await page.keyboard.press('Enter');
  return !stopped;
}

/**
 * The desktop's CPU in its three states, and the frame rate while the picture changes: one
 * viewer and a still picture; one viewer and the load running; then the viewer gone (`closeViewer`)
 * and nothing moving — checked: no load generator left.
 */
async function cpuStates(
  page: Page,
  d: DesktopProcesses,
  o: DesktopPhaseOptions,
  width: number,
  height: number,
  closeViewer: () => Promise<void>,
  log: Log,
): Promise<StreamSample> {
  const windowMs = o.windowSeconds * 1000;
  await waitStill(page, 500, 15_000).catch(() => undefined);
  const viewerStill = await measureCpu(d, () => sleep(windowMs));
  await startLoad(page, d, log);
  // The terminal is scrolling at its steady rate before the window opens.
  await sleep(1_000);
  let fps = NaN;
  const streaming = await measureCpu(d, async () => {
    fps = await framesPerSecond(page, windowMs);
  });
  const loadKilled = await stopLoad(page, d, log);
  await waitStill(page, 500, 15_000).catch(() => undefined);
  await closeViewer();
  // Selkies stops capturing when its last client leaves; give it the moment that takes.
  await sleep(3_000);
  const left = loadPids(d);
  if (left.length)
    throw new Error(`the load generator still runs (pids ${left.join(', ')}) before the idle window`);
  const idle = await measureCpu(d, () => sleep(windowMs));
  return { width, height, fps, cpu: { idle, viewerStill, streaming }, ...(loadKilled ? { loadKilled } : {}) };
}

const fmt = (s: StreamSample) =>
  `${s.fps.toFixed(0)} frames/s; CPU idle ${s.cpu.idle.cores.toFixed(2)}, viewer still ${s.cpu.viewerStill.cores.toFixed(2)}, streaming ${s.cpu.streaming.cores.toFixed(2)} cores`;

async function rawProcess(image: DesktopImage, browser: Browser, o: DesktopPhaseOptions, log: Log) {
  const streams: StreamSample[] = [];
  let healthMs = NaN;
  let selkiesSpawnedMs: number | undefined;
  let firstFrameMs = NaN;
  let keys: KeyRun = { ms: [], notKeys: 0, misses: 0, foundNearLast: 0, clock: 'none' };
  for (const [width, height] of [
    [1280, 720],
    [1920, 1080],
  ] as const) {
    const d = await runDesktop(image, { width, height, framerate: 60 });
    // runDesktop returns as soon as /api/health answers: its start is that long ago.
    const startedAt = Date.now() - d.healthyAfterMs;
    const desktop: DesktopProcesses = { pids: () => [d.proc.pid!, ...processTree(d.proc.pid!)] };
    const context = await browser.newContext({
      viewport: { width, height },
      httpCredentials: { username: d.user, password: d.password },
    });
    let closed = false;
    const closeViewer = async () => {
      closed = true;
      await context.close();
    };
    try {
      if (width === 1280) {
        healthMs = d.healthyAfterMs;
        const selkies = sampleProcs(desktop.pids())
          .filter((p) => processRole(p.comm, p.cmdline) === 'selkies')
          .sort((a, b) => a.startedAt - b.startedAt)[0];
        if (selkies) selkiesSpawnedMs = selkies.startedAt - startedAt;
      }
      const page = await context.newPage();
      const opened = Date.now();
      await page.goto(d.url);
      await waitFirstFrame(page, 60_000);
      if (width === 1280) firstFrameMs = Date.now() - opened;
      await waitStill(page, 500, 30_000).catch(() => undefined);
      if (width === 1280) keys = await keyLatencies(page, o.presses, log);
      const sample = await cpuStates(page, desktop, o, width, height, closeViewer, log);
      streams.push(sample);
      log(`raw Selkies ${width}×${height}: ${fmt(sample)}`);
    } finally {
      if (!closed) await context.close();
      await d.stop();
    }
  }
  log(
    `raw Selkies: health ${healthMs} ms (Selkies spawned at ${selkiesSpawnedMs} ms), first frame +${firstFrameMs} ms, keypress → pixels p50 ${summarize(keys.ms).p50.toFixed(0)} ms`,
  );
  return {
    healthMs,
    selkiesSpawnedMs,
    firstFrameMs,
    keyToPixels: summarize(keys.ms),
    keyProbe: keyProbe(keys),
    streams,
  };
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
  startPath?: string;
}

const POOL_NAME = 'bench-pool';
/** The CPU template's twin without a home: a pool needs persistence none (see POOL_UNPOOLABLE). */
const POOL_TEMPLATE = `${REAL_DESKTOP_TEMPLATE}-nohome`;
const poolRef = (namespace: string) => ({
  apiVersion: 'vdi.kasm.io/v1alpha1',
  kind: 'VDIPool',
  metadata: { name: POOL_NAME, namespace },
});
const templateRef = (name: string) => ({
  apiVersion: 'vdi.kasm.io/v1alpha1',
  kind: 'VDITemplate',
  metadata: { name },
});

interface PoolStatus {
  status?: {
    warm?: number;
    starting?: number;
    conditions?: { type: string; status: string; message?: string }[];
  };
}
interface TemplateObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: Record<string, unknown> & { displayName: string; persistence?: string };
}

/**
 * The real CPU template as the stack made it (the local image on the real node), without a home:
 * the same image, resources and display, so its cold and pooled launches differ only in the pool.
 */
async function applyPoolTemplate(client: KubeJsonClient): Promise<string> {
  const real = await client.get<TemplateObject>(templateRef(REAL_DESKTOP_TEMPLATE));
  if (!real) throw new Error(`VDITemplate ${REAL_DESKTOP_TEMPLATE} not found: the stack did not install it`);
  const displayName = `${real.spec.displayName} without home`;
  await client.apply(
    {
      ...templateRef(POOL_TEMPLATE),
      metadata: { name: POOL_TEMPLATE, ...(real.metadata.labels ? { labels: real.metadata.labels } : {}) },
      spec: { ...real.spec, displayName, persistence: 'none' },
    },
    'vdi-bench',
  );
  return displayName;
}

/** Waits until the benchmark's pool has `size` warm desktops; names the pool and its state on timeout. */
async function waitWarm(
  client: KubeJsonClient,
  namespace: string,
  size: number,
  timeoutMs: number,
): Promise<void> {
  let last: PoolStatus['status'];
  try {
    await waitFor(
      `VDIPool ${namespace}/${POOL_NAME} with ${size} warm desktop(s)`,
      async () => {
        last = (await client.get<PoolStatus>(poolRef(namespace)))?.status;
        return (last?.warm ?? 0) >= size;
      },
      timeoutMs,
    );
  } catch (e) {
    throw new Error(
      `${(e as Error).message}; its status: ${JSON.stringify(last ?? {})} (is the real node up and the image on it?)`,
    );
  }
}

/** The session's status.startPath, as alice's API shows it. */
async function startPathOf(stack: Stack, session: string): Promise<string | undefined> {
  const { sessions } = await gql<{ sessions: SessionStatus[] }>(stack, '{ sessions { name startPath } }');
  return sessions.find((s) => s.name === session)?.startPath ?? undefined;
}

/**
 * The pooled comparison, with the CPU template's twin without a home (a pool needs persistence
 * none): `o.pooled` cold launches of it, then a VDIPool of it on the real node and `o.pooled`
 * launches that claim its warm desktops; before each pooled launch the pool is waited warm again
 * (the refill is not timed). Same portal, same probe as the cold launches of the phase.
 */
async function pooledLaunches(
  stack: Stack,
  client: KubeJsonClient,
  browser: Browser,
  recorder: LaunchRecorder,
  keycloakUrl: string,
  o: DesktopPhaseOptions,
  log: Log,
): Promise<NonNullable<DesktopResult['platform']['pool']> & { cold: LaunchRun[]; runs: LaunchRun[] }> {
  const ns = stack.sessionsNamespace;
  const displayName = await applyPoolTemplate(client);
  const cold: LaunchRun[] = [];
  const runs: LaunchRun[] = [];
  try {
    for (let i = 0; i < o.pooled; i++) {
      const l = await launchOnce(stack, browser, recorder, keycloakUrl, log, displayName);
      await l.context.close();
      const startPath = await startPathOf(stack, l.run.session);
      cold.push({ ...l.run, ...(startPath ? { startPath } : {}) });
      log(
        `cold launch ${i + 1} of ${POOL_TEMPLATE}: ${(l.run.ms / 1000).toFixed(2)} s (startPath ${startPath})`,
      );
      await deleteAll(stack);
    }
    const created = Date.now();
    await client.apply({ ...poolRef(ns), spec: { template: POOL_TEMPLATE, size: o.poolSize } }, 'vdi-bench');
    await waitWarm(client, ns, o.poolSize, 300_000);
    const warmMs = Date.now() - created;
    log(`pool ${ns}/${POOL_NAME}: ${o.poolSize} warm after ${(warmMs / 1000).toFixed(1)} s`);
    for (let i = 0; i < o.pooled; i++) {
      if (i > 0) await waitWarm(client, ns, o.poolSize, 300_000);
      const l = await launchOnce(stack, browser, recorder, keycloakUrl, log, displayName);
      await l.context.close();
      const startPath = await startPathOf(stack, l.run.session);
      if (startPath !== 'Pool') l.run.notes.push(`startPath ${startPath ?? 'unset'}: not a warm desktop`);
      // The claimed pod started for the pool before the click: its earlier marks are not part of this launch.
      const before = Object.entries(l.run.marks).filter(([, t]) => typeof t === 'number' && t < 0);
      const marks = Object.fromEntries(
        Object.entries(l.run.marks).filter(([, t]) => !(typeof t === 'number' && t < 0)),
      ) as LaunchRun['marks'];
      if (before.length)
        l.run.notes.push(
          `before the click (the pod was started for the pool): ${before.map(([k]) => k).join(', ')}`,
        );
      runs.push({ ...l.run, marks, ...(startPath ? { startPath } : {}) });
      log(
        `pooled launch ${i + 1}: click → first frame ${(l.run.ms / 1000).toFixed(2)} s (startPath ${startPath})`,
      );
      await deleteAll(stack);
    }
    return { template: POOL_TEMPLATE, size: o.poolSize, warmMs, cold, runs };
  } finally {
    await client
      .delete(poolRef(ns))
      .catch((e) => log(`pool ${ns}/${POOL_NAME} not deleted: ${(e as Error).message}`));
    await client
      .delete(templateRef(POOL_TEMPLATE))
      .catch((e) => log(`template ${POOL_TEMPLATE} not deleted: ${(e as Error).message}`));
  }
}

/** The desktop pod's uid (its cgroup and processes carry it). */
async function podUid(client: KubeJsonClient, namespace: string, name: string): Promise<string> {
  const pod = await client.get<k8s.V1Pod>({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace } });
  const uid = pod?.metadata?.uid;
  if (!uid) throw new Error(`desktop pod ${namespace}/${name} not found`);
  return uid;
}

function podDesktop(uid: string): DesktopProcesses {
  const cgroup = podCgroup(uid);
  if (!cgroup) throw new Error(`no cgroup of pod ${uid} on this machine (is it on the real node?)`);
  return { pids: () => podPids(uid), cgroup };
}

/**
 * One desktop through the portal: login, Launch, first frame; every mark of the launch (see
 * src/launch-timeline.ts) on this process's clock.
 */
async function launchOnce(
  stack: Stack,
  browser: Browser,
  recorder: LaunchRecorder,
  keycloakUrl: string,
  log: Log,
  displayName = 'XFCE desktop (CPU)',
): Promise<{ run: LaunchRun; page: Page; context: import('playwright-core').BrowserContext }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  // What the page said and logged, for an error that says more than which button never came.
  const consoleLines: string[] = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`.slice(0, 300)));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`.slice(0, 300)));
  const button = page.getByRole('button', { name: `Launch ${displayName}`, exact: true });
  try {
    await page.goto(stack.portalUrl);
    await page.getByRole('button', { name: 'Log in' }).first().click();
    await page.waitForURL((u) => u.origin === new URL(keycloakUrl).origin);
    await page.locator('#username').fill('alice');
    await page.locator('#password').fill('alice');
    await page.locator('#kc-login').click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await button.waitFor({ timeout: 60_000 });
  } catch (err) {
    const text = await page
      .locator('body')
      .innerText({ timeout: 2_000 })
      .catch(() => '(no page text)');
    throw new Error(
      `login through the portal failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}; ` +
        `page ${page.url()} showed: ${JSON.stringify(text.replace(/\s+/g, ' ').slice(0, 400))}; ` +
        `its last console lines: ${JSON.stringify(consoleLines.slice(-8))}`,
    );
  }
  const pageMarks = new PageMarks(page);
  const offsets = recorder.logOffsets();
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
  pageMarks.dispose();
  const { marks, podUid: uid, notes } = await recorder.marksOf(session, offsets);
  let startCpuSeconds: number | undefined;
  let startThrottledMs: number | undefined;
  const cgroup = uid ? podCgroup(uid) : undefined;
  if (cgroup) {
    // The pod's cgroup is as old as the pod: what it shows now is its start-up.
    startCpuSeconds = cgroupCpuSeconds(cgroup.cpuacct);
    startThrottledMs = cgroupThrottling(cgroup.cpu).throttledMs;
  } else notes.push('the pod’s cgroup was not found');
  const run: LaunchRun = {
    session,
    ms: firstFrame - clicked,
    marks: relativeTo(clicked, { ...marks, ...pageMarks.marks, firstFrame }),
    ...(startCpuSeconds !== undefined ? { startCpuSeconds } : {}),
    ...(startThrottledMs !== undefined ? { startThrottledMs } : {}),
    notes,
  };
  for (const n of notes) log(`launch ${session}: ${n}`);
  return { run, page, context };
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

/** The CPU request and limit of a desktop pod, as rendered. */
async function podCpu(client: KubeJsonClient, namespace: string, name: string) {
  const pod = await client.get<k8s.V1Pod>({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace } });
  const r = pod?.spec?.containers?.find((c) => c.name === 'desktop')?.resources;
  return r?.requests?.cpu && r.limits?.cpu ? { request: r.requests.cpu, limit: r.limits.cpu } : undefined;
}

export async function desktopPhase(o: DesktopPhaseOptions, log: Log): Promise<DesktopResult> {
  if (process.getuid?.() !== 0)
    throw new Error('the desktop phase needs root (the real node and the sandbox)');
  const image = await ensureDesktopImage(log);
  // The shared local cluster with its real node up first (it starts the node under the node's
  // lock), then the lock held for the whole phase: no test restarts the node under the numbers.
  const cluster = await clusterUp(loadConfig(), (m) => log(`cluster: ${m}`));
  log('waiting for the real node’s lock (one owner per machine)');
  const release = await holdRealNode();
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
      // A Keycloak the stack starts stops with it (the cluster, up before, is the phase's own).
      stopInfrastructure: true,
      log: (m) => log(`stack: ${m}`),
    });
    if (!('ref' in stack.realDesktop)) throw new Error(`no real desktop: ${stack.realDesktop.skipped}`);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(stack.kubeconfig);
    const client = new KubeJsonClient(kc);
    const recorder = new LaunchRecorder(kc, stack.sessionsNamespace);
    await recorder.start();
    const keycloakUrl = stack.keycloakIssuer.replace(/\/realms\/.*$/, '');
    try {
      await deleteAll(stack);
      const launches: LaunchRun[] = [];
      const streams: StreamSample[] = [];
      let keys: KeyRun = { ms: [], notKeys: 0, misses: 0, foundNearLast: 0, clock: 'none' };
      let cpuSpec: DesktopResult['podCpu'];
      for (let i = 0; i < o.launches; i++) {
        const l = await launchOnce(stack, browser, recorder, keycloakUrl, log);
        launches.push(l.run);
        log(`platform launch ${i + 1}: click → first frame ${(l.run.ms / 1000).toFixed(2)} s`);
        let closed = false;
        try {
          if (i === 0) {
            cpuSpec = await podCpu(client, stack.sessionsNamespace, l.run.session);
            const desktop = podDesktop(await podUid(client, stack.sessionsNamespace, l.run.session));
            await waitStill(l.page, 500, 30_000).catch(() => undefined);
            keys = await keyLatencies(l.page, o.presses, log);
            const sample = await cpuStates(
              l.page,
              desktop,
              o,
              1280,
              720,
              async () => {
                closed = true;
                await l.context.close();
              },
              log,
            );
            streams.push(sample);
            log(`platform 1280×720: ${fmt(sample)}`);
          }
        } finally {
          if (!closed) await l.context.close();
        }
        await deleteAll(stack);
      }
      // The same launches with a warm pool of the template: claimed desktops, the same probe.
      const pooled =
        o.pooled > 0
          ? await pooledLaunches(stack, client, browser, recorder, keycloakUrl, o, log)
          : undefined;
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
      let closed = false;
      try {
        const page = await context.newPage();
        await page.goto(openSession.url, { referer: `${stack.portalUrl}/` });
        await waitFirstFrame(page, 60_000);
        await waitStill(page, 500, 30_000).catch(() => undefined);
        const desktop = podDesktop(await podUid(client, stack.sessionsNamespace, createSession.name));
        const sample = await cpuStates(
          page,
          desktop,
          o,
          1920,
          1080,
          async () => {
            closed = true;
            await context.close();
          },
          log,
        );
        streams.push(sample);
        log(`platform 1920×1080: ${fmt(sample)}`);
      } finally {
        if (!closed) await context.close();
        await deleteAll(stack);
      }
      return {
        image: { ref: image.ref, archiveBytes: statSync(image.path).size },
        raw,
        platform: {
          launches,
          ...(pooled
            ? {
                pooledLaunches: pooled.runs,
                pool: {
                  template: pooled.template,
                  size: pooled.size,
                  warmMs: pooled.warmMs,
                  cold: pooled.cold,
                },
              }
            : {}),
          keyToPixels: summarize(keys.ms),
          keyProbe: keyProbe(keys),
          streams,
        },
        ...(cpuSpec ? { podCpu: cpuSpec } : {}),
        cores: os.cpus().length,
      };
    } finally {
      await recorder.stop();
      client.close();
    }
  } finally {
    await browser.close();
    await stack?.stop();
    rmSync(tmp, { recursive: true, force: true });
    await release();
    // A cluster this phase started goes with it (one that ran before stays).
    if (!cluster.reused) await clusterDown(loadConfig(), (m) => log(`cluster: ${m}`));
  }
}
