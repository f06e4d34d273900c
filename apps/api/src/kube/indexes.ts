/**
 * Indexes and counters over the watch caches, so `sessions`, `sessionPage`, `capacity` and
 * `Session.queuePosition` answer without walking every cached session and pod per request.
 *
 * Each index is fed the informers' add/update/delete events (ApiCaches wires them) and keeps
 * what it needs by object name, because client-node's `update` hands over only the new object:
 * an index must remember where the old one was filed to move it (an unclaimed session given an
 * owner by the migration, a pod placed on a node, a session that starts or stops waiting).
 * What an answer is computed from (who owns a session, what a pod holds, whether a session
 * waits) is the same predicate the libraries already define, applied to one object at a time.
 *
 * Pure: no cluster, no Nest; unit-tested in indexes.spec.ts.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { VDISession } from '@vdi/crd-types';
import {
  SliceLedger,
  LABEL_SESSION,
  ownedBy,
  ownerKey,
  waitingSessions,
  type GpuCapacity,
  type SessionOwner,
} from '@vdi/session-spec';
import { isQueued, queuePositions } from '../capacity/queue.js';

/** The informer events an index follows. */
export type CacheEvent = 'add' | 'update' | 'delete';

/** Anything that follows one cache's events. */
export interface CacheIndex<T> {
  apply(event: CacheEvent, obj: T): void;
}

