/**
 * A list of sessions loaded a page at a time (the API's `sessionPage`, newest first) and kept
 * current by `sessionUpdated` events. Pure, so the admin page only renders what this returns.
 *
 * Live events and pages meet in two places: a new session is newer than every loaded one, so it
 * belongs in the list at once; a change to a session on a page not loaded yet is left to that
 * page (showing it now would leave a gap before it). A page loaded after live events keeps the
 * live state of the sessions it shares with the list.
 */
import type { Session, SessionPage, SessionUpdate } from './api/types';

export interface PagedSessions {
  /** Newest first, ties by name (as the API pages them). */
  sessions: Session[];
  /** Where the next page starts; null when every page is loaded. */
  nextCursor: string | null;
  /** Sessions in the whole list, as the API last counted them and live events since. */
  totalCount: number;
}

/** Newest first, then by name: the order of the API's pages, and of every session list here. */
export const byAgeThenName = (a: Session, b: Session) =>
  (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || a.name.localeCompare(b.name);

export function firstPage(page: SessionPage): PagedSessions {
  return {
    sessions: [...page.items].sort(byAgeThenName),
    nextCursor: page.nextCursor ?? null,
    totalCount: page.totalCount,
  };
}

/** The next page added; sessions already listed keep their (live) state. */
export function withPage(list: PagedSessions, page: SessionPage): PagedSessions {
  const known = new Set(list.sessions.map((s) => s.name));
  return {
    sessions: [...list.sessions, ...page.items.filter((s) => !known.has(s.name))].sort(byAgeThenName),
    nextCursor: page.nextCursor ?? null,
    totalCount: page.totalCount,
  };
}

/** Whether `s` sorts among the loaded pages: every page is loaded, or it comes before the last listed. */
function withinLoaded(list: PagedSessions, s: Session): boolean {
  const last = list.sessions[list.sessions.length - 1];
  return list.nextCursor === null || (last !== undefined && byAgeThenName(s, last) < 0);
}

export function withUpdate(list: PagedSessions, { type, session }: SessionUpdate): PagedSessions {
  const listed = list.sessions.some((s) => s.name === session.name);
  const rest = list.sessions.filter((s) => s.name !== session.name);
  switch (type) {
    case 'DELETED':
      // Listed or on a page not loaded yet: either way one fewer in the whole list.
      return { ...list, sessions: rest, totalCount: Math.max(0, list.totalCount - 1) };
    case 'ADDED':
      return {
        ...list,
        sessions: [...rest, session].sort(byAgeThenName),
        totalCount: list.totalCount + (listed ? 0 : 1),
      };
    case 'MODIFIED':
      return listed ? { ...list, sessions: [...rest, session].sort(byAgeThenName) } : list;
    case 'CURRENT':
      // The session as the subscription started. Listed: it takes that state. Not listed but
      // within the loaded pages: it is newer than the page that would have had it, so it is
      // new (one more). Further down: left to its page, like a change.
      if (listed) return { ...list, sessions: [...rest, session].sort(byAgeThenName) };
      if (!withinLoaded(list, session)) return list;
      return {
        ...list,
        sessions: [...rest, session].sort(byAgeThenName),
        totalCount: list.totalCount + 1,
      };
  }
}
