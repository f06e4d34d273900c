/**
 * A session's children in the cluster: applying what libs/session-spec rendered (in its order,
 * each object once per change), deleting them when the session goes, deleting only the desktop
 * pod when the session stops or fails for good, and removing what a session that vanished without
 * our deletion path left behind.
 *
 * Every delete is conditional on the uid of the object found, and only objects owned by the
 * session in question are deleted: never a newer session's objects that took the same names.
 */
import { createHash } from 'node:crypto';
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import type { VDISession } from '@vdi/crd-types';
import { KubeApiError, type KubeJsonClient, type KubeObject, type Stored } from '@vdi/kube-client';
import {
  ANNOTATION_OWNER_ISSUER,
  ANNOTATION_OWNER_SUBJECT,
  FIELD_MANAGER,
  LABEL_USER_HASH,
  childNames,
  childRefs,
  type DesiredSession,
} from '@vdi/session-spec';
import type { Logger } from 'pino';
import { AppliedMemo } from './applied-memo.js';
import type { Caches } from './caches.js';
import type { EventRecorder } from './events.js';

export interface ChildWriterDeps {
  client: KubeJsonClient;
  /** Pods (whether a deleted session's pod is still there), home claims and the other children. */
  caches: Pick<Caches, 'pods' | 'claims' | 'children'>;
  log: Logger;
  events: EventRecorder;
  now?: () => Date;
}

/**
 * On every child the operator applies: a hash of the desired object it was applied from. A
 * reconcile whose desired child hashes the same as the cached child's annotation sends nothing,
 * also after a restart (a resync of unchanged sessions costs no request).
 */
export const ANNOTATION_APPLIED = 'vdi.kasm.io/applied';

/**
 * How long a child this process applied may be missing from its cache (the watch event is on its
 * way) before it counts as gone. A child deleted by hand within this window is restored by the
 * next resync (its delete event usually clears the memo first, see forgetChild).
 */
const CACHE_LAG_MS = 10_000;

type Child = KubeObject & {
  metadata: {
    name: string;
    namespace?: string;
    annotations?: Record<string, string>;
    ownerReferences?: { uid: string }[];
  };
};

export class ChildWriter {
  /**
   * Per child (kind, namespace, name), what this process last applied or found applied. A cached
   * child at that version is current; at another version with the same hash someone else wrote
   * it since (an edit, a system update), so it is applied again (once: the memo then moves on).
   */
  private readonly applied = new AppliedMemo();
  /**
   * Per session key, the uid of the session whose objects this process may have written and not
   * yet removed. Normally the deletion path removes them under our finalizer. But kube-apiserver
   * can hard-delete a session whose finalizer was added at the moment of the DELETE (the DELETE
   * decides from a copy without it: kubernetes/kubernetes#77988); the session then vanishes with
   * our finalizer on it, and whatever we applied for it would wait for the garbage collector.
   * Seeing a key without that session, the reconciler removes them itself (after a restart this
   * memory is gone, and the garbage collector does it through the owner references).
   */
  private readonly owners = new Map<string, string>();
  private readonly now: () => number;

  constructor(private readonly d: ChildWriterDeps) {
    const clock = d.now;
    this.now = clock ? () => clock().getTime() : Date.now;
  }

  /**
   * Forget what was applied (the periodic resync): the next reconcile of each session compares its
   * desired children with the cached ones alone (their ANNOTATION_APPLIED), re-applying only what
   * differs or is gone.
   */
  forgetApplied(): void {
    this.applied.clear();
  }

  /** Forget what was applied for one session (it is gone, so its next copy starts afresh). */
  forgetSession(key: string): void {
    const [namespace, name] = key.split('/') as [string, string];
    for (const ref of childRefs(name, namespace)) this.applied.delete(ref);
  }

  /** A child was deleted (its cache says): it is applied again at the next look, not trusted as on its way. */
  forgetChild(obj: KubernetesObject): void {
    this.applied.delete(obj);
  }

  /**
   * True when a cache event of a child is the echo of this process's own apply (the version the
   * apply returned): it wakes nobody. Anything else — an edit, a deletion, a system update — does.
   */
  isOwnWrite(obj: KubernetesObject): boolean {
    const a = this.applied.get(obj);
    return Boolean(a && a.resourceVersion === obj.metadata?.resourceVersion);
  }

  /** Session `uid` may now have objects under `key` (see `owners`). */
  noteOwner(key: string, uid: string): void {
    this.owners.set(key, uid);
  }

  /** Its objects were removed by the deletion path: nothing is left to remove for `key`. */
  released(key: string): void {
    this.forgetSession(key);
    this.owners.delete(key);
  }

