import { parseProcList } from './processes.js';

describe('parseProcList', () => {
  it('splits /proc cmdline and environ at NULs and drops the trailing one', () => {
    expect(parseProcList('/bin/etcd\0--name=a\0--x=\0')).toEqual(['/bin/etcd', '--name=a', '--x=']);
    expect(parseProcList('A=1\0B=two words\0')).toEqual(['A=1', 'B=two words']);
  });
  it('keeps empty arguments in the middle', () => {
    expect(parseProcList('cmd\0\0last\0')).toEqual(['cmd', '', 'last']);
  });
  it('reads an empty list', () => {
    expect(parseProcList('')).toEqual([]);
  });
});
