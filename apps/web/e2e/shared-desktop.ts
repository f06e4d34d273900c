/**
 * A real desktop opened by a given user the way the portal opens it (Keycloak login, the portal's
 * /open page, the one-time ticket, Traefik and forward-auth), with its stream websockets tracked:
 * for the end-to-end tests that watch who gets in and when a page is closed (share.int.spec.ts).
 */
import type { Browser, BrowserContext, Page, WebSocket } from 'playwright-core';
import type { KeycloakAdmin } from '@vdi/keycloak';
import { startStack, type Stack } from '@vdi/platform';
import { waitFirstFrame, waitFor } from '@vdi/testing';
import { upgradeStatus } from './desktop-http';
import { loginAs, newContext } from './portal';

export interface OpenedDesktop {
  ctx: BrowserContext;
  portal: Page;
  desktop: Page;
  /** The desktop's cookie as a Cookie header. */
  cookie: string;
  /** The stream websockets the desktop page opened (reconnects included), and whether each closed. */
  sockets: { ws: WebSocket; closed: boolean; openedAt: number; closedAt?: number }[];
}

/** The desktop's cookie (as a Cookie header) that `ctx` holds. */
export async function desktopCookie(ctx: BrowserContext, desktopUrl: string): Promise<string> {
  const cookies = (await ctx.cookies(desktopUrl)).filter((c) => c.name.startsWith('vdi_access_'));
  if (!cookies.length) throw new Error(`no desktop cookie for ${desktopUrl} in the browser`);
  return cookies.map((c) => `${c.name}=${c.value}`).join('; ');
}

/** Whether `cookie` opens the desktop's stream websocket: 101, else the refusal's status. */
export const streamStatus = (desktopUrl: string, cookie: string) =>
  upgradeStatus(`${desktopUrl}api/websockets`, cookie);

/** Tracks the stream websockets `page` opens to `desktopUrl`'s host. */
export function trackSockets(page: Page, desktopUrl: string): OpenedDesktop['sockets'] {
  const sockets: OpenedDesktop['sockets'] = [];
  page.on('websocket', (ws) => {
    if (new URL(ws.url()).host !== new URL(desktopUrl).host) return;
    const entry: OpenedDesktop['sockets'][number] = { ws, closed: false, openedAt: Date.now() };
    sockets.push(entry);
    ws.on('close', () => {
      entry.closed = true;
      entry.closedAt = Date.now();
    });
  });
  return sockets;
}

/**
 * `user` logs in to the portal and opens `session` through its /open page: a first frame decodes
 * and a stream websocket is open. `portalPath` is where the portal page goes first (e.g. /shared).
 */
export async function openThroughPortal(o: {
  browser: Browser;
  portalUrl: string;
  keycloakUrl: string;
  user: string;
  session: string;
  desktopUrl: string;
  contexts: BrowserContext[];
}): Promise<OpenedDesktop> {
  const ctx = await newContext(o.browser, { width: 1280, height: 720 });
  o.contexts.push(ctx);
  const portal = await loginAs(ctx, o.portalUrl, o.keycloakUrl, o.user);
  const desktop = await ctx.newPage();
  const sockets = trackSockets(desktop, o.desktopUrl);
  await desktop.goto(`${o.portalUrl}/open/${o.session}`);
  await desktop.waitForURL((u) => u.href.startsWith(o.desktopUrl), { timeout: 90_000 });
  const first = await waitFirstFrame(desktop, 90_000);
  if (!first.nonBlank) throw new Error(`${o.user}'s first frame of ${o.session} is blank`);
  await waitFor(`${o.user}: an open stream websocket`, async () => sockets.some((s) => !s.closed), 30_000);
  return { ctx, portal, desktop, cookie: await desktopCookie(ctx, o.desktopUrl), sockets };
}

/** `f()`, or an error naming `what` when it takes longer than `ms` (no step may hang the file). */
export async function within<T>(ms: number, what: string, f: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      f(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The platform on the local cluster with the real desktop on the real node, as the end-to-end
 * tests of pooled, shared and revoked desktops run it: the API's service account made sure of in
 * Keycloak (a Keycloak imported before it existed gets it now), one session and no GPU per user,
 * the portal on `webPort` and the admin portal on the next port. Fails, with the stack stopped,
 * when this machine cannot run the real desktop. Also returns Keycloak's base URL (for logins).
 */
export async function startRealDesktopStack(o: {
  stateDir: string;
  namespace: string;
  webPort: number;
  admin: KeycloakAdmin;
  log: (m: string) => void;
}): Promise<{ stack: Stack; keycloakUrl: string }> {
  await o.admin.ensureApiServiceAccount([`http://vdi.localhost:${o.webPort}`]);
  const stack = await startStack({
    stateDir: o.stateDir,
    cluster: { kind: 'local' },
    sessionsNamespace: o.namespace,
    access: { webPort: o.webPort, adminPort: o.webPort + 1 },
    quotas: { sessionsPerUser: 1, gpusPerUser: 0 },
    log: o.log,
  });
  if (!('ref' in stack.realDesktop)) {
    const why = stack.realDesktop.skipped;
    await stack.stop();
    throw new Error(`no real desktop on this machine: ${why}`);
  }
  return { stack, keycloakUrl: stack.keycloakIssuer.replace(/\/realms\/.*$/, '') };
}
