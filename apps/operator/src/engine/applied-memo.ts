/**
 * ChildWriter's memo of what was applied, per child: kind → namespace → name → entry. With 5000
 * sessions it holds 35000 entries, and a `Kind/namespace/name` key string made per child was most
 * of its memory (3.6 MB of the operator's heap at 2000 sessions): nested maps need no key of their
 * own, and the names and values kept are the cached children's own strings where there is one.
 */
export interface AppliedChild {
  /** The hash of the desired object (the child's ANNOTATION_APPLIED). */
  hash: string;
  /** The child's version after our apply, or as found in the cache. */
  resourceVersion: string;
  /** When this process applied it (ms); 0 when the entry records a cached child found current. */
  at: number;
}

/** Which child: its kind, namespace and name. */
export interface ChildId {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
}

export class AppliedMemo {
  private readonly byKind = new Map<string, Map<string, Map<string, AppliedChild>>>();
  private count = 0;

  get(id: ChildId): AppliedChild | undefined {
    return this.byKind
      .get(id.kind ?? '')
      ?.get(id.metadata?.namespace ?? '')
      ?.get(id.metadata?.name ?? '');
  }

  set(id: ChildId, entry: AppliedChild): void {
    const kind = id.kind ?? '';
    const namespace = id.metadata?.namespace ?? '';
    let namespaces = this.byKind.get(kind);
    if (!namespaces) this.byKind.set(kind, (namespaces = new Map()));
    let names = namespaces.get(namespace);
    if (!names) namespaces.set(namespace, (names = new Map()));
    const name = id.metadata?.name ?? '';
    if (!names.has(name)) this.count++;
    names.set(name, entry);
  }

  delete(id: ChildId): void {
    const namespace = id.metadata?.namespace ?? '';
    const namespaces = this.byKind.get(id.kind ?? '');
    const names = namespaces?.get(namespace);
    if (!names?.delete(id.metadata?.name ?? '')) return;
    this.count--;
    if (names.size === 0) namespaces!.delete(namespace);
  }

  clear(): void {
    this.byKind.clear();
    this.count = 0;
  }

  /** Children remembered. */
  get size(): number {
    return this.count;
  }
}
