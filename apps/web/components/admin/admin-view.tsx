'use client';
/**
 * The admin page: GPU capacity per node (re-read every few seconds) and every user's sessions
 * (live), each of which can be deleted. The API enforces the admin role; this page only explains
 * when the user does not have it.
 */
import { useCallback, useEffect, useState } from 'react';
import { ADMIN, ADMIN_CAPACITY, type AdminData, type CapacityData } from '../../lib/api/operations';
import type { Capacity } from '../../lib/api/types';
import { capacitySummary } from '../../lib/availability';
import { explainError } from '../../lib/errors';
import { useAuth } from '../auth/auth-provider';
import { useDeleteSession } from '../sessions/delete-session';
import { SessionTable } from '../sessions/session-table';
import { useOpenSession } from '../sessions/use-open-session';
import { useSessions } from '../sessions/use-sessions';
import { Alert } from '../ui/alert';
import { useNow } from '../ui/use-now';

const CAPACITY_REFRESH_MS = 5_000;

export function AdminView() {
  const { user } = useAuth();
  if (!user?.isAdmin) {
    return (
      <>
        <h1>Admin</h1>
        <Alert>
          This page is for platform admins. You are logged in as {user?.username ?? 'someone'}, who is not
          one.
        </Alert>
      </>
    );
  }
  return <AdminPanels />;
}

function AdminPanels() {
  const { api } = useAuth();
  const now = useNow();
  const [capacity, setCapacity] = useState<Capacity>();
  const [capacityError, setCapacityError] = useState<string>();
  const onData = useCallback((d: AdminData) => setCapacity(d.capacity), []);
  const { sessions, error } = useSessions<AdminData>({ all: true, query: ADMIN, onData });
  const { open, opening, error: openError } = useOpenSession();
  const del = useDeleteSession();

  useEffect(() => {
    const refresh = async () => {
      try {
        setCapacity((await api.request<CapacityData>(ADMIN_CAPACITY)).capacity);
        setCapacityError(undefined);
      } catch (err) {
        setCapacityError(explainError(err, { action: 'read the capacity' }));
      }
    };
    const t = setInterval(() => void refresh(), CAPACITY_REFRESH_MS);
    return () => clearInterval(t);
  }, [api]);

  return (
    <>
      <div className="page-heading">
        <h1>Admin</h1>
        {capacity && (
          <p className="muted">
            {capacitySummary(capacity)} · {capacity.nvencSlicesFree} with hardware video encoding (NVENC) ·{' '}
            {capacity.sessionsWaiting} {capacity.sessionsWaiting === 1 ? 'session' : 'sessions'} waiting
          </p>
        )}
      </div>
      <section aria-labelledby="capacity-heading" className="section">
        <h2 id="capacity-heading">GPU capacity per node</h2>
        {capacityError && <Alert>{capacityError}</Alert>}
        {capacity?.nodes && capacity.nodes.length === 0 && (
          <p className="panel">No GPU nodes are registered.</p>
        )}
        {capacity?.nodes && capacity.nodes.length > 0 && (
          <table className="table node-table">
            <caption className="visually-hidden">GPU time-slices per node</caption>
            <thead>
              <tr>
                <th scope="col">Node</th>
                <th scope="col">GPU</th>
                <th scope="col">Time-slices free</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {capacity.nodes.map((n) => (
                <tr key={n.name} data-node={n.name}>
                  <th scope="row" data-label="Node">
                    {n.name}
                  </th>
                  <td data-label="GPU">
                    {n.product}
                    {n.nvenc ? ' (NVENC)' : ''}
                  </td>
                  <td data-label="Time-slices free">
                    <span className="slices">
                      <meter min={0} max={Math.max(1, n.total)} value={n.free} aria-hidden="true" />
                      <span>
                        {n.free} of {n.total}
                      </span>
                    </span>
                  </td>
                  <td data-label="State">{!n.ready ? 'Not ready' : !n.schedulable ? 'Cordoned' : 'Ready'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-labelledby="sessions-heading" className="section">
        <h2 id="sessions-heading">All sessions</h2>
        {error && <Alert>{error}</Alert>}
        {openError && <Alert>{openError.text}</Alert>}
        {sessions && sessions.length === 0 && <p className="panel">Nobody has a session right now.</p>}
        {sessions && sessions.length > 0 && (
          <SessionTable
            sessions={sessions}
            now={now}
            showOwner
            caption="All sessions"
            {...(opening ? { opening } : {})}
            onOpen={(name) => void open(name)}
            onDelete={del.ask}
          />
        )}
      </section>
      {del.dialog}
    </>
  );
}
