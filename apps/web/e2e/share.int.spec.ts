/**
 * Sharing a desktop with a named colleague (issue #18), end to end on a real desktop (the local
 * real node, the platform's Selkies image, Traefik, forward-auth, Chromium): alice shares her
 * desktop view-only with bob from the portal's share panel; bob opens it from "Shared with me"
 * and sees it move, and his typing does nothing (Selkies drops a viewer's input on the server);
 * alice gives him control and his typing lands; alice revokes and his page closes within 5 s;
 * carol, named by no share, is refused; an expired share is refused and its page closed. Needs
 * root (the real node) like CI.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import type { Release } from '@vdi/node';
import type { Stack } from '@vdi/platform';
import { KeycloakAdmin } from '@vdi/keycloak';
import { KubeJsonClient } from '@vdi/kube-client';
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
import { loginAs, newContext, notices, screenshot } from './portal';
import {
  desktopCookie,
  openThroughPortal,
  startRealDesktopStack,
  streamStatus,
  trackSockets,
  within,
  type OpenedDesktop,
} from './shared-desktop';

/** Traefik's web port of this stack (added to the portal client's web origins below). */
const WEB_PORT = 8096;
const NAMESPACE = 'vdi-e2e-share';
/** What issue #18 allows between a revocation and the grantee's page closing. */
const CLOSE_MS = 5_000;

const log = (m: string) => process.stdout.write(`[share-e2e] ${m}\n`);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'vdi-share-e2e-'));
const carol = `carol-${randomBytes(3).toString('hex')}`;
const admin = new KeycloakAdmin();
let carolId: string | undefined;
let release: Release | undefined;
let stack: Stack;
let browser: Browser;
let client: KubeJsonClient;
let keycloakUrl: string;
let session: string;
let desktopUrl: string;
let homeDir: string;
const contexts: BrowserContext[] = [];

const gql = <T>(user: string, query: string, variables: Record<string, unknown> = {}) =>
  gqlAs<T>(stack.apiDirectUrl, user, query, variables);

async function homeDirOf(name: string): Promise<string> {
  const pod = await client.get<V1Pod>({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE },
  });
  const claimName = pod!.spec!.volumes!.find((v) => v.name === 'home')!.persistentVolumeClaim!.claimName;
  const claim = await client.get<V1PersistentVolumeClaim>({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: claimName, namespace: NAMESPACE },
  });
  const pv = await client.get<V1PersistentVolume>({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: claim!.spec!.volumeName! },
  });
  return pv!.spec!.hostPath!.path;
}

const fileHas = (name: string, text: string) =>
  existsSync(path.join(homeDir, name)) && readFileSync(path.join(homeDir, name), 'utf8').trim() === text;

/** Types a shell command into the desktop's terminal (focused by a click first). */
async function typeCommand(page: Page, command: string): Promise<void> {
  await waitStill(page, 300, 10_000).catch(() => undefined);
  await page.mouse.click(640, 360);
  await page.keyboard.type(command, { delay: 30 });
  await page.keyboard.press('Enter');
}

/** The selkies role of each page connected to the desktop, as the owner's API query shows them. */
async function connectedRoles(): Promise<string[]> {
  const r = await gql<{ desktopConnections: { role: string }[] }>(
    'alice',
    'query($s: String!) { desktopConnections(session: $s) { role } }',
    { s: session },
  );
  return r.desktopConnections.map((c) => c.role).sort();
}

/** The share panel on alice's session page. */
async function alicePanel(): Promise<Page> {
  const ctx = await newContext(browser);
  contexts.push(ctx);
  const page = await loginAs(ctx, stack.portalUrl, keycloakUrl, 'alice');
  await page.goto(`${stack.portalUrl}/sessions/${session}`);
  await page.getByRole('heading', { name: 'Share this desktop' }).waitFor({ timeout: 30_000 });
  return page;
}

const shareRow = (page: Page, grantee: string) => page.locator(`tr[data-grantee="${grantee}"]`);

/** bob (or `user`) opens the desktop from "Shared with me": the Open button of its row. */
async function openFromSharedWithMe(user: string): Promise<OpenedDesktop> {
  const ctx = await newContext(browser, { width: 1280, height: 720 });
  contexts.push(ctx);
  const portal = await loginAs(ctx, stack.portalUrl, keycloakUrl, user);
  await portal.getByRole('link', { name: 'Shared with me' }).click();
  const row = portal.locator(`tr[data-shared-session="${session}"]`);
  await row.waitFor({ timeout: 30_000 });
  const sockets = trackSockets(portal, desktopUrl);
  await row.getByRole('button', { name: 'Open' }).click();
  await portal.waitForURL((u) => u.href.startsWith(desktopUrl), { timeout: 90_000 });
  const first = await waitFirstFrame(portal, 90_000);
  expect(first.nonBlank).toBe(true);
  await waitFor(`${user}: an open stream websocket`, async () => sockets.some((s) => !s.closed), 30_000);
  return { ctx, portal, desktop: portal, cookie: await desktopCookie(ctx, desktopUrl), sockets };
}

