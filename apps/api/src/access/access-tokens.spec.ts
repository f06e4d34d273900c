import { ownerKey } from '@vdi/session-spec';
import {
  checkTicket,
  checkViaProof,
  cookieAdmits,
  cookieName,
  decodeTicketRecord,
  encodeTicketRecord,
  newTicket,
  signDesktopCookie,
  splitTicket,
  ticketHash,
  verifyDesktopCookie,
  viaProof,
  withTicket,
  type TicketRecord,
} from './access-tokens.js';

const SECRET = 'a'.repeat(64);
const ISSUER = 'https://id.example.com/realms/vdi';
const ALICE = ownerKey({ issuer: ISSUER, subject: 'alice-subject' });
const BOB = ownerKey({ issuer: ISSUER, subject: 'bob-subject' });
const NEWCOMER = ownerKey({ issuer: ISSUER, subject: 'newcomer-with-alices-email' });

describe('tickets', () => {
  const now = 1_000_000;
  const record = (ticket: string, over: Partial<TicketRecord> = {}): TicketRecord => ({
    hash: ticketHash(ticket),
    owner: ALICE,
    username: 'alice',
    admin: false,
    expiresAt: now + 60_000,
    ...over,
  });

  it('are 256-bit random, URL-safe, and only their hash is kept', () => {
    const a = newTicket();
    const b = newTicket();
    expect(a.ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.ticket).not.toBe(b.ticket);
    expect(a.hash).toBe(ticketHash(a.ticket));
    expect(a.hash).not.toContain(a.ticket);
  });

  it('check: the right ticket before expiry passes; another, an expired one, or none does not', () => {
    const { ticket } = newTicket();
    expect(checkTicket(record(ticket), ticket, now)).toEqual({ ok: true });
    expect(checkTicket(record(ticket), newTicket().ticket, now)).toEqual({ ok: false, why: 'unknown' });
    expect(checkTicket(record(ticket, { expiresAt: now }), ticket, now)).toEqual({
      ok: false,
      why: 'expired',
    });
    expect(checkTicket(undefined, ticket, now)).toEqual({ ok: false, why: 'unknown' });
    expect(checkTicket(record(ticket, { hash: 'abc' }), ticket, now)).toEqual({ ok: false, why: 'unknown' });
  });

  it('records survive the annotation round trip; anything else decodes to nothing', () => {
    const r = record('x');
    expect(decodeTicketRecord(encodeTicketRecord(r))).toEqual(r);
    expect(decodeTicketRecord(undefined)).toBeUndefined();
    expect(decodeTicketRecord('not json')).toBeUndefined();
    expect(decodeTicketRecord(JSON.stringify({ ...r, admin: 'yes' }))).toBeUndefined();
  });

  it('ride on the desktop URL and come off it, leaving the rest of the URL as it was', () => {
    const url = withTicket('http://alice-1.vdi.localhost:8081/', 'T1');
    expect(url).toBe('http://alice-1.vdi.localhost:8081/?vdi-ticket=T1');
    expect(splitTicket(new URL(url))).toEqual({ ticket: 'T1', clean: 'http://alice-1.vdi.localhost:8081/' });
    expect(splitTicket(new URL('http://h/session/a/?x=1&vdi-ticket=T&y=2'))).toEqual({
      ticket: 'T',
      clean: 'http://h/session/a/?x=1&y=2',
    });
    expect(splitTicket(new URL('http://h/a?b=1'))).toEqual({ clean: 'http://h/a?b=1' });
    expect(splitTicket(new URL('http://h/?vdi-ticket=T&vdi-via=P&z=1'))).toEqual({
      ticket: 'T',
      via: 'P',
      clean: 'http://h/?z=1',
    });
  });

  it('a portal proof is bound to the desktop host, the ticket and the secret', () => {
    const p = viaProof(SECRET, 'alice-1.vdi.localhost:8081', 'T1');
    expect(p).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(checkViaProof(SECRET, 'alice-1.vdi.localhost:8081', 'T1', p)).toBe(true);
    expect(checkViaProof(SECRET, 'alice-2.vdi.localhost:8081', 'T1', p)).toBe(false);
    expect(checkViaProof(SECRET, 'alice-1.vdi.localhost:8081', 'T2', p)).toBe(false);
    expect(checkViaProof('b'.repeat(64), 'alice-1.vdi.localhost:8081', 'T1', p)).toBe(false);
    expect(checkViaProof(SECRET, 'alice-1.vdi.localhost:8081', 'T1', p.slice(1))).toBe(false);
    expect(checkViaProof(SECRET, 'alice-1.vdi.localhost:8081', 'T1', '')).toBe(false);
  });
});

describe('desktop cookies', () => {
  const claims = {
    session: 'vdi-sessions/alice-1',
    uid: 'u-1',
    owner: ALICE,
    username: 'alice',
    admin: false,
  };

  it('verify with the secret that signed them, and not with another, nor tampered or expired', async () => {
    const c = await signDesktopCookie(claims, SECRET, 60);
    expect(await verifyDesktopCookie(c, SECRET)).toEqual(claims);
    expect(await verifyDesktopCookie(c, 'b'.repeat(64))).toBeUndefined();
    const [h, p, s] = c.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'bob' }),
    );
    expect(await verifyDesktopCookie(`${h}.${forged.toString('base64url')}.${s}`, SECRET)).toBeUndefined();
    expect(await verifyDesktopCookie(await signDesktopCookie(claims, SECRET, -10), SECRET)).toBeUndefined();
    expect(await verifyDesktopCookie('garbage', SECRET)).toBeUndefined();
  });

  it('admit the owner of that very session (same uid and owner key), or an admin; nobody else', () => {
    const target = { ref: 'vdi-sessions/alice-1', uid: 'u-1', owner: ALICE };
    expect(cookieAdmits(claims, target)).toBe(true);
    expect(cookieAdmits(claims, { ...target, uid: 'u-2' })).toBe(false); // a new session of the same name
    expect(cookieAdmits(claims, { ...target, ref: 'vdi-sessions/alice-2' })).toBe(false);
    expect(cookieAdmits({ ...claims, owner: BOB }, target)).toBe(false);
    // Another subject that has alice's e-mail now: its cookie names another owner key.
    expect(cookieAdmits({ ...claims, owner: NEWCOMER }, target)).toBe(false);
    // A cookie from before owners (sub = the e-mail) opens nothing.
    expect(cookieAdmits({ ...claims, owner: 'alice@example.com' }, target)).toBe(false);
    expect(cookieAdmits({ ...claims, owner: BOB, admin: true }, target)).toBe(true);
  });

  it('open an unclaimed session (0.1.x, no owner) for admins only', () => {
    const target = { ref: 'vdi-sessions/alice-1', uid: 'u-1', owner: undefined };
    expect(cookieAdmits(claims, target)).toBe(false);
    expect(cookieAdmits({ ...claims, owner: 'alice@example.com' }, target)).toBe(false);
    expect(cookieAdmits({ ...claims, admin: true }, target)).toBe(true);
  });

  it('have one name per session, valid as a cookie name, with the __Host- prefix over https', () => {
    expect(cookieName('alice-1', false)).toBe('vdi_access_alice_1');
    expect(cookieName('alice-1', true)).toBe('__Host-vdi_access_alice_1');
    expect(cookieName('alice-1', false)).not.toBe(cookieName('alice-2', false));
  });
});
