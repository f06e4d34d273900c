/**
 * Helpers of the access integration tests: session objects as the platform renders them (the
 * route, its middlewares, the Service) with a plain pod that kwok runs on the control node, a
 * forward-auth server, and HTTP/websocket requests to Traefik with a session's Host header.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import * as k8s from '@kubernetes/client-node';
import {
  desktopAuthorization,
  renderSession,
  sessionPassword,
  type PlatformOptions,
} from '@vdi/session-spec';
import { sampleOptions, sampleSession, sampleTemplate, sampleTurnRestKey } from '@vdi/session-spec/testing';
import { kubeRequest, resourcePath, waitFor, type TestNamespace } from '@vdi/testing';
import WebSocket from 'ws';

export const BASE_DOMAIN = 'vdi.localhost';
/** The platform's session key in these tests (each desktop's password derives from it). */
export const SESSION_KEY = 'access-tests-session-key-0123456789abcdef0123456789';

export interface Desktop {
  session: string;
  host: string;
  podIp: string;
  uid: string;
  /** The `Authorization` value that opens the desktop's own basic auth (when it has it on). */
  authorization: string;
}

/**
 * Creates a session's Service, IngressRoute, middlewares and auth Secret exactly as
 * libs/session-spec renders them (without owner references: there is no VDISession object here,
 * and the garbage collector would remove children of a missing owner), plus a pod with the
 * rendered labels, port and environment but no GPU, so the scheduler puts it on the control node
 * and kwok gives it a pod IP. `basicAuth` turns Selkies' basic auth on whatever the access mode
 * renders; its password is the session's (sessionPassword of SESSION_KEY and the uid).
 */
