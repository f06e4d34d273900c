/**
 * Warm pools on a real desktop (issue #18), end to end: the local real node, the platform's
 * Selkies image, Traefik, forward-auth, Chromium. A VDIPool of the CPU template without a home (a
 * pool needs persistence none) keeps one desktop warm; alice launches it from the portal and gets
 * the warm desktop (status.startPath Pool): frames decode and change when she types. bob launches
 * next and gets another pod, never hers; when her session is deleted her pod goes and never comes
 * back to the pool. Needs root (the real node) like CI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { Release } from '@vdi/node';
import { REAL_DESKTOP_TEMPLATE, type Stack } from '@vdi/platform';
import { KeycloakAdmin } from '@vdi/keycloak';
import { KubeJsonClient } from '@vdi/kube-client';
import { LABEL_CLAIMED_BY, LABEL_POOL, LABEL_SESSION } from '@vdi/session-spec';
import {
  holdRealNode,
  launchChromium,
  testKubeConfig,
  waitChange,
  waitFirstFrame,
  waitFor,
  waitStill,
} from '@vdi/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { gqlAs, sessionsAs } from './api';
import { loginAs, newContext, screenshot, templateCard } from './portal';
import { startRealDesktopStack, within } from './shared-desktop';

/** Traefik's web port of this stack (added to the portal client's web origins below). */
const WEB_PORT = 8098;
const NAMESPACE = 'vdi-e2e-pool';
const TEMPLATE = `${REAL_DESKTOP_TEMPLATE}-pooled`;
const POOL = 'e2e-pool';
const GROUP_VERSION = 'vdi.kasm.io/v1alpha1';
const templateRef = { apiVersion: GROUP_VERSION, kind: 'VDITemplate', metadata: { name: TEMPLATE } };
const poolRef = {
  apiVersion: GROUP_VERSION,
  kind: 'VDIPool',
  metadata: { name: POOL, namespace: NAMESPACE },
};

const log = (m: string) => process.stdout.write(`[pool-e2e] ${m}\n`);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'vdi-pool-e2e-'));
const admin = new KeycloakAdmin();
let release: Release | undefined;
let stack: Stack;
let browser: Browser;
let client: KubeJsonClient;
let core: k8s.CoreV1Api;
let keycloakUrl: string;
let displayName: string;
const contexts: BrowserContext[] = [];

interface TemplateObject {
  metadata: { labels?: Record<string, string> };
  spec: Record<string, unknown> & { displayName: string };
}
interface PoolObject {
  status?: { warm?: number; starting?: number; claimed?: number; conditions?: unknown[] };
}

const poolPods = async (): Promise<k8s.V1Pod[]> =>
  (await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `${LABEL_POOL}=${POOL}` })).items;

