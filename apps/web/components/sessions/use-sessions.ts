'use client';
/**
 * A live list of sessions: read once, then kept current by the sessionUpdated subscription (own
 * sessions, or everyone's for an admin with `all`), which starts with every session as it is then
 * (current: true), so nothing changed between the read and the subscription is missed. After a
 * reconnect the list is read again (a session deleted meanwhile sent no event). A read's answer
 * keeps the events that arrived while it was on its way (lib/api/live-merge.ts).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { subscribeLive, type LiveStatus } from '../../lib/api/live';
import { ChangesSinceRead, mergeRead, withSessionUpdate } from '../../lib/api/live-merge';
import {
  MY_SESSIONS,
  SESSION_UPDATED,
  type SessionUpdatedData,
  type SessionsData,
} from '../../lib/api/operations';
import type { Session } from '../../lib/api/types';
import { explainError } from '../../lib/errors';
import { byAgeThenName } from '../../lib/session-pages';
import { useAuth } from '../auth/auth-provider';

/** `query` must select `sessions` (and may select more, which `onData` receives). */
export function useSessions<T extends SessionsData = SessionsData>(opts: {
  all: boolean;
  query?: string;
  onData?(data: T): void;
}) {
  const { api } = useAuth();
  const { all, query = MY_SESSIONS, onData } = opts;
  const [sessions, setSessions] = useState<Session[]>();
  const [error, setError] = useState<string>();
  const [live, setLive] = useState<LiveStatus>('connecting');
  // A ref, so a caller's inline callback does not restart the subscription on every render.
  const onDataRef = useRef(onData);
  onDataRef.current = onData;

  const changes = useRef(new ChangesSinceRead());

  const reload = useCallback(async () => {
    const since = changes.current.begin();
    try {
      const data = await api.request<T>(query);
      const merged = mergeRead(data.sessions, since());
      setSessions(merged.sort(byAgeThenName));
      onDataRef.current?.(data);
      setError(undefined);
    } catch (err) {
      since();
      setError(explainError(err, { action: 'load the sessions' }));
    }
  }, [api, query]);

  useEffect(() => {
    void reload();
    return subscribeLive<SessionUpdatedData>(
      { url: api.wsUrl, token: api.token, query: SESSION_UPDATED, variables: all ? { all: true } : {} },
      {
        next: ({ sessionUpdated }) => {
          changes.current.record(sessionUpdated);
          // Before the first read has answered there is no list yet: the read takes the event.
          setSessions((list) => list && withSessionUpdate(list, sessionUpdated).sort(byAgeThenName));
        },
        status: setLive,
        resync: () => void reload(),
        error: (err) => setError(explainError(err, { action: 'follow the sessions live' })),
      },
    );
  }, [api, all, reload]);

  return { sessions, error, live, reload };
}
