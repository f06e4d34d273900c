import { AppliedMemo } from './applied-memo.js';

const child = (kind: string, name: string, namespace = 'vdi') => ({ kind, metadata: { name, namespace } });

describe('AppliedMemo', () => {
  it('keeps one entry per kind, namespace and name', () => {
    const memo = new AppliedMemo();
    memo.set(child('Service', 's1'), { hash: 'a', resourceVersion: '1', at: 5 });
    memo.set(child('Secret', 's1'), { hash: 'b', resourceVersion: '2', at: 0 });
    memo.set(child('Service', 's1', 'other'), { hash: 'c', resourceVersion: '3', at: 0 });
    expect(memo.size).toBe(3);
    expect(memo.get(child('Service', 's1'))).toEqual({ hash: 'a', resourceVersion: '1', at: 5 });
    expect(memo.get(child('Secret', 's1'))?.hash).toBe('b');
    expect(memo.get(child('Service', 's1', 'other'))?.hash).toBe('c');
    expect(memo.get(child('Service', 's2'))).toBeUndefined();
    expect(memo.get(child('Pod', 's1'))).toBeUndefined();
  });

  it('replaces an entry without counting it twice, and forgets one child or all', () => {
    const memo = new AppliedMemo();
    memo.set(child('Service', 's1'), { hash: 'a', resourceVersion: '1', at: 5 });
    memo.set(child('Service', 's1'), { hash: 'a2', resourceVersion: '4', at: 6 });
    expect(memo.size).toBe(1);
    expect(memo.get(child('Service', 's1'))?.resourceVersion).toBe('4');
    memo.set(child('Service', 's2'), { hash: 'b', resourceVersion: '2', at: 0 });
    memo.delete(child('Service', 's1'));
    memo.delete(child('Service', 'never-there'));
    expect(memo.size).toBe(1);
    expect(memo.get(child('Service', 's1'))).toBeUndefined();
    expect(memo.get(child('Service', 's2'))?.hash).toBe('b');
    memo.clear();
    expect(memo.size).toBe(0);
    expect(memo.get(child('Service', 's2'))).toBeUndefined();
  });
});
