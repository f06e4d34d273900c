/**
 * The portal and the access path end to end, in Debian's Chromium: real Keycloak (its own login
 * page), the API, the operator, Traefik with the forward-auth, and the desktop stand-ins, on a
 * local control plane of this test's own with one GPU (8 time-slices), so the capacity the pages
 * show is this test's alone. The stack is `npm start`'s (tools/platform), on Traefik port 8090
 * (an origin the dev realm lists for CORS) and with the pods of its own cluster in 198.19.0.0/17,
 * so its stand-ins never answer for another cluster's pods.
 *
 * Issue 6 (portal) and issue 8 (access path) share this one file: the tests run in order on one
 * stack, and the capacity scenario must not race other browser tests.
 *
 * Screenshots go to e2e/screenshots/ (not committed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { down as clusterDown, loadConfig as loadClusterConfig, type ClusterConfig } from '@vdi/controlplane';
import { startStack, type Stack } from '@vdi/platform';
import { freePort, launchChromium, waitFor } from '@vdi/testing';
import * as k8s from '@kubernetes/client-node';
import { API_VERSION, PLURAL_USAGE, type VDIUsage } from '@vdi/crd-types';
import { KubeJsonClient } from '@vdi/kube-client';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { gqlAs, sessionsAs } from './api';
import { recordDesktopOpens } from './desktop-stub';
import {
  LAPTOP,
  PHONE,
  loginAs,
  newContext,
  notices,
  progressSteps,
  screenshot,
  sessionRow,
  templateCard,
} from './portal';
import { recordProgress, type ProgressSnapshot } from './progress-recorder';

/** The sample templates of deploy/kustomize/base/templates, which the stack applies. */
const GPU_TEMPLATE = 'XFCE desktop (GPU)';
const CPU_TEMPLATE = 'XFCE desktop (CPU)';
const SLICES = 8;

const log = (m: string) => process.stdout.write(`[web-e2e] ${m}\n`);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'vdi-web-e2e-'));
/** Traefik's web port of this stack: listed in the dev realm's web origins (tools/keycloak). */
const WEB_PORT = 8090;
const POD_CIDR = '198.19.0.0/17';
let cluster: ClusterConfig;
let keycloakUrl: string;
let stack: Stack;
let browser: Browser;
const contexts: BrowserContext[] = [];
/** What Chromium reported about Content-Security-Policy on portal pages, in every test. */
const cspReports: string[] = [];

const gql = <T>(user: string, query: string, variables: Record<string, unknown> = {}) =>
  gqlAs<T>(stack.apiDirectUrl, user, query, variables);
const sessionsOf = (user: string, all = false) => sessionsAs(stack.apiDirectUrl, user, all);

const capacity = async () =>
  (
    await gql<{ capacity: { gpuSlicesFree: number; gpuSlicesTotal: number } }>(
      'admin',
      '{ capacity { gpuSlicesFree gpuSlicesTotal } }',
    )
  ).capacity;

async function userContext(viewport = LAPTOP) {
  const context = await newContext(browser, viewport);
  contexts.push(context);
  watchCsp(context);
  const progress = await recordProgress(context);
  const desktops = recordDesktopOpens(context);
  return { context, progress, desktops };
}

/** Records console messages about Content-Security-Policy on the portal's pages. */
function watchCsp(context: BrowserContext): void {
  context.on('console', (m) => {
    const where = m.page()?.url() ?? m.location().url;
    if (/Content Security Policy/i.test(m.text()) && where.startsWith(new URL(stack.portalUrl).origin)) {
      cspReports.push(`${where}: ${m.text()}`);
    }
  });
}

/** Whether a websocket to `url`, opened by the script of `page`, opens (and says hello). */
async function websocketFrom(page: Page, url: string): Promise<{ opened: boolean; hello: string | null }> {
  return page.evaluate(
    (u) =>
      new Promise<{ opened: boolean; hello: string | null }>((resolve) => {
        const ws = new WebSocket(u);
        const timer = setTimeout(() => resolve({ opened: false, hello: 'no answer within 20 s' }), 20_000);
        ws.onmessage = (m) => {
          clearTimeout(timer);
          ws.close();
          resolve({ opened: true, hello: String(m.data) });
        };
        ws.onclose = () => {
          clearTimeout(timer);
          resolve({ opened: false, hello: null });
        };
      }),
    url,
  );
}

