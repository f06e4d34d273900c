import fc from 'fast-check';
import { SESSION_NAME_MAX } from '@vdi/crd-types';
import { generateSessionName, randomSuffix, RANDOM_SUFFIX_LEN, sessionNameProblem } from './session-name.js';

describe('session names', () => {
  it('are <user-slug>-<random>', () => {
    expect(generateSessionName('alice', 'abc123')).toBe('alice-abc123');
    expect(generateSessionName('Zoë.O’Brien@example.com', 'x1y2z3')).toBe('zoe-o-brien-x1y2z3');
    expect(generateSessionName('42', 'aaaaaa')).toBe('s-42-aaaaaa');
    expect(generateSessionName('', 'aaaaaa')).toBe('s-aaaaaa');
    expect(generateSessionName('---', 'aaaaaa')).toBe('s-aaaaaa');
  });

  it('are always valid for any user name', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (user) => {
        const name = generateSessionName(user);
        expect(sessionNameProblem(name)).toBeUndefined();
        expect(name.length).toBeLessThanOrEqual(SESSION_NAME_MAX);
      }),
    );
  });

  it('cut long user names without a dangling dash', () => {
    const name = generateSessionName('a'.repeat(42) + '-b', 'zzzzzz');
    expect(name.length).toBeLessThanOrEqual(SESSION_NAME_MAX);
    expect(name).toBe(`${'a'.repeat(42)}-zzzzzz`);
  });

  it('random suffixes are [a-z0-9] of fixed length', () => {
    for (let i = 0; i < 100; i++)
      expect(randomSuffix()).toMatch(new RegExp(`^[a-z0-9]{${RANDOM_SUFFIX_LEN}}$`));
    // bytes ≥ 252 are skipped so every character is equally likely
    let calls = 0;
    const s = randomSuffix((n) => new Uint8Array(n).fill(calls++ === 0 ? 255 : 0));
    expect(s).toBe('aaaaaa');
  });

  it('explain what is wrong with a chosen name', () => {
    expect(sessionNameProblem('my-desktop')).toBeUndefined();
    for (const bad of ['', 'My-Desktop', '1desk', 'desk-', 'desk_top', 'a'.repeat(51), 'desk.top']) {
      expect(sessionNameProblem(bad)).toEqual(expect.any(String));
    }
  });
});
