import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { testKubeConfig } from './cluster.js';
import { releaseSessions } from './sessions.js';

export interface TestNamespace {
  name: string;
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  /** Deletes the namespace (and so everything in it); waits until it is gone when asked. */
  cleanup(opts?: { wait?: boolean }): Promise<void>;
}

/** Polls `fn` until it returns a value other than undefined/false, or fails naming `what`. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? ` (last error: ${String(lastErr)})` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * A fresh namespace `<prefix>-<random>` for one test, with its `default` ServiceAccount present
 * (pods are refused until the controller manager creates it). `labels` can e.g. enforce Pod Security.
 */
export async function createTestNamespace(
  prefix: string,
  labels: Record<string, string> = {},
): Promise<TestNamespace> {
  const kc = testKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const name = `${prefix}-${randomBytes(3).toString('hex')}`.toLowerCase().slice(0, 63);
  await core.createNamespace({
    body: { metadata: { name, labels: { 'vdi.kasm.io/test': 'true', ...labels } } },
  });
  await waitFor(`ServiceAccount default in ${name}`, async () => {
    try {
      return await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
    } catch {
      return undefined;
    }
  });
  return {
    name,
    kc,
    core,
    async cleanup(opts = {}) {
      // Sessions first: the operator's finalizer (the API writes it at creation) would hold the
      // namespace for ever where no operator runs, or after the test's operator stopped.
      await releaseSessions(kc, name);
      try {
        await core.deleteNamespace({ name });
      } catch (err) {
        if ((err as { code?: number }).code !== 404) throw err;
      }
      if (opts.wait) {
        await waitFor(
          `namespace ${name} to be deleted`,
          async () => {
            try {
              await core.readNamespace({ name });
              return false;
            } catch (err) {
              return (err as { code?: number }).code === 404;
            }
          },
          60_000,
        );
      }
    },
  };
}
