import { ClaimsError, audiences, mayUsePlatform, principalFromClaims, realmRoles } from './principal.js';

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

  it('uses the verified email as the session owner', () => {
    const p = principalFromClaims({
      sub: 'f1',
      email: 'alice@example.com',
      email_verified: true,
      preferred_username: 'alice',
      name: 'Alice Liddell',
      realm_access: { roles: ['vdi-user'] },
    });
    expect(p).toEqual({
      user: 'alice@example.com',
      subject: 'f1',
      username: 'alice',
      email: 'alice@example.com',
      name: 'Alice Liddell',
      roles: ['vdi-user'],
      isAdmin: false,
    });
    expect(mayUsePlatform(p)).toBe(true);
  });

  it('falls back to the subject when the email is not verified', () => {
    const p = principalFromClaims({ sub: 'f2', email: 'mallory@example.com', preferred_username: 'alice' });
    expect(p.user).toBe('f2');
    expect(mayUsePlatform(p)).toBe(false);
  });

  it('recognises admins', () => {
    const p = principalFromClaims({ sub: 's', realm_access: { roles: ['vdi-admin'] } });
    expect(p.isAdmin).toBe(true);
    expect(mayUsePlatform(p)).toBe(true);
  });

  it('refuses tokens without a subject', () => {
    expect(() => principalFromClaims({ email: 'a@b' })).toThrow(ClaimsError);
  });
});
