import fc from 'fast-check';
import { sampleSession } from './testing.js';
import { homePvcName, identityHash } from './names.js';
import {
  annotatedOwner,
  defaultUserHomeClaim,
  ownedBy,
  ownerAnnotations,
  ownerHash,
  ownerHomeName,
  ownerKey,
  parseOwnerKey,
  sameOwner,
  sessionOwnerHash,
} from './owner.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ISSUER = 'https://id.example.com/realms/vdi';
const alice = { issuer: ISSUER, subject: '5f0c1d2e-0000-4000-8000-00000000a11c' };
/** The same e-mail given to another person later: another subject. */
const newcomer = { issuer: ISSUER, subject: '9b8a7c6d-0000-4000-8000-0000000000b0' };
const owners = fc.record({
  issuer: fc.string({ minLength: 1, maxLength: 120 }),
  subject: fc.string({ minLength: 1, maxLength: 255 }),
});

describe('ownerKey', () => {
  it('round-trips through parseOwnerKey', () => {
    fc.assert(
      fc.property(owners, (o) => {
        expect(parseOwnerKey(ownerKey(o))).toEqual(o);
      }),
    );
  });

  it('cannot be made equal by moving characters between issuer and subject', () => {
    expect(ownerKey({ issuer: 'a', subject: 'b|c' })).not.toBe(ownerKey({ issuer: 'a|b', subject: 'c' }));
    expect(ownerKey({ issuer: 'a","b', subject: 'c' })).not.toBe(ownerKey({ issuer: 'a', subject: 'b","c' }));
    fc.assert(
      fc.property(owners, owners, (a, b) => {
        expect(ownerKey(a) === ownerKey(b)).toBe(sameOwner(a, b));
      }),
    );
  });

  it.each(['', 'alice@example.com', '["only-one"]', '["a", 2]', '["", "s"]', '["i", ""]', '{"issuer":"i"}'])(
    'parseOwnerKey refuses %p',
    (key) => {
      expect(parseOwnerKey(key)).toBeUndefined();
    },
  );
});

describe('ownership', () => {
  const owned = sampleSession('alice-1', { owner: alice });
  const unclaimed = sampleSession('alice-0'); // 0.1.x: spec.user only

  it('belongs to the exact issuer + subject, whatever e-mail another identity has', () => {
    expect(ownedBy(owned, alice)).toBe(true);
    // Same e-mail (spec.user), another subject: a reassigned address or a second identity provider.
    expect(ownedBy(owned, newcomer)).toBe(false);
    // Same subject from another issuer.
    expect(ownedBy(owned, { issuer: 'https://other.example.com', subject: alice.subject })).toBe(false);
    // No case folding: OIDC compares exact strings.
    expect(ownedBy(owned, { ...alice, subject: alice.subject.toUpperCase() })).toBe(false);
  });

  it('gives an unclaimed (0.1.x) session to no one', () => {
    expect(ownedBy(unclaimed, alice)).toBe(false);
    expect(ownedBy(unclaimed, newcomer)).toBe(false);
    expect(sameOwner(undefined, undefined)).toBe(false);
  });

  it('labels an owned session with the owner hash and an unclaimed one as 0.1.x did', () => {
    expect(sessionOwnerHash(owned)).toBe(ownerHash(alice));
    expect(sessionOwnerHash(owned)).toMatch(/^[0-9a-f]{16}$/);
    expect(sessionOwnerHash(sampleSession('x', { owner: newcomer }))).not.toBe(ownerHash(alice));
    expect(sessionOwnerHash(unclaimed)).toBe(identityHash('alice@example.com'));
  });
});

describe('ownerHomeName', () => {
  it('is readable from the subject, never from the e-mail', () => {
    expect(ownerHomeName(alice)).toMatch(/^home-5f0c1d2e-0000-4000-8000-00000000a11c-[0-9a-f]{16}$/);
    expect(ownerHomeName(alice)).not.toContain('alice-example');
  });

  it('keeps owners apart whose readable parts are equal', () => {
    expect(ownerHomeName(alice)).not.toBe(ownerHomeName(newcomer));
    expect(ownerHomeName(alice)).not.toBe(
      ownerHomeName({ issuer: 'https://other.example.com', subject: alice.subject }),
    );
    expect(ownerHomeName({ issuer: ISSUER, subject: 'AbC' })).not.toBe(
      ownerHomeName({ issuer: ISSUER, subject: 'abc' }),
    );
  });

  it('never equals an e-mail-keyed (0.1.x) home name', () => {
    expect(ownerHomeName(alice)).not.toBe(homePvcName('alice@example.com'));
    expect(ownerHomeName({ issuer: ISSUER, subject: 'alice@example.com' })).not.toBe(
      homePvcName('alice@example.com'),
    );
  });

  it('is a valid, bounded DNS-1123 label for any owner, distinct for distinct owners', () => {
    fc.assert(
      fc.property(owners, (o) => {
        const name = ownerHomeName(o);
        expect(name.length).toBeLessThanOrEqual(63);
        expect(name).toMatch(DNS1123_LABEL);
        expect(ownerHomeName({ ...o })).toBe(name);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.uniqueArray(owners, { selector: ownerKey, minLength: 2, maxLength: 200 }), (os) => {
        expect(new Set(os.map(ownerHomeName)).size).toBe(os.length);
      }),
      { numRuns: 200 },
    );
  });

  it('is what an owned session mounts by default; an unclaimed one keeps its e-mail-keyed home', () => {
    expect(defaultUserHomeClaim({ user: 'alice@example.com', owner: alice })).toBe(ownerHomeName(alice));
    expect(defaultUserHomeClaim({ user: 'alice@example.com' })).toBe(homePvcName('alice@example.com'));
  });
});

describe('owner annotations', () => {
  it('name the owner of a volume, and nothing when either is missing', () => {
    expect(annotatedOwner({ annotations: ownerAnnotations(alice) })).toEqual(alice);
    expect(annotatedOwner({ annotations: { 'vdi.kasm.io/owner-issuer': ISSUER } })).toBeUndefined();
    expect(annotatedOwner({})).toBeUndefined();
    expect(annotatedOwner(undefined)).toBeUndefined();
  });
});
