/**
 * How many sessions use each template (`Template.sessionCount`, and whether deleteTemplate may
 * delete one), kept by the session cache's events: one counter per template, so `templates`
 * costs one lookup per template, never a pass over every session. A session's template cannot
 * change (the CRD's rule), but the same name may come back with another one (deleted and made
 * again while the watch was away): each session is remembered under the template it was counted
 * for. Pure: unit-tested beside it.
 */
import type { VDISession } from '@vdi/crd-types';
import type { CacheEvent, CacheIndex } from '../kube/indexes.js';

export class SessionsByTemplate implements CacheIndex<VDISession> {
  private readonly counts = new Map<string, number>();
  /** Session key (namespace/name) → the template it is counted for. */
  private readonly countedFor = new Map<string, string>();

  apply(event: CacheEvent, s: VDISession): void {
    const key = `${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''}`;
    const before = this.countedFor.get(key);
    if (before !== undefined) {
      const n = (this.counts.get(before) ?? 1) - 1;
      if (n > 0) this.counts.set(before, n);
      else this.counts.delete(before);
      this.countedFor.delete(key);
    }
    if (event === 'delete' || !s.spec?.template) return;
    this.countedFor.set(key, s.spec.template);
    this.counts.set(s.spec.template, (this.counts.get(s.spec.template) ?? 0) + 1);
  }

  /** Sessions of `template` (any phase, stopped ones and those being deleted included). */
  count(template: string): number {
    return this.counts.get(template) ?? 0;
  }
}
