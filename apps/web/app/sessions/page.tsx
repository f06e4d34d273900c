import type { Metadata } from 'next';
import { RequireLogin } from '../../components/auth/require-login';
import { MySessions } from '../../components/sessions/my-sessions';

export const metadata: Metadata = { title: 'My sessions' };

export default function MySessionsPage() {
  return (
    <RequireLogin why="Log in to see your sessions.">
      <MySessions />
    </RequireLogin>
  );
}
