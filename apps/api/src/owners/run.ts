/**
 * Carries out the owner migration (migration.ts) against a cluster: reads the sessions and home
 * claims of the sessions namespace, plans, and — only when asked to apply — writes each step as a
 * merge patch that carries the resourceVersion it was planned from, so an object changed in
 * between is left alone and reported (run again) instead of being overwritten.
 */
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { API_VERSION, KIND_SESSION, type SessionOwner, type VDISession } from '@vdi/crd-types';
import { KubeApiError, type KubeJsonClient } from '@vdi/kube-client';
import { LABEL_USER_HASH, MANAGED_SELECTOR, ownerAnnotations, ownerHash } from '@vdi/session-spec';
import { planOwnerMigration, type MigrationPlan, type MigrationStep } from './migration.js';

export interface MigrationRun {
  plan: MigrationPlan;
  /** Steps written (empty without `apply`). */
  applied: MigrationStep[];
  /** Steps that failed, with the API server's words. */
  failed: { step: MigrationStep; error: string }[];
}

export async function runOwnerMigration(
  kube: KubeJsonClient,
  opts: { namespace: string; mapping: ReadonlyMap<string, SessionOwner>; apply: boolean },
): Promise<MigrationRun> {
  const ns = opts.namespace;
  const [sessions, claims] = await Promise.all([
    kube.call<{ items: VDISession[] }>('GET', `/apis/${API_VERSION}/namespaces/${ns}/vdisessions`),
    kube.call<{ items: V1PersistentVolumeClaim[] }>(
      'GET',
      `/api/v1/namespaces/${ns}/persistentvolumeclaims?labelSelector=${encodeURIComponent(MANAGED_SELECTOR)}`,
    ),
  ]);
  const plan = planOwnerMigration(sessions.items, claims.items, opts.mapping);
  const run: MigrationRun = { plan, applied: [], failed: [] };
  if (!opts.apply) return run;
  for (const step of plan.steps) {
    try {
      await kube.mergePatch(ref(ns, step), patchOf(step));
      run.applied.push(step);
    } catch (err) {
      const why =
        err instanceof KubeApiError && err.status === 409
          ? 'it changed since the plan was made; run the migration again'
          : (err as Error).message;
      run.failed.push({ step, error: why });
    }
  }
  return run;
}

function ref(namespace: string, step: MigrationStep) {
  return step.kind === 'home'
    ? { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: step.name, namespace } }
    : { apiVersion: API_VERSION, kind: KIND_SESSION, metadata: { name: step.name, namespace } };
}

/** The merge patch of a step; resourceVersion (and a session's uid) make it conditional. */
function patchOf(step: MigrationStep): Record<string, unknown> {
  const labels = { [LABEL_USER_HASH]: ownerHash(step.owner) };
  if (step.kind === 'home') {
    return {
      metadata: { resourceVersion: step.resourceVersion, labels, annotations: ownerAnnotations(step.owner) },
    };
  }
  return {
    metadata: { uid: step.uid, resourceVersion: step.resourceVersion, labels },
    spec: { owner: { issuer: step.owner.issuer, subject: step.owner.subject } },
  };
}