  /**
   * When the session this process wrote objects for under `key` is no longer the one the cache
   * holds there (`currentUid`, undefined when none), it went without our deletion path (see
   * `owners`): its objects are removed here.
   */
  async removeOrphans(key: string, currentUid: string | undefined): Promise<void> {
    const uid = this.owners.get(key);
    if (!uid || uid === currentUid) return;
    const [namespace, name] = key.split('/') as [string, string];
    this.d.log.warn(
      { key, uid },
      "session gone while it still had the operator's finalizer (a DELETE racing the finalizer, kubernetes/kubernetes#77988, or the finalizer removed by hand): removing its objects",
    );
    await this.deleteChildren(key, namespace, name, uid);
    this.owners.delete(key);
    this.forgetSession(key);
  }

  /**
   * Makes the session's children match `desired`, in its order (what the pod mounts and its
   * network policy, the pod, then the Service and routes): each child is applied only when the
   * cached one differs from it (another desired state, gone, or written by someone else since),
   * and the pod is created only when there is none. Nothing is sent when nothing changed.
   * `homeExists`: the per-user home claim is known to exist (the API server listed it just now).
   * `yieldAfterPod`: asked once this pass has created the desktop pod; true ends the pass there,
   * leaving the Service and routes to the session's next pass (reconcile.ts requeues a session
   * whose pod this pass created).
   */
  async apply(
    key: string,
    session: VDISession,
    desired: DesiredSession,
    pod: V1Pod | undefined,
    homeExists = false,
    claimed = false,
    yieldAfterPod?: () => boolean,
  ): Promise<{ waitingFor?: string; podCreated?: boolean }> {
    const r = desired.rendered;
    let sent = 0;
    let podCreated = false;
    if (claimed && pod && !r.home) {
      // A warm pod claimed from a pool is already running, isolated by its pool's policy, and has
      // no home: nothing here has to wait for anything else, so the children go at once (a claim
      // is Running one round-trip after its claim, not one per child).
      const others = (desired.objects as Child[]).filter((o) => o !== (desired.pod as unknown));
      const sentEach = await Promise.all(others.map((o) => this.applyChild(session, o)));
      sent = sentEach.filter(Boolean).length;
      if (sent > 0) this.d.log.debug({ key, uid: session.metadata.uid, objects: sent }, 'children applied');
      return {};
    }
    // A home claim still being deleted (a previous session's of the same name, or a home an admin
    // deletes): a pod made now would mount it and keep it from going, so no pod until it is gone
    // (its delete event wakes the session; the caller also looks again shortly).
    const homeName = r.home?.claim.metadata?.name;
    const terminating = homeName
      ? this.d.caches.claims.get(homeName, r.home!.claim.metadata?.namespace)?.metadata?.deletionTimestamp
      : undefined;
    // Round by round (applyRounds): each round's writes go together, and a round starts only once
    // the one before it is answered. In a burst a session's start costs a few round-trips instead
    // of one per child, so its pod is made sooner and a worker is free sooner for the next one.
    for (const round of applyRounds(desired)) {
      if (round.length === 1 && round[0] === (desired.pod as unknown)) {
        if (!pod && terminating) {
          this.d.log.info(
            { key, uid: session.metadata.uid, claim: homeName },
            'home claim still being deleted: the desktop pod waits until it is gone',
          );
          return { waitingFor: `home volume claim ${homeName} to finish deleting` };
        }
        if (!pod && (await this.createPod(session, desired))) {
          sent++;
          podCreated = true;
          // The pod is the long pole of a start (placement, pull, boot), and what comes after it
          // (the Service and the routes) is only needed once it is ready: while other sessions
          // wait for their own pods, this worker goes to them first.
          if (yieldAfterPod?.()) {
            this.d.log.debug(
              { key, uid: session.metadata.uid, objects: sent },
              'pod created; routes deferred',
            );
            return { podCreated };
          }
        }
        continue;
      }
      const sentEach = await settled(round.map((obj) => this.applyOne(session, desired, obj, homeExists)));
      sent += sentEach.filter(Boolean).length;
    }
    if (sent > 0) this.d.log.debug({ key, uid: session.metadata.uid, objects: sent }, 'children applied');
    return podCreated ? { podCreated } : {};
  }

