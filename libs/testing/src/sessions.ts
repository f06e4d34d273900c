/**
 * Where a test runs no operator: the operator's part in a session's deletion. The API creates
 * sessions with the operator's finalizer, and only the operator removes it, once the desktop's
 * children are gone. A test of the API alone has no children and no operator, so its deleted
 * sessions would stay "being deleted" for ever, and their namespace with them.
 *
 * By path, not through @vdi/crd-types: that library's own tests use this one.
 */
import type * as k8s from '@kubernetes/client-node';
import { kubeRequest } from './raw.js';

const sessionsPath = (namespace: string) => `/apis/vdi.kasm.io/v1alpha1/namespaces/${namespace}/vdisessions`;

interface Session {
  metadata: { name: string; deletionTimestamp?: string; finalizers?: string[] };
}

/** Removes the finalizers of the sessions of `namespace` that `which` selects (all by default). */
export async function releaseSessions(
  kc: k8s.KubeConfig,
  namespace: string,
  which: (s: Session) => boolean = () => true,
): Promise<void> {
  const list = await kubeRequest(kc, 'GET', sessionsPath(namespace));
  // No such namespace, or no VDISession CRD in this cluster: nothing holds anything.
  if (list.status === 404) return;
  if (list.status !== 200)
    throw new Error(`listing the sessions of ${namespace}: ${list.status} ${list.text}`);
  for (const s of (list.body.items ?? []) as Session[]) {
    if ((s.metadata.finalizers ?? []).length === 0 || !which(s)) continue;
    const r = await kubeRequest(
      kc,
      'PATCH',
      `${sessionsPath(namespace)}/${s.metadata.name}`,
      { metadata: { finalizers: null } },
      'application/merge-patch+json',
    );
    if (r.status !== 200 && r.status !== 404)
      throw new Error(`releasing session ${namespace}/${s.metadata.name}: ${r.status} ${r.text}`);
  }
}

export interface SessionReleaser {
  stop(): Promise<void>;
}

/**
 * Plays the operator's deletion path while a test runs no operator: every `intervalMs`, each
 * session of `namespace` being deleted loses its finalizers, so it is gone moments after its
 * delete, as with an operator and a desktop that had nothing left to remove.
 */
export function releaseDeletedSessions(
  kc: k8s.KubeConfig,
  namespace: string,
  intervalMs = 100,
): SessionReleaser {
  let stopped = false;
  let lastError: unknown;
  const loop = (async () => {
    while (!stopped) {
      try {
        await releaseSessions(kc, namespace, (s) => Boolean(s.metadata.deletionTimestamp));
        lastError = undefined;
      } catch (err) {
        lastError = err;
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      if (lastError) throw lastError instanceof Error ? lastError : new Error(String(lastError));
    },
  };
}
