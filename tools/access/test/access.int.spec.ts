/**
 * The access path on the local control plane: real Traefik (built from the Go module proxy)
 * routes the IngressRoutes libs/session-spec renders to pod IPs in the desktop network, where the
 * stand-in answers; forward-auth is honoured both ways; websockets pass and outlive Traefik's
 * default read timeout.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { repoRoot } from '@vdi/controlplane';
import { createTestNamespace, ensureCluster, freePort, waitFor, type TestNamespace } from '@vdi/testing';
import WebSocket from 'ws';
import { startStandins, type RunningStandins } from '../src/standins.js';
import { startTraefik, type RunningTraefik } from '../src/traefik.js';
import { TRAEFIK_DEFAULT_READ_TIMEOUT_S } from '../src/traefik-config.js';
import { silentLogger } from '../src/log.js';
import {
  createDesktop,
  nextMessage,
  openWebsocket,
  startAuthServer,
  viaTraefik,
  waitRouted,
  type Desktop,
} from './helpers.js';

describe('access path: Traefik → desktop stand-in', () => {
  let kubeconfig: string;
  let ns: TestNamespace;
  let traefik: RunningTraefik;
  let standins: RunningStandins;
  let auth: Awaited<ReturnType<typeof startAuthServer>>;
  let open: Desktop;
  let guarded: Desktop;
  /** Behind forward-auth with Selkies' basic auth on (the platform's two locks). */
  let locked: Desktop;

  beforeAll(async () => {
    kubeconfig = ensureCluster();
    ns = await createTestNamespace('access');
    auth = await startAuthServer();
    standins = await startStandins({ kubeconfig, namespace: ns.name, log: silentLogger });
    const webPort = await freePort();
    let adminPort = await freePort();
    while (adminPort === webPort) adminPort = await freePort();
    traefik = await startTraefik({ kubeconfig, webPort, adminPort, log: silentLogger });
    // basicAuth mode renders no middleware (Selkies checks its own password): an open route.
    open = await createDesktop(ns, 'desk-open', { accessMode: 'basicAuth' });
    guarded = await createDesktop(ns, 'desk-guarded', {
      accessMode: 'forwardAuth',
      forwardAuthUrl: auth.url,
    });
    locked = await createDesktop(
      ns,
      'desk-locked',
      { accessMode: 'forwardAuth', forwardAuthUrl: auth.url },
      { basicAuth: true },
    );
    // As the API does: an admitted request gets the desktop's password (used when its pod asks for it).
    auth.authorizations.set(`${ns.name}/desk-guarded`, guarded.authorization);
    auth.authorizations.set(`${ns.name}/desk-locked`, locked.authorization);
  }, 180_000);

  afterAll(async () => {
    await traefik?.stop();
    await standins?.stop();
    await auth?.close();
    await ns?.cleanup();
  });

  it('runs the Traefik version of versions.env, started in seconds', () => {
    const versions = readFileSync(path.join(repoRoot, 'tools/controlplane/versions.env'), 'utf8');
    expect(traefik.version).toBe(/^TRAEFIK_VERSION=(\S+)$/m.exec(versions)![1]);
    expect(traefik.startMs).toBeLessThan(60_000);
  });

  it("gives Traefik a token that reads routes and endpoints but nothing it doesn't need", async () => {
    const token = readFileSync(path.join(path.dirname(traefik.logs.config), 'token'), 'utf8');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    const server = kc.getCurrentCluster()!.server;
    const ca = readFileSync(path.join(path.dirname(traefik.logs.config), 'ca.crt'));
    const status = (p: string) =>
      new Promise<number>((resolve, reject) => {
        https
          .get(new URL(p, server), { ca, headers: { Authorization: `Bearer ${token}` } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', reject);
      });
    expect(await status(`/apis/traefik.io/v1alpha1/namespaces/${ns.name}/ingressroutes`)).toBe(200);
    expect(await status(`/apis/discovery.k8s.io/v1/namespaces/${ns.name}/endpointslices`)).toBe(200);
    expect(await status(`/api/v1/namespaces/${ns.name}/pods`)).toBe(403);
    expect(await status('/api/v1/nodes')).toBe(403);
    expect(await status(`/apis/apps/v1/namespaces/${ns.name}/deployments`)).toBe(403);
  });

  it('puts session pods on 198.18 addresses, where the stand-in names their session', async () => {
    expect(open.podIp).toMatch(/^198\.18\./);
    // The open route's desktop checks its own password (Selkies' basic auth, as rendered).
    expect(await standins.waitForPod(open.podIp, 15_000, open.authorization)).toMatchObject({
      standin: true,
      session: 'desk-open',
      namespace: ns.name,
      owner: 'alice@example.com',
    });
    expect((await standins.waitForPod(guarded.podIp, 15_000, guarded.authorization)).session).toBe(
      'desk-guarded',
    );
  });

  it('routes <session>.vdi.localhost through Traefik to the stand-in, which names the session', async () => {
    const r = await waitRouted(traefik.url, open.host, { Authorization: open.authorization });
    expect(r.status).toBe(200);
    expect(r.body).toContain('STAND-IN desktop for session <span id="session">desk-open</span>');
    expect(r.body).toContain(open.podIp);
    expect(r.headers['x-vdi-standin']).toBe('true');
    // The route is Traefik's, from the IngressRoute (not a leftover of another test).
    const routers = await traefik.routers(open.host);
    expect(routers).toContainEqual(
      expect.objectContaining({
        rule: `Host(\`${open.host}\`)`,
        status: 'enabled',
        provider: 'kubernetescrd',
      }),
    );
    expect((await viaTraefik(traefik.url, `nobody-${ns.name}.vdi.localhost`)).status).toBe(404);
    const access = traefik.readLog('access').filter((l) => l.RequestHost === open.host);
    expect(access.at(-1)).toMatchObject({ DownstreamStatus: 200, ServiceAddr: `${open.podIp}:8080` });
  });

  it('honours forwardAuth: a denial and a redirect pass through, an allowed request reaches the desktop with the user', async () => {
    const denied = await waitFor401(traefik, guarded);
    expect(denied.headers['www-authenticate']).toBe('Cookie realm="vdi"');
    expect(denied.body).toBe('denied by the test auth server\n');
    expect(denied.body).not.toContain('STAND-IN');

    const redirect = await viaTraefik(traefik.url, guarded.host, '/?ticket=redirect');
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe('http://vdi.localhost/login?from=forward-auth');
    expect(redirect.headers['set-cookie']).toEqual(['vdi-ticket=ok; Path=/']);

    // A client's own X-Forwarded-User is not believed: the auth answer's header replaces it.
    const allowed = await viaTraefik(traefik.url, guarded.host, '/standin.json', {
      Cookie: 'vdi-ticket=ok',
      'X-Forwarded-User': 'mallory',
    });
    expect(allowed.status).toBe(200);
    expect(JSON.parse(allowed.body)).toMatchObject({
      session: 'desk-guarded',
      user: 'alice@example.com',
      podIp: guarded.podIp,
    });
    const page = await viaTraefik(traefik.url, guarded.host, '/', { Cookie: 'vdi-ticket=ok' });
    expect(page.body).toContain('<strong id="user">alice@example.com</strong>');

    // What the auth server was asked: the session in the address, the original request in X-Forwarded-*.
    const call = auth.calls.find((c) => String(c.headers['x-forwarded-uri']).includes('ticket=redirect'))!;
    expect(new URL(call.url, 'http://x').searchParams.get('session')).toBe(`${ns.name}/desk-guarded`);
    expect(call.headers).toMatchObject({
      'x-forwarded-host': guarded.host,
      'x-forwarded-method': 'GET',
      'x-forwarded-proto': 'http',
      'x-forwarded-uri': '/?ticket=redirect',
    });

    // The open route has no middleware: the auth server is never asked for it.
    const before = auth.calls.length;
    expect(
      (await viaTraefik(traefik.url, open.host, '/', { Authorization: open.authorization })).status,
    ).toBe(200);
    expect(auth.calls.length).toBe(before);
  });

  it('a desktop with basic auth on opens through Traefik with the platform’s password, never the client’s; its pod address alone opens nothing', async () => {
    // The stand-in has read the session's Secret: straight to the pod address, it wants the password.
    await waitFor(
      'the stand-in to require basic auth on desk-locked',
      async () => (await direct(locked.podIp, '/standin.json')).status === 401,
      15_000,
    );
    const guess = `Basic ${Buffer.from('vdi:guess').toString('base64')}`;
    const bare = await direct(locked.podIp, '/standin.json');
    expect(bare.body).toBe(
      "stand-in desktop desk-locked: basic auth is on: user vdi and the session's password are required\n",
    );
    expect((await direct(locked.podIp, '/', { Authorization: guess })).status).toBe(401);
    // One desktop's password opens no other.
    const other = await createDesktop(ns, 'desk-locked-2', { accessMode: 'basicAuth' }, { basicAuth: true });
    expect(other.authorization).not.toBe(locked.authorization);
    await waitFor(
      'the stand-in to know desk-locked-2',
      async () =>
        (await direct(other.podIp, '/standin.json', { Authorization: other.authorization })).status === 200,
      15_000,
    );
    expect((await direct(locked.podIp, '/standin.json', { Authorization: other.authorization })).status).toBe(
      401,
    );
    expect((await direct(other.podIp, '/standin.json', { Authorization: locked.authorization })).status).toBe(
      401,
    );
    await expect(openWebsocketAt(locked.podIp, '/ws')).rejects.toThrow(/answered 401/);

    // Through Traefik: forward-auth admits the cookie and answers the desktop's Authorization,
    // which Traefik puts on the request in place of the client's own guess.
    await waitRouted(traefik.url, locked.host, { Cookie: 'vdi-ticket=ok' });
    const before = auth.calls.length;
    const through = await viaTraefik(traefik.url, locked.host, '/standin.json', {
      Cookie: 'vdi-ticket=ok',
      Authorization: guess,
    });
    expect(through.status).toBe(200);
    expect(JSON.parse(through.body)).toMatchObject({
      session: 'desk-locked',
      user: 'alice@example.com',
      basicAuth: 'passed',
    });
    // The forward-auth saw the client's header (that is how it reads bearer tokens); the desktop did not.
    expect(auth.calls.slice(before).map((c) => c.headers.authorization)).toContain(guess);
    const c = await openWebsocket(traefik.url, locked.host, '/ws?tick=0', {
      Cookie: 'vdi-ticket=ok',
      Authorization: guess,
    });
    expect(await nextMessage(c, 'hello', 0)).toMatchObject({
      session: 'desk-locked',
      user: 'alice@example.com',
    });
    c.ws.close();
    await c.closed;
    // Without the cookie, forward-auth refuses as before (no password handed out).
    expect((await viaTraefik(traefik.url, locked.host, '/standin.json')).status).toBe(401);
    // A route without forward-auth (basicAuth mode): the client's own Authorization passes, and
    // Selkies' lock alone decides.
    await waitRouted(traefik.url, other.host, { Authorization: other.authorization });
    const plain = await viaTraefik(traefik.url, other.host, '/standin.json', {
      Authorization: other.authorization,
    });
    expect(plain.status).toBe(200);
    expect((await viaTraefik(traefik.url, other.host, '/standin.json')).status).toBe(401);
  });

  it('passes Origin, Referer and Sec-Fetch-* to forward-auth, on page requests and websocket upgrades alike', async () => {
    const browserish = {
      Cookie: 'vdi-ticket=ok',
      Origin: 'http://desk-other.vdi.localhost:8088',
      Referer: 'http://desk-other.vdi.localhost:8088/',
      'Sec-Fetch-Site': 'same-site',
      'Sec-Fetch-Mode': 'websocket',
      'Sec-Fetch-Dest': 'empty',
    };
    const before = auth.calls.length;
    const c = await openWebsocket(traefik.url, guarded.host, '/ws?tick=0&probe=origin', browserish);
    c.ws.close();
    await c.closed;
    await viaTraefik(traefik.url, guarded.host, '/?probe=page', {
      ...browserish,
      'Sec-Fetch-Mode': 'navigate',
      'Sec-Fetch-Dest': 'document',
    });
    const calls = auth.calls.slice(before);
    const upgrade = calls.find((x) => String(x.headers['x-forwarded-uri']).includes('probe=origin'))!;
    expect(upgrade.headers).toMatchObject({
      origin: browserish.Origin,
      referer: browserish.Referer,
      'sec-fetch-site': 'same-site',
      'sec-fetch-mode': 'websocket',
      'sec-fetch-dest': 'empty',
    });
    const page = calls.find((x) => String(x.headers['x-forwarded-uri']).includes('probe=page'))!;
    expect(page.headers).toMatchObject({
      origin: browserish.Origin,
      'sec-fetch-mode': 'navigate',
      'sec-fetch-dest': 'document',
    });
  });

  it('upgrades a websocket through the route, behind forward-auth', async () => {
    await expect(openWebsocket(traefik.url, guarded.host, '/ws')).rejects.toThrow(/answered 401/);
    const c = await openWebsocket(traefik.url, guarded.host, '/ws?tick=100', { Cookie: 'vdi-ticket=ok' });
    const hello = await nextMessage(c, 'hello', 0);
    expect(hello).toMatchObject({ session: 'desk-guarded', user: 'alice@example.com', podIp: guarded.podIp });
    c.ws.send('through traefik');
    expect((await nextMessage(c, 'echo', 0)).data).toBe('through traefik');
    await nextMessage(c, 'tick', 0);
    c.ws.close();
    await c.closed;
  });

  it(
    `keeps a silent websocket open beyond Traefik's default read timeout (${TRAEFIK_DEFAULT_READ_TIMEOUT_S} s), which still cuts slow requests`,
    async () => {
      const holdMs = (TRAEFIK_DEFAULT_READ_TIMEOUT_S + 6) * 1000;
      const opened = Date.now();
      // No ticks: nothing flows either way while we wait.
      const c = await openWebsocket(traefik.url, open.host, '/ws?tick=0', {
        Authorization: open.authorization,
      });
      await nextMessage(c, 'hello', 0);
      c.ws.send('before');
      await nextMessage(c, 'echo', 0);

      // Alongside: a request whose headers never end. The read timeout must close it, which
      // shows the timeout is in force on this entrypoint while the websocket lives on.
      const slow = net.connect(traefik.port, '127.0.0.1');
      await new Promise((r) => slow.once('connect', r));
      slow.write(`GET / HTTP/1.1\r\nHost: ${open.host}\r\n`);
      const slowClosed = new Promise<number>((r) => slow.once('close', () => r(Date.now())));
      slow.on('error', () => undefined);

      const early = await Promise.race([
        c.closed.then((x) => `websocket closed early (code ${x.code}, after ${x.at - opened} ms)`),
        new Promise<string>((r) => setTimeout(() => r('open'), holdMs)),
      ]);
      expect(early).toBe('open');
      const seen = c.messages.length;
      c.ws.send('after the hold');
      const echo = await nextMessage(c, 'echo', seen);
      expect(echo.data).toBe('after the hold');
      expect(Number(echo.openForMs)).toBeGreaterThan(TRAEFIK_DEFAULT_READ_TIMEOUT_S * 1000);

      const slowAfter =
        (await Promise.race([slowClosed, new Promise<number>((r) => setTimeout(() => r(0), 1000))])) - opened;
      expect(slowAfter).toBeGreaterThan((TRAEFIK_DEFAULT_READ_TIMEOUT_S - 5) * 1000);
      expect(slowAfter).toBeLessThan(holdMs);
      c.ws.close();
      await c.closed;
    },
    (TRAEFIK_DEFAULT_READ_TIMEOUT_S + 40) * 1000,
  );
});

/** A request straight to a pod address (the host routes the pod range into the desktop network). */
function direct(podIp: string, p: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.get(`http://${podIp}:8080${p}`, { headers, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET ${podIp}${p}: no answer within 10 s`)));
  });
}

/** A websocket straight to a pod address; rejects with the status of a refused upgrade. */
function openWebsocketAt(podIp: string, p: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${podIp}:8080${p}`);
    ws.once('open', () => {
      ws.close();
      resolve();
    });
    ws.once('unexpected-response', (_req, res) =>
      reject(new Error(`websocket upgrade answered ${res.statusCode}`)),
    );
    ws.once('error', reject);
  });
}

async function waitFor401(traefik: RunningTraefik, d: Desktop) {
  // Until the route is served, Traefik answers 404 for the host.
  for (let i = 0; i < 150; i++) {
    const r = await viaTraefik(traefik.url, d.host);
    if (r.status !== 404) return r;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`Traefik did not route ${d.host} within 30 s; see ${traefik.logs.traefik}`);
}
