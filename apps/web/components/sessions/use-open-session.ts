'use client';
/**
 * Opening a desktop: ask the API for a one-time ticket URL (openSession) and send the browser
 * there. The desktop's access check redeems the ticket for a cookie of that one session.
 */
import { useCallback, useState } from 'react';
import { OPEN_SESSION, type OpenSessionData } from '../../lib/api/operations';
import { explainError } from '../../lib/errors';
import { useAuth } from '../auth/auth-provider';

export function useOpenSession() {
  const { api } = useAuth();
  const [opening, setOpening] = useState<string>();
  const [error, setError] = useState<{ session: string; text: string }>();
  const open = useCallback(
    async (name: string, beforeLeave?: () => void) => {
      setOpening(name);
      setError(undefined);
      try {
        const { openSession } = await api.request<OpenSessionData>(OPEN_SESSION, { name });
        beforeLeave?.();
        window.location.assign(openSession.url);
      } catch (err) {
        setError({ session: name, text: explainError(err, { action: `open ${name}`, session: name }) });
        setOpening(undefined);
      }
    },
    [api],
  );
  return { open, opening, error };
}
