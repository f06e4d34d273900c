import { jest } from '@jest/globals';
import { Periodic } from './periodic.js';

describe('Periodic', () => {
  it('never runs two rounds at once: a call during a round gets that round', async () => {
    let runs = 0;
    let release: () => void = () => undefined;
    const p = new Periodic(3600, async () => {
      runs++;
      await new Promise<void>((r) => (release = r));
    });
    const a = p.now();
    const b = p.now();
    expect(b).toBe(a);
    release();
    await a;
    expect(runs).toBe(1);
    const c = p.now();
    expect(c).not.toBe(a);
    release();
    await c;
    expect(runs).toBe(2);
  });

  it('runs every interval once started, and not after stop', async () => {
    jest.useFakeTimers();
    try {
      let runs = 0;
      const p = new Periodic(2, async () => void runs++);
      p.start();
      await jest.advanceTimersByTimeAsync(4_100);
      expect(runs).toBe(2);
      p.stop();
      await jest.advanceTimersByTimeAsync(10_000);
      expect(runs).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });
});
