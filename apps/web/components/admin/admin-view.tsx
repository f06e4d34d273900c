'use client';
/**
 * The admin page: GPU capacity per node (re-read every few seconds) and every user's sessions
 * (newest first, a page at a time, live), each of which can be deleted; a link to the templates
 * page (template-admin.tsx). The API enforces the admin role; this page only explains
 * when the user does not have it.
 */
import Link from 'next/link';
import { useCallback } from 'react';
import {
  ADMIN,
  ADMIN_CAPACITY,
  ADMIN_USAGES,
  type AdminData,
  type CapacityData,
  type UsagesData,
} from '../../lib/api/operations';
import type { Capacity, GpuUsage } from '../../lib/api/types';
import { capacitySummary } from '../../lib/availability';
import { hours, renewalDate } from '../../lib/usage';
import { AdminOnly } from './admin-only';
import { useDeleteSession } from '../sessions/delete-session';
import { SessionTable } from '../sessions/session-table';
import { useOpenSession } from '../sessions/use-open-session';
import { useSessionPages } from '../sessions/use-session-pages';
import { Alert } from '../ui/alert';
import { useNow } from '../ui/use-now';
import { usePolled } from '../ui/use-polled';

const CAPACITY_REFRESH_MS = 5_000;
/** GPU usage is counted by the operator about once a minute. */
const USAGE_REFRESH_MS = 30_000;
const pickCapacity = (d: CapacityData) => d.capacity;
const pickUsages = (d: UsagesData) => d.usages;

export function AdminView() {
  return (
    <AdminOnly title="Admin">
      <AdminPanels />
    </AdminOnly>
  );
}

function AdminPanels() {
  const now = useNow();
  const polled = usePolled<CapacityData, Capacity>(ADMIN_CAPACITY, pickCapacity, {
    intervalMs: CAPACITY_REFRESH_MS,
    action: 'read the capacity',
    // The first answer comes with the sessions (ADMIN).
    immediately: false,
  });
  const { value: capacity, error: capacityError, set: setCapacity } = polled;
  const onData = useCallback((d: AdminData) => setCapacity(d.capacity), [setCapacity]);
  const { sessions, totalCount, hasMore, loadingMore, loadMore, error } = useSessionPages<AdminData>({
    query: ADMIN,
    onData,
  });
  const { open, opening, error: openError } = useOpenSession();
  const del = useDeleteSession();
  const { value: usages, error: usageError } = usePolled<UsagesData, GpuUsage[]>(ADMIN_USAGES, pickUsages, {
    intervalMs: USAGE_REFRESH_MS,
    action: 'read the GPU usage',
  });

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
        <p>
          <Link href="/admin/templates">Manage templates</Link>: create, edit, retire and restore the desktops
          users can launch, and see their status and sessions.
        </p>
        <p>
          <Link href="/admin/pools">Warm pools</Link>: keep desktops of a template started, so new sessions of
          it are ready at once.
        </p>
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
      <section aria-labelledby="usage-heading" className="section">
        <h2 id="usage-heading">GPU usage this period</h2>
        {usageError && <Alert>{usageError}</Alert>}
        {usages && usages.length === 0 && <p className="panel">Nobody has used a GPU yet.</p>}
        {usages && usages.length > 0 && <UsageTable usages={usages} />}
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
        {sessions && sessions.length > 0 && (
          <p className="muted" aria-live="polite">
            {hasMore
              ? `Showing the newest ${sessions.length} of ${totalCount} sessions.`
              : `${sessions.length} ${sessions.length === 1 ? 'session' : 'sessions'}.`}{' '}
            {hasMore && (
              <button
                type="button"
                className="button button-small"
                disabled={loadingMore}
                onClick={() => void loadMore()}
              >
                {loadingMore ? 'Loading…' : 'Show more'}
              </button>
            )}
          </p>
        )}
      </section>
      {del.dialog}
    </>
  );
}

/** Every user's GPU time this budget period, most used first (the API's order). */
function UsageTable({ usages }: { usages: GpuUsage[] }) {
  return (
    <table className="table usage-table">
      <caption className="visually-hidden">GPU time-slice hours per user this budget period</caption>
      <thead>
        <tr>
          <th scope="col">User</th>
          <th scope="col">Used</th>
          <th scope="col">Budget</th>
          <th scope="col">Renews</th>
          <th scope="col">Time-slices held</th>
        </tr>
      </thead>
      <tbody>
        {usages.map((u) => (
          <tr key={u.user} data-usage-user={u.user} className={u.exhausted ? 'is-exhausted' : undefined}>
            <th scope="row" data-label="User">
              {u.user}
            </th>
            <td data-label="Used">
              {hours(u.gpuHoursUsed)}
              {u.exhausted ? ' (used up)' : ''}
            </td>
            <td data-label="Budget">
              {u.gpuHoursBudget == null
                ? 'none'
                : `${hours(u.gpuHoursBudget)} a ${u.period.toLowerCase()}${u.rule ? ` (${u.rule})` : ''}`}
            </td>
            <td data-label="Renews">{renewalDate(u.renewsAt)}</td>
            <td data-label="Time-slices held">{u.slicesHeld}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
