import type { Metadata } from 'next';
import { TemplateAdminView } from '../../../components/admin/template-admin';
import { RequireLogin } from '../../../components/auth/require-login';

export const metadata: Metadata = { title: 'Templates' };

export default function AdminTemplatesPage() {
  return (
    <RequireLogin why="Log in as a platform admin to manage the desktop templates.">
      <TemplateAdminView />
    </RequireLogin>
  );
}
