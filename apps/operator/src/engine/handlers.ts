/**
 * Which sessions an event wakes (controller-runtime's handlers): every cache event is mapped to
 * the `namespace/name` keys of the sessions whose reconcile depends on the object, and only
 * those keys are queued. Functions of the event's object and the session cache (and, for nodes,
 * of what the node's previous event said).
 */
import type * as k8s from '@kubernetes/client-node';
import type { VDISession } from '@vdi/crd-types';
import { LABEL_SESSION, LABEL_USER_HASH } from '@vdi/session-spec';
import type { Priority } from './work-queue.js';

const keyOf = (s: VDISession) => `${s.metadata.namespace}/${s.metadata.name}`;

export class EventKeys {
  /** Per node, what placement read of it last: an update that changes none of it wakes nobody. */
  private readonly nodeFacts = new Map<string, string>();
  /** Per template, the generation (version of its spec) the caches last delivered (templateEvent). */
  private readonly templateGenerations = new Map<string, number>();
  /** Per session and template, the resourceVersion the caches last delivered. */
  private readonly woken = new Map<string, string>();

  /**
   * `sessions()` lists the cached sessions of the operator's namespace; `ownerSessions(hash)`
   * gives the keys of those of one owner (caches.ts `owners`, an index).
   */
  constructor(
    private readonly namespace: string,
    private readonly sessions: () => readonly VDISession[],
    private readonly ownerSessions: (ownerHash: string) => string[],
  ) {}

  /**
   * The caches delivered this version of a session or template (`deleted`: it is gone). Reconciles
   * read the caches, so their events always wake; the framework's watch delivers the same changes
   * (and its first list repeats every object), and its copy of a version the caches already
   * delivered wakes nobody (`cachedAlready`). Its copy of a version the caches have not shown yet
   * still wakes — harmless, and the caches' own event follows and wakes again.
   */
  cached(
    kind: 'session' | 'template',
    namespace: string,
    name: string,
    resourceVersion: string | undefined,
    deleted = false,
  ): void {
    const id = `${kind}/${namespace}/${name}`;
    if (deleted || resourceVersion === undefined) this.woken.delete(id);
    else this.woken.set(id, resourceVersion);
  }

  /** Whether the caches already delivered this version (see `cached`). */
  cachedAlready(
    kind: 'session' | 'template',
    namespace: string,
    name: string,
    resourceVersion: string | undefined,
  ): boolean {
    return (
      resourceVersion !== undefined && this.woken.get(`${kind}/${namespace}/${name}`) === resourceVersion
    );
  }

  /** A session changed: itself. */
  session(s: VDISession): string[] {
    return [keyOf(s)];
  }

  /**
   * How urgent a session's own event is. `new` when someone waits for the change: a session the
   * operator has not yet answered for this generation (created, or its spec edited — stop,
   * resume, extend), or one being deleted (its slice frees room for others). The echo of the
   * operator's own status write, and everything that follows from pods, nodes and claims, is a
   * `refresh`.
   */
  sessionPriority(s: VDISession): Priority {
    if (s.metadata.deletionTimestamp) return 'new';
    const generation = s.metadata.generation;
    if (!s.status?.phase) return 'new';
    return generation !== undefined && s.status.observedGeneration !== generation ? 'new' : 'refresh';
  }

  /**
   * A template event: the sessions made from it when what they are rendered from changed — its
   * spec (a new generation), or the template came or went. An update of its status alone (Ready,
   * the session count, pre-pull counts, which the operator itself writes as sessions come and go)
   * wakes none of them: sessions read only the spec, and in a burst of 500 each count written
   * re-queued all 500 (a status refresh of every running session, for nothing).
   *
   * `record`: the caches delivered this event (reconciles read the caches), so its generation is
   * the one the sessions are now woken for. The framework's copy only compares: a new spec it shows
   * first still wakes, and the caches' own event then wakes again once they hold it.
   */
  templateEvent(name: string, generation: number | undefined, deleted: boolean, record = true): string[] {
    if (deleted) {
      if (record) this.templateGenerations.delete(name);
      return this.template(name);
    }
    if (generation !== undefined && this.templateGenerations.get(name) === generation) return [];
    if (record && generation !== undefined) this.templateGenerations.set(name, generation);
    return this.template(name);
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

  /**
   * How urgent a desktop pod's event is for its session: `finish` when the pod is ready and the
   * session does not say Running yet — its owner waits for exactly that status, one write away —
   * or when the pod failed (the status must say so, and the slice is released); every other step
   * of a start (placed, pulling, starting) is a `refresh`, and while new work waits it is folded
   * into the next write.
   */
  podPriority(p: k8s.V1Pod, session: VDISession | undefined): Priority {
    if (!session || session.metadata.deletionTimestamp) return 'refresh';
    const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    if (ready && session.status?.phase !== 'Running') return 'finish';
    if (p.status?.phase === 'Failed' && session.status?.phase !== 'Failed') return 'finish';
    return 'refresh';
  }

  /**
   * A node came, went, or changed what placement reads (labels, taints, cordon, capacity,
   * readiness): sessions that wait for a place may now fit. Updates that change none of that (a
   * status heartbeat, an image list) wake nobody: with thousands of sessions starting, each node's
   * heartbeats would otherwise re-queue every one of them.
   */
  node(n: k8s.V1Node, event: 'add' | 'update' | 'delete' = 'update'): string[] {
    const name = n.metadata?.name ?? '';
    if (event === 'delete') this.nodeFacts.delete(name);
    else {
      const facts = JSON.stringify([
        n.metadata?.labels ?? {},
        n.spec?.taints ?? [],
        n.spec?.unschedulable ?? false,
        n.status?.allocatable ?? {},
        n.status?.capacity ?? {},
        (n.status?.conditions ?? []).map((c) => [c.type, c.status, c.reason]),
      ]);
      if (this.nodeFacts.get(name) === facts) return [];
      this.nodeFacts.set(name, facts);
    }
    return this.sessions()
      .filter((s) => s.status?.phase !== 'Running')
      .map(keyOf);
  }

  /** A child the operator wrote (Service, Secret, route…) changed: the session of its label. */
  child(o: k8s.KubernetesObject): string[] {
    const session = o.metadata?.labels?.[LABEL_SESSION];
    return session ? [`${this.namespace}/${session}`] : [];
  }

  /** A home claim changed: a session-owned home names its session; a per-user home wakes every session of that user. */
  claim(c: k8s.V1PersistentVolumeClaim): string[] {
    const session = c.metadata?.labels?.[LABEL_SESSION];
    if (session) return [`${this.namespace}/${session}`];
    const userHash = c.metadata?.labels?.[LABEL_USER_HASH];
    if (!userHash) return [];
    return this.ownerSessions(userHash);
  }
}
