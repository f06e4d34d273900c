'use client';
/**
 * Extend, stop and resume one of the user's sessions. The live subscription shows the outcome (a
 * new end, Stopped, Scheduling…); only a refusal (a quota, a session gone) needs words, in `error`.
 */
import { useCallback, useState } from 'react';
import { EXTEND_SESSION, RESUME_SESSION, STOP_SESSION } from '../../lib/api/operations';
import { explainError } from '../../lib/errors';
import { useAuth } from '../auth/auth-provider';

export function useSessionActions() {
  const { api } = useAuth();
  const [error, setError] = useState<string>();
  const act = useCallback(
    async (action: string, name: string, query: string, variables: Record<string, unknown>) => {
      setError(undefined);
      try {
        await api.request(query, variables);
      } catch (err) {
        setError(explainError(err, { action: `${action} ${name}`, session: name }));
      }
    },
    [api],
  );
  return {
    error,
    /** Moves the end an hour later (within the template's maximum). */
    extend: (name: string) => act('extend', name, EXTEND_SESSION, { name, by: '1h' }),
    stop: (name: string) => act('stop', name, STOP_SESSION, { name }),
    resume: (name: string) => act('resume', name, RESUME_SESSION, { name }),
  };
}
