/**
 * Records the browser's visits to desktop addresses (`http://<session>.vdi.localhost:<port>/…`):
 * which desktop links with a one-time ticket were opened, so a test can assert where the portal
 * sent the browser. The desktops themselves are the platform's stand-ins behind the real Traefik
 * and forward-auth (tools/access); nothing is faked in the browser.
 */
import type { BrowserContext, Request } from 'playwright-core';

const DESKTOP_URL = /^https?:\/\/[a-z][a-z0-9-]*\.vdi\.localhost(:\d+)?\//;

const ticketOf = (url: string) => new URL(url).searchParams.get('vdi-ticket');

/**
 * Main-frame requests of desktop URLs that carry a ticket (`vdi-ticket`), in order, one per
 * ticket: the 'connecting' page reloads the same ticket (with its portal proof, `vdi-via`, added)
 * until the desktop's route exists.
 */
export function recordDesktopOpens(context: BrowserContext): Request[] {
  const opens: Request[] = [];
  context.on('request', (r) => {
    if (!r.isNavigationRequest() || !DESKTOP_URL.test(r.url())) return;
    const ticket = ticketOf(r.url());
    if (ticket !== null && !opens.some((o) => ticketOf(o.url()) === ticket)) opens.push(r);
  });
  return opens;
}
