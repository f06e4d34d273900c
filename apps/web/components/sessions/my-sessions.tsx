'use client';
/**
 * The user's own sessions, live: open a running one, extend one with a lifetime, stop one (its
 * desktop ends, the session and its home stay) and resume it, delete any after a confirmation.
 */
import Link from 'next/link';
import { Alert } from '../ui/alert';
import { useNow } from '../ui/use-now';
import { useDeleteSession } from './delete-session';
import { SessionTable } from './session-table';
import { useOpenSession } from './use-open-session';
import { useSessionActions } from './use-session-actions';
import { useSessions } from './use-sessions';

export function MySessions() {
  const { sessions, error } = useSessions({ all: false });
  const now = useNow();
  const { open, opening, error: openError } = useOpenSession();
  const del = useDeleteSession();
  const actions = useSessionActions();
  return (
    <>
      <div className="page-heading">
        <h1>My sessions</h1>
        <p className="muted">Your desktops, updated as they change.</p>
      </div>
      {error && <Alert>{error}</Alert>}
      {openError && <Alert>{openError.text}</Alert>}
      {actions.error && <Alert>{actions.error}</Alert>}
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
          onExtend={(s) => void actions.extend(s.name)}
          onStop={(s) => void actions.stop(s.name)}
          onResume={(s) => void actions.resume(s.name)}
        />
      )}
      {del.dialog}
    </>
  );
}
