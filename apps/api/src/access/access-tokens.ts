/**
 * The two credentials of the desktop access path (ARCHITECTURE.md §5), as pure functions:
 *
 * - a **ticket**: 32 random bytes handed out by `openSession`, good for one redemption within a
 *   short time. Only its SHA-256 is stored, in an annotation of the session it opens, together
 *   with the user it was issued to; redeeming it removes the annotation with a JSON patch that
 *   first tests the exact value, so across any number of API replicas exactly one redemption wins.
 * - a **desktop cookie**: an HS256 JWT (jose) naming the session (namespace/name and uid) and
 *   the owner key (issuer + subject, session-spec's ownerKey) of the user it was issued to, set
 *   host-only on the desktop's address when a ticket is redeemed.
 *
 * Both carry the owner key, never the e-mail: a cookie or ticket of one identity opens nothing
 * of another identity that has (or later gets) the same address.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';

/** The session annotation that holds the open ticket (its hash), one at a time per session. */
export const ANNOTATION_ACCESS_TICKET = 'vdi.kasm.io/access-ticket';
/** The query parameter that carries a ticket on the desktop URL. */
export const TICKET_PARAM = 'vdi-ticket';
/**
 * The query parameter of the "connecting" page's retry URL that proves the ticket's first request
 * came from the portal (see viaProof): the retry's own Referer is the desktop's address.
 */
export const VIA_PARAM = 'vdi-via';

export interface TicketRecord {
  /** SHA-256 of the ticket, hex. */
  hash: string;
  /** The owner key (ownerKey: issuer + subject) of the user it was issued to, and their display name. */
  owner: string;
  username: string;
  admin: boolean;
  /** Epoch milliseconds. */
  expiresAt: number;
  /** The identity provider's login session (`sid`) of the token that asked for the ticket. */
  idpSession?: string;
  /** The user's groups when a group share let them open it (VDIShare); the cookie carries them on. */
  groups?: string[];
}

export function newTicket(): { ticket: string; hash: string } {
  const ticket = randomBytes(32).toString('base64url');
  return { ticket, hash: ticketHash(ticket) };
}

export const ticketHash = (ticket: string) => createHash('sha256').update(ticket).digest('hex');

export const encodeTicketRecord = (r: TicketRecord) => JSON.stringify(r);

export function decodeTicketRecord(value: string | undefined): TicketRecord | undefined {
  if (!value) return undefined;
  try {
    const r = JSON.parse(value) as Partial<TicketRecord>;
    if (
      typeof r.hash === 'string' &&
      typeof r.owner === 'string' &&
      typeof r.username === 'string' &&
      typeof r.admin === 'boolean' &&
      typeof r.expiresAt === 'number' &&
      (r.idpSession === undefined || typeof r.idpSession === 'string') &&
      (r.groups === undefined || (Array.isArray(r.groups) && r.groups.every((g) => typeof g === 'string')))
    )
      return r as TicketRecord;
  } catch {
    /* not ours */
  }
  return undefined;
}

export type TicketCheck = { ok: true } | { ok: false; why: 'unknown' | 'expired' };

/** Whether `ticket` is the one `record` describes and still valid (constant-time hash compare). */
export function checkTicket(record: TicketRecord | undefined, ticket: string, now: number): TicketCheck {
  if (!record) return { ok: false, why: 'unknown' };
  const a = Buffer.from(ticketHash(ticket), 'hex');
  const b = Buffer.from(record.hash, 'hex');
  if (a.length !== b.length || !timingSafeEqual(a, b)) return { ok: false, why: 'unknown' };
  if (record.expiresAt <= now) return { ok: false, why: 'expired' };
  return { ok: true };
}

/** The desktop URL with the ticket, and the clean one (ticket removed) to redirect to. */
export function withTicket(url: string, ticket: string): string {
  const u = new URL(url);
  u.searchParams.set(TICKET_PARAM, ticket);
  return u.toString();
}

