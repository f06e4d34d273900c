import { StringPool } from './intern.js';

/** A child as the API server sends it: parsed from JSON, so every string is its own copy. */
function parsedChild(session: string, uid: string, rv: string) {
  return JSON.parse(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: `${session}-svc`,
        namespace: 'vdi-sessions',
        uid: `${uid}-own`,
        resourceVersion: rv,
        labels: { 'vdi.kasm.io/session': session },
        ownerReferences: [{ apiVersion: 'vdi.kasm.io/v1alpha1', kind: 'VDISession', name: session, uid }],
      },
      spec: { ports: [{ name: 'http', port: 8080 }], selector: ['a', 'b'] },
    }),
  ) as {
    metadata: { resourceVersion: string; uid: string; ownerReferences: { uid: string }[] };
    spec: { selector: string[] };
  };
}

describe('StringPool', () => {
  it('leaves every value as it was (equal strings replace equal strings)', () => {
    const pool = new StringPool();
    const before = parsedChild('s1', 'u1', '7');
    const after = pool.internAll(parsedChild('s1', 'u1', '7'));
    expect(after).toEqual(before);
  });

  it("pools repeated values, owner references' uids and names included, but not an object's own uid, name or resourceVersion", () => {
    const pool = new StringPool();
    pool.internAll(parsedChild('s1', 'u1', '7'));
    for (const s of ['vdi-sessions', 's1', 'u1', 'VDISession', 'vdi.kasm.io/v1alpha1', 'http', 'a', 'b']) {
      expect(pool.has(s)).toBe(true);
    }
    expect(pool.has('7')).toBe(false);
    expect(pool.has('u1-own')).toBe(false);
    expect(pool.has('s1-svc')).toBe(false);
  });

  it('returns the first copy it saw for an equal string', () => {
    const pool = new StringPool();
    const first = ['vdi', 'sessions'].join('-');
    expect(pool.intern(first)).toBe(first);
    // Strings compare by value, so this only shows the pool answers with an equal string and
    // does not grow: one entry for any number of equal strings.
    expect(pool.intern(['vdi', 'sessions'].join('-'))).toBe('vdi-sessions');
    expect(pool.size).toBe(1);
  });

  it('stays bounded: a string not seen for a whole generation is dropped', () => {
    const pool = new StringPool(3);
    for (const s of ['a', 'b', 'c']) pool.intern(s);
    // 'd' starts a new generation; 'a' is seen again, so it moves along.
    pool.intern('d');
    pool.intern('a');
    for (const s of ['e', 'f']) pool.intern(s);
    // The third generation begins: b and c were last seen two generations ago.
    pool.intern('g');
    expect(pool.has('b')).toBe(false);
    expect(pool.has('c')).toBe(false);
    expect(['a', 'd', 'e', 'f', 'g'].every((s) => pool.has(s))).toBe(true);
    expect(pool.size).toBeLessThanOrEqual(6);
  });

  it('walks arrays of strings and leaves numbers, booleans, null and dates alone', () => {
    const pool = new StringPool();
    const at = new Date(0);
    const obj = { list: ['x', 1, true, null, at, ['y']], n: 2, b: false, z: null };
    expect(pool.internAll(obj)).toEqual({ list: ['x', 1, true, null, at, ['y']], n: 2, b: false, z: null });
    expect(pool.has('x') && pool.has('y')).toBe(true);
    expect(pool.size).toBe(2);
  });
});