beforeAll(async () => {
  release = await holdRealNode();
  carolId = await admin.createUser({
    username: carol,
    password: carol,
    email: `${carol}@example.com`,
    roles: ['vdi-user'],
  });
  ({ stack, keycloakUrl } = await startRealDesktopStack({
    stateDir: tmp,
    namespace: NAMESPACE,
    webPort: WEB_PORT,
    admin,
    log,
  }));
  client = new KubeJsonClient(testKubeConfig());
  browser = await launchChromium();
  const { createSession } = await gql<{ createSession: { name: string } }>(
    'alice',
    'mutation($i: CreateSessionInput!) { createSession(input: $i) { name } }',
    { i: { template: 'ubuntu-desktop-cpu' } },
  );
  session = createSession.name;
  const running = await waitFor(
    'alice’s desktop Running',
    async () =>
      (await sessionsAs(stack.apiDirectUrl, 'alice')).find(
        (s) => s.name === session && s.phase === 'Running',
      ),
    300_000,
    2_000,
  );
  desktopUrl = running.url!;
  homeDir = await homeDirOf(session);
}, 1_800_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  if (session && stack) {
    await gql('alice', 'mutation($n: String!) { deleteSession(name: $n) }', { n: session }).catch(
      () => undefined,
    );
    await waitFor(
      'the desktop gone',
      async () => (await sessionsAs(stack.apiDirectUrl, 'alice')).every((s) => s.name !== session),
      120_000,
      1_000,
    ).catch(() => undefined);
  }
  client?.close();
  await stack?.stop();
  if (carolId) await admin.deleteUser(carolId).catch(() => undefined);
  await release?.();
  rmSync(tmp, { recursive: true, force: true });
}, 300_000);

