'use client';
/**
 * An admin page's gate: its content for platform admins, otherwise a page that says why there is
 * nothing to see. The API enforces the admin role; this only explains when the user does not have it.
 */
import type { ReactNode } from 'react';
import { useAuth } from '../auth/auth-provider';
import { Alert } from '../ui/alert';

export function AdminOnly({ title, children }: { title: string; children: ReactNode }) {
  const { user } = useAuth();
  if (user?.isAdmin) return <>{children}</>;
  return (
    <>
      <h1>{title}</h1>
      <Alert>
        This page is for platform admins. You are logged in as {user?.username ?? 'someone'}, who is not one.
      </Alert>
    </>
  );
}
