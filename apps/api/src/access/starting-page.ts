/**
 * What a browser sees at a desktop address that the ingress does not route yet: a desktop that
 * just became Running reaches Traefik's configuration a moment later (its provider batches
 * changes), and the portal sends the user there at once. A catch-all route for desktop hosts
 * (lowest priority) brings such requests here; the page reloads itself, and the reload reaches the
 * desktop — ticket and all — as soon as its route exists. Traefik applies a change up to its
 * providers' throttle (2 s by default) after the previous one, so the page's script tries again
 * every FAST_RETRY_MS for the first FAST_RETRY_FOR_MS; the meta refresh (every
 * STARTING_RETRY_SECONDS) serves a browser without scripts and a route that takes longer.
 *
 * The reload's Referer is the desktop's own address, not the portal's, so the forward-auth would
 * not redeem the ticket on it: when the first request came from the portal, the retry URL carries
 * a proof of that (`vdi-via`, see viaProof) instead.
 */
import { TICKET_PARAM, VIA_PARAM, viaProof } from './access-tokens.js';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const STARTING_RETRY_SECONDS = 2;
/** How soon the page's script reloads while a new desktop's route is on its way. */
export const FAST_RETRY_MS = 250;
/** For how long (from the first "connecting" page of this tab and desktop) it reloads that fast. */
export const FAST_RETRY_FOR_MS = 15_000;

/** `value` as a JavaScript literal that cannot end the <script> element it sits in. */
const scriptLiteral = (value: string | null) =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

/**
 * Where the page reloads to: the same address, plus the portal proof when the request carries a
 * ticket and came from the portal (its Referer). A relative URL of only a query keeps the path
 * the browser asked for. Undefined: reload the address as it is.
 */
export function startingRetryUrl(a: {
  host: string | undefined;
  /** The query string of the request, with or without '?'. */
  search: string;
  referer: string | undefined;
  portalUrl: string;
  secret: string;
}): string | undefined {
  const query = new URLSearchParams(a.search);
  const ticket = query.get(TICKET_PARAM);
  if (!a.host || ticket === null || query.has(VIA_PARAM)) return undefined;
  let from: string | undefined;
  try {
    from = a.referer ? new URL(a.referer).origin : undefined;
  } catch {
    from = undefined;
  }
  if (from !== new URL(a.portalUrl).origin) return undefined;
  query.set(VIA_PARAM, viaProof(a.secret, a.host, ticket));
  return `?${query.toString()}`;
}

export function startingPage(host: string | undefined, portalUrl: string, retryUrl?: string): string {
  const where = host ? ` at <code>${escapeHtml(host)}</code>` : '';
  const refresh = retryUrl
    ? `${STARTING_RETRY_SECONDS}; url=${escapeHtml(retryUrl)}`
    : String(STARTING_RETRY_SECONDS);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${refresh}">
<title>Connecting to your desktop…</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2937}a{color:#1d4ed8}</style>
</head>
<body>
<main>
<h1>Connecting to your desktop…</h1>
<p role="status">The desktop${where} is not reachable yet. This page tries again by itself.</p>
<p>If it does not open within a minute, go back to <a href="${escapeHtml(portalUrl)}/sessions">your sessions</a>.</p>
</main>
<script>
(function () {
  var retry = ${scriptLiteral(retryUrl ?? null)};
  var since = Date.now();
  try {
    var first = Number(sessionStorage.getItem('vdi-connecting-since'));
    // A mark older than a minute is from an earlier visit of this tab.
    if (first && since - first < 60000) since = first;
    else sessionStorage.setItem('vdi-connecting-since', String(since));
  } catch (e) {}
  if (Date.now() - since < ${FAST_RETRY_FOR_MS}) {
    setTimeout(function () {
      location.replace(retry === null ? location.href : retry);
    }, ${FAST_RETRY_MS});
  }
})();
</script>
</body>
</html>
`;
}