/** The pool has `n` warm desktops (its status, and as many Ready unclaimed pods). */
async function waitWarm(n: number): Promise<void> {
  let last: PoolObject['status'];
  try {
    await waitFor(
      `VDIPool ${NAMESPACE}/${POOL} with ${n} warm desktop(s)`,
      async () => {
        last = (await client.get<PoolObject>(poolRef))?.status;
        return (last?.warm ?? 0) >= n ? true : undefined;
      },
      300_000,
      1_000,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; its last status: ${JSON.stringify(last ?? {})}`);
  }
}

/** The pod running `session` (its session label), exactly one. */
async function podOf(session: string): Promise<k8s.V1Pod> {
  return waitFor(
    `the pod of session ${session}`,
    async () => {
      const pods = (
        await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `${LABEL_SESSION}=${session}` })
      ).items.filter((p) => !p.metadata?.deletionTimestamp);
      return pods.length === 1 ? pods[0] : undefined;
    },
    60_000,
    500,
  );
}

const startPathOf = async (user: string, session: string) =>
  (
    await gqlAs<{ sessions: { name: string; startPath?: string | null }[] }>(
      stack.apiDirectUrl,
      user,
      '{ sessions { name startPath } }',
    )
  ).sessions.find((s) => s.name === session)?.startPath;

/**
 * `user` logs in and clicks Launch on the pooled template's card; the portal sends them on to the
 * desktop's address and a first frame decodes. Returns the session and its page.
 */
async function launchFromPortal(user: string): Promise<{ session: string; page: Page }> {
  const ctx = await newContext(browser, { width: 1280, height: 720 });
  contexts.push(ctx);
  const page = await loginAs(ctx, stack.portalUrl, keycloakUrl, user);
  const card = templateCard(page, displayName);
  await card.waitFor({ timeout: 60_000 });
  const launchedAt = Date.now();
  await card.getByRole('button', { name: `Launch ${displayName}`, exact: true }).click();
  const [s] = await waitFor(
    `${user}’s session`,
    async () => {
      const mine = await sessionsAs(stack.apiDirectUrl, user);
      return mine.length === 1 ? mine : undefined;
    },
    60_000,
  );
  const session = s!.name;
  await page.waitForURL((u) => u.hostname === `${session}.vdi.localhost`, { timeout: 120_000 });
  const first = await waitFirstFrame(page, 60_000);
  log(`${user}: launch click → first decoded frame ${((Date.now() - launchedAt) / 1000).toFixed(1)} s`);
  expect(first).toMatchObject({ nonBlank: true, width: 1280, height: 720 });
  return { session, page };
}

async function deleteSession(user: string, name: string): Promise<void> {
  await gqlAs(stack.apiDirectUrl, user, 'mutation($n: String!) { deleteSession(name: $n) }', { n: name });
  await waitFor(
    `session ${name} gone`,
    async () => (await sessionsAs(stack.apiDirectUrl, user)).every((s) => s.name !== name),
    120_000,
  );
}

beforeAll(async () => {
  release = await holdRealNode();
  ({ stack, keycloakUrl } = await startRealDesktopStack({
    stateDir: tmp,
    namespace: NAMESPACE,
    webPort: WEB_PORT,
    admin,
    log,
  }));
  const kc = testKubeConfig();
  client = new KubeJsonClient(kc);
  core = kc.makeApiClient(k8s.CoreV1Api);
  // The real CPU template as the stack made it (the local image on the real node), without a home.
  const real = await client.get<TemplateObject>({
    ...templateRef,
    metadata: { name: REAL_DESKTOP_TEMPLATE },
  });
  if (!real) throw new Error(`VDITemplate ${REAL_DESKTOP_TEMPLATE} not found: the stack did not install it`);
  displayName = `${real.spec.displayName} pooled`;
  await client.apply(
    {
      ...templateRef,
      metadata: { name: TEMPLATE, ...(real.metadata.labels ? { labels: real.metadata.labels } : {}) },
      spec: { ...real.spec, displayName, persistence: 'none' },
    },
    'vdi-e2e',
  );
  await client.apply({ ...poolRef, spec: { template: TEMPLATE, size: 1 } }, 'vdi-e2e');
  await waitWarm(1);
  browser = await launchChromium();
}, 1_800_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  for (const user of ['alice', 'bob'])
    for (const s of await sessionsAs(stack.apiDirectUrl, user).catch(() => []))
      await deleteSession(user, s.name).catch(() => undefined);
  await client?.delete(poolRef).catch(() => undefined);
  if (core)
    await waitFor(
      'the pool’s pods gone',
      async () => ((await poolPods()).length === 0 ? true : undefined),
      120_000,
    ).catch(() => undefined);
  await client?.delete(templateRef).catch(() => undefined);
  client?.close();
  await stack?.stop();
  await release?.();
  rmSync(tmp, { recursive: true, force: true });
}, 300_000);

describe('a warm pool of a real desktop', () => {
  let alice: { session: string; page: Page };
  let alicePod: k8s.V1Pod;
  /** Every pod that ever ran a desktop of alice's (by uid). */
  const aliceUids = new Set<string>();

  it('alice launches and claims the warm desktop: Running from the pool, frames decode and follow her typing', async () => {
    const warmBefore = new Set((await poolPods()).map((p) => p.metadata!.uid!));
    alice = await launchFromPortal('alice');
    expect(await startPathOf('alice', alice.session)).toBe('Pool');
    const running = (await sessionsAs(stack.apiDirectUrl, 'alice')).find((s) => s.name === alice.session)!;
    expect(running.phase).toBe('Running');
    alicePod = await podOf(alice.session);
    aliceUids.add(alicePod.metadata!.uid!);
    // The pod was one the pool had warm before she clicked, now claimed for her session.
    expect(warmBefore.has(alicePod.metadata!.uid!)).toBe(true);
    expect(alicePod.metadata!.labels).toMatchObject({ [LABEL_POOL]: POOL, [LABEL_SESSION]: alice.session });
    expect(alicePod.metadata!.labels![LABEL_CLAIMED_BY]).toBeTruthy();
    expect(alicePod.spec!.nodeName).toBe('vdi-worker-1');

    // Her typing reaches the desktop: the terminal XFCE opened changes on the stream. The first
    // keys after the click may go to the focus change: type, then check the picture moved.
    const page = alice.page;
    const before = await waitStill(page, 500, 30_000);
    await page.mouse.click(640, 360);
    await page.keyboard.type('echo typed-into-a-pooled-desktop', { delay: 30 });
    await page.keyboard.press('Enter');
    const after = await waitChange(page, before, 15_000);
    expect(after.hash).not.toBe(before.hash);
    await screenshot(page, 'pool-alice');
  }, 600_000);

  it('bob launches next and gets another pod, never one alice used', async () => {
    // The pool refills after alice's claim; bob claims the new warm desktop.
    await waitWarm(1);
    const bob = await within(300_000, 'bob’s launch', () => launchFromPortal('bob'));
    expect(await startPathOf('bob', bob.session)).toBe('Pool');
    const bobPod = await podOf(bob.session);
    expect(bobPod.metadata!.uid).not.toBe(alicePod.metadata!.uid);
    expect(bobPod.metadata!.name).not.toBe(alicePod.metadata!.name);
    expect(aliceUids.has(bobPod.metadata!.uid!)).toBe(false);
    expect(bobPod.metadata!.labels![LABEL_CLAIMED_BY]).not.toBe(alicePod.metadata!.labels![LABEL_CLAIMED_BY]);
    // alice's pod is still hers.
    const stillAlice = await podOf(alice.session);
    expect(stillAlice.metadata!.uid).toBe(alicePod.metadata!.uid);
  }, 600_000);

  it('alice’s pod goes with her session and never comes back to the pool', async () => {
    const uid = alicePod.metadata!.uid!;
    let seenUnclaimed = false;
    const watchPool = async () => {
      for (const p of await poolPods())
        if (p.metadata!.uid === uid && !p.metadata!.labels?.[LABEL_CLAIMED_BY]) seenUnclaimed = true;
    };
    await deleteSession('alice', alice.session);
    await waitFor(
      `alice’s pod ${alicePod.metadata!.name} deleted`,
      async () => {
        await watchPool();
        const pods = await poolPods();
        const all = (await core.listNamespacedPod({ namespace: NAMESPACE })).items;
        return pods.concat(all).some((p) => p.metadata!.uid === uid) ? undefined : true;
      },
      180_000,
      500,
    );
    expect(seenUnclaimed).toBe(false);
    // The pool refills with a new desktop, not hers.
    await waitWarm(1);
    const warm = await poolPods();
    expect(warm.map((p) => p.metadata!.uid)).not.toContain(uid);
    expect(warm.filter((p) => !p.metadata!.labels?.[LABEL_CLAIMED_BY]).length).toBeGreaterThanOrEqual(1);
  }, 600_000);
});
