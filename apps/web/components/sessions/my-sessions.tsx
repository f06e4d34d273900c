'use client';
/** The user's own sessions, live: open a running one, extend one with a lifetime, delete any after a confirmation. */
import Link from 'next/link';
import { useState } from 'react';
import { EXTEND_SESSION, type ExtendSessionData } from '../../lib/api/operations';
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
  const [extendError, setExtendError] = useState<string>();
  // The live subscription shows the new end; only a refusal needs words here.
  const extend = async (name: string) => {
    setExtendError(undefined);
    try {
      await api.request<ExtendSessionData>(EXTEND_SESSION, { name, by: '1h' });
    } catch (err) {
      setExtendError(explainError(err, { action: `extend ${name}`, session: name }));
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
      {extendError && <Alert>{extendError}</Alert>}
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
          onExtend={(s) => void extend(s.name)}
        />
      )}
      {del.dialog}
    </>
  );
}
