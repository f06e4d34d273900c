/**
 * What the portal warns its user about, on every page while they are logged in: a session that
 * ends soon (its lifetime: condition ExpiringSoon) and a running desktop nobody watches that idle
 * culling stops soon. Pure (the time comes in), so it is unit-tested; the component shows it and
 * raises a browser notification once per warning where the user allowed notifications.
 */
import { formatTimeLeft } from './age';
import type { Session } from './api/types';

/** How soon before idle culling acts the portal says so. */
export const IDLE_WARNING_MS = 10 * 60_000;

export interface SessionWarning {
  session: string;
  kind: 'ending' | 'idle';
  /** Stable per warning and deadline: a notification is raised once per key. */
  key: string;
  text: string;
}

export function sessionWarnings(sessions: readonly Session[], now: number): SessionWarning[] {
  const out: SessionWarning[] = [];
  for (const s of sessions) {
    if (s.deleting) continue;
    const ending = s.conditions.some((c) => c.type === 'ExpiringSoon' && c.status === 'True');
    if (ending && s.expiresAt) {
      out.push({
        session: s.name,
        kind: 'ending',
        key: `ending:${s.name}:${s.expiresAt}`,
        text: `Your session ${s.name} ends ${formatTimeLeft(s.expiresAt, now)} and is then deleted: extend it or save your work.`,
      });
    }
    if (s.phase === 'Running' && s.idleUntil) {
      const until = Date.parse(s.idleUntil);
      if (!Number.isNaN(until) && until - now <= IDLE_WARNING_MS) {
        out.push({
          session: s.name,
          kind: 'idle',
          key: `idle:${s.name}:${s.idleUntil}`,
          text: `Nobody is watching your desktop ${s.name}: it is stopped ${formatTimeLeft(s.idleUntil, now)} unless you open it (your home is kept).`,
        });
      }
    }
  }
  return out;
}
