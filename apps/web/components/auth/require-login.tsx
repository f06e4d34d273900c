'use client';
/**
 * Shows its children to a logged-in user; otherwise a short explanation and a button to log in at
 * Keycloak (or, with `automatic`, goes there at once — the "login-required" behaviour).
 */
import { useEffect, type ReactNode } from 'react';
import { SessionWarnings } from '../sessions/session-warnings';
import { useAuth } from './auth-provider';

export function RequireLogin({
  children,
  why = 'Log in to launch and manage your desktops.',
  automatic = false,
}: {
  children: ReactNode;
  why?: string;
  automatic?: boolean;
}) {
  const { status, problem, login } = useAuth();
  useEffect(() => {
    if (automatic && status === 'anonymous') login();
  }, [automatic, status, login]);

  if (status === 'authenticated')
    return (
      <>
        <SessionWarnings />
        {children}
      </>
    );
  if (status === 'error') {
    return (
      <>
        <p role="alert" className="notice notice-error">
          {problem}
        </p>
        <button type="button" className="button" onClick={() => window.location.reload()}>
          Try again
        </button>
      </>
    );
  }
  if (status === 'loading' || automatic) {
    return (
      <p className="muted" role="status">
        {status === 'loading' ? 'Checking your login…' : 'Taking you to the login page…'}
      </p>
    );
  }
  return (
    <section className="panel login-panel" aria-labelledby="login-heading">
      <h2 id="login-heading">You are not logged in</h2>
      <p>{why}</p>
      <button type="button" className="button button-primary" onClick={() => login()}>
        Log in
      </button>
    </section>
  );
}
