import type { Metadata, Viewport } from 'next';
import { connection } from 'next/server';
import type { ReactNode } from 'react';
import { AuthProvider } from '../components/auth/auth-provider';
import { SiteHeader } from '../components/site-header';
import { readRuntimeConfig } from '../lib/runtime-config';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'VDI desktops', template: '%s · VDI desktops' },
  description: 'GPU-accelerated Linux desktops in your browser.',
};
export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

/**
 * The runtime configuration is read from the server's environment for every request (never
 * baked into the build), so one build serves every installation; the client gets it as props.
 */
export default async function RootLayout({ children }: { children: ReactNode }) {
  await connection();
  const config = readRuntimeConfig(process.env);
  return (
    <html lang="en">
      <body>
        <AuthProvider config={config}>
          <SiteHeader />
          <main id="main" className="main">
            {children}
          </main>
        </AuthProvider>
      </body>
    </html>
  );
}