/** The session name in a /sessions/<name> URL. */
const sessionOfUrl = (page: Page) => decodeURIComponent(new URL(page.url()).pathname.split('/')[2] ?? '');

beforeAll(async () => {
  const [apiserver, etcd, etcdPeer, kcm, scheduler, kwok] = await Promise.all(
    Array.from({ length: 6 }, () => freePort()),
  );
  cluster = {
    ...loadClusterConfig({
      VDI_STATE_DIR: tmp,
      VDI_GPU_NODES: 'NVIDIA-L4:1',
      VDI_GPU_REPLICAS: String(SLICES),
      VDI_APISERVER_PORT: String(apiserver),
      VDI_ETCD_PORT: String(etcd),
      VDI_ETCD_PEER_PORT: String(etcdPeer),
      VDI_KCM_PORT: String(kcm),
      VDI_SCHEDULER_PORT: String(scheduler),
      VDI_KWOK_PORT: String(kwok),
      ...(process.env.VDI_CACHE ? { VDI_CACHE: process.env.VDI_CACHE } : {}),
    }),
    podCidr: POD_CIDR,
  };
  stack = await startStack({
    stateDir: tmp,
    cluster: { kind: 'local', config: cluster },
    access: { webPort: WEB_PORT, adminPort: WEB_PORT + 1, podCidr: POD_CIDR },
    quotas: { sessionsPerUser: 20, gpusPerUser: 20 },
    // GPU time counted every 2 s, so a budget used up stops desktops within the test.
    operatorEnv: { VDI_USAGE_INTERVAL_SECONDS: '2' },
    log,
  });
  keycloakUrl = stack.keycloakIssuer.replace(/\/realms\/.*$/, '');
  log(`portal ${stack.portalUrl}, API ${stack.apiUrl}, Keycloak ${keycloakUrl}, logs in ${tmp}/logs`);
  browser = await launchChromium();
}, 900_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
  if (cluster) await clusterDown(cluster, log, true);
  rmSync(tmp, { recursive: true, force: true });
}, 300_000);

/** The desktop stand-in's page, naming `session` (waits while the 'connecting' page reloads). */
async function standinShows(page: Page, session: string): Promise<void> {
  const heading = page.getByRole('heading', { name: /^STAND-IN desktop for session / });
  await heading.waitFor({ timeout: 30_000 });
  expect(await heading.innerText()).toBe(`STAND-IN desktop for session ${session}`);
}

/** Set by the launch test, used by the access-path tests. */
let aliceSession: string;
let aliceTicketUrl: string;
let aliceDesktop: string;
let aliceContext: BrowserContext;
/** Alice's second desktop (the queued one of the capacity test, Running at its end). */
let aliceSecond: string;

