/**
 * The `Authorization` value that opens a session's desktop capped at Selkies' viewer role: the
 * view-only password derived from the password that opens that desktop — the session's own, or
 * its claimed warm pool pod's (session-spec pool.ts) — as the desktop's Secret holds it
 * (session-spec share.ts viewOnlyPasswordFor, written by authSecret beside the password).
 */
import type { VDISession } from '@vdi/crd-types';
import { DESKTOP_BASIC_AUTH_USER, desktopPasswordOf, viewOnlyPasswordFor } from '@vdi/session-spec';

export function viewOnlyAuthorizationOf(sessionKey: string, session: VDISession): string {
  const pair = `${DESKTOP_BASIC_AUTH_USER}:${viewOnlyPasswordFor(desktopPasswordOf(sessionKey, session))}`;
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}
