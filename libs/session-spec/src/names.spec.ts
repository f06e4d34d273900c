import fc from 'fast-check';
import { homePvcName, identityName, slugify } from './names.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe('homePvcName', () => {
  it('is readable for ordinary identities', () => {
    expect(homePvcName('alice@example.com')).toMatch(/^home-alice-example-com-[0-9a-f]{10}$/);
  });

  it('keeps identities apart whose readable parts are equal', () => {
    expect(homePvcName('alice@example.com')).not.toBe(homePvcName('alice@example.org'));
    expect(homePvcName('Alice@example.com')).not.toBe(homePvcName('alice@example.com'));
    expect(homePvcName('a.b')).not.toBe(homePvcName('a-b'));
  });

  it('is deterministic', () => {
    expect(homePvcName('bob')).toBe(homePvcName('bob'));
  });

  it('gives a valid, bounded DNS-1123 label for any identity string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (id) => {
        const name = homePvcName(id);
        expect(name.length).toBeLessThanOrEqual(63);
        expect(name).toMatch(DNS1123_LABEL);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives distinct names to distinct identities', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ maxLength: 80 }), { minLength: 2, maxLength: 200 }), (ids) => {
        expect(new Set(ids.map(homePvcName)).size).toBe(ids.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('identityName', () => {
  it.each(['', 'A', '1a', '-a', 'a'.repeat(21)])('rejects the prefix %p', (p) => {
    expect(() => identityName(p, 'x')).toThrow(/invalid name prefix/);
  });
  it('falls back to prefix-hash when nothing readable is left', () => {
    expect(identityName('home', '@@@')).toMatch(/^home-[0-9a-f]{10}$/);
  });
});

describe('slugify', () => {
  it('folds accents and punctuation', () => {
    expect(slugify("Zoë.O'Brien@Example.COM")).toBe('zoe-o-brien-example-com');
  });
});
