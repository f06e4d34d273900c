import { spawn } from 'node:child_process';
import { delta, cpuTicks, memory, sampleProcess, waitQuiet } from './proc.js';

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

describe('waitQuiet', () => {
  /** Runs `code` in a child node process for the length of `fn`. */
  const withChild = async (code: string, fn: (pid: number) => Promise<void>) => {
    const child = spawn(process.execPath, ['-e', code]);
    try {
      await fn(child.pid!);
    } finally {
      child.kill('SIGKILL');
    }
  };

  it('waits while a process is busy and returns once a whole window was quiet', async () => {
    // Busy for 1.5 s, then asleep.
    await withChild(
      'const end = Date.now() + 1500; while (Date.now() < end); setTimeout(() => {}, 60000);',
      async (pid) => {
        // Thresholds far below what a spinning process gets even on a loaded CI machine.
        const r = await waitQuiet(pid, { windowMs: 500, maxCores: 0.02, timeoutMs: 20_000 });
        expect(r.quiet).toBe(true);
        expect(r.waitedMs).toBeGreaterThanOrEqual(1_200);
      },
    );
  });

  it('gives up after its timeout on a process that stays busy', async () => {
    await withChild('for (;;);', async (pid) => {
      const r = await waitQuiet(pid, { windowMs: 500, maxCores: 0.02, timeoutMs: 1_500 });
      expect(r.quiet).toBe(false);
      expect(r.waitedMs).toBeGreaterThanOrEqual(1_400);
    });
  });
});

describe('delta', () => {
  it('gives what each process used between two readings, only for processes in both', () => {
    expect(delta({ a: 100, b: 50, gone: 10 }, { a: 350, b: 50, new: 7 })).toEqual({ a: 250, b: 0 });
  });
});
