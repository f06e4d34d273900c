/**
 * The operator's writes to the VDISession itself: its finalizer (added, removed) and its status,
 * and the memo of what those writes returned so a reconcile never acts on an older copy than the
 * one it just wrote.
 *
 * Every write is a JSON patch with a `test` operation, so it applies only to the copy it was
 * computed from: the finalizer add tests the resourceVersion (another controller's finalizer list
 * is never overwritten), the finalizer removal and the status test the uid (a newer session that
 * took the name is never written).
 */
import {
  API_VERSION,
  KIND_SESSION,
  SESSION_FINALIZER,
  type SessionPhase,
  type VDISession,
  type VDISessionStatus,
} from '@vdi/crd-types';
import { KubeApiError, withoutManagedFields, type KubeJsonClient, type KubeObject } from '@vdi/kube-client';
import { FIELD_MANAGER, statusChanged } from '@vdi/session-spec';
import type { Logger } from 'pino';
import type { EventRecorder } from './events.js';

/** Phases a session passes through on its way to Running: no Event of their own (writeStatus). */
export const TRANSIENT_PHASES: ReadonlySet<SessionPhase> = new Set<SessionPhase>([
  'Pending',
  'Scheduling',
  'Starting',
]);

export interface SessionWriterDeps {
  client: KubeJsonClient;
  log: Logger;
  events: EventRecorder;
}

/** The session's own address (name and namespace, no uid): what the client's paths need. */
export function sessionRef(s: VDISession): KubeObject {
  return {
    apiVersion: API_VERSION,
    kind: KIND_SESSION,
    metadata: { name: s.metadata.name!, namespace: s.metadata.namespace! },
  };
}

export class SessionWriter {
  /**
   * Per session, the copy our last write (finalizer or status patch) returned, and the
   * resourceVersions it supersedes. The cache learns of our own writes one watch event later; a
   * reconcile in between (a pod event, a requeue) would act on the older copy: add the finalizer
   * again (its resourceVersion test fails, 422), write the same status and its Event twice, or
   * run the deletion again after the finalizer is gone, aiming its writes at a new session of
   * the same name. Dropped once the cache has moved past those versions.
   */
  private readonly written = new Map<
    string,
    {
      uid: string;
      /** The version our write produced (what its watch echo carries). */
      resourceVersion: string;
      behind: Set<string>;
      /** Dropped once the cache holds our version (see cacheHas): the cached copy is the same. */
      session?: VDISession;
    }
  >();

  constructor(private readonly d: SessionWriterDeps) {}

  /** Forgets what was written for a session that is gone. */
  forget(key: string): void {
    this.written.delete(key);
  }

  /** The copy the last write for `key` returned, if it was for session `uid` and the cache has not caught up. */
  lastWritten(key: string, uid: string | undefined): VDISession | undefined {
    const w = this.written.get(key);
    return w && w.uid === uid ? w.session : undefined;
  }

  /** True when `s` is exactly the version our last write of it produced (its watch echo). */
  isOwnWrite(s: VDISession): boolean {
    const w = this.written.get(`${s.metadata.namespace}/${s.metadata.name}`);
    return Boolean(w && w.uid === s.metadata.uid && w.resourceVersion === s.metadata.resourceVersion);
  }

  /**
   * The cache now holds the version our last write produced: the copy kept for the meantime is
   * dropped (only the version stays, to recognise the echo from the operator's other watch), so
   * sessions not reconciled again hold no second copy in memory.
   */
  cacheHas(s: VDISession): void {
    const w = this.written.get(`${s.metadata.namespace}/${s.metadata.name}`);
    if (!w || w.uid !== s.metadata.uid || w.resourceVersion !== s.metadata.resourceVersion) return;
    delete w.session;
    w.behind.clear();
  }

  /**
   * The cached session, or the copy our own last write returned while the cache is not past it.
   * The same resourceVersion counts as not past: removing the last finalizer of a deleted session
   * deletes it instead of storing a new version, and the answer carries the version the cache
   * already has, which still shows the finalizer.
   */
  freshest(key: string, cached: VDISession): VDISession {
    const w = this.written.get(key);
    const rv = cached.metadata.resourceVersion!;
    if (w?.session && w.uid === cached.metadata.uid && (w.behind.has(rv) || w.resourceVersion === rv))
      return w.session;
    this.written.delete(key);
    return cached;
  }

