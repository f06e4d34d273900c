import { cpuTicks, memory, sampleProcess } from './proc.js';

describe('cpuTicks', () => {
  it('adds utime and stime, even when the command name has spaces and parentheses', () => {
    const stat =
      '4242 (node (my op)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 150 25 0 0 20 0 11 0 100 1000000 5000 18446744073709551615';
    expect(cpuTicks(stat)).toBe(175);
  });
});

describe('memory', () => {
  it('reads VmRSS and VmHWM in bytes', () => {
    const status = 'Name:\tnode\nVmPeak:\t 999 kB\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n';
    expect(memory(status)).toEqual({ rssBytes: 1024 * 1024, peakRssBytes: 2048 * 1024 });
  });
});

describe('sampleProcess', () => {
  it('reads this process, and nothing for a pid that does not exist', () => {
    const s = sampleProcess(process.pid)!;
    expect(s.cpuMs).toBeGreaterThan(0);
    expect(s.peakRssBytes).toBeGreaterThanOrEqual(s.rssBytes);
    expect(sampleProcess(2 ** 22 + 12345)).toBeUndefined();
  });
});
