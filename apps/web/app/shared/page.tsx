import type { Metadata } from 'next';
import { RequireLogin } from '../../components/auth/require-login';
import { SharedWithMe } from '../../components/shares/share-panel';

export const metadata: Metadata = { title: 'Shared with me' };

/** Desktops colleagues shared with the user (VDIShare), each with an Open button. */
export default function SharedPage() {
  return (
    <RequireLogin why="Log in to see the desktops shared with you.">
      <SharedWithMe />
    </RequireLogin>
  );
}
