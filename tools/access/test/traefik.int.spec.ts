/**
 * Traefik's start-up contract and its timeouts, on the local control plane: a short read timeout
 * shows quickly what the 60 s test in access.int.spec.ts shows at the default (slow requests
 * are cut, hijacked websockets are not); a ClusterRole that lacks a permission makes the start
 * fail fast and say which; stop() leaves nothing behind.
 */
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { isAlive, portInUse } from '@vdi/controlplane';
import { KubeJsonClient } from '@vdi/kube-client';
import { createTestNamespace, ensureCluster, freePort, type TestNamespace } from '@vdi/testing';
import { randomBytes } from 'node:crypto';
import { traefikClusterRoleRules, traefikIdentityObjects } from '../src/identity.js';
import { silentLogger } from '../src/log.js';
import { startStandins, type RunningStandins } from '../src/standins.js';
import { startTraefik } from '../src/traefik.js';
import { createDesktop, nextMessage, openWebsocket, waitRouted, type Desktop } from './helpers.js';

async function twoPorts(): Promise<[number, number]> {
  const a = await freePort();
  let b = await freePort();
  while (b === a) b = await freePort();
  return [a, b];
}

describe('Traefik start-up and timeouts', () => {
  let kubeconfig: string;
  let ns: TestNamespace;
  let standins: RunningStandins;
  let desk: Desktop;

  beforeAll(async () => {
    kubeconfig = ensureCluster();
    ns = await createTestNamespace('traefik');
    standins = await startStandins({ kubeconfig, namespace: ns.name, log: silentLogger });
    desk = await createDesktop(ns, 'desk-timeout', { accessMode: 'basicAuth' });
  }, 120_000);

  afterAll(async () => {
    await standins?.stop();
    await ns?.cleanup();
  });

  it('with a 2 s read timeout, cuts a slow request at 2 s and keeps a silent websocket open', async () => {
    const [webPort, adminPort] = await twoPorts();
    const traefik = await startTraefik({
      kubeconfig,
      webPort,
      adminPort,
      namespaces: [ns.name],
      readTimeoutSeconds: 2,
      log: silentLogger,
    });
    try {
      // The desktop checks its own password (Selkies' basic auth, as rendered in basicAuth mode).
      const auth = { Authorization: desk.authorization };
      await waitRouted(traefik.url, desk.host, auth);
      const c = await openWebsocket(traefik.url, desk.host, '/ws?tick=0', auth);
      await nextMessage(c, 'hello', 0);
      const slow = net.connect(traefik.port, '127.0.0.1');
      slow.on('error', () => undefined);
      await new Promise((r) => slow.once('connect', r));
      // Timed from the slow client's connect: Traefik's 2 s header timeout runs from there.
      const opened = Date.now();
      slow.write(`GET / HTTP/1.1\r\nHost: ${desk.host}\r\n`);
      const slowClosedAfter = await new Promise<number>((r) =>
        slow.once('close', () => r(Date.now() - opened)),
      );
      expect(slowClosedAfter).toBeGreaterThan(1500);
      expect(slowClosedAfter).toBeLessThan(6000);

      const early = await Promise.race([
        c.closed.then((x) => `closed early (code ${x.code})`),
        new Promise<string>((r) => setTimeout(() => r('open'), 4000)),
      ]);
      expect(early).toBe('open');
      const seen = c.messages.length;
      c.ws.send('after 6 s');
      expect((await nextMessage(c, 'echo', seen)).data).toBe('after 6 s');
      c.ws.close();
      await c.closed;
    } finally {
      await traefik.stop();
    }
  });

  it('stops completely: no process, both ports free, no token left on disk', async () => {
    const [webPort, adminPort] = await twoPorts();
    const traefik = await startTraefik({
      kubeconfig,
      webPort,
      adminPort,
      namespaces: [ns.name],
      log: silentLogger,
    });
    expect(await portInUse(webPort)).toBe(true);
    expect(await portInUse(adminPort)).toBe(true);
    const tokenFile = path.join(path.dirname(traefik.logs.config), 'token');
    expect(existsSync(tokenFile)).toBe(true);
    await traefik.stop();
    expect(isAlive(traefik.pid)).toBe(false);
    expect(existsSync(tokenFile)).toBe(false);
    expect(await portInUse(webPort)).toBe(false);
    expect(await portInUse(adminPort)).toBe(false);
  });

  it('refuses to start on a port that is taken, naming it and the setting', async () => {
    const [webPort, adminPort] = await twoPorts();
    const blocker = net.createServer().listen(adminPort, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      await expect(startTraefik({ kubeconfig, webPort, adminPort, log: silentLogger })).rejects.toThrow(
        `Traefik's admin port ${adminPort} is in use`,
      );
    } finally {
      blocker.close();
    }
  });

  it('fails fast, naming the refused kind and the ClusterRole, when a permission is missing', async () => {
    const name = `vdi-test-traefik-${randomBytes(3).toString('hex')}`;
    const rules = traefikClusterRoleRules().map((r) => ({
      ...r,
      resources: r.resources.filter((res) => res !== 'configmaps'),
    }));
    const [webPort, adminPort] = await twoPorts();
    const client = new KubeJsonClient(ns.kc, 2);
    try {
      const started = Date.now();
      await expect(
        startTraefik({
          kubeconfig,
          webPort,
          adminPort,
          identity: { name, rules },
          startTimeoutMs: 30_000,
          log: silentLogger,
        }),
      ).rejects.toThrow(new RegExp(`configmaps is forbidden.*Fix the ClusterRole ${name}`, 's'));
      // Refused at once, not after its 30 s start timeout.
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(await portInUse(webPort)).toBe(false);
    } finally {
      for (const obj of traefikIdentityObjects({ namespace: 'kube-system', name })) {
        await client.delete(obj).catch(() => undefined);
      }
      client.close();
    }
  });
});
