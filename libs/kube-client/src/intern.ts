/**
 * One copy of each repeated string in the caches. JSON.parse makes a new string for every value
 * it reads, so 5000 sessions and their children hold thousands of copies of the same namespace,
 * template and user names, API versions, condition reasons and messages, and each session's uid
 * once more in every child's owner reference: about a third of the operator's cache memory in
 * the benchmark's heap snapshot. Interning swaps each string value of a cached object for the
 * pool's copy as the object arrives, so equal strings are stored once.
 *
 * The pool forgets what is no longer arriving: it keeps two generations and a string not seen
 * for a whole generation is dropped (strings still held by cached objects stay alive through
 * them; a later arrival simply becomes the new pooled copy). Its size is therefore bounded by
 * twice the generation size, whatever the cluster churns through.
 */

/** Strings unique to one object version: pooling them would cost a pool entry and save nothing. */
function uniqueToObject(key: string, parentKey: string | undefined): boolean {
  // Every write changes resourceVersion; an object's own uid and name appear once in it (owner
  // references and labels naming it, which repeat across its children, are pooled: their parent
  // key is not `metadata`).
  return key === 'resourceVersion' || (parentKey === 'metadata' && (key === 'uid' || key === 'name'));
}

export class StringPool {
  private young = new Map<string, string>();
  private old = new Map<string, string>();

  /** @param generation strings per generation before the older one is dropped */
  constructor(private readonly generation = 100_000) {}

  /** The pooled copy of `s` (`s` itself when it is new). */
  intern(s: string): string {
    const young = this.young.get(s);
    if (young !== undefined) return young;
    const pooled = this.old.get(s) ?? s;
    if (this.young.size >= this.generation) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(pooled, pooled);
    return pooled;
  }

  /** Strings the pool holds now (both generations). */
  get size(): number {
    let n = this.young.size;
    for (const s of this.old.keys()) if (!this.young.has(s)) n++;
    return n;
  }

  has(s: string): boolean {
    return this.young.has(s) || this.old.has(s);
  }

  /**
   * Replaces every string value in `value` (plain JSON: objects, arrays, strings, numbers,
   * booleans) with its pooled copy, in place, and returns `value`. Only for an object that
   * nothing else holds yet (a freshly parsed or freshly transformed one): equal strings replace
   * equal strings, so readers see no difference.
   */
  internAll<T>(value: T): T {
    this.walk(value as unknown, undefined);
    return value;
  }

  private walk(value: unknown, key: string | undefined): void {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        if (typeof v === 'string') value[i] = this.intern(v);
        else if (v !== null && typeof v === 'object') this.walk(v, undefined);
      }
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const obj = value as Record<string, unknown>;
    for (const k of Object.keys(obj)) {
      const v = obj[k];
      if (typeof v === 'string') {
        if (!uniqueToObject(k, key)) obj[k] = this.intern(v);
      } else if (v !== null && typeof v === 'object') this.walk(v, k);
    }
  }
}

/** The pool every cache of this process interns into (a session's uid in its children's owner references, one copy). */
export const cachePool = new StringPool();
