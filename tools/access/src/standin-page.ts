/**
 * What the desktop stand-in answers (pure): the page at `/`, its JSON twin, and the page for a
 * pod address no session owns. The page says in its title, its first heading and a banner that
 * it is a STAND-IN and not a Selkies desktop, so nobody mistakes a test environment for a
 * streamed desktop.
 */
import type { DesktopEntry } from './session-map.js';

/** The request facts the stand-in shows. */
export interface StandinRequest {
  /** The pod IP the request arrived on. */
  podIp: string;
  /** The user the forward-auth named (X-Forwarded-User), if any. */
  user?: string;
  host?: string;
  /** The address the request came from (Traefik, in the desktop network: the host end of the link). */
  peer?: string;
}

/** What the desktop's own basic auth said: `off` (none required) or `passed` (the session's password). */
export type StandinBasicAuth = 'off' | 'passed';

export interface StandinInfo {
  standin: true;
  kind: 'vdi-desktop-standin';
  session: string;
  namespace: string;
  pod: string;
  podIp: string;
  owner: string | null;
  user: string | null;
  host: string | null;
  basicAuth: StandinBasicAuth;
}

export const STANDIN_NOTICE =
  'STAND-IN: this is not a real Selkies desktop. No container runs in the local cluster; ' +
  'this small server answers at the pod IP so the access path (Traefik, forward-auth, websockets) can be tested.';

export function standinInfo(entry: DesktopEntry, req: StandinRequest): StandinInfo {
  return {
    standin: true,
    kind: 'vdi-desktop-standin',
    session: entry.session,
    namespace: entry.namespace,
    pod: entry.pod,
    podIp: req.podIp,
    owner: entry.owner ?? null,
    user: req.user ?? null,
    host: req.host ?? null,
    basicAuth: entry.basicAuth ? 'passed' : 'off',
  };
}

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

export function standinPage(entry: DesktopEntry, req: StandinRequest): string {
  const e = escapeHtml;
  const user = req.user
    ? e(req.user)
    : '<em>none: no X-Forwarded-User header (the request did not pass the forward-auth)</em>';
  const rows: [string, string][] = [
    ['session', e(entry.session)],
    ['namespace', e(entry.namespace)],
    ['pod', e(entry.pod)],
    ['pod IP', e(req.podIp)],
    ['user (X-Forwarded-User)', user],
    ['session owner (pod annotation)', entry.owner ? e(entry.owner) : '<em>not annotated</em>'],
    ['host', e(req.host ?? '')],
    [
      'basic auth (Selkies’ own lock)',
      entry.basicAuth ? 'required; this request carried the session’s password' : 'off',
    ],
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="vdi-standin" content="true">
<meta name="vdi-session" content="${e(entry.session)}">
<meta name="vdi-namespace" content="${e(entry.namespace)}">
<meta name="vdi-user" content="${e(req.user ?? '')}">
<title>STAND-IN desktop: ${e(entry.session)} (not a real desktop)</title>
<style>
body { font-family: sans-serif; margin: 0; background: #fffbe6; color: #222; }
.banner { background: repeating-linear-gradient(45deg, #ffcc00, #ffcc00 20px, #222 20px, #222 40px); padding: 12px; }
.banner p { background: #ffcc00; margin: 0; padding: 12px; font-size: 1.3em; font-weight: bold; }
main { padding: 24px; }
th { text-align: left; padding-right: 16px; }
</style>
</head>
<body>
<div class="banner" role="alert"><p id="standin-notice">${e(STANDIN_NOTICE)}</p></div>
<main>
<h1>STAND-IN desktop for session <span id="session">${e(entry.session)}</span></h1>
<p>Signed in as <strong id="user">${user}</strong>.</p>
<table>
${rows.map(([k, v]) => `<tr><th>${e(k)}</th><td>${v}</td></tr>`).join('\n')}
</table>
<p>Websocket: <code>/ws</code> (echo, with a tick message every few seconds): <span id="ws-state">connecting…</span></p>
</main>
<script>
(function () {
  var state = document.getElementById('ws-state');
  var ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
  ws.onopen = function () { state.textContent = 'open'; };
  ws.onmessage = function (m) { state.textContent = 'open, last message: ' + m.data; };
  ws.onclose = function (ev) { state.textContent = 'closed (' + ev.code + ')'; };
})();
</script>
</body>
</html>
`;
}

/** The answer for a pod IP that no session pod has (yet): says what the stand-in knows. */
export function unknownPodPage(req: StandinRequest, knownSessions: number): string {
  const e = escapeHtml;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="vdi-standin" content="true">
<title>STAND-IN: no session at ${e(req.podIp)}</title></head>
<body><p>${e(STANDIN_NOTICE)}</p>
<p>No session pod has the address ${e(req.podIp)} (the stand-in knows ${knownSessions} session pod(s)).
The pod may not be running yet, or nothing watches its namespace: see startStandins() in tools/access.</p>
</body></html>
`;
}
