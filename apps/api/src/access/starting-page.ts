/**
 * What a browser sees at a desktop address that the ingress does not route yet: a desktop that
 * just became Running reaches Traefik's configuration a moment later (its provider batches
 * changes), and the portal sends the user there at once. A catch-all route for desktop hosts
 * (lowest priority) brings such requests here; the page reloads itself, and the reload reaches the
 * desktop — ticket and all — as soon as its route exists.
 */
const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const STARTING_RETRY_SECONDS = 2;

export function startingPage(host: string | undefined, portalUrl: string): string {
  const where = host ? ` at <code>${escapeHtml(host)}</code>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${STARTING_RETRY_SECONDS}">
<title>Connecting to your desktop…</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2937}a{color:#1d4ed8}</style>
</head>
<body>
<main>
<h1>Connecting to your desktop…</h1>
<p role="status">The desktop${where} is not reachable yet. This page tries again every ${STARTING_RETRY_SECONDS} seconds.</p>
<p>If it does not open within a minute, go back to <a href="${escapeHtml(portalUrl)}/sessions">your sessions</a>.</p>
</main>
</body>
</html>
`;
}