  /** Applies one child other than the pod (a per-user home is only ever created); true when it sent it. */
  private async applyOne(
    session: VDISession,
    desired: DesiredSession,
    obj: Child,
    homeExists: boolean,
  ): Promise<boolean> {
    // A per-user home (no owner reference) is shared by all of the owner's sessions, and its
    // size is fixed when it is made: templates with another homeSize must not try to resize it
    // (local-path and most provisioners refuse, which would fail every later session). So it is
    // created, never updated. Whose it is was checked against its annotations before rendering
    // (userHomeClaimName); one that appeared since (another session of the owner made it, or it
    // is someone else's) fails this pass, and the next one checks it from the cache.
    const home = desired.rendered.home?.claim;
    if (obj === home && !(home.metadata?.ownerReferences ?? []).length) {
      if (homeExists || this.d.caches.claims.get(obj.metadata.name, obj.metadata.namespace)) return false;
      if (!(await this.create(obj)) && !(await this.sameOwnerHome(obj))) {
        const message = `home volume claim ${obj.metadata.namespace}/${obj.metadata.name} appeared while this session was being started; checking whose it is again`;
        throw new KubeApiError(409, 'AlreadyExists', message, {});
      }
      return true;
    }
    return this.applyChild(session, obj);
  }

  /**
   * Whether the per-user home claim that exists under `desired`'s name (a create answered 409)
   * belongs to the same owner: the same owner-hash label and owner annotations (two sessions of one
   * owner starting at once both create it; one wins). Someone else's is not.
   */
  private async sameOwnerHome(desired: Child): Promise<boolean> {
    const existing = await this.d.client.get<Child & { metadata: { labels?: Record<string, string> } }>(
      desired,
    );
    if (!existing) return false;
    const want = desired.metadata as {
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    };
    const owned = (m: { annotations?: Record<string, string> }) =>
      [ANNOTATION_OWNER_ISSUER, ANNOTATION_OWNER_SUBJECT].map((k) => m.annotations?.[k] ?? null).join('\n');
    return (
      existing.metadata.labels?.[LABEL_USER_HASH] === want.labels?.[LABEL_USER_HASH] &&
      owned(existing.metadata) === owned(want)
    );
  }

  /** Applies one child unless the cached one is current; true when it sent it. */
  private async applyChild(session: VDISession, obj: Child): Promise<boolean> {
    const hash = createHash('sha256').update(JSON.stringify(obj)).digest('base64url').slice(0, 32);
    if (this.current(obj, hash, session.metadata.uid!)) return false;
    const body = structuredClone(obj);
    body.metadata.annotations = { ...body.metadata.annotations, [ANNOTATION_APPLIED]: hash };
    let stored: Stored<Child>;
    try {
      stored = await this.d.client.apply(body, FIELD_MANAGER);
    } catch (err) {
      if (!(obj.kind === 'Service' && err instanceof KubeApiError && err.status === 422)) throw err;
      // A Service from before desktop Services were headless: its cluster IP cannot be taken
      // away (the field is immutable), so it is made again.
      stored = await this.replace(session, body, err);
    }
    this.applied.set(obj, { hash, resourceVersion: stored.metadata.resourceVersion, at: this.now() });
    return true;
  }

  /**
   * Whether the child as cached is what `hash` describes. With a memo of our own apply: current
   * when the cache holds that version, or has not caught up with it yet; not when someone wrote it
   * after us. Without one (a restart, a resync): current when the cached child carries the hash
   * and belongs to this session — remembered, so later writes by others are noticed.
   */
  private current(obj: Child, hash: string, uid: string): boolean {
    const cached = this.cached(obj);
    const mine = this.applied.get(obj);
    const cachedHash = cached?.metadata?.annotations?.[ANNOTATION_APPLIED];
    if (mine?.hash === hash) {
      if (!cached) return this.now() - mine.at < CACHE_LAG_MS;
      if (cached.metadata?.resourceVersion === mine.resourceVersion) return true;
      // The cache still shows what was there before our apply.
      if (cachedHash !== hash) return this.now() - mine.at < CACHE_LAG_MS;
      return false;
    }
    if (!cached || cachedHash !== hash) return false;
    if (!(cached.metadata?.ownerReferences ?? []).some((o) => o.uid === uid)) return false;
    // Found, not applied (at 0), and kept as the cached child's own strings: the resync makes one
    // entry for every child there is.
    this.applied.set(
      { kind: obj.kind, metadata: cached.metadata },
      {
        hash: cachedHash,
        resourceVersion: cached.metadata?.resourceVersion ?? '',
        at: 0,
      },
    );
    return true;
  }

  private cached(obj: Child): KubernetesObject | undefined {
    const { name, namespace } = obj.metadata;
    if (obj.kind === 'PersistentVolumeClaim') return this.d.caches.claims.get(name, namespace);
    return this.d.caches.children.get(obj.kind!)?.get(name, namespace);
  }

