'use client';
/**
 * Where the desktop's access check sends a browser that has no valid cookie for a session: log in
 * (at once, if needed), then go to the desktop with a fresh ticket from openSession. A session
 * that is not running yet is handed to its progress page, which opens it once it is ready.
 * Problems are explained in words with a way on.
 */
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { ApiError } from '../../lib/api/graphql';
import { SESSION, type SessionData } from '../../lib/api/operations';
import { explainError } from '../../lib/errors';
import { useAuth } from '../auth/auth-provider';
import { RequireLogin } from '../auth/require-login';
import { useOpenSession } from '../sessions/use-open-session';
import { Alert } from '../ui/alert';

export function OpenSession({ name }: { name: string }) {
  return (
    <>
      <h1>
        Opening <span className="mono">{name}</span>
      </h1>
      <RequireLogin automatic>
        <Opener name={name} />
      </RequireLogin>
    </>
  );
}

function Opener({ name }: { name: string }) {
  const { api, user } = useAuth();
  const router = useRouter();
  const { open, error: openError } = useOpenSession();
  const [readError, setReadError] = useState<string>();
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    api.request<SessionData>(SESSION, { name }).then(
      ({ session }) => {
        if (session.phase === 'Running' && !session.deleting) void open(name);
        else router.replace(`/sessions/${encodeURIComponent(name)}?launched=1`);
      },
      (err: unknown) => {
        // Not the caller's session: it may be one shared with them (VDIShare), which openSession
        // opens; its refusal says the same as the read's would.
        if (err instanceof ApiError && err.code === 'NOT_FOUND') void open(name);
        else setReadError(explainError(err, { action: `open ${name}`, session: name }));
      },
    );
  }, [api, name, open, router]);

  const error = readError ?? openError?.text;
  if (error) {
    return (
      <>
        <Alert>{error}</Alert>
        <p>
          You are logged in as {user?.username}. See <Link href="/sessions">your sessions</Link> or{' '}
          <Link href="/">launch a desktop</Link>.
        </p>
      </>
    );
  }
  return (
    <p className="muted" role="status">
      Taking you to your desktop…
    </p>
  );
}
