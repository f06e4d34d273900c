'use client';
/** The top bar: the portal's name, its pages, and who is logged in with a log-out button. */
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useAuth } from './auth/auth-provider';

export function SiteHeader() {
  const { status, user, login, logout } = useAuth();
  const path = usePathname();
  const links = [
    { href: '/', label: 'Desktops', current: path === '/' },
    { href: '/sessions', label: 'My sessions', current: path.startsWith('/sessions') },
    { href: '/shared', label: 'Shared with me', current: path.startsWith('/shared') },
    ...(user?.isAdmin ? [{ href: '/admin', label: 'Admin', current: path.startsWith('/admin') }] : []),
  ];
  return (
    <header className="site-header">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <div className="site-header-inner">
        <Link href="/" className="brand">
          <span aria-hidden="true" className="brand-mark">
            ▣
          </span>{' '}
          VDI desktops
        </Link>
        {status === 'authenticated' && (
          <nav aria-label="Main">
            <ul className="nav-list">
              {links.map((l) => (
                <li key={l.href}>
                  <Link href={l.href} aria-current={l.current ? 'page' : undefined}>
                    {l.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        )}
        <div className="account">
          {status === 'authenticated' && user ? (
            <>
              <span className="account-name" title={user.username}>
                {user.name}
              </span>
              <button type="button" className="button button-small" onClick={logout}>
                Log out
              </button>
            </>
          ) : status === 'anonymous' ? (
            <button type="button" className="button button-small button-primary" onClick={() => login()}>
              Log in
            </button>
          ) : null}
        </div>
      </div>
    </header>
  );
}
