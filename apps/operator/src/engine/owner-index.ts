/**
 * The cached sessions by their owner's hash (the label of the owner's per-user home claim): which
 * sessions an event of a per-user home wakes, without a walk over every cached session (a burst
 * of N new owners made that N² owner comparisons). Kept by the session cache's events (caches.ts),
 * before the engine's handlers see them.
 */
import type { VDISession } from '@vdi/crd-types';
import { sessionOwnerHash } from '@vdi/session-spec';

const keyOf = (s: VDISession) => `${s.metadata.namespace}/${s.metadata.name}`;

export class OwnerIndex {
  private readonly byHash = new Map<string, Set<string>>();
  /** Each indexed key's hash (an update that changed the owner moves the key). */
  private readonly hashOf = new Map<string, string>();

  /** A session was added or updated in the cache. */
  set(s: VDISession): void {
    const key = keyOf(s);
    const hash = sessionOwnerHash(s);
    const before = this.hashOf.get(key);
    if (before === hash) return;
    if (before !== undefined) this.remove(key, before);
    this.hashOf.set(key, hash);
    let keys = this.byHash.get(hash);
    if (!keys) this.byHash.set(hash, (keys = new Set()));
    keys.add(key);
  }

  /** A session left the cache. */
  delete(s: VDISession): void {
    const key = keyOf(s);
    const before = this.hashOf.get(key);
    if (before === undefined) return;
    this.hashOf.delete(key);
    this.remove(key, before);
  }

  /** The keys (`namespace/name`) of the cached sessions of the owner with this hash, in the order they came. */
  keys(hash: string): string[] {
    return [...(this.byHash.get(hash) ?? [])];
  }

  private remove(key: string, hash: string): void {
    const keys = this.byHash.get(hash);
    keys?.delete(key);
    if (keys?.size === 0) this.byHash.delete(hash);
  }
}
