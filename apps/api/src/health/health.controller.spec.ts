import * as k8s from '@kubernetes/client-node';
import { createApp } from '../bootstrap.js';
import { loadConfig } from '../config.js';
import type { ApiCaches } from '../kube/caches.js';
import type { ShareCache } from '../shares/share-cache.js';
import { HealthController } from './health.controller.js';

/** A kubeconfig whose API server never answers: the caches stay unsynced. */
function unreachableCluster(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'none', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'none' }],
    contexts: [{ name: 'none', cluster: 'none', user: 'none' }],
    currentContext: 'none',
  });
  return kc;
}

describe('health endpoints', () => {
  it('answer without a token over real HTTP; everything else needs one', async () => {
    const app = await createApp({
      config: loadConfig({
        VDI_OIDC_ISSUER: 'http://127.0.0.1:1/realms/none',
        VDI_SESSION_KEY: 'f'.repeat(8) + 'a1b2c3d4'.repeat(4),
      }),
      kubeConfig: unreachableCluster(),
      schemaFile: false,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = await app.getUrl();
    try {
      const healthz = await fetch(`${base}/healthz`);
      expect(healthz.status).toBe(200);
      expect(await healthz.json()).toEqual({ status: 'ok' });
      // No cluster: not ready, but still reachable without a token.
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      for (const path of ['/graphql', '/nope', '/healthz/../graphql']) {
        const res = await fetch(`${base}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"query":"{ me { user } }"}',
        });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toContain('Bearer');
        expect(await res.json()).toEqual({
          data: null,
          errors: [
            { message: expect.stringContaining('no bearer token'), extensions: { code: 'UNAUTHENTICATED' } },
          ],
        });
      }
    } finally {
      await app.close();
    }
  });
});

describe('readyz', () => {
  const controller = (sessions: boolean, shares: boolean) =>
    new HealthController({ synced: sessions } as ApiCaches, { synced: shares } as ShareCache);
  const status = (c: HealthController) => {
    try {
      return c.readyz();
    } catch (err) {
      return (
        (err as { getStatus(): number; getResponse(): unknown }).getStatus() +
        ' ' +
        JSON.stringify((err as { getResponse(): unknown }).getResponse())
      );
    }
  };

  it('is not ready until the share cache forward-auth admits grantees by has synced', () => {
    expect(status(controller(true, false))).toBe('503 {"status":"loading caches","caches":["shares"]}');
    expect(status(controller(false, true))).toBe('503 {"status":"loading caches","caches":["sessions"]}');
    expect(status(controller(false, false))).toBe(
      '503 {"status":"loading caches","caches":["sessions","shares"]}',
    );
    expect(status(controller(true, true))).toEqual({ status: 'ok' });
  });
});
