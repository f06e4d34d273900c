import type { Metadata } from 'next';
import { RequireLogin } from '../../../components/auth/require-login';
import { PoolsAdminView } from './pools-view';

export const metadata: Metadata = { title: 'Warm pools' };

export default function AdminPoolsPage() {
  return (
    <RequireLogin why="Log in as a platform admin to manage the warm pools.">
      <PoolsAdminView />
    </RequireLogin>
  );
}