/** The ticket and the portal proof of a desktop URL, and the clean URL (both removed) to redirect to. */
export function splitTicket(url: URL): { ticket?: string; via?: string; clean: string } {
  const ticket = url.searchParams.get(TICKET_PARAM) ?? undefined;
  const via = url.searchParams.get(VIA_PARAM) ?? undefined;
  const clean = new URL(url);
  clean.searchParams.delete(TICKET_PARAM);
  clean.searchParams.delete(VIA_PARAM);
  return {
    ...(ticket !== undefined ? { ticket } : {}),
    ...(via !== undefined ? { via } : {}),
    clean: clean.toString(),
  };
}

/**
 * The proof, for the "connecting" page's retry URL, that a ticket's first request to a desktop
 * host came from the portal: HMAC-SHA256 under the cookie secret of the host (one per session)
 * and the ticket. Only the API can make it, and it opens nothing without the ticket itself.
 */
export function viaProof(secret: string, desktopHost: string, ticket: string): string {
  return createHmac('sha256', secret).update(`vdi-via\n${desktopHost}\n${ticket}`).digest('base64url');
}

export function checkViaProof(secret: string, desktopHost: string, ticket: string, proof: string): boolean {
  const a = Buffer.from(viaProof(secret, desktopHost, ticket));
  const b = Buffer.from(proof);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The desktop cookie's name, one per session. Over https it carries the `__Host-` prefix, which
 * makes the browser refuse it unless it is Secure, host-only and Path=/: no sibling desktop host
 * (another user's desktop runs whatever its user wants) can set or shadow it for this one.
 */
export const cookieName = (session: string, secure: boolean) =>
  `${secure ? '__Host-' : ''}vdi_access_${session.replace(/-/g, '_')}`;

export interface DesktopClaims {
  /** namespace/name */
  session: string;
  uid: string;
  /** The owner key (ownerKey) of the user it was issued to. */
  owner: string;
  username: string;
  admin: boolean;
  /**
   * The identity provider's login session the cookie came from (ticket's idpSession): the cookie
   * lives only as long as that session, the account and its role (liveness.ts).
   */
  idpSession?: string;
  /** The groups of a grantee admitted through a group share (VDIShare), from the ticket. */
  groups?: string[];
}

const COOKIE_AUDIENCE = 'vdi-desktop';

export async function signDesktopCookie(
  claims: DesktopClaims,
  secret: string,
  ttlSeconds: number,
): Promise<string> {
  return new SignJWT({
    sid: claims.session,
    suid: claims.uid,
    name: claims.username,
    adm: claims.admin,
    ...(claims.idpSession ? { ksid: claims.idpSession } : {}),
    ...(claims.groups?.length ? { grp: claims.groups } : {}),
  })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.owner)
    .setAudience(COOKIE_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(new TextEncoder().encode(secret));
}

/** The claims of a valid cookie, or undefined (bad signature, expired, not ours). */
export async function verifyDesktopCookie(value: string, secret: string): Promise<DesktopClaims | undefined> {
  try {
    const { payload } = await jwtVerify(value, new TextEncoder().encode(secret), {
      algorithms: ['HS256'],
      audience: COOKIE_AUDIENCE,
    });
    const { sid, suid, name, adm, sub, ksid, grp } = payload as Record<string, unknown>;
    if (typeof sid !== 'string' || typeof suid !== 'string' || typeof sub !== 'string') return undefined;
    return {
      session: sid,
      uid: suid,
      owner: sub,
      username: typeof name === 'string' ? name : sub,
      admin: adm === true,
      ...(typeof ksid === 'string' && ksid ? { idpSession: ksid } : {}),
      ...(Array.isArray(grp) && grp.every((g) => typeof g === 'string') ? { groups: grp as string[] } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Whom a cookie lets in: the session's owner (the same owner key), or an admin (who opened it
 * through the portal). `owner` is undefined for an unclaimed session (0.1.x), which only admins open.
 */
export function cookieAdmits(
  c: DesktopClaims,
  s: { ref: string; uid: string; owner: string | undefined },
): boolean {
  return (
    c.session === s.ref && c.uid === s.uid && ((s.owner !== undefined && c.owner === s.owner) || c.admin)
  );
}
