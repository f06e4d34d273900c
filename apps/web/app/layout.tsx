import type { ReactNode } from 'react';

export const metadata = { title: 'VDI — desktops in your browser' };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
