/**
 * What the end-to-end tests do in the portal, in the user's terms: log in on Keycloak's own
 * login page, find a template card, read the launch progress. Selectors are the roles and
 * accessible names a person (or a screen reader) would use, plus the data-* hooks the pages carry.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';

export const SCREENSHOTS = path.join(import.meta.dirname, 'screenshots');

export const LAPTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

/** A fresh browser context: no cookies, no Keycloak session. */
export const newContext = (browser: Browser, viewport = LAPTOP) => browser.newContext({ viewport });

/**
 * `username` logs in: the portal's "Log in" button, Keycloak's own login form (on Keycloak's
 * origin, which `keycloakUrl` names), and back to the portal with the user's name in the header.
 */
export async function loginAs(
  context: BrowserContext,
  portalUrl: string,
  keycloakUrl: string,
  username: string,
  password = username,
): Promise<Page> {
  const page = await context.newPage();
  await page.goto(portalUrl);
  await page.getByRole('button', { name: 'Log in' }).first().click();
  await page.waitForURL((u) => u.origin === new URL(keycloakUrl).origin && u.pathname.includes('/auth'));
  // Keycloak's login theme: its field ids are stable across versions.
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('#kc-login').click();
  await page.waitForURL((u) => u.origin === new URL(portalUrl).origin);
  try {
    await page.getByRole('button', { name: 'Log out' }).waitFor();
  } catch (err) {
    const shown = await page
      .locator('main')
      .innerText()
      .catch(() => '');
    throw new Error(`${username} is not logged in after Keycloak's login page; the portal shows: ${shown}`, {
      cause: err,
    });
  }
  return page;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** The gallery card of a template (by display name). */
export const templateCard = (page: Page, displayName: string): Locator =>
  page
    .locator('li.template-card')
    .filter({ has: page.getByRole('heading', { name: displayName, exact: true }) });

/** The row (or card, on a phone) of a session in a session table. */
export const sessionRow = (page: Page, name: string): Locator => page.locator(`tr[data-session="${name}"]`);

/** The portal's own messages (the route announcer of Next.js also has role=alert, so not by role). */
export const notices = (page: Page): Locator => page.locator('.notice');

/** The state of each launch step on the session page, e.g. { queued: 'done', scheduled: 'waiting', … }. */
export async function progressSteps(page: Page): Promise<Record<string, string>> {
  return page.$$eval('ol.steps > li', (items) =>
    Object.fromEntries(items.map((li) => [li.getAttribute('data-step'), li.getAttribute('data-state')])),
  );
}
