'use client';
/**
 * Sessions as a table (cards on narrow screens): name, phase, template, age, time left, and
 * Open / Extend / Stop or Resume / Delete. With `showOwner` (the admin page) it adds the owner and the node.
 */
import Link from 'next/link';
import { formatAge, formatTimeLeft } from '../../lib/age';
import type { Session } from '../../lib/api/types';
import { reasonWords } from '../../lib/progress';
import { PhaseBadge } from './phase-badge';

export function SessionTable({
  sessions,
  now,
  showOwner = false,
  caption,
  opening,
  onOpen,
  onDelete,
  onExtend,
  onStop,
  onResume,
}: {
  sessions: Session[];
  now: number;
  showOwner?: boolean;
  caption: string;
  opening?: string;
  onOpen(name: string): void;
  onDelete(session: Session): void;
  /** Moves the session's end later (shown for sessions with a lifetime). */
  onExtend?(session: Session): void;
  /** Ends the desktop but keeps the session (shown while it is not stopped). */
  onStop?(session: Session): void;
  /** Starts a stopped session's desktop again. */
  onResume?(session: Session): void;
}) {
  return (
    <table className="table session-table">
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Session</th>
          {showOwner && <th scope="col">User</th>}
          <th scope="col">Template</th>
          <th scope="col">Phase</th>
          {showOwner && <th scope="col">Node</th>}
          <th scope="col">Age</th>
          <th scope="col">Ends</th>
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {sessions.map((s) => {
          const waiting = s.phase !== 'Running' && !s.deleting ? reasonWords(s.reason) : undefined;
          return (
            <tr key={s.name} data-session={s.name}>
              <th scope="row" data-label="Session">
                <Link href={`/sessions/${encodeURIComponent(s.name)}`}>{s.name}</Link>
              </th>
              {showOwner && (
                <td
                  data-label="User"
                  title={s.owner ? `subject ${s.owner.subject} of ${s.owner.issuer}` : undefined}
                >
                  {s.user}
                  {!s.owner && (
                    <span className="cell-note">unclaimed: from before owners, see the owner migration</span>
                  )}
                </td>
              )}
              <td data-label="Template">{s.template}</td>
              <td data-label="Phase">
                <PhaseBadge phase={s.phase} />
                {waiting && <span className="cell-note">{waiting}</span>}
              </td>
              {showOwner && <td data-label="Node">{s.nodeName ?? '—'}</td>}
              <td data-label="Age">
                <time dateTime={s.createdAt ?? undefined} title={s.createdAt ?? undefined}>
                  {formatAge(s.createdAt, now)}
                </time>
              </td>
              <td data-label="Ends">
                <time dateTime={s.expiresAt ?? undefined} title={s.expiresAt ?? undefined}>
                  {formatTimeLeft(s.expiresAt, now)}
                </time>
                {s.conditions.some((c) => c.type === 'ExpiringSoon' && c.status === 'True') &&
                  !s.deleting && <span className="cell-note">ending soon: extend it or save your work</span>}
                {s.idleUntil && s.phase === 'Running' && !s.deleting && (
                  <span className="cell-note">
                    nobody is watching it: stops{' '}
                    <time dateTime={s.idleUntil} title={s.idleUntil}>
                      {formatTimeLeft(s.idleUntil, now)}
                    </time>{' '}
                    unless you open it
                  </span>
                )}
              </td>
              <td className="actions">
                {s.phase === 'Running' && !s.deleting && (
                  <button
                    type="button"
                    className="button button-small button-primary"
                    aria-label={`Open ${s.name}`}
                    disabled={opening !== undefined}
                    onClick={() => onOpen(s.name)}
                  >
                    {opening === s.name ? 'Opening…' : 'Open'}
                  </button>
                )}
                {onExtend && s.expiresAt && !s.deleting && s.phase !== 'Failed' && (
                  <button
                    type="button"
                    className="button button-small"
                    aria-label={`Extend ${s.name} by an hour`}
                    onClick={() => onExtend(s)}
                  >
                    Extend
                  </button>
                )}
                {onStop && s.state !== 'Stopped' && !s.deleting && (
                  <button
                    type="button"
                    className="button button-small"
                    aria-label={`Stop ${s.name}`}
                    title="End the desktop and free its GPU time-slice; the session and its home are kept"
                    onClick={() => onStop(s)}
                  >
                    Stop
                  </button>
                )}
                {onResume && s.state === 'Stopped' && !s.deleting && (
                  <button
                    type="button"
                    className="button button-small button-primary"
                    aria-label={`Resume ${s.name}`}
                    onClick={() => onResume(s)}
                  >
                    Resume
                  </button>
                )}
                {!s.deleting && (
                  <button
                    type="button"
                    className="button button-small button-danger-outline"
                    aria-label={`Delete ${s.name}`}
                    onClick={() => onDelete(s)}
                  >
                    Delete
                  </button>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
