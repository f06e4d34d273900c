import type { Metadata } from 'next';
import { AdminView } from '../../components/admin/admin-view';
import { RequireLogin } from '../../components/auth/require-login';

export const metadata: Metadata = { title: 'Admin' };

export default function AdminPage() {
  return (
    <RequireLogin why="Log in as a platform admin to see every session and the GPU capacity.">
      <AdminView />
    </RequireLogin>
  );
}
