/**
 * Hashes and HMACs the renderers derive from a session's uid or owner (its desktop password, its
 * TURN REST key, its owner's hash), kept for the sessions in use. The
 * operator renders a session's objects again on every reconcile and every resync: in a profile of
 * the 500-session burst these derivations cost 0.12 ms a reconcile, most of it node:crypto, and a
 * resync of 5000 unchanged sessions renders them all. Bounded (least recently used first), so a
 * cluster with more sessions than fit only derives more often.
 */
import { LRUCache } from 'lru-cache';

/** Entries kept: two or three per session in use (at 5000 sessions about 2 MB). */
const MAX = 16_384;

const cache = new LRUCache<string, { secret: string; value: string }>({ max: MAX });

/**
 * `derive()`'s value for `input` under `secret` (the platform's session key, or '' for a plain
 * hash): computed once while it stays in use. `input` names the derivation and its subject
 * (`purpose:uid`); an entry made under another secret is derived again, never returned.
 */
export function derivedOnce(secret: string, input: string, derive: () => string): string {
  const hit = cache.get(input);
  if (hit && hit.secret === secret) return hit.value;
  const value = derive();
  cache.set(input, { secret, value });
  return value;
}
