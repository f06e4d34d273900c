'use client';
/**
 * The portal's warnings about the user's own sessions, on every page while they are logged in:
 * one that ends soon, a desktop idle culling stops soon (lib/warnings.ts). Each new warning also
 * raises a browser notification where the user allowed notifications for the portal. The session
 * page of a warned session says it itself, so it is left out there.
 */
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useEffect, useRef } from 'react';
import { sessionWarnings } from '../../lib/warnings';
import { useNow } from '../ui/use-now';
import { useSessions } from './use-sessions';

export function SessionWarnings() {
  const { sessions } = useSessions({ all: false });
  const now = useNow(30_000);
  const path = usePathname();
  const warnings = sessionWarnings(sessions ?? [], now);
  const notified = useRef(new Set<string>());
  // Each warning once (the set remembers it); runs when the sessions change or the clock moves.
  useEffect(() => {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    for (const w of sessionWarnings(sessions ?? [], Date.now())) {
      if (notified.current.has(w.key)) continue;
      notified.current.add(w.key);
      new Notification('Your desktop', { body: w.text, tag: w.key });
    }
  }, [sessions, now]);
  const shown = warnings.filter((w) => path !== `/sessions/${encodeURIComponent(w.session)}`);
  if (shown.length === 0) return null;
  return (
    <div className="notice notice-warning session-warnings" role="status" aria-live="polite">
      <ul>
        {shown.map((w) => (
          <li key={w.key} data-warning={w.kind}>
            {w.text} <Link href={`/sessions/${encodeURIComponent(w.session)}`}>Go to {w.session}</Link>
          </li>
        ))}
      </ul>
    </div>
  );
}
