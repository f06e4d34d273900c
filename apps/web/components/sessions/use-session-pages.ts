'use client';
/**
 * Everyone's sessions for the admin page, a page at a time (the API's `sessionPage(all: true)`,
 * newest first): the first page at once, more on `loadMore`, all of it kept current by the
 * sessionUpdated subscription (lib/session-pages.ts), which starts with every session as it is
 * then (current: true), so nothing changed between the read and the subscription is missed.
 * After a reconnect the list starts again from the first page; a read's answer keeps the events
 * that arrived while it was on its way (lib/api/live-merge.ts).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { subscribeLive, type LiveStatus } from '../../lib/api/live';
import { ChangesSinceRead } from '../../lib/api/live-merge';
import {
  ADMIN_PAGE_SIZE,
  ALL_SESSIONS_PAGE,
  SESSION_UPDATED,
  type SessionPageData,
  type SessionUpdatedData,
} from '../../lib/api/operations';
import { explainError } from '../../lib/errors';
import { firstPage, withPage, withUpdate, type PagedSessions } from '../../lib/session-pages';
import { useAuth } from '../auth/auth-provider';

/** `query` reads the first page (variable `$first`) and may select more, which `onData` receives. */
export function useSessionPages<T extends SessionPageData>(opts: { query: string; onData?(data: T): void }) {
  const { api } = useAuth();
  const { query, onData } = opts;
  const [list, setList] = useState<PagedSessions>();
  const [error, setError] = useState<string>();
  const [loadingMore, setLoadingMore] = useState(false);
  const [live, setLive] = useState<LiveStatus>('connecting');
  const onDataRef = useRef(onData);
  onDataRef.current = onData;
  // Bumped by every reload: a page asked for before it belongs to an older list and is dropped.
  const generation = useRef(0);
  const changes = useRef(new ChangesSinceRead());

  const reload = useCallback(async () => {
    const gen = ++generation.current;
    const since = changes.current.begin();
    try {
      const data = await api.request<T>(query, { first: ADMIN_PAGE_SIZE });
      const events = since();
      if (gen !== generation.current) return;
      setList([...events.values()].reduce((l, u) => withUpdate(l, u), firstPage(data.sessionPage)));
      onDataRef.current?.(data);
      setError(undefined);
    } catch (err) {
      since();
      setError(explainError(err, { action: 'load the sessions' }));
    }
  }, [api, query]);

  const loadMore = useCallback(async () => {
    const after = list?.nextCursor;
    if (!after || loadingMore) return;
    const gen = generation.current;
    setLoadingMore(true);
    try {
      const data = await api.request<SessionPageData>(ALL_SESSIONS_PAGE, { first: ADMIN_PAGE_SIZE, after });
      if (gen === generation.current) setList((l) => (l ? withPage(l, data.sessionPage) : l));
      setError(undefined);
    } catch (err) {
      setError(explainError(err, { action: 'load more sessions' }));
    } finally {
      setLoadingMore(false);
    }
  }, [api, list?.nextCursor, loadingMore]);

  useEffect(() => {
    void reload();
    return subscribeLive<SessionUpdatedData>(
      { url: api.wsUrl, token: api.token, query: SESSION_UPDATED, variables: { all: true } },
      {
        next: ({ sessionUpdated }) => {
          changes.current.record(sessionUpdated);
          setList((l) => (l ? withUpdate(l, sessionUpdated) : l));
        },
        status: setLive,
        resync: () => void reload(),
        error: (err) => setError(explainError(err, { action: 'follow the sessions live' })),
      },
    );
  }, [api, reload]);

  return {
    sessions: list?.sessions,
    totalCount: list?.totalCount,
    hasMore: !!list?.nextCursor,
    loadingMore,
    loadMore,
    error,
    live,
  };
}