export async function createDesktop(
  ns: TestNamespace,
  session: string,
  platform: Partial<PlatformOptions>,
  { basicAuth = false } = {},
): Promise<Desktop> {
  const options = sampleOptions({
    namespace: ns.name,
    baseDomain: BASE_DOMAIN,
    publicScheme: 'http',
    entryPoints: ['web'],
    tls: undefined,
    ...platform,
  });
  const uid = randomUUID();
  const rendered = renderSession(
    {
      ...sampleSession(session, { user: 'alice@example.com' }),
      metadata: { name: session, namespace: ns.name, uid },
    },
    sampleTemplate(),
    options,
    {
      encoderPlan: { encoder: 'h264enc', device: 'cpu' },
      turnRestKey: sampleTurnRestKey,
      sessionPassword: sessionPassword(SESSION_KEY, uid),
    },
  );
  const unowned = <T extends k8s.KubernetesObject>(o: T): T => {
    const copy = structuredClone(o);
    delete copy.metadata!.ownerReferences;
    return copy;
  };
  const objects = [rendered.service, ...rendered.middlewares, rendered.ingressRoute, rendered.authSecret];
  for (const obj of objects.map(unowned)) {
    const r = await kubeRequest(ns.kc, 'POST', await resourcePath(ns.kc, obj), obj);
    if (r.status >= 300) throw new Error(`creating ${obj.kind} ${session}: ${r.status} ${r.text}`);
  }
  const desktop = rendered.pod.spec!.containers[0]!;
  const auth = rendered.authSecret.metadata!.name!;
  const env = (desktop.env ?? []).filter(
    (e) => !basicAuth || !['SELKIES_ENABLE_BASIC_AUTH', 'SELKIES_BASIC_AUTH_PASSWORD'].includes(e.name),
  );
  if (basicAuth) {
    env.push(
      { name: 'SELKIES_ENABLE_BASIC_AUTH', value: 'true' },
      { name: 'SELKIES_BASIC_AUTH_PASSWORD', valueFrom: { secretKeyRef: { name: auth, key: 'password' } } },
    );
  }
  const pod: k8s.V1Pod = {
    metadata: {
      name: rendered.pod.metadata!.name!,
      labels: rendered.pod.metadata!.labels!,
      annotations: rendered.pod.metadata!.annotations!,
    },
    spec: {
      containers: [{ name: 'desktop', image: desktop.image!, ports: desktop.ports!, env }],
    },
  };
  await ns.core.createNamespacedPod({ namespace: ns.name, body: pod });
  const podIp = await waitFor(
    `pod ${ns.name}/${pod.metadata!.name} Running with an IP`,
    async () => {
      const p = await ns.core.readNamespacedPod({ name: pod.metadata!.name!, namespace: ns.name });
      return p.status?.phase === 'Running' && p.status.podIP ? p.status.podIP : undefined;
    },
    30_000,
  );
  return {
    session,
    host: `${session}.${BASE_DOMAIN}`,
    podIp,
    uid,
    authorization: desktopAuthorization(SESSION_KEY, uid),
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request to Traefik's web entrypoint for `host` (as a browser on *.vdi.localhost sends it). */
export function viaTraefik(
  traefikUrl: string,
  host: string,
  path = '/',
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(path, traefikUrl),
      { headers: { ...headers, Host: host }, agent: false, timeout: 10_000 },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET ${host}${path}: no answer within 10 s`)));
    req.end();
  });
}

/** Waits until Traefik routes `host` to a stand-in (routes appear after the provider's throttle). */
export function waitRouted(traefikUrl: string, host: string, headers: Record<string, string> = {}) {
  return waitFor(
    `Traefik to route ${host}`,
    async () => {
      const r = await viaTraefik(traefikUrl, host, '/', headers);
      return r.status !== 404 || r.body.includes('STAND-IN') ? r : undefined;
    },
    30_000,
    200,
  );
}

export interface AuthCall {
  url: string;
  headers: http.IncomingHttpHeaders;
}

/**
 * A forward-auth server standing in for the API's: cookie `vdi-ticket=ok` → 200 with
 * X-Forwarded-User: alice (and, for a session in `authorizations`, the desktop's Authorization,
 * as the API answers); `?ticket=redirect` in the original URI → 302 to the portal; anything
 * else → 401 with a header and a body of its own.
 */
export async function startAuthServer(): Promise<{
  url: string;
  calls: AuthCall[];
  /** session (namespace/name) → the Authorization an admitted request gets. */
  authorizations: Map<string, string>;
  close(): Promise<void>;
}> {
  const calls: AuthCall[] = [];
  const authorizations = new Map<string, string>();
  const server = http.createServer((req, res) => {
    calls.push({ url: req.url ?? '', headers: req.headers });
    const uri = String(req.headers['x-forwarded-uri'] ?? '');
    if ((req.headers.cookie ?? '').includes('vdi-ticket=ok')) {
      const session = new URL(req.url ?? '/', 'http://auth').searchParams.get('session') ?? '';
      const authorization = authorizations.get(session);
      res.writeHead(200, {
        'X-Forwarded-User': 'alice@example.com',
        ...(authorization ? { Authorization: authorization } : {}),
      });
      res.end();
    } else if (uri.includes('ticket=redirect')) {
      res.writeHead(302, {
        Location: 'http://vdi.localhost/login?from=forward-auth',
        'Set-Cookie': 'vdi-ticket=ok; Path=/',
      });
      res.end();
    } else {
      res.writeHead(401, { 'Content-Type': 'text/plain', 'WWW-Authenticate': 'Cookie realm="vdi"' });
      res.end('denied by the test auth server\n');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/auth/session`,
    calls,
    authorizations,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Opens a websocket to `host` through Traefik and collects its JSON messages. */
export async function openWebsocket(
  traefikUrl: string,
  host: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{
  ws: WebSocket;
  messages: Record<string, unknown>[];
  closed: Promise<{ code: number; at: number }>;
}> {
  const u = new URL(path, traefikUrl);
  u.protocol = 'ws:';
  const ws = new WebSocket(u, { headers: { ...headers, Host: host } });
  const messages: Record<string, unknown>[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as Record<string, unknown>));
  const closed = new Promise<{ code: number; at: number }>((r) =>
    ws.on('close', (code) => r({ code, at: Date.now() })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) =>
      reject(new Error(`websocket upgrade answered ${res.statusCode}`)),
    );
  });
  return { ws, messages, closed };
}

/** Resolves with the next message of `type` after `from` messages were seen. */
export function nextMessage(
  c: { messages: Record<string, unknown>[] },
  type: string,
  from: number,
  timeoutMs = 5000,
): Promise<Record<string, unknown>> {
  return waitFor(
    `a '${type}' websocket message`,
    async () => c.messages.slice(from).find((m) => m.type === type),
    timeoutMs,
    20,
  );
}
