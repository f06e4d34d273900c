/**
 * Whether a request to a desktop comes from somewhere else than the desktop itself: desktops are
 * sibling hosts of one site (`<session>.<baseDomain>`), so a browser sends a desktop's cookie
 * (SameSite=Lax) with a request that a page on *another* desktop starts — a websocket above all,
 * which no CORS rule guards. Such a page could drive someone else's desktop with their cookie.
 *
 * The browser says where a request comes from: `Origin` (on every websocket upgrade and every
 * non-GET request) and the Fetch Metadata headers. A desktop needs neither cross-origin requests
 * nor to be embedded; a top-level navigation from the portal (or from a link anywhere) is the one
 * cross-site way in. Pure: the forward-auth decides with it before it looks at cookies or tickets.
 */

/** The request headers the decision reads (lower-case names, as Node gives them). */
export interface RequestOrigin {
  origin?: string | undefined;
  secFetchSite?: string | undefined;
  secFetchMode?: string | undefined;
  secFetchDest?: string | undefined;
}

/** Why a request is foreign (one line, sent to the browser with the 403), or undefined when it is not. */
export function foreignRequest(desktop: URL, r: RequestOrigin): string | undefined {
  const own = desktop.origin;
  if (r.origin !== undefined && r.origin !== own) {
    return `a request from ${r.origin || 'an empty origin'} may not reach the desktop at ${own}: only the desktop's own pages may`;
  }
  const site = r.secFetchSite?.toLowerCase();
  if (site === 'same-site' || site === 'cross-site') {
    const navigation =
      r.secFetchMode?.toLowerCase() === 'navigate' && r.secFetchDest?.toLowerCase() === 'document';
    if (!navigation) {
      return `a ${site} ${r.secFetchMode ?? 'request'} (destination ${r.secFetchDest ?? 'unknown'}) may not reach the desktop at ${own}: only opening it in a tab may`;
    }
  }
  return undefined;
}
