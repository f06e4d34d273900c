import { decodeHolders, MAX_HOLDERS, withHolder, withoutHolders } from './holders.js';

const h = (n: number, idpSession = `k${n}`) => ({ owner: `o${n}`, username: `u${n}`, idpSession });

describe('access holders', () => {
  it('puts the newest first, once per login, at most MAX_HOLDERS', () => {
    let v: string | undefined;
    for (let i = 0; i < MAX_HOLDERS + 2; i++) v = withHolder(v, h(i));
    v = withHolder(v, h(3));
    const list = decodeHolders(v);
    expect(list).toHaveLength(MAX_HOLDERS);
    expect(list.map((x) => x.owner)).toEqual(['o3', 'o5', 'o4', 'o2']);
  });

  it('removes revoked holders', () => {
    const v = withHolder(withHolder(undefined, h(1)), h(2));
    expect(decodeHolders(withoutHolders(v, [h(1)]))).toEqual([h(2)]);
    expect(withoutHolders(v, [h(1), h(2)])).toBe('[]');
  });

  it('ignores values that are not ours', () => {
    expect(decodeHolders('not json')).toEqual([]);
    expect(decodeHolders('{"owner":"x"}')).toEqual([]);
    expect(decodeHolders('[{"owner":1,"username":"x"},{"owner":"o","username":"u"}]')).toEqual([
      { owner: 'o', username: 'u' },
    ]);
  });
});
