'use client';
/**
 * Sharing a desktop with a named colleague (VDIShare): the owner's panel on the session page —
 * grant by username with a role and an end, change the role, revoke, and see which pages are
 * connected — and the grantee's "Shared with me" list with an Open button (the same one-time link
 * as the owner's, through the portal's /open page).
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { formatTimeLeft } from '../../lib/age';
import { explainError } from '../../lib/errors';
import { useAuth } from '../auth/auth-provider';
import { useOpenSession } from '../sessions/use-open-session';
import { Alert } from '../ui/alert';
import { useNow } from '../ui/use-now';

const SHARE_FIELDS = 'name session user group role expiresAt expired firstUsedAt firstUsedBy';
export const SHARES = `query Shares($session: String!) {
  shares(session: $session) { ${SHARE_FIELDS} }
  desktopConnections(session: $session) { id role connectedAt who }
}`;
export const SHARE_SESSION = `mutation ShareSession($input: ShareSessionInput!) { shareSession(input: $input) { ${SHARE_FIELDS} } }`;
export const UPDATE_SHARE = `mutation UpdateShare($input: UpdateShareInput!) { updateShare(input: $input) { ${SHARE_FIELDS} } }`;
export const REVOKE_SHARE = `mutation RevokeShare($name: String!) { revokeShare(name: $name) { name } }`;
export const SHARED_WITH_ME = `query SharedWithMe { sharedWithMe { owner phase openUrl share { ${SHARE_FIELDS} } } }`;

export interface Share {
  name: string;
  session: string;
  user: string | null;
  group: string | null;
  role: 'view' | 'control';
  expiresAt: string;
  expired: boolean;
  firstUsedAt: string | null;
  firstUsedBy: string | null;
}
interface Connection {
  id: string;
  role: string;
  connectedAt: string | null;
  who: string[];
}
interface SharesData {
  shares: Share[];
  desktopConnections: Connection[];
}
interface SharedWithMeData {
  sharedWithMe: { owner: string; phase: string | null; openUrl: string; share: Share }[];
}

const POLL_MS = 5_000;
const DURATIONS = [
  { label: '1 hour', hours: 1 },
  { label: '8 hours', hours: 8 },
  { label: '1 day', hours: 24 },
  { label: '7 days', hours: 24 * 7 - 0.05 },
];
const ROLE_WORDS = { view: 'View only', control: 'View and control' } as const;

/** The owner's share panel: grant, change, revoke, and who is connected. */
export function SharePanel({ session }: { session: string }) {
  const { api } = useAuth();
  const now = useNow(30_000);
  const [data, setData] = useState<SharesData>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [user, setUser] = useState('');
  const [role, setRole] = useState<'view' | 'control'>('view');
  const [hours, setHours] = useState(1);

  const read = useCallback(async () => {
    try {
      setData(await api.request<SharesData>(SHARES, { session }));
    } catch (err) {
      setError(explainError(err, { action: 'read the shares', session }));
    }
  }, [api, session]);
  useEffect(() => {
    void read();
    const t = setInterval(() => void read(), POLL_MS);
    return () => clearInterval(t);
  }, [read]);

  const act = async (what: string, run: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await run();
      await read();
      return true;
    } catch (err) {
      setError(explainError(err, { action: what, session }));
      return false;
    } finally {
      setBusy(false);
    }
  };

  const grant = async (e: FormEvent) => {
    e.preventDefault();
    const expiresAt = new Date(Date.now() + hours * 3600_000).toISOString();
    if (
      await act(`share ${session} with ${user}`, () =>
        api.request(SHARE_SESSION, { input: { session, user: user.trim(), role, expiresAt } }),
      )
    )
      setUser('');
  };

  return (
    <section className="panel share-panel" aria-labelledby="share-heading" data-testid="share-panel">
      <h2 id="share-heading">Share this desktop</h2>
      <p className="muted">
        A colleague you name opens it from their “Shared with me” page until the share ends. View only: they
        see the desktop, their keyboard and mouse do nothing. View and control: they drive it too, and their
        page takes over from yours.
      </p>
      <form className="share-form" onSubmit={(e) => void grant(e)}>
        <label>
          Username{' '}
          <input
            name="share-user"
            value={user}
            required
            autoComplete="off"
            onChange={(e) => setUser(e.target.value)}
          />
        </label>{' '}
        <label>
          Role{' '}
          <select
            name="share-role"
            value={role}
            onChange={(e) => setRole(e.target.value as 'view' | 'control')}
          >
            <option value="view">{ROLE_WORDS.view}</option>
            <option value="control">{ROLE_WORDS.control}</option>
          </select>
        </label>{' '}
        <label>
          For{' '}
          <select name="share-for" value={hours} onChange={(e) => setHours(Number(e.target.value))}>
            {DURATIONS.map((d) => (
              <option key={d.label} value={d.hours}>
                {d.label}
              </option>
            ))}
          </select>
        </label>{' '}
        <button type="submit" className="button button-primary" disabled={busy || !user.trim()}>
          Share
        </button>
      </form>
      {error && <Alert>{error}</Alert>}
      {data && data.shares.length > 0 && (
        <table className="table share-table">
          <caption className="visually-hidden">Shares of {session}</caption>
          <thead>
            <tr>
              <th scope="col">With</th>
              <th scope="col">Role</th>
              <th scope="col">Ends</th>
              <th scope="col">Used</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.shares.map((s) => (
              <tr key={s.name} data-share={s.name} data-grantee={s.user ?? s.group ?? ''}>
                <td>{s.user ?? `group ${s.group}`}</td>
                <td>
                  <select
                    aria-label={`Role of ${s.user ?? s.group}`}
                    name="share-role-change"
                    value={s.role}
                    disabled={busy || s.expired}
                    onChange={(e) =>
                      void act(`change the share with ${s.user ?? s.group}`, () =>
                        api.request(UPDATE_SHARE, { input: { name: s.name, role: e.target.value } }),
                      )
                    }
                  >
                    <option value="view">{ROLE_WORDS.view}</option>
                    <option value="control">{ROLE_WORDS.control}</option>
                  </select>
                </td>
                <td>
                  {s.expired ? (
                    'ended'
                  ) : (
                    <time dateTime={s.expiresAt} title={s.expiresAt}>
                      {formatTimeLeft(s.expiresAt, now)}
                    </time>
                  )}
                </td>
                <td>{s.firstUsedBy ? `by ${s.firstUsedBy}` : 'not yet'}</td>
                <td>
                  <button
                    type="button"
                    className="button button-small button-danger-outline"
                    disabled={busy}
                    onClick={() =>
                      void act(`revoke the share with ${s.user ?? s.group}`, () =>
                        api.request(REVOKE_SHARE, { name: s.name }),
                      )
                    }
                  >
                    {s.expired ? 'Remove' : 'Revoke'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data && (
        <div className="share-connections" aria-live="polite">
          <h3>Connected now</h3>
          {data.desktopConnections.length === 0 ? (
            <p className="muted">No page is connected to the desktop.</p>
          ) : (
            <ul>
              {data.desktopConnections.map((c) => (
                <li key={c.id} data-connection-role={c.role}>
                  {c.role === 'viewer' ? 'Viewing' : 'Controlling'}
                  {c.who.length > 0 ? `: ${c.who.join(' or ')}` : ''}
                </li>
              ))}
            </ul>
          )}
          <p className="muted">The desktop tells pages apart by role, not by person.</p>
        </div>
      )}
    </section>
  );
}

/** The grantee's list of sessions shared with them. */
export function SharedWithMe() {
  const { api } = useAuth();
  const now = useNow(30_000);
  const { open, opening, error: openError } = useOpenSession();
  const [data, setData] = useState<SharedWithMeData>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    const read = async () => {
      try {
        setData(await api.request<SharedWithMeData>(SHARED_WITH_ME));
        setError(undefined);
      } catch (err) {
        setError(explainError(err, { action: 'read what is shared with you' }));
      }
    };
    void read();
    const t = setInterval(() => void read(), POLL_MS);
    return () => clearInterval(t);
  }, [api]);

  return (
    <>
      <div className="page-heading">
        <h1>Shared with me</h1>
        <p className="muted">Desktops colleagues shared with you, while their shares last.</p>
      </div>
      {error && <Alert>{error}</Alert>}
      {openError && <Alert>{openError.text}</Alert>}
      {!data && !error && (
        <p className="muted" role="status">
          Reading…
        </p>
      )}
      {data && data.sharedWithMe.length === 0 && <p>Nothing is shared with you right now.</p>}
      {data && data.sharedWithMe.length > 0 && (
        <table className="table shared-table">
          <caption className="visually-hidden">Desktops shared with you</caption>
          <thead>
            <tr>
              <th scope="col">Session</th>
              <th scope="col">Owner</th>
              <th scope="col">Role</th>
              <th scope="col">Ends</th>
              <th scope="col">
                <span className="visually-hidden">Open</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.sharedWithMe.map((x) => (
              <tr key={x.share.name} data-shared-session={x.share.session}>
                <td className="mono">{x.share.session}</td>
                <td>{x.owner}</td>
                <td>{ROLE_WORDS[x.share.role]}</td>
                <td>
                  <time dateTime={x.share.expiresAt} title={x.share.expiresAt}>
                    {formatTimeLeft(x.share.expiresAt, now)}
                  </time>
                </td>
                <td>
                  <button
                    type="button"
                    className="button button-small button-primary"
                    disabled={x.phase !== 'Running' || opening !== undefined}
                    title={x.phase !== 'Running' ? `The desktop is ${x.phase ?? 'not running'}` : undefined}
                    onClick={() => void open(x.share.session)}
                  >
                    {opening === x.share.session ? 'Opening…' : 'Open'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
