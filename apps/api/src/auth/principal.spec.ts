import { ClaimsError, audiences, mayUsePlatform, principalFromClaims, realmRoles } from './principal.js';

const ISSUER = 'https://id.example.com/realms/vdi';

describe('claims', () => {
  it('reads aud as a string or an array', () => {
    expect(audiences('vdi-api')).toEqual(['vdi-api']);
    expect(audiences(['account', 'vdi-api', 3])).toEqual(['account', 'vdi-api']);
    expect(audiences(undefined)).toEqual([]);
  });

  it('reads realm roles defensively', () => {
    expect(realmRoles({ realm_access: { roles: ['vdi-user', 1] } })).toEqual(['vdi-user']);
    expect(realmRoles({ realm_access: 'x' })).toEqual([]);
    expect(realmRoles({})).toEqual([]);
  });

  it('makes issuer + subject the owner, and shows the verified email', () => {
    const p = principalFromClaims({
      iss: ISSUER,
      sub: 'f1',
      email: 'alice@example.com',
      email_verified: true,
      preferred_username: 'alice',
      name: 'Alice Liddell',
      realm_access: { roles: ['vdi-user'] },
    });
    expect(p).toEqual({
      owner: { issuer: ISSUER, subject: 'f1' },
      user: 'alice@example.com',
      subject: 'f1',
      username: 'alice',
      email: 'alice@example.com',
      name: 'Alice Liddell',
      roles: ['vdi-user'],
      groups: [],
      isAdmin: false,
    });
    expect(mayUsePlatform(p)).toBe(true);
  });

  it('shows the subject when the email is not verified', () => {
    const p = principalFromClaims({
      iss: ISSUER,
      sub: 'f2',
      email: 'mallory@example.com',
      preferred_username: 'alice',
    });
    expect(p.user).toBe('f2');
    expect(p.owner).toEqual({ issuer: ISSUER, subject: 'f2' });
    expect(mayUsePlatform(p)).toBe(false);
  });

  it('gives two subjects with the same verified email two owners (a reassigned address, a second provider)', () => {
    const claims = { iss: ISSUER, email: 'alice@example.com', email_verified: true };
    const before = principalFromClaims({ ...claims, sub: 'departed-alice' });
    const after = principalFromClaims({ ...claims, sub: 'new-alice' });
    expect(before.user).toBe(after.user);
    expect(before.owner).not.toEqual(after.owner);
    const elsewhere = principalFromClaims({
      ...claims,
      iss: 'https://other.example.com',
      sub: 'departed-alice',
    });
    expect(elsewhere.owner).not.toEqual(before.owner);
  });

  it('recognises admins', () => {
    const p = principalFromClaims({ iss: ISSUER, sub: 's', realm_access: { roles: ['vdi-admin'] } });
    expect(p.isAdmin).toBe(true);
    expect(mayUsePlatform(p)).toBe(true);
  });

  it.each([
    ['without a subject', { iss: ISSUER, email: 'a@b' }, 'subject'],
    ['without an issuer', { sub: 's' }, 'issuer'],
    ['with a subject over 255 characters', { iss: ISSUER, sub: 's'.repeat(256) }, 'cannot own sessions'],
    ['with an issuer holding white space', { iss: 'https://a b', sub: 's' }, 'cannot own sessions'],
  ])('refuses tokens %s', (_what, claims, says) => {
    expect(() => principalFromClaims(claims)).toThrow(ClaimsError);
    expect(() => principalFromClaims(claims)).toThrow(says);
  });
});