  /** Adds our finalizer; false when the session was deleted before it could get one. */
  async addFinalizer(session: VDISession): Promise<boolean> {
    const finalizers = session.metadata.finalizers;
    // JSON patch with a test on resourceVersion: a concurrent change makes it fail (and retry)
    // instead of overwriting another controller's finalizer list.
    const ops = [
      { op: 'test', path: '/metadata/resourceVersion', value: session.metadata.resourceVersion },
      finalizers
        ? { op: 'add', path: '/metadata/finalizers/-', value: SESSION_FINALIZER }
        : { op: 'add', path: '/metadata/finalizers', value: [SESSION_FINALIZER] },
    ];
    try {
      await this.patchSession(session, 'application/json-patch+json', ops);
      return true;
    } catch (err) {
      // Deleted before it got our finalizer: it never had children, so nothing to clean up.
      if (err instanceof KubeApiError && err.notFound) return false;
      throw err;
    }
  }

  async removeFinalizer(session: VDISession): Promise<void> {
    const index = (session.metadata.finalizers ?? []).indexOf(SESSION_FINALIZER);
    if (index < 0) return;
    try {
      await this.patchSession(session, 'application/json-patch+json', [
        // This session, not a newer one of the same name.
        { op: 'test', path: '/metadata/uid', value: session.metadata.uid },
        { op: 'test', path: `/metadata/finalizers/${index}`, value: SESSION_FINALIZER },
        { op: 'remove', path: `/metadata/finalizers/${index}` },
      ]);
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound) return;
      throw err;
    }
  }

  /** Writes `status` when it differs from the session's, with an Event when the phase changed. */
  async writeStatus(session: VDISession, status: VDISessionStatus): Promise<void> {
    const prev = session.status;
    if (!statusChanged(prev, status)) return;
    try {
      // The whole status, conditional on the uid: a reconcile that read an earlier session of the
      // same name (just deleted and made again) must not write that one's status onto the new
      // one. (The status subresource ignores metadata in a merge patch; a JSON patch's test
      // operation is checked against the stored object: a mismatch is refused, 422, and retried.)
      await this.patchSession(
        session,
        'application/json-patch+json',
        [
          { op: 'test', path: '/metadata/uid', value: session.metadata.uid },
          { op: 'add', path: '/status', value: status },
        ],
        'status',
      );
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound) return;
      // The uid test failed: the name now holds a newer session, which its own event reconciles.
      if (err instanceof KubeApiError && err.status === 422) {
        const current = await this.d.client.get<VDISession>(sessionRef(session));
        if (current?.metadata.uid !== session.metadata.uid) return;
      }
      throw err;
    }
    if (prev?.phase !== status.phase) {
      const warn =
        status.phase === 'Failed' ||
        status.reason === 'WaitingForGPU' ||
        status.reason === 'TemplateNotFound';
      // An Event for the phases a user acts on and for warnings; the steps of a normal start
      // (Pending, Scheduling, Starting) are in the status and its conditions — an Event each would
      // double the writes of every start (DesktopCreated already marks it).
      if (warn || !TRANSIENT_PHASES.has(status.phase ?? 'Pending'))
        this.d.events.record(
          session,
          warn ? 'Warning' : 'Normal',
          status.reason ?? status.phase ?? 'Updated',
          `${status.phase}: ${status.message ?? ''}`,
        );
      this.d.log.info(
        {
          key: `${session.metadata.namespace}/${session.metadata.name}`,
          phase: status.phase,
          reason: status.reason,
        },
        'session phase changed',
      );
    }
  }

  /**
   * A patch of the session (or its status) recorded under the operator's field manager. The
   * client's patch helpers send none, and the API server then records the writer as "unknown" in
   * managedFields, so nobody could tell the operator's writes (finalizer, status) from others'.
   */
  private async patchSession(
    session: VDISession,
    contentType: 'application/json-patch+json' | 'application/merge-patch+json',
    body: unknown,
    subresource?: 'status',
  ): Promise<void> {
    const path = `${await this.d.client.path(sessionRef(session))}${subresource ? `/${subresource}` : ''}`;
    const updated = await this.d.client.call<VDISession>(
      'PATCH',
      `${path}?fieldManager=${encodeURIComponent(FIELD_MANAGER)}`,
      body,
      contentType,
    );
    // Remember the result until the cache has it (see `written`).
    const key = `${session.metadata.namespace}/${session.metadata.name}`;
    const prev = this.written.get(key);
    const behind = prev && prev.uid === session.metadata.uid ? prev.behind : new Set<string>();
    behind.add(session.metadata.resourceVersion!);
    if (updated.metadata?.uid === session.metadata.uid)
      this.written.set(key, {
        uid: session.metadata.uid!,
        resourceVersion: updated.metadata.resourceVersion!,
        behind,
        // As the cache keeps sessions: without managedFields (half of the object).
        session: withoutManagedFields(updated),
      });
  }
}
