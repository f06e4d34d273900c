/**
 * Sharing a desktop with a named colleague (VDIShare), as pure functions: the view-only password
 * a `view` grantee's requests carry, the checks on a share's input, whether a share is live and
 * whom it admits, and its name and labels. No clock: `now` comes in as an argument.
 *
 * The view-only password is Selkies 2.1's `basic_auth_viewonly_password`
 * (SELKIES_BASIC_AUTH_VIEWONLY_PASSWORD): a second basic-auth password whose connections the
 * server caps at the viewer role (no keyboard, mouse, clipboard or file transfer, whatever role
 * the page asks for). It is derived from the session password, so the desktop's Secret carries
 * nothing a desktop user cannot already compute from what the pod holds, and forward-auth derives
 * it from the session key and uid like the session password.
 */
import { createHash, createHmac } from 'node:crypto';
import { SHARE_ROLES, type ShareGrantee, type ShareRole, type VDIShare } from '@vdi/crd-types';
import { SessionSpecError } from './errors.js';
import { DESKTOP_BASIC_AUTH_USER, sessionPassword } from './secrets.js';

/** The key of `<session>-auth` holding the view-only password. */
export const VIEWONLY_PASSWORD_KEY = 'viewonly-password';
/** Selkies 2.1's environment variable for basic_auth_viewonly_password (settings.py: SELKIES_ + name). */
export const SELKIES_VIEWONLY_PASSWORD_ENV = 'SELKIES_BASIC_AUTH_VIEWONLY_PASSWORD';

/** The view-only password of a desktop whose session password is `password`. */
export function viewOnlyPasswordFor(password: string): string {
  if (password.length < 16) {
    throw new SessionSpecError('sessionPassword', 'a view-only password needs the session password');
  }
  return createHmac('sha256', password).update('vdi-viewonly-password').digest('base64url').slice(0, 32);
}

/** The view-only password of a session (forward-auth's side: from the session key and uid). */
export function viewOnlyPassword(sessionKey: string, sessionUid: string): string {
  return viewOnlyPasswordFor(sessionPassword(sessionKey, sessionUid));
}

/** The `Authorization` header value that opens a session's desktop capped at the viewer role. */
export function viewOnlyAuthorization(sessionKey: string, sessionUid: string): string {
  const pair = `${DESKTOP_BASIC_AUTH_USER}:${viewOnlyPassword(sessionKey, sessionUid)}`;
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}

/** The longest a share may last unless the platform says otherwise: 7 days. */
export const DEFAULT_SHARE_MAX_SECONDS = 7 * 24 * 3600;

export interface ShareInput {
  session: string;
  user?: string | undefined;
  group?: string | undefined;
  role: string;
  expiresAt: string;
}

/** Who asks to share (the session's owner). */
export interface Sharer {
  username: string;
  subject: string;
}

/** Why the input of a new share is refused, or undefined when it is fine (the checks without I/O). */
export function shareInputProblem(
  input: ShareInput,
  sharer: Sharer,
  now: number,
  maxSeconds = DEFAULT_SHARE_MAX_SECONDS,
): string | undefined {
  const user = input.user?.trim();
  const group = input.group?.trim();
  if (!user === !group) return 'name exactly one of user or group to share with';
  if (user && (user === sharer.username || user === sharer.subject))
    return 'you cannot share a session with yourself';
  if (group && /\s/.test(group))
    return `group '${group}' contains white space; give the group's path, e.g. /team-a`;
  if (!(SHARE_ROLES as readonly string[]).includes(input.role))
    return `role '${input.role}' is not one of ${SHARE_ROLES.join(', ')}`;
  return expiryProblem(input.expiresAt, now, maxSeconds);
}

/** Why an expiry is refused (not RFC 3339, past, beyond the maximum), or undefined. */
export function expiryProblem(
  expiresAt: string,
  now: number,
  maxSeconds = DEFAULT_SHARE_MAX_SECONDS,
): string | undefined {
  const at = parseRfc3339(expiresAt);
  if (at === undefined) return `expiresAt '${expiresAt}' is not an RFC 3339 time (e.g. 2030-01-31T18:00:00Z)`;
  if (at <= now) return `expiresAt ${expiresAt} is in the past; give a time in the future`;
  if (at - now > maxSeconds * 1000)
    return `expiresAt ${expiresAt} is more than ${formatSpan(maxSeconds)} ahead; shares last at most ${formatSpan(maxSeconds)}`;
  return undefined;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** Epoch milliseconds of an RFC 3339 time, or undefined. */
export function parseRfc3339(s: string): number | undefined {
  if (!RFC3339.test(s)) return undefined;
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : undefined;
}

function formatSpan(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} day(s)`;
  if (seconds % 3600 === 0) return `${seconds / 3600} hour(s)`;
  return `${seconds} s`;
}

/** Whether a share admits anyone at `now`: not being deleted, not expired. */
export function shareIsLive(share: VDIShare, now: number): boolean {
  if (share.metadata.deletionTimestamp) return false;
  const at = parseRfc3339(share.spec.expiresAt);
  return at !== undefined && at > now;
}

/** Who is asking, as the desktop cookie knows them. */
export interface Grantee {
  subject: string;
  username: string;
  groups: readonly string[];
}

/** Whether a share names `who` (its user, by subject when it has one, or one of their groups). */
export function shareNames(grantee: ShareGrantee, who: Grantee): boolean {
  if (grantee.user !== undefined) {
    return grantee.subject !== undefined ? grantee.subject === who.subject : grantee.user === who.username;
  }
  return grantee.group !== undefined && who.groups.includes(grantee.group);
}

/**
 * The role `who` gets on a session from its live shares: `control` wins over `view`; undefined
 * when none admits them. Returns the share that decided too (for ShareUsed).
 */
export function grantedRole(
  shares: Iterable<VDIShare>,
  who: Grantee,
  now: number,
): { role: ShareRole; share: VDIShare } | undefined {
  let best: { role: ShareRole; share: VDIShare } | undefined;
  for (const s of shares) {
    if (!shareIsLive(s, now) || !shareNames(s.spec.grantee, who)) continue;
    if (!best || (best.role === 'view' && s.spec.role === 'control')) best = { role: s.spec.role, share: s };
  }
  return best;
}

/** A label value for any string: itself when it is a valid one, else a readable part and a hash. */
export function labelValue(s: string): string {
  if (/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(s)) return s;
  const hash = createHash('sha256').update(s).digest('hex').slice(0, 12);
  const readable = s
    .replace(/[^-A-Za-z0-9_.]/g, '_')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 40);
  return `${readable.replace(/[^A-Za-z0-9]+$/, '')}${readable ? '-' : ''}${hash}`.replace(/^-/, '');
}

/**
 * The name of the share of `session` with `grantee`: one share per (session, grantee), so granting
 * again is an update, never a second share. Readable prefix, hash of the grantee.
 */
export function shareName(
  session: string,
  grantee: { user?: string | undefined; group?: string | undefined },
): string {
  const key = grantee.user !== undefined ? `user:${grantee.user}` : `group:${grantee.group ?? ''}`;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 10);
  return `${session}-share-${hash}`;
}
