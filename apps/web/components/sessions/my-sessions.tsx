'use client';
/**
 * The user's own sessions, live: open a running one, extend one with a lifetime, stop one (its
 * desktop ends, the session and its home stay) and resume it, delete any after a confirmation.
 */
import Link from 'next/link';
import { useState } from 'react';
import {
  EXTEND_SESSION,
  RESUME_SESSION,
  STOP_SESSION,
  type ExtendSessionData,
  type ResumeSessionData,
  type StopSessionData,
} from '../../lib/api/operations';
import { explainError } from '../../lib/errors';
import { useAuth } from '../auth/auth-provider';
import { Alert } from '../ui/alert';
import { useNow } from '../ui/use-now';
import { useDeleteSession } from './delete-session';
import { SessionTable } from './session-table';
import { useOpenSession } from './use-open-session';
import { useSessions } from './use-sessions';

export function MySessions() {
  const { sessions, error } = useSessions({ all: false });
  const now = useNow();
  const { open, opening, error: openError } = useOpenSession();
  const del = useDeleteSession();
  const { api } = useAuth();
  const [actionError, setActionError] = useState<string>();
  // The live subscription shows the outcome (a new end, Stopped, Scheduling…); only a refusal
  // (a quota, a session gone) needs words here.
  const act = async <T,>(action: string, name: string, query: string, variables: Record<string, unknown>) => {
    setActionError(undefined);
    try {
      await api.request<T>(query, variables);
    } catch (err) {
      setActionError(explainError(err, { action: `${action} ${name}`, session: name }));
    }
  };
  return (
    <>
      <div className="page-heading">
        <h1>My sessions</h1>
        <p className="muted">Your desktops, updated as they change.</p>
      </div>
      {error && <Alert>{error}</Alert>}
      {openError && <Alert>{openError.text}</Alert>}
      {actionError && <Alert>{actionError}</Alert>}
      {!sessions && !error && (
        <p className="muted" role="status">
          Loading your sessions…
        </p>
      )}
      {sessions && sessions.length === 0 && (
        <p className="panel">
          You have no sessions. <Link href="/">Launch a desktop</Link>.
        </p>
      )}
      {sessions && sessions.length > 0 && (
        <SessionTable
          sessions={sessions}
          now={now}
          caption="My sessions"
          {...(opening ? { opening } : {})}
          onOpen={(name) => void open(name)}
          onDelete={del.ask}
          onExtend={(s) =>
            void act<ExtendSessionData>('extend', s.name, EXTEND_SESSION, { name: s.name, by: '1h' })
          }
          onStop={(s) => void act<StopSessionData>('stop', s.name, STOP_SESSION, { name: s.name })}
          onResume={(s) => void act<ResumeSessionData>('resume', s.name, RESUME_SESSION, { name: s.name })}
        />
      )}
      {del.dialog}
    </>
  );
}
