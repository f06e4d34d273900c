'use client';
/**
 * Sessions as a table (cards on narrow screens): name, phase, template, age, and Open / Delete.
 * With `showOwner` (the admin page) it adds the owner and the node.
 */
import Link from 'next/link';
import { formatAge } from '../../lib/age';
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
}: {
  sessions: Session[];
  now: number;
  showOwner?: boolean;
  caption: string;
  opening?: string;
  onOpen(name: string): void;
  onDelete(session: Session): void;
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