describe('sharing a desktop with a named colleague', () => {
  let alice: OpenedDesktop;
  let panel: Page;
  let bob: OpenedDesktop;

  it('alice shares view-only with bob; bob sees her desktop move, and his typing does nothing', async () => {
    alice = await openThroughPortal({
      browser,
      portalUrl: stack.portalUrl,
      keycloakUrl,
      user: 'alice',
      session,
      desktopUrl,
      contexts,
    });
    panel = await alicePanel();
    await panel.locator('input[name="share-user"]').fill('bob');
    await panel.locator('select[name="share-role"]').selectOption('view');
    await panel.getByRole('button', { name: 'Share', exact: true }).click();
    await shareRow(panel, 'bob').waitFor({ timeout: 15_000 });

    bob = await openFromSharedWithMe('bob');
    expect(
      await waitFor(
        'bob’s page a viewer',
        async () => ((await connectedRoles()).includes('viewer') ? true : undefined),
        30_000,
      ),
    ).toBe(true);
    // Frames change for bob when alice works.
    const before = await waitStill(bob.desktop, 500, 30_000);
    await typeCommand(alice.desktop, 'echo alice-typed');
    const after = await waitChange(bob.desktop, before, 15_000);
    expect(after.hash).not.toBe(before.hash);
    // bob's keys go nowhere: Selkies drops a viewer's input on the server.
    await bob.desktop.bringToFront();
    await typeCommand(bob.desktop, 'echo bob-as-viewer > ~/bob-viewer.txt');
    await bob.desktop.waitForTimeout(5_000);
    expect(existsSync(path.join(homeDir, 'bob-viewer.txt'))).toBe(false);
    await screenshot(bob.desktop, 'share-bob-viewer');
  }, 600_000);

  it('alice gives bob control: his page comes back as a controller and his typing lands', async () => {
    const since = Date.now();
    await shareRow(panel, 'bob').locator('select[name="share-role-change"]').selectOption('control');
    // His viewer page is closed and reconnects with the session password.
    await waitFor(
      'bob’s viewer socket closed',
      async () => bob.sockets.some((s) => s.closed && (s.closedAt ?? 0) >= since),
      CLOSE_MS * 2,
      100,
    );
    log(
      `role change: bob’s viewer page closed ${((Date.now() - since) / 1000).toFixed(1)} s after the click`,
    );
    await waitFor(
      'bob back as a controller',
      async () => {
        if (bob.sockets.every((s) => s.closed)) return undefined;
        return (await connectedRoles()).includes('viewer') ? undefined : true;
      },
      60_000,
      500,
    );
    log(`role change: bob connected as a controller after ${((Date.now() - since) / 1000).toFixed(1)} s`);
    await waitFirstFrame(bob.desktop, 60_000);
    await waitFor(
      'bob’s typing lands in alice’s desktop',
      async () => {
        if (fileHas('bob-control.txt', 'bob-in-control')) return true;
        await typeCommand(bob.desktop, 'echo bob-in-control > ~/bob-control.txt');
        await bob.desktop.waitForTimeout(1_500);
        return fileHas('bob-control.txt', 'bob-in-control') || undefined;
      },
      90_000,
      0,
    );
    // Selkies has one controlling page: say what became of alice's.
    log(
      `alice’s page after bob took control: ${alice.sockets.filter((s) => !s.closed).length} open socket(s), roles now ${(await connectedRoles()).join(', ')}`,
    );
  }, 300_000);

  it('alice revokes: bob’s page closes within 5 s and cannot come back', async () => {
    const since = Date.now();
    await shareRow(panel, 'bob').getByRole('button', { name: 'Revoke' }).click();
    await shareRow(panel, 'bob').waitFor({ state: 'detached', timeout: 15_000 });
    await waitFor(
      'every stream websocket of bob’s page closed',
      async () => bob.sockets.length > 0 && bob.sockets.every((s) => s.closed),
      CLOSE_MS,
      50,
    );
    const closedMs = Date.now() - since;
    log(`revocation: bob’s page closed ${(closedMs / 1000).toFixed(2)} s after the click`);
    expect(closedMs).toBeLessThanOrEqual(CLOSE_MS);
    expect(await streamStatus(desktopUrl, bob.cookie)).not.toBe(101);
    // And it stays closed: a reconnect meets forward-auth's refusal.
    await bob.desktop.waitForTimeout(3_000);
    expect(bob.sockets.every((s) => s.closed)).toBe(true);
    // alice keeps her desktop: her page, superseded when bob took control (Selkies has one
    // controlling page, and the superseded page does not reconnect by itself), opens it again.
    await alice.desktop.reload();
    await waitFirstFrame(alice.desktop, 60_000);
    await waitFor(
      'alice connected again',
      async () => alice.sockets.some((s) => !s.closed) || undefined,
      30_000,
      250,
    );
    expect(await connectedRoles()).toEqual(['controller']);
    const events = await client.call<{ items: { reason?: string; involvedObject: { name?: string } }[] }>(
      'GET',
      `/api/v1/namespaces/${NAMESPACE}/events`,
    );
    const reasons = events.items.filter((e) => e.involvedObject.name === session).map((e) => e.reason);
    expect(reasons).toEqual(
      expect.arrayContaining(['ShareGranted', 'ShareUsed', 'ShareUpdated', 'ShareRevoked']),
    );
  }, 300_000);

  it('carol, named by no share, is refused', async () => {
    const ctx = await newContext(browser);
    contexts.push(ctx);
    const page = await loginAs(ctx, stack.portalUrl, keycloakUrl, carol);
    await page.goto(`${stack.portalUrl}/shared`);
    await page.getByText('Nothing is shared with you right now.').waitFor({ timeout: 30_000 });
    await page.goto(`${stack.portalUrl}/open/${session}`);
    await notices(page).first().waitFor({ timeout: 30_000 });
    expect(new URL(page.url()).host).not.toBe(new URL(desktopUrl).host);
    await page.goto(desktopUrl);
    await page.waitForURL((u) => u.host !== new URL(desktopUrl).host, { timeout: 30_000 });
    const cookies = (await ctx.cookies(desktopUrl)).map((c) => `${c.name}=${c.value}`).join('; ');
    expect(await streamStatus(desktopUrl, cookies)).not.toBe(101);
  }, 120_000);

  it('an expired share is refused, and its page closed at the expiry', async () => {
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    await gql('alice', 'mutation($i: ShareSessionInput!) { shareSession(input: $i) { name } }', {
      i: { session, user: carol, role: 'view', expiresAt },
    });
    const o = await within(55_000, 'carol opens before the expiry', () => openFromSharedWithMe(carol));
    expect(await streamStatus(desktopUrl, o.cookie)).toBe(101);
    await waitFor('the expiry', async () => Date.now() >= Date.parse(expiresAt) || undefined, 70_000, 200);
    const at = Date.parse(expiresAt);
    await waitFor(
      'carol’s page closed at the expiry',
      async () => o.sockets.length > 0 && o.sockets.every((s) => s.closed),
      CLOSE_MS,
      50,
    );
    log(`expiry: carol’s page closed ${((Date.now() - at) / 1000).toFixed(2)} s after expiresAt`);
    expect(await streamStatus(desktopUrl, o.cookie)).not.toBe(101);
    const mine = await gql<{ sharedWithMe: unknown[] }>(carol, '{ sharedWithMe { openUrl } }');
    expect(mine.sharedWithMe).toEqual([]);
  }, 240_000);
});
