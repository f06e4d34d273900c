import type { VDISession } from '@vdi/crd-types';
import { SessionsByTemplate } from './sessions-by-template.js';

const session = (name: string, template: string, namespace = 'vdi-sessions') =>
  ({ metadata: { name, namespace }, spec: { user: 'u', template } }) as VDISession;

describe('SessionsByTemplate', () => {
  it('counts sessions per template as they are added and deleted', () => {
    const idx = new SessionsByTemplate();
    idx.apply('add', session('a', 'xfce'));
    idx.apply('add', session('b', 'xfce'));
    idx.apply('add', session('c', 'gpu'));
    expect([idx.count('xfce'), idx.count('gpu'), idx.count('none')]).toEqual([2, 1, 0]);
    idx.apply('delete', session('a', 'xfce'));
    expect(idx.count('xfce')).toBe(1);
    idx.apply('delete', session('b', 'xfce'));
    expect(idx.count('xfce')).toBe(0);
  });

  it('counts a session once however often it is updated, and deleting an unknown one changes nothing', () => {
    const idx = new SessionsByTemplate();
    idx.apply('add', session('a', 'xfce'));
    idx.apply('update', session('a', 'xfce'));
    idx.apply('update', session('a', 'xfce'));
    idx.apply('delete', session('zz', 'xfce'));
    expect(idx.count('xfce')).toBe(1);
  });

  it('moves a session whose name came back with another template (made again while the watch was away)', () => {
    const idx = new SessionsByTemplate();
    idx.apply('add', session('a', 'xfce'));
    idx.apply('update', session('a', 'gpu'));
    expect([idx.count('xfce'), idx.count('gpu')]).toEqual([0, 1]);
  });

  it('tells sessions of the same name in different namespaces apart', () => {
    const idx = new SessionsByTemplate();
    idx.apply('add', session('a', 'xfce', 'one'));
    idx.apply('add', session('a', 'xfce', 'two'));
    expect(idx.count('xfce')).toBe(2);
  });
});