describe('the portal in Chromium', () => {
  it('sends its security headers: a CSP with a fresh nonce on every page, which its scripts carry', async () => {
    const { context } = await userContext();
    const page = await context.newPage();
    // keycloak-js's check-sso may load the page more than once: the document shown is the last.
    let shown: Response | undefined;
    page.on('response', (r) => {
      if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) shown = r;
    });
    await page.goto(stack.portalUrl, { waitUntil: 'networkidle' });
    await page.getByRole('button', { name: 'Log in' }).first().waitFor();
    const first = shown;
    expect(new URL(first!.url()).origin).toBe(new URL(stack.portalUrl).origin);
    const csp = first!.headers()['content-security-policy'] ?? '';
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(csp).toContain("'strict-dynamic'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain(new URL(keycloakUrl).origin);
    expect(first!.headers()).toMatchObject({
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'strict-origin-when-cross-origin',
    });
    // Next.js put the nonce on its script tags; the page works (its login button renders).
    const nonces = await page.$$eval('script[src]', (els) => els.map((e) => (e as HTMLScriptElement).nonce));
    expect(nonces.length).toBeGreaterThan(0);
    expect(new Set(nonces)).toEqual(new Set([nonce]));
    const again = await page.reload();
    expect(/'nonce-([^']+)'/.exec(again!.headers()['content-security-policy'] ?? '')?.[1]).not.toBe(nonce);
    await page.close();
  });

  it('keeps the first page lean: the JavaScript a browser loads for it', async () => {
    const { context } = await userContext();
    const page = await context.newPage();
    // Per script URL: keycloak-js's check-sso may load the page a second time (a prompt=none
    // round trip to Keycloak when the browser blocks third-party cookies); count each file once.
    const sizes = new Map<string, Promise<number>>();
    const portal = new URL(stack.portalUrl).origin;
    let documents = 0;
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) documents += 1;
    });
    page.on('requestfinished', (req) => {
      if (req.resourceType() !== 'script' || new URL(req.url()).origin !== portal || sizes.has(req.url()))
        return;
      sizes.set(
        req.url(),
        req.sizes().then((s) => s.responseBodySize),
      );
    });
    await page.goto(stack.portalUrl, { waitUntil: 'networkidle' });
    await page.getByRole('button', { name: 'Log in' }).first().waitFor();
    const all = await Promise.all(sizes.values());
    const kb = (n: number) => (n / 1024).toFixed(1);
    const encoded = all.reduce((t, n) => t + n, 0);
    log(
      `first page: ${all.length} scripts, ${kb(encoded)} kB transferred (gzip); ${documents} main-frame navigations until the login button (keycloak-js’s check-sso round trip)`,
    );
    expect(all.length).toBeGreaterThan(0);
    // The budget of scripts/page-size.mjs (170 kB gzip), as a browser measures it.
    expect(encoded / 1024).toBeLessThan(175);
    await page.close();
  });

  it('alice logs in on Keycloak, launches a GPU desktop, watches it reach Running and is sent to it', async () => {
    const { context, progress, desktops } = await userContext();
    aliceContext = context;
    const page = await loginAs(context, stack.portalUrl, keycloakUrl, 'alice');
    const card = templateCard(page, GPU_TEMPLATE);
    await card.waitFor();
    await card.getByText('GPU', { exact: true }).waitFor();
    await page.getByText(`${SLICES} of ${SLICES} GPU time-slices free`).waitFor();
    await screenshot(page, 'gallery');
    await templateCard(page, GPU_TEMPLATE)
      .getByRole('button', { name: `Launch ${GPU_TEMPLATE}` })
      .click();

    await page.waitForURL((u) => u.hostname !== 'vdi.localhost', { timeout: 60_000 });
    const sessions = await sessionsOf('alice');
    expect(sessions).toHaveLength(1);
    const session = sessions[0]!;
    aliceSession = session.name;
    expect(session.phase).toBe('Running');
    // The redirect target: the session's own desktop URL, with the one-time ticket of openSession.
    expect(desktops).toHaveLength(1);
    const target = new URL(desktops[0]!.url());
    expect(`${target.origin}${target.pathname}`).toBe(new URL(session.url!).href);
    expect(target.searchParams.get('vdi-ticket')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    aliceTicketUrl = target.href;
    aliceDesktop = session.url!;
    // Traefik → forward-auth (ticket traded for the cookie, redirect to the clean URL) → her desktop.
    await page.waitForURL((u) => u.href === session.url, { timeout: 30_000 });
    await standinShows(page, session.name);
    await page.getByText('Signed in as alice').waitFor();
    await screenshot(page, 'desktop');

    // What the session page showed on the way: the steps in order, the last one Ready.
    const onPage = progress.filter((p: ProgressSnapshot) => p.path === `/sessions/${session.name}`);
    log(`progress seen: ${onPage.map((p) => `${p.headline} ${JSON.stringify(p.steps)}`).join(' → ')}`);
    expect(onPage.at(-1)).toMatchObject({
      headline: 'Your desktop is ready',
      steps: { queued: 'done', scheduled: 'done', starting: 'done', ready: 'done' },
    });
    const order = ['queued', 'scheduled', 'starting', 'ready'];
    const reached = onPage.map((p) => order.filter((s) => p.steps[s] === 'done').length);
    expect(reached).toEqual([...reached].sort((a, b) => a - b));

    // Back on the session page the desktop is not opened again by itself: a button offers it.
    await page.goto(`${stack.portalUrl}/sessions/${session.name}`);
    await page.getByRole('heading', { name: 'Your desktop is ready' }).waitFor();
    await page.getByRole('button', { name: 'Open desktop' }).waitFor();
    expect(await progressSteps(page)).toEqual({
      queued: 'done',
      scheduled: 'done',
      starting: 'done',
      ready: 'done',
    });
    await screenshot(page, 'progress-ready');
    expect(desktops.map((r) => r.url())).toHaveLength(1);
  });

  it('an anonymous browser at alice’s desktop URL is sent to the login, and after it lands on her desktop', async () => {
    const { context, desktops } = await userContext();
    const page = await context.newPage();
    await page.goto(aliceDesktop);
    // No cookie for the desktop: the forward-auth sends the browser to the portal's /open/<session>,
    // which goes straight to Keycloak's page (no click needed).
    await page.waitForURL((u) => u.origin === new URL(keycloakUrl).origin);
    await page.locator('#username').fill('alice');
    await page.locator('#password').fill('alice');
    await page.locator('#kc-login').click();
    await page.waitForURL((u) => u.href === aliceDesktop, { timeout: 60_000 });
    await standinShows(page, aliceSession);
    expect(desktops).toHaveLength(1);
  });

  it('bob does not see alice’s session; the admin page shows both, and the GPU node’s slices', async () => {
    const bob = await userContext();
    const bobPage = await loginAs(bob.context, stack.portalUrl, keycloakUrl, 'bob');
    await templateCard(bobPage, GPU_TEMPLATE)
      .getByRole('button', { name: `Launch ${GPU_TEMPLATE}` })
      .click();
    await bobPage.waitForURL((u) => u.hostname !== 'vdi.localhost', { timeout: 60_000 });
    const [bobSession] = await sessionsOf('bob');
    // The ticket URL first, then forward-auth's redirect to the clean one: navigating away before
    // that redirect has landed would be interrupted by it.
    await bobPage.waitForURL((u) => u.href === bobSession!.url, { timeout: 30_000 });
    await standinShows(bobPage, bobSession!.name);

    await bobPage.goto(`${stack.portalUrl}/sessions`);
    await sessionRow(bobPage, bobSession!.name).waitFor();
    expect(await bobPage.locator('tr[data-session]').count()).toBe(1);
    expect(await sessionRow(bobPage, aliceSession).count()).toBe(0);
    // His desktop lives the template's 8 h; Extend gives it an hour more, shown as it happens.
    const ends = sessionRow(bobPage, bobSession!.name).locator('td[data-label="Ends"]');
    expect(await ends.innerText()).toMatch(/^in 7 h 5\d min/);
    await sessionRow(bobPage, bobSession!.name)
      .getByRole('button', { name: `Extend ${bobSession!.name} by an hour` })
      .click();
    await ends.filter({ hasText: /^in 8 h 5\d min/ }).waitFor();
    expect((await sessionsOf('bob'))[0]!.maxLifetime).toBe('9h');
    // Stop ends his desktop and frees its slice but keeps the session; Resume starts it again.
    const bobRow = sessionRow(bobPage, bobSession!.name);
    await bobRow.getByRole('button', { name: `Stop ${bobSession!.name}` }).click();
    await bobRow.locator('.badge', { hasText: 'Stopped' }).waitFor();
    await bobRow.getByRole('button', { name: `Open ${bobSession!.name}` }).waitFor({ state: 'detached' });
    expect((await sessionsOf('bob'))[0]).toMatchObject({ phase: 'Stopped', url: null });
    await waitFor('bob’s slice freed', async () => (await capacity()).gpuSlicesFree === SLICES - 1);
    await bobRow.getByRole('button', { name: `Resume ${bobSession!.name}` }).click();
    await bobRow.getByRole('button', { name: `Open ${bobSession!.name}` }).waitFor({ timeout: 60_000 });
    expect((await sessionsOf('bob'))[0]).toMatchObject({ phase: 'Running', maxLifetime: '9h' });
    // Not even by name: alice's session is "no session of yours" to bob.
    await bobPage.goto(`${stack.portalUrl}/open/${aliceSession}`);
    await notices(bobPage)
      .filter({ hasText: `You have no session named “${aliceSession}”` })
      .waitFor();
    expect(bob.desktops).toHaveLength(1);
    // And the admin page is not his.
    await bobPage.goto(`${stack.portalUrl}/admin`);
    await notices(bobPage).filter({ hasText: 'This page is for platform admins' }).waitFor();

    const admin = await userContext();
    const adminPage = await loginAs(admin.context, stack.portalUrl, keycloakUrl, 'admin');
    await adminPage.getByRole('link', { name: 'Admin' }).click();
    await sessionRow(adminPage, aliceSession).waitFor();
    await sessionRow(adminPage, bobSession!.name).waitFor();
    const node = adminPage.locator('tr[data-node]');
    await node.filter({ hasText: `${SLICES - 2} of ${SLICES}` }).waitFor();
    expect(await sessionRow(adminPage, aliceSession).innerText()).toMatch(/alice/);
    expect(await sessionRow(adminPage, bobSession!.name).innerText()).toMatch(/bob/);
    await screenshot(adminPage, 'admin');
  });

  it('warns on every portal page of a session that ends soon, and its page does not send the user into it', async () => {
    // Ten minutes to live is within the templates' 15-minute warning from the start.
    const freeBefore = (await capacity()).gpuSlicesFree;
    const { createSession } = await gql<{ createSession: { name: string } }>(
      'admin',
      'mutation($i: CreateSessionInput!) { createSession(input: $i) { name } }',
      { i: { template: 'ubuntu-kde', maxLifetime: '10m' } },
    );
    const name = createSession.name;
    const admin = await userContext();
    const page = await loginAs(admin.context, stack.portalUrl, keycloakUrl, 'admin');
    const warning = page.locator('[data-warning="ending"]', { hasText: name });
    await warning.waitFor({ timeout: 30_000 });
    expect(await warning.innerText()).toMatch(
      /ends in \d+ min and is then deleted: extend it or save your work/,
    );
    // The session page says it itself, with Extend, and waits for a click instead of opening the desktop.
    await warning.getByRole('link', { name: `Go to ${name}` }).click();
    await page.waitForURL((u) => u.pathname === `/sessions/${name}`);
    await page.locator('.notice-warning', { hasText: 'is then deleted' }).waitFor();
    await page.getByRole('button', { name: 'Extend by an hour' }).waitFor();
    expect(await page.locator('[data-warning]').count()).toBe(0);
    await page.getByRole('button', { name: 'Open desktop' }).waitFor({ timeout: 60_000 });
    expect(new URL(page.url()).pathname).toBe(`/sessions/${name}`);
    // Extended: the warning goes.
    await page.getByRole('button', { name: 'Extend by an hour' }).click();
    await page
      .locator('.notice-warning', { hasText: 'is then deleted' })
      .waitFor({ state: 'detached', timeout: 30_000 });
    await gql('admin', 'mutation($n: String!) { deleteSession(name: $n) }', { n: name });
    // Its time-slice back for the tests after this one.
    await waitFor('the slice freed', async () => (await capacity()).gpuSlicesFree === freeBefore, 60_000);
  });

  it('shows GPU time against the budget; over budget a GPU launch is refused with what is spent and when it renews, running GPU desktops stop, and the admin sees it', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(stack.kubeconfig);
    const kube = new KubeJsonClient(kc);
    const ledgers = `/apis/${API_VERSION}/namespaces/${stack.sessionsNamespace}/${PLURAL_USAGE}`;
    const ledgerOf = async (user: string) =>
      (await kube.call<{ items: VDIUsage[] }>('GET', ledgers)).items.find((l) => l.spec.user === user);
    // The API recorded each launcher's budget (the dev rules): bob is in Keycloak's gpu-power group.
    expect((await ledgerOf('alice@example.com'))?.spec.budget).toEqual({
      gpuHours: 40,
      period: 'Month',
      rule: 'default',
    });
    const bobLedger = (await ledgerOf('bob@example.com'))!;
    expect(bobLedger.spec.budget).toEqual({ gpuHours: 200, period: 'Month', rule: 'group:gpu-power' });
    const [bobSession] = await sessionsOf('bob');
    expect(bobSession).toMatchObject({ phase: 'Running' });

    const bob = await userContext();
    const page = await loginAs(bob.context, stack.portalUrl, keycloakUrl, 'bob');
    const line = page.locator('[data-usage]');
    await line.waitFor();
    expect(await line.innerText()).toMatch(
      /^GPU time this month: [\d.]+ hours? of 200 hours used, [\d.]+ hours left; renews on 1 \w{3} \d{4}\.$/,
    );

    // Bob has used his 200 hours this month (as the operator's count says).
    const today = new Date().toISOString().slice(0, 10);
    await kube.call(
      'PATCH',
      `${ledgers}/${bobLedger.metadata.name}/status`,
      { status: { days: [{ day: today, gpuSeconds: 200 * 3600 }], totalGpuSeconds: 200 * 3600 } },
      'application/merge-patch+json',
    );
    const now = new Date();
    const renews = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();
    await page.reload();
    await page.locator('[data-usage="exhausted"]', { hasText: 'Your GPU budget is used up' }).waitFor();
    const before = (await sessionsOf('bob')).length;
    const card = templateCard(page, GPU_TEMPLATE);
    await card.getByRole('button', { name: `Launch ${GPU_TEMPLATE}` }).click();
    const refusal = card.getByRole('alert');
    await refusal.waitFor();
    expect(await refusal.innerText()).toBe(
      `Could not launch ${GPU_TEMPLATE}. GPU budget used up: you have used 200 GPU-hours of your 200 GPU-hours this month (budget rule group:gpu-power); it renews at ${renews.replace(/\.\d{3}Z$/, 'Z')}. Launch without a GPU (gpu: 0), or ask an admin for a larger budget.`,
    );
    expect(await sessionsOf('bob')).toHaveLength(before);
    await screenshot(page, 'budget-used-up');

    // The running GPU desktop is stopped by the operator (its home kept), with an Event that says why.
    await waitFor(
      'bob’s desktop stopped over budget',
      async () => (await sessionsOf('bob'))[0]?.phase === 'Stopped',
      30_000,
      250,
    );
    // The operator writes Events asynchronously: wait for it.
    const exhausted = await waitFor(
      'the BudgetExhausted Event',
      async () =>
        (
          await kube.call<{ items: k8s.CoreV1Event[] }>(
            'GET',
            `/api/v1/namespaces/${stack.sessionsNamespace}/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${bobSession!.name},reason=BudgetExhausted`)}`,
          )
        ).items[0],
      70_000,
    );
    expect(exhausted.message).toMatch(/^GPU budget used up: you have used 200 GPU-hours/);

    // The admin sees everyone's usage.
    const admin = await userContext();
    const adminPage = await loginAs(admin.context, stack.portalUrl, keycloakUrl, 'admin');
    await adminPage.goto(`${stack.portalUrl}/admin`);
    const bobRow = adminPage.locator('tr[data-usage-user="bob@example.com"]');
    await bobRow.waitFor();
    expect(await bobRow.locator('td[data-label="Used"]').innerText()).toMatch(
      /^200(\.\d)? hours \(used up\)$/,
    );
    expect(await bobRow.locator('td[data-label="Budget"]').innerText()).toBe(
      '200 hours a month (group:gpu-power)',
    );
    await adminPage
      .locator('tr[data-usage-user="alice@example.com"]', { hasText: '40 hours a month' })
      .waitFor();
  });

  it('with every time-slice taken launching a GPU template queues it, saying so; the queued session shows its place and starts by itself', async () => {
    // The admin takes the remaining slices (high quotas in this stack).
    const free = (await capacity()).gpuSlicesFree;
    for (let i = 0; i < free; i++) {
      await gql('admin', 'mutation($i: CreateSessionInput!) { createSession(input: $i) { name } }', {
        i: { template: 'ubuntu-kde' },
      });
    }
    await waitFor('every slice taken', async () => (await capacity()).gpuSlicesFree === 0, 60_000);

    const alice = await userContext();
    const page = await loginAs(alice.context, stack.portalUrl, keycloakUrl, 'alice');
    const gpu = templateCard(page, GPU_TEMPLATE);
    await gpu.getByText(`No GPU time-slice is free: all ${SLICES} are in use.`).waitFor();
    const launch = gpu.getByRole('button', { name: `Launch ${GPU_TEMPLATE} (queued)` });
    expect(await launch.innerText()).toBe('Launch (queued)');
    expect(await launch.getAttribute('aria-disabled')).toBe('false');
    // The reason is the button's description for screen readers.
    const reasonId = await launch.getAttribute('aria-describedby');
    expect(await page.locator(`[id="${reasonId}"]`).innerText()).toMatch(
      /No GPU time-slice is free.*Launching queues your desktop/,
    );
    // A CPU desktop needs no slice.
    expect(
      await templateCard(page, CPU_TEMPLATE)
        .getByRole('button', { name: `Launch ${CPU_TEMPLATE}` })
        .innerText(),
    ).toBe('Launch');
    await screenshot(page, 'gallery-full');
    const phone = await userContext(PHONE);
    const phonePage = await loginAs(phone.context, stack.portalUrl, keycloakUrl, 'alice');
    await templateCard(phonePage, GPU_TEMPLATE).getByText('Launching queues your desktop').waitFor();
    await screenshot(phonePage, 'gallery-full-phone');

    // Launching queues it: the session waits for a slice, first in the queue…
    await launch.click();
    await page.waitForURL(/\/sessions\/[^/?]+/);
    const createSession = { name: sessionOfUrl(page) };
    await page
      .locator('[data-queue-position="1"]', { hasText: 'You are next in the queue' })
      .waitFor({ timeout: 120_000 })
      .catch(async (err: Error) => {
        // What the queue looked like, for the next person reading a failure.
        const everyone = await gql<{ sessions: unknown[] }>(
          'admin',
          '{ sessions(all: true) { name user phase reason queuePosition gpu } }',
        ).catch((e: Error) => e.message);
        throw new Error(`${err.message}\nsessions: ${JSON.stringify(everyone)}`);
      });
    expect(
      (
        await gql<{ session: { queuePosition: number | null; queuedAt: string | null } }>(
          'alice',
          'query($n: String!) { session(name: $n) { queuePosition queuedAt } }',
          { n: createSession.name },
        )
      ).session,
    ).toMatchObject({ queuePosition: 1, queuedAt: expect.stringMatching(/Z$/) });
    // The timeline shows the launch and when it was queued, and no step not reached yet.
    await page.locator('[data-timing="queued"]', { hasText: 'Queued for a GPU time-slice' }).waitFor();
    expect(
      await page.locator('[data-timing]').evaluateAll((els) => els.map((e) => e.getAttribute('data-timing'))),
    ).toEqual(['start', 'queued']);
    await page
      .getByRole('heading', { name: 'Waiting for a free GPU time-slice' })
      .waitFor({ timeout: 60_000 });
    await page.getByText('Your desktop waits in the queue and starts by itself').waitFor();
    expect(await progressSteps(page)).toEqual({
      queued: 'done',
      scheduled: 'waiting',
      starting: 'todo',
      ready: 'todo',
    });
    expect(sessionOfUrl(page)).toBe(createSession.name);
    await screenshot(page, 'progress-waiting');

    // …until the admin deletes a desktop (on the admin page, with its confirmation).
    const admin = await userContext();
    const adminPage = await loginAs(admin.context, stack.portalUrl, keycloakUrl, 'admin');
    await adminPage.goto(`${stack.portalUrl}/admin`);
    const victim = (await sessionsOf('admin')).find((s) => s.phase === 'Running')!;
    await sessionRow(adminPage, victim.name)
      .getByRole('button', { name: `Delete ${victim.name}` })
      .click();
    const dialog = adminPage.getByRole('dialog', { name: `Delete ${victim.name}?` });
    await dialog.getByRole('button', { name: 'Delete session' }).click();
    await sessionRow(adminPage, victim.name).waitFor({ state: 'detached', timeout: 60_000 });

    // The waiting page moves on by itself and sends alice to her desktop.
    await page.waitForURL((u) => u.hostname.startsWith(`${createSession.name}.`), { timeout: 60_000 });
    aliceSecond = createSession.name;
    const seen = alice.progress.filter((p) => p.path === `/sessions/${createSession.name}`);
    expect(seen.some((p) => p.steps.scheduled === 'waiting')).toBe(true);
    expect(seen.at(-1)?.steps).toEqual({
      queued: 'done',
      scheduled: 'done',
      starting: 'done',
      ready: 'done',
    });
  }, 300_000);
});

describe('the access path: Traefik, forward-auth and the desktop', () => {
  it('alice’s desktop reloads without a ticket (her cookie), and the address bar never keeps the ticket', async () => {
    const page = await aliceContext.newPage();
    await page.goto(aliceDesktop);
    expect(page.url()).toBe(aliceDesktop);
    await standinShows(page, aliceSession);
    await page.reload();
    expect(page.url()).toBe(aliceDesktop);
    expect(new URL(page.url()).searchParams.has('vdi-ticket')).toBe(false);
    await page.getByText('Signed in as alice').waitFor();
    await page.close();
  });

  it('bob, logged in, is refused alice’s desktop: the portal tells him there is no such session of his', async () => {
    const bob = await userContext();
    const page = await loginAs(bob.context, stack.portalUrl, keycloakUrl, 'bob');
    await page.goto(aliceDesktop);
    await page.waitForURL(
      (u) => u.origin === new URL(stack.portalUrl).origin && u.pathname === `/open/${aliceSession}`,
    );
    await notices(page)
      .filter({ hasText: `You have no session named “${aliceSession}”` })
      .waitFor();
    expect(await page.getByText('STAND-IN').count()).toBe(0);
  });

  it('a ticket URL replayed in another browser after its first use is refused (sent to the login)', async () => {
    const { context } = await userContext();
    const page = await context.newPage();
    await page.goto(aliceTicketUrl);
    await page.waitForURL((u) => u.origin === new URL(keycloakUrl).origin);
    expect(await page.getByText('STAND-IN').count()).toBe(0);
  });

  it('a websocket through the route stays open longer than Traefik’s default read timeout (60 s)', async () => {
    const page = await aliceContext.newPage();
    await page.goto(aliceDesktop);
    const wsUrl = aliceDesktop.replace(/^http/, 'ws') + 'ws';
    // Opened in the page, so the browser sends alice's desktop cookie with the upgrade request.
    const result = await page.evaluate(
      async ({ url, holdMs }) =>
        new Promise<{ open: boolean; echoed: string; closedEarly: string | null }>((resolve) => {
          const ws = new WebSocket(url);
          let closedEarly: string | null = null;
          ws.onclose = (e) => (closedEarly = `${e.code} ${e.reason}`);
          ws.onopen = () =>
            setTimeout(() => {
              if (ws.readyState !== WebSocket.OPEN) return resolve({ open: false, echoed: '', closedEarly });
              ws.onmessage = (m) => {
                const text = String(m.data);
                if (text.includes('still-here')) resolve({ open: true, echoed: text, closedEarly });
              };
              ws.send('still-here');
            }, holdMs);
        }),
      { url: wsUrl, holdMs: 65_000 },
    );
    expect(result).toMatchObject({ open: true, closedEarly: null });
    expect(result.echoed).toContain('still-here');
    await page.close();
  }, 120_000);

  it('a desktop link alice hands to bob before using it does not open her desktop in bob’s browser', async () => {
    const { openSession } = await gql<{ openSession: { url: string } }>(
      'alice',
      'mutation($name: String!) { openSession(name: $name) { url } }',
      { name: aliceSession },
    );
    const bob = await userContext();
    const page = await loginAs(bob.context, stack.portalUrl, keycloakUrl, 'bob');
    // Bob follows the link (no portal navigation of his: the forward-auth does not redeem it).
    await page.goto(openSession.url);
    await page.waitForURL(
      (u) => u.origin === new URL(stack.portalUrl).origin && u.pathname === `/open/${aliceSession}`,
    );
    await notices(page)
      .filter({ hasText: `You have no session named “${aliceSession}”` })
      .waitFor();
    expect(await page.getByText('STAND-IN').count()).toBe(0);
    expect(await bob.context.cookies(aliceDesktop)).toEqual([]);
  });

  it('a page on one desktop cannot drive another desktop', async () => {
    // Alice's browser holds the cookies of both her desktops: A (the first) and B (aliceSecond).
    const page = await aliceContext.newPage();
    await page.goto(`${stack.portalUrl}/sessions/${aliceSecond}`);
    await page.getByRole('button', { name: 'Open desktop' }).click();
    await page.waitForURL(
      (u) => u.hostname.startsWith(`${aliceSecond}.`) && !u.search.includes('vdi-ticket'),
      {
        timeout: 60_000,
      },
    );
    await standinShows(page, aliceSecond);
    const bDesktop = new URL(page.url()).origin;
    const wsOf = (origin: string) => `${origin.replace(/^http/, 'ws')}/ws?tick=0`;
    // From B's own page, a websocket to B opens (the cookie is there).
    const own = await websocketFrom(page, wsOf(bDesktop));
    expect(own.opened).toBe(true);
    expect(JSON.parse(own.hello!)).toMatchObject({ type: 'hello', session: aliceSecond });
    // From A's page, the same websocket to B is refused, although the browser sends B's cookie.
    await page.goto(aliceDesktop);
    await standinShows(page, aliceSession);
    expect(await websocketFrom(page, wsOf(new URL(aliceDesktop).origin))).toMatchObject({ opened: true });
    expect(await websocketFrom(page, wsOf(bDesktop))).toEqual({ opened: false, hello: null });
    expect((await aliceContext.cookies(bDesktop)).map((c) => c.name)).toContain(
      `vdi_access_${aliceSecond.replace(/-/g, '_')}`,
    );
    await page.close();
  }, 120_000);

  it('no portal page broke its Content-Security-Policy in any of these tests', () => {
    expect(cspReports).toEqual([]);
  });
});
