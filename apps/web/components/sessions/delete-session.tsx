'use client';
/** The confirmation before a session is deleted, and the deletion itself. */
import { useState } from 'react';
import { DELETE_SESSION, type DeleteSessionData } from '../../lib/api/operations';
import type { Session } from '../../lib/api/types';
import { explainError } from '../../lib/errors';
import { useAuth } from '../auth/auth-provider';
import { Alert } from '../ui/alert';
import { ConfirmDialog } from '../ui/confirm-dialog';

export function useDeleteSession(onDeleted?: (name: string) => void) {
  const { api, user } = useAuth();
  const [target, setTarget] = useState<Pick<Session, 'name' | 'user' | 'owner'>>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  const confirm = async () => {
    if (!target) return;
    setBusy(true);
    try {
      await api.request<DeleteSessionData>(DELETE_SESSION, { name: target.name });
      setTarget(undefined);
      onDeleted?.(target.name);
    } catch (err) {
      setError(explainError(err, { action: `delete ${target.name}`, session: target.name }));
    } finally {
      setBusy(false);
    }
  };

  // Ownership is issuer + subject: another person may have the same e-mail (target.user).
  const someoneElse =
    target &&
    user?.owner !== undefined &&
    (target.owner?.issuer !== user.owner.issuer || target.owner?.subject !== user.owner.subject);
  const dialog = (
    <ConfirmDialog
      open={target !== undefined}
      title={`Delete ${target?.name ?? 'session'}?`}
      confirmLabel="Delete session"
      busy={busy}
      onConfirm={() => void confirm()}
      onCancel={() => {
        setTarget(undefined);
        setError(undefined);
      }}
    >
      <p>
        {someoneElse ? `This is ${target.user}’s desktop. ` : ''}
        The desktop stops at once and anything not saved in the home folder is lost.
      </p>
      {error && <Alert>{error}</Alert>}
    </ConfirmDialog>
  );
  return {
    ask: (s: Pick<Session, 'name' | 'user' | 'owner'>) => {
      setError(undefined);
      setTarget(s);
    },
    dialog,
  };
}