  /** Deletes a child that cannot be changed into the desired one (conditional on its uid) and applies it anew. */
  private async replace(session: VDISession, body: Child, why: KubeApiError): Promise<Stored<Child>> {
    const existing = await this.d.client.get<Child & { metadata: { uid: string } }>(body);
    if (!existing || !(existing.metadata.ownerReferences ?? []).some((o) => o.uid === session.metadata.uid))
      throw why;
    this.d.log.info(
      {
        key: `${session.metadata.namespace}/${session.metadata.name}`,
        child: `${body.kind}/${body.metadata.name}`,
      },
      `re-creating a child that cannot be updated in place: ${why.message}`,
    );
    await this.d.client.delete(existing, { uid: existing.metadata.uid });
    return this.d.client.apply(body, FIELD_MANAGER);
  }

  /**
   * Creates the desktop pod (with the encoder decision recorded on it, desiredSession) unless one
   * exists: pods are immutable where it matters (image, env, resources, affinity), so they are
   * made once. A create, not an apply: one request, and a pod the cache has not shown yet answers
   * 409 instead of being changed. True when it made one.
   */
  private async createPod(session: VDISession, desired: DesiredSession): Promise<boolean> {
    if (!(await this.create(desired.pod as KubeObject))) return false;
    this.d.events.record(
      session,
      'Normal',
      'DesktopCreated',
      `created desktop pod with encoder ${desired.encoderPlan.encoder}`,
    );
    return true;
  }

  /** Creates an object (one POST); false when one of its name exists (409), which is left as it is. */
  private async create(obj: KubeObject): Promise<boolean> {
    const collection = await this.d.client.path(obj, false);
    try {
      await this.d.client.call(
        'POST',
        `${collection}?fieldManager=${encodeURIComponent(FIELD_MANAGER)}`,
        obj,
      );
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.conflict) return false;
      throw err;
    }
  }

  /**
   * Deletes a session's desktop pod (conditional on its uid, so a newer pod is never hit), with an
   * Event when this call deleted it; the session and its other children stay.
   */
  async deleteDesktopPod(
    session: VDISession,
    pod: V1Pod | undefined,
    reason: string,
    message: string,
  ): Promise<void> {
    if (!pod || pod.metadata?.deletionTimestamp) return;
    if (!(await this.d.client.delete(pod as KubeObject, { uid: pod.metadata!.uid! }))) return;
    this.d.events.record(session, 'Normal', reason, message);
    this.d.log.info(
      { key: `${session.metadata.namespace}/${session.metadata.name}`, pod: pod.metadata!.name, reason },
      'desktop pod deleted',
    );
  }

  /**
   * Deletes what session `uid` owns under its children's names (explicitly: cleanup must not
   * depend on the garbage collector being quick, or on). Only objects owned by that uid: never
   * another object that happens to have the name, such as a newer session's. True while its pod
   * still exists.
   */
  async deleteChildren(key: string, namespace: string, name: string, uid: string): Promise<boolean> {
    const { client, caches } = this.d;
    // The pod first; a per-user home is never among them (childRefs).
    const children = childRefs(name, namespace);
    let podLeft = false;
    for (const child of children) {
      const existing = await client.get<
        KubeObject & { metadata: { ownerReferences?: { uid: string }[]; uid: string } }
      >(child);
      if (!existing || !existing.metadata.ownerReferences?.some((o) => o.uid === uid)) continue;
      await client.delete(child, { uid: existing.metadata.uid });
      if (child === children[0]) podLeft = true;
      this.d.log.debug({ key, uid, child: `${child.kind}/${child.metadata.name}` }, 'child deleted');
    }
    const pod = caches.pods.get(childNames(name).pod, namespace);
    return podLeft || Boolean(pod?.metadata?.ownerReferences?.some((o) => o.uid === uid));
  }
}

/**
 * The children of `desired` in rounds of writes that may go together, in libs/session-spec's
 * order: what the pod needs (its credentials, its home, the network policy that isolates it — a
 * desktop never starts without them), then the pod alone, then what the route points at (the
 * Service and the forward-auth Middlewares), then the IngressRoute — never served before the
 * authentication in front of it exists.
 */
export function applyRounds(desired: DesiredSession): Child[][] {
  const objects = desired.objects as Child[];
  const at = objects.indexOf(desired.pod as unknown as Child);
  if (at < 0) throw new Error('libs/session-spec rendered a session without its desktop pod');
  const after = objects.slice(at + 1);
  return [
    objects.slice(0, at),
    objects.slice(at, at + 1),
    after.filter((o) => o.kind !== 'IngressRoute'),
    after.filter((o) => o.kind === 'IngressRoute'),
  ].filter((round) => round.length > 0);
}

/**
 * Promise.all that waits for every write of a round to be answered before it fails with the first
 * error: the pass ends with none of its writes still in flight (a retry of the key could
 * otherwise race them, and their memos would be set after it began).
 */
async function settled<T>(work: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}
