/**
 * A page's read of its sessions (a query) and the sessionUpdated events, put together. The page
 * subscribes with `current: true`, so the subscription starts with every session it covers as it
 * is then (CURRENT events) and goes on with each change: it misses nothing that happened after
 * the read was answered. The read is for the first paint and for sessions deleted while the
 * subscription was away (after a reconnect).
 *
 * The read and the events race: an answer may arrive after events that are newer than it. So
 * each read records the events that arrive while it is on its way, and its answer is taken with
 * those on top — for each session, an event since the read was sent wins over the read, as it is
 * as new or newer (the API sends every change, coalesced to the newest; a later one follows).
 */
import type { Session, SessionUpdate } from './types';

/** The events that arrived while reads were on their way, per read, the newest per session. */
export class ChangesSinceRead {
  private readonly open = new Set<Map<string, SessionUpdate>>();

  /**
   * A read is sent. Call the returned function once its answer (or error) arrives: it gives the
   * events since, and stops recording for this read.
   */
  begin(): () => ReadonlyMap<string, SessionUpdate> {
    const since = new Map<string, SessionUpdate>();
    this.open.add(since);
    return () => {
      this.open.delete(since);
      return since;
    };
  }

  /** An event arrived (any type; the newest per session is kept). */
  record(u: SessionUpdate): void {
    for (const since of this.open) {
      since.delete(u.session.name); // the newest last, so replaying keeps the order of arrival
      since.set(u.session.name, u);
    }
  }
}

/** One event applied to a list: DELETED removes the session; the others add or replace it. */
export function withSessionUpdate(list: readonly Session[], { type, session }: SessionUpdate): Session[] {
  const rest = list.filter((s) => s.name !== session.name);
  return type === 'DELETED' ? rest : [...rest, session];
}

/**
 * A read list with the events since it was sent on top: a session deleted since stays deleted
 * (it is not shown again), one changed or added since is shown once, as the event has it.
 */
export function mergeRead(read: readonly Session[], since: ReadonlyMap<string, SessionUpdate>): Session[] {
  const changed = [...since.values()].filter((u) => u.type !== 'DELETED').map((u) => u.session);
  return [...read.filter((s) => !since.has(s.name)), ...changed];
}
