'use client';
import { useEffect, useState } from 'react';
import { explainError } from '../../lib/errors';
import { useAuth } from '../auth/auth-provider';

/**
 * A query re-read every `intervalMs` (first at once, unless `immediately` is false): its last
 * answer, picked by `pick`, and the last failure in words (`action` names what was read).
 */
export function usePolled<D, T>(
  query: string,
  pick: (data: D) => T,
  opts: { intervalMs: number; action: string; immediately?: boolean },
): { value: T | undefined; error: string | undefined; set(value: T): void } {
  const { api } = useAuth();
  const [value, setValue] = useState<T>();
  const [error, setError] = useState<string>();
  const { intervalMs, action, immediately = true } = opts;
  useEffect(() => {
    const refresh = async () => {
      try {
        setValue(pick(await api.request<D>(query)));
        setError(undefined);
      } catch (err) {
        setError(explainError(err, { action }));
      }
    };
    if (immediately) void refresh();
    const t = setInterval(() => void refresh(), intervalMs);
    return () => clearInterval(t);
    // `pick` is expected to be stable (module-level): it is not a dependency.
  }, [api, query, intervalMs, action, immediately]);
  return { value, error, set: setValue };
}