/** Key of a namespaced or cluster-scoped object. */
const keyOf = (o: { metadata?: { name?: string; namespace?: string } }) =>
  `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

const millis = (t: Date | string | undefined): number => {
  const ms = t ? new Date(t).getTime() : NaN;
  return Number.isFinite(ms) ? ms : 0;
};

/** The collation `sessions` has always sorted names with (String#localeCompare's). */
const byLocaleName = new Intl.Collator().compare;

// ---------------------------------------------------------------------------------------------
// Sessions by owner

/**
 * Sessions by owner (issuer + subject, `spec.owner`): what `sessions` without `all` returns.
 * An unclaimed session (no owner, from 0.1.x) is filed under nobody. `spec.owner` may change
 * once, from none to an owner (the owner migration), so an update can move a session.
 */
export class SessionsByOwner implements CacheIndex<VDISession> {
  private readonly byOwner = new Map<string, Map<string, VDISession>>();
  /** Where each session is filed (undefined: unclaimed), to move or drop it. */
  private readonly filedUnder = new Map<string, string | undefined>();

  apply(event: CacheEvent, s: VDISession): void {
    const name = s.metadata.name!;
    const before = this.filedUnder.get(name);
    if (before !== undefined) {
      const bucket = this.byOwner.get(before);
      bucket?.delete(name);
      if (bucket?.size === 0) this.byOwner.delete(before);
    }
    this.filedUnder.delete(name);
    if (event === 'delete') return;
    const key = s.spec.owner ? ownerKey(s.spec.owner) : undefined;
    this.filedUnder.set(name, key);
    if (key === undefined) return;
    let bucket = this.byOwner.get(key);
    if (!bucket) this.byOwner.set(key, (bucket = new Map()));
    bucket.set(name, s);
  }

  /**
   * The owner's sessions by name (the order `sessions` has always had). Sorting per call costs
   * only the owner's own sessions, which the per-user quota bounds.
   */
  of(owner: SessionOwner): VDISession[] {
    const bucket = this.byOwner.get(ownerKey(owner));
    if (!bucket) return [];
    // ownedBy again: the same test the unindexed filter made, so the answer cannot differ.
    return [...bucket.values()]
      .filter((s) => ownedBy(s, owner))
      .sort((a, b) => byLocaleName(a.metadata.name!, b.metadata.name!));
  }

  /** Owners with at least one session (for tests and metrics). */
  get owners(): number {
    return this.byOwner.size;
  }
}

// ---------------------------------------------------------------------------------------------
// All sessions, in page order

/** Where a session sits in page order: newest first, then by name. */
export interface PagePosition {
  /** metadata.creationTimestamp in milliseconds (it never changes for one session). */
  created: number;
  name: string;
}

/** Page order: newest first (what an admin looks for), ties by name (code units, locale-free). */
export function comparePositions(a: PagePosition, b: PagePosition): number {
  if (a.created !== b.created) return b.created - a.created;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** A session's place in page order. */
export const positionOf = (s: VDISession): PagePosition => ({
  created: millis(s.metadata.creationTimestamp),
  name: s.metadata.name!,
});

export interface Page<T> {
  items: T[];
  /** Position of the last item when more follow; undefined on the last page. */
  next: PagePosition | undefined;
  total: number;
}

/** A page of a short list (one owner's sessions): sorted per call, which costs only that list. */
export function pageOf(
  sessions: readonly VDISession[],
  first: number,
  after?: PagePosition,
): Page<VDISession> {
  const sorted = sessions
    .map((s) => ({ s, pos: positionOf(s) }))
    .sort((a, b) => comparePositions(a.pos, b.pos))
    .filter((e) => !after || comparePositions(e.pos, after) > 0);
  const slice = sorted.slice(0, first);
  return {
    items: slice.map((e) => e.s),
    next: sorted.length > slice.length && slice.length > 0 ? slice[slice.length - 1]!.pos : undefined,
    total: sessions.length,
  };
}

/**
 * Every session of the namespace kept sorted in page order (binary-search insertion: an event
 * costs O(log n) comparisons and one array move), so a page is a binary search and a slice.
 * A cursor is a position, not an index: a walk neither repeats nor skips a session when others
 * are created (they sort before every cursor, being newer) or deleted meanwhile.
 */
export class SessionsInPageOrder implements CacheIndex<VDISession> {
  private readonly order: PagePosition[] = [];
  private readonly byName = new Map<string, { pos: PagePosition; session: VDISession }>();
  private version = 0;
  private byNameMemo: { version: number; list: VDISession[] } | undefined;

  apply(event: CacheEvent, s: VDISession): void {
    const name = s.metadata.name!;
    const old = this.byName.get(name);
    this.version++;
    if (event === 'delete') {
      if (old) this.remove(old.pos);
      this.byName.delete(name);
      return;
    }
    const pos = positionOf(s);
    // The same name with another creation time is a new session (deleted and made again while
    // the watch was away): move it.
    if (old && comparePositions(old.pos, pos) !== 0) this.remove(old.pos);
    if (!old || comparePositions(old.pos, pos) !== 0) this.order.splice(this.firstAfter(pos, true), 0, pos);
    this.byName.set(name, { pos, session: s });
  }

  get size(): number {
    return this.order.length;
  }

  /** Up to `first` sessions after `after` (from the start without it). */
  page(first: number, after?: PagePosition): Page<VDISession> {
    const start = after ? this.firstAfter(after, false) : 0;
    const slice = this.order.slice(start, start + first);
    const more = start + slice.length < this.order.length;
    return {
      items: slice.map((p) => this.byName.get(p.name)!.session),
      next: more && slice.length > 0 ? slice[slice.length - 1] : undefined,
      total: this.order.length,
    };
  }

  /**
   * Every session sorted by name, as `sessions(all: true)` has always answered: sorted at most
   * once per change of the cache, however many admins ask.
   */
  allByName(): VDISession[] {
    if (this.byNameMemo?.version !== this.version) {
      const list = [...this.byName.values()]
        .map((e) => e.session)
        .sort((a, b) => byLocaleName(a.metadata.name!, b.metadata.name!));
      this.byNameMemo = { version: this.version, list };
    }
    return this.byNameMemo.list;
  }

  private remove(pos: PagePosition): void {
    const i = this.firstAfter(pos, true);
    if (i < this.order.length && comparePositions(this.order[i]!, pos) === 0) this.order.splice(i, 1);
  }

  /** Index of the first position > p (or ≥ p with `inclusive`). */
  private firstAfter(p: PagePosition, inclusive: boolean): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = comparePositions(this.order[mid]!, p);
      if (c < 0 || (!inclusive && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

// ---------------------------------------------------------------------------------------------
// Waiting sessions (capacity.sessionsWaiting)

/** The number of sessions waiting for a place, by session-spec's own `waitingSessions` test. */
export class WaitingSessions implements CacheIndex<VDISession> {
  private readonly waiting = new Set<string>();

  apply(event: CacheEvent, s: VDISession): void {
    const name = s.metadata.name!;
    if (event !== 'delete' && waitingSessions([s]) === 1) this.waiting.add(name);
    else this.waiting.delete(name);
  }

  get count(): number {
    return this.waiting.size;
  }
}

// ---------------------------------------------------------------------------------------------
// GPU capacity

/**
 * GPU time-slices per node, kept by pod and node events: session-spec's SliceLedger (the same
 * count the operator keeps) remembers each pod's hold, so a change adjusts one node's count. The
 * summary (`capacity`) costs O(nodes) and is memoised until the next change, so requests between
 * changes compute nothing.
 */
export class GpuSlices {
  private readonly nodes = new Map<string, V1Node>();
  private readonly ledger: SliceLedger;
  private version = 0;
  private memo: { version: number; value: GpuCapacity } | undefined;

  constructor(resource: string) {
    this.ledger = new SliceLedger(resource);
  }

  readonly podEvents: CacheIndex<V1Pod> = {
    apply: (event, pod) => {
      const changed = event === 'delete' ? this.ledger.gone(pod) : this.ledger.pod(pod);
      if (changed) this.version++;
    },
  };

  readonly nodeEvents: CacheIndex<V1Node> = {
    apply: (event, node) => {
      const name = node.metadata?.name ?? '';
      if (event === 'delete') this.nodes.delete(name);
      else this.nodes.set(name, node);
      this.version++;
    },
  };

  summary(): GpuCapacity {
    if (this.memo?.version !== this.version) {
      this.memo = { version: this.version, value: this.ledger.capacity([...this.nodes.values()]) };
    }
    return this.memo.value;
  }
}

// ---------------------------------------------------------------------------------------------
// The GPU queue (Session.queuePosition)

/**
 * What the queue order needs, and nothing more: the sessions that wait for a slice and the
 * desktop pods not placed yet. Positions (capacity/queue.ts, unchanged) are computed from these
 * at most once per change of either, so resolving `queuePosition` for a whole list costs one
 * lookup per session instead of a pass over every session and pod for each.
 */
export class GpuQueue {
  private readonly queued = new Map<string, VDISession>();
  private readonly waitingPods = new Map<string, V1Pod>();
  private version = 0;
  private memo: { version: number; value: Map<string, number> } | undefined;

  readonly sessionEvents: CacheIndex<VDISession> = {
    apply: (event, s) => {
      const name = s.metadata.name!;
      const was = this.queued.has(name);
      if (event !== 'delete' && isQueued(s)) this.queued.set(name, s);
      else this.queued.delete(name);
      // A session that neither waits nor waited changes no position.
      if (was || this.queued.has(name)) this.version++;
    },
  };

  readonly podEvents: CacheIndex<V1Pod> = {
    apply: (event, pod) => {
      const key = keyOf(pod);
      const was = this.waitingPods.has(key);
      // queuePositions' own filter: a desktop pod the scheduler has not placed yet.
      const waits =
        event !== 'delete' &&
        !!pod.metadata?.labels?.[LABEL_SESSION] &&
        !pod.spec?.nodeName &&
        !pod.metadata?.deletionTimestamp;
      if (waits) this.waitingPods.set(key, pod);
      else this.waitingPods.delete(key);
      if (was || waits) this.version++;
    },
  };

  /** Positions by session name (1 = served next). */
  positions(): Map<string, number> {
    if (this.memo?.version !== this.version) {
      this.memo = {
        version: this.version,
        value: queuePositions([...this.queued.values()], [...this.waitingPods.values()]),
      };
    }
    return this.memo.value;
  }
}

// ---------------------------------------------------------------------------------------------
// All of the above, fed by the caches

/** The API's indexes, each fed the events of the caches it reads (see ApiCaches). */
export class ApiIndexes {
  readonly sessionsByOwner = new SessionsByOwner();
  readonly sessionsInPageOrder = new SessionsInPageOrder();
  readonly waitingSessions = new WaitingSessions();
  readonly gpuQueue = new GpuQueue();
  readonly gpuSlices: GpuSlices;

  constructor(gpuResource: string) {
    this.gpuSlices = new GpuSlices(gpuResource);
  }

  readonly sessionEvents: CacheIndex<VDISession> = fanOut<VDISession>(() => [
    this.sessionsByOwner,
    this.sessionsInPageOrder,
    this.waitingSessions,
    this.gpuQueue.sessionEvents,
  ]);
  readonly podEvents: CacheIndex<V1Pod> = fanOut<V1Pod>(() => [
    this.gpuSlices.podEvents,
    this.gpuQueue.podEvents,
  ]);
  readonly nodeEvents: CacheIndex<V1Node> = fanOut<V1Node>(() => [this.gpuSlices.nodeEvents]);
}

function fanOut<T>(indexes: () => CacheIndex<T>[]): CacheIndex<T> {
  return { apply: (event, obj) => indexes().forEach((i) => i.apply(event, obj)) };
}
