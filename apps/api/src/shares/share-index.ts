/**
 * The shares of the sessions namespace indexed by session and by grantee, kept from the share
 * watch's add/update/delete events (share-cache.ts) so forward-auth's lookup is one map read,
 * never a pass over every share. Also says what changed for the reactions (close connections,
 * events): a share gone or a role changed, with the role whose pages must close.
 */
import type { ShareRole, VDIShare } from '@vdi/crd-types';

export type ShareEvent = 'add' | 'update' | 'delete';

/** What an event changed that open desktop connections must follow. */
export type ShareChange =
  | { kind: 'granted'; share: VDIShare }
  | { kind: 'revoked'; share: VDIShare; closeRole: ShareRole }
  | { kind: 'roleChanged'; share: VDIShare; closeRole: ShareRole }
  | { kind: 'expiryChanged'; share: VDIShare }
  | { kind: 'none' };

/** The grantee key of a share: `user:<subject or username>` or `group:<group>`. */
export function granteeKeys(share: VDIShare): string[] {
  const g = share.spec.grantee;
  if (g.user !== undefined) return [`user:${g.user}`, ...(g.subject ? [`sub:${g.subject}`] : [])];
  return g.group !== undefined ? [`group:${g.group}`] : [];
}

export class ShareIndex {
  /** session name → share name → share */
  private readonly bySession = new Map<string, Map<string, VDIShare>>();
  /** grantee key → share name → share */
  private readonly byGrantee = new Map<string, Map<string, VDIShare>>();
  /** share name → share (what the index holds now, to undo on update/delete) */
  private readonly byName = new Map<string, VDIShare>();

  /** Applies one watch event; says what it changed for connections. */
  apply(event: ShareEvent, share: VDIShare): ShareChange {
    const name = share.metadata.name!;
    const before = this.byName.get(name);
    if (before) this.remove(before);
    if (event === 'delete') {
      const gone = before ?? share;
      return { kind: 'revoked', share: gone, closeRole: gone.spec.role };
    }
    this.insert(share);
    if (!before) return { kind: 'granted', share };
    // A share replaced by a new one of the same name (deleted and made again) is a new grant.
    if (before.metadata.uid !== share.metadata.uid) return { kind: 'granted', share };
    if (before.spec.role !== share.spec.role)
      return { kind: 'roleChanged', share, closeRole: before.spec.role };
    if (before.spec.expiresAt !== share.spec.expiresAt) return { kind: 'expiryChanged', share };
    return { kind: 'none' };
  }

  /** The shares of one session (live or not: the caller decides). */
  ofSession(session: string): Iterable<VDIShare> {
    return this.bySession.get(session)?.values() ?? [];
  }

  /** The shares naming a user (by username or subject) or one of the groups. */
  ofGrantee(who: { username: string; subject: string; groups: readonly string[] }): VDIShare[] {
    const seen = new Map<string, VDIShare>();
    for (const key of [`user:${who.username}`, `sub:${who.subject}`, ...who.groups.map((g) => `group:${g}`)])
      for (const [n, s] of this.byGrantee.get(key) ?? []) seen.set(n, s);
    return [...seen.values()];
  }

  get size(): number {
    return this.byName.size;
  }

  private insert(share: VDIShare): void {
    const name = share.metadata.name!;
    this.byName.set(name, share);
    add(this.bySession, share.spec.session, name, share);
    for (const k of granteeKeys(share)) add(this.byGrantee, k, name, share);
  }

  private remove(share: VDIShare): void {
    const name = share.metadata.name!;
    this.byName.delete(name);
    del(this.bySession, share.spec.session, name);
    for (const k of granteeKeys(share)) del(this.byGrantee, k, name);
  }
}

function add(m: Map<string, Map<string, VDIShare>>, key: string, name: string, s: VDIShare): void {
  let inner = m.get(key);
  if (!inner) m.set(key, (inner = new Map()));
  inner.set(name, s);
}

function del(m: Map<string, Map<string, VDIShare>>, key: string, name: string): void {
  const inner = m.get(key);
  if (!inner) return;
  inner.delete(name);
  if (inner.size === 0) m.delete(key);
}
