/**
 * Which sessions an event wakes (controller-runtime's handlers): every cache event is mapped to
 * the `namespace/name` keys of the sessions whose reconcile depends on the object, and only
 * those keys are queued. Pure functions of the event's object and the session cache.
 */
import type * as k8s from '@kubernetes/client-node';
import type { VDISession } from '@vdi/crd-types';
import { LABEL_SESSION, LABEL_USER_HASH, sessionOwnerHash } from '@vdi/session-spec';

const keyOf = (s: VDISession) => `${s.metadata.namespace}/${s.metadata.name}`;

export class EventKeys {
  /** `sessions()` lists the cached sessions of the operator's namespace. */
  constructor(
    private readonly namespace: string,
    private readonly sessions: () => readonly VDISession[],
  ) {}

  /** A session changed: itself. */
  session(s: VDISession): string[] {
    return [keyOf(s)];
  }

  /** A template (by name) changed: every session made from it. */
  template(name: string): string[] {
    return this.sessions()
      .filter((s) => s.spec.template === name)
      .map(keyOf);
  }

  /** A desktop pod changed: the session it belongs to (its label). */
  pod(p: k8s.V1Pod): string[] {
    const session = p.metadata?.labels?.[LABEL_SESSION];
    return session ? [`${this.namespace}/${session}`] : [];
  }

  /** A node's capacity or readiness changed: sessions that wait for a place may now fit. */
  node(): string[] {
    return this.sessions()
      .filter((s) => s.status?.phase !== 'Running')
      .map(keyOf);
  }

  /** A home claim changed: a session-owned home names its session; a per-user home wakes every session of that user. */
  claim(c: k8s.V1PersistentVolumeClaim): string[] {
    const session = c.metadata?.labels?.[LABEL_SESSION];
    if (session) return [`${this.namespace}/${session}`];
    const userHash = c.metadata?.labels?.[LABEL_USER_HASH];
    if (!userHash) return [];
    return this.sessions()
      .filter((s) => sessionOwnerHash(s) === userHash)
      .map(keyOf);
  }
}
