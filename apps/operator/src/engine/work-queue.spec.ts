import { TerminalError, WorkQueue } from './work-queue.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('WorkQueue', () => {
  it('de-duplicates a key that is already waiting', async () => {
    const seen: string[] = [];
    const q = new WorkQueue({ workers: 1, handler: async (k) => void seen.push(k) });
    // The first add starts a worker at once; the following ones collapse into one more run.
    q.add('a');
    q.add('b');
    q.add('b');
    q.add('b');
    await q.idle();
    expect(seen).toEqual(['a', 'b']);
  });

  it('never runs one key on two workers at once, and re-runs a key added while it was handled', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const q = new WorkQueue({
      workers: 4,
      handler: async () => {
        running++;
        runs++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(20);
        running--;
      },
    });
    q.add('k');
    await sleep(5);
    q.add('k');
    q.add('k');
    await sleep(60);
    await q.idle();
    expect(maxRunning).toBe(1);
    expect(runs).toBe(2);
  });

  it('folds the addSoon calls of a key into one run, and a run that starts meanwhile covers them', async () => {
    const seen: string[] = [];
    let release: () => void = () => undefined;
    const q = new WorkQueue({
      workers: 1,
      handler: async (k) => {
        seen.push(k);
        // The first run of 'busy' holds the only worker until the test lets it go.
        if (k === 'busy' && seen.length === 1) await new Promise<void>((r) => (release = r));
      },
    });
    // Three steps of one start: one run once the window is over.
    q.addSoon('a', 30);
    q.addSoon('a', 30);
    q.addSoon('a', 30);
    expect(seen).toEqual([]);
    await sleep(80);
    await q.idle();
    expect(seen).toEqual(['a']);

    // A run of the key that starts within the window (its readiness, say) covers the pending refresh.
    seen.length = 0;
    q.addSoon('b', 40);
    q.add('b', 'finish');
    await q.idle();
    await sleep(80);
    await q.idle();
    expect(seen).toEqual(['b']);

    // One asked for while the key is being handled is not covered by that run (it may have read
    // the state before the step): it runs again.
    seen.length = 0;
    q.add('busy');
    await sleep(5);
    q.addSoon('busy', 10);
    await sleep(30);
    release();
    await sleep(20);
    await q.idle();
    expect(seen).toEqual(['busy', 'busy']);
  });

  it('runs different keys concurrently up to the worker count', async () => {
    let running = 0;
    let maxRunning = 0;
    const q = new WorkQueue({
      workers: 3,
      handler: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(15);
        running--;
      },
    });
    for (let i = 0; i < 10; i++) q.add(`k${i}`);
    await q.idle();
    expect(maxRunning).toBe(3);
  });

  it('retries failures with exponential backoff per key and forgets them after a success', async () => {
    const times: number[] = [];
    let calls = 0;
    const q = new WorkQueue({
      workers: 1,
      baseDelayMs: 10,
      handler: async () => {
        times.push(Date.now());
        if (++calls <= 3) throw new Error('apiserver unavailable');
      },
    });
    q.add('k');
    await sleep(200);
    expect(calls).toBe(4);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(9);
    expect(gaps[1]).toBeGreaterThanOrEqual(19);
    expect(gaps[2]).toBeGreaterThanOrEqual(39);
    expect(q.failuresOf('k')).toBe(0);
  });

  it('caps the backoff', () => {
    const q = new WorkQueue({ workers: 1, baseDelayMs: 5, maxDelayMs: 1000, handler: async () => undefined });
    const delays = Array.from({ length: 12 }, () => q.addRateLimited('k'));
    expect(delays.slice(0, 4)).toEqual([5, 10, 20, 40]);
    expect(Math.max(...delays)).toBe(1000);
    void q.shutdown();
  });

  it('does not retry a terminal error', async () => {
    let calls = 0;
    const outcomes: string[] = [];
    const q = new WorkQueue({
      workers: 1,
      baseDelayMs: 1,
      handler: async () => {
        calls++;
        throw new TerminalError('template is invalid');
      },
      onResult: (_k, o) => outcomes.push(o),
    });
    q.add('k');
    await sleep(30);
    expect(calls).toBe(1);
    expect(outcomes).toEqual(['terminal']);
  });

  it('requeues after the delay a handler asks for, without counting a failure', async () => {
    const times: number[] = [];
    const q = new WorkQueue({
      workers: 1,
      handler: async () => {
        times.push(Date.now());
        return times.length < 2 ? { requeueAfterMs: 40 } : undefined;
      },
    });
    q.add('k');
    await sleep(80);
    expect(times).toHaveLength(2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(38);
    expect(q.failuresOf('k')).toBe(0);
  });

  it('looks again within the window a handler asks for, unless a run of the key starts first', async () => {
    const seen: string[] = [];
    const q = new WorkQueue({
      workers: 1,
      handler: async (k) => {
        seen.push(k);
        // The first run of each key asks for a look within 40 ms.
        return seen.filter((s) => s === k).length === 1 ? { refreshWithinMs: 40 } : undefined;
      },
    });
    // Nothing else comes: the look is taken when the window ends, and only once.
    q.add('quiet');
    await sleep(20);
    expect(seen).toEqual(['quiet']);
    await sleep(60);
    await q.idle();
    expect(seen).toEqual(['quiet', 'quiet']);
    // Its pod's event comes first: that run covers the look (no third run).
    seen.length = 0;
    q.add('busy');
    await sleep(5);
    q.add('busy', 'finish');
    await sleep(80);
    await q.idle();
    expect(seen).toEqual(['busy', 'busy']);
    // A shorter window asked for meanwhile (a start's next step) is not held to the longer one.
    seen.length = 0;
    q.add('steps');
    await sleep(5);
    q.addSoon('steps', 5);
    await sleep(20);
    expect(seen).toEqual(['steps', 'steps']);
  });

  it('keeps the earliest of two delayed requeues of a key', async () => {
    let calls = 0;
    const q = new WorkQueue({ workers: 1, handler: async () => void calls++ });
    q.addAfter('k', 1000);
    q.addAfter('k', 10);
    expect(q.delayed).toBe(1);
    await sleep(40);
    expect(calls).toBe(1);
    expect(q.delayed).toBe(0);
  });

  it('on shutdown waits for running handlers and takes no new keys', async () => {
    let finished = 0;
    const q = new WorkQueue({ workers: 2, handler: async () => void (await sleep(30), finished++) });
    q.add('a');
    q.add('b');
    q.addAfter('c', 5);
    await sleep(5);
    await q.shutdown();
    expect(finished).toBe(2);
    q.add('d');
    await sleep(20);
    expect(finished).toBe(2);
  });

  describe('priorities', () => {
    /** A queue with one busy worker, so the order in which waiting keys are handed out shows. */
    const gated = () => {
      const seen: string[] = [];
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      const q = new WorkQueue({
        workers: 1,
        handler: async (k) => {
          if (k === 'busy') await gate;
          seen.push(k);
        },
      });
      q.add('busy');
      return { q, seen, open };
    };

    it('hands out finishing work first, then new work, then refreshes, each in arrival order', async () => {
      const { q, seen, open } = gated();
      q.add('r1');
      q.add('n1', 'new');
      q.add('r2', 'refresh');
      q.add('f1', 'finish');
      q.add('n2', 'new');
      q.add('f2', 'finish');
      expect(q.depth).toBe(6);
      expect([q.depthOf('finish'), q.depthOf('new'), q.depthOf('refresh')]).toEqual([2, 2, 2]);
      open();
      await q.idle();
      expect(seen).toEqual(['busy', 'f1', 'f2', 'n1', 'n2', 'r1', 'r2']);
    });

    it('never moves a waiting key down: a new key asked for as a refresh stays new', async () => {
      const { q, seen, open } = gated();
      q.add('n', 'new');
      q.add('r');
      q.add('n');
      q.add('f', 'finish');
      q.add('f', 'new');
      expect(q.depth).toBe(3);
      expect([q.depthOf('finish'), q.depthOf('new'), q.depthOf('refresh')]).toEqual([1, 1, 1]);
      open();
      await q.idle();
      expect(seen).toEqual(['busy', 'f', 'n', 'r']);
    });

    it('moves a waiting key up when the same key arrives at a higher priority, and never queues it twice', async () => {
      const { q, seen, open } = gated();
      q.add('a');
      q.add('b');
      q.add('c', 'new');
      q.add('b', 'new');
      q.add('b');
      q.add('a', 'finish');
      expect(q.depth).toBe(3);
      open();
      await q.idle();
      expect(seen).toEqual(['busy', 'a', 'c', 'b']);
    });

    it('a key added as new while it is handled runs again ahead of refreshes', async () => {
      const seen: string[] = [];
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      const q = new WorkQueue({
        workers: 1,
        handler: async (k) => {
          if (k === 'k' && !seen.includes('k')) await gate;
          seen.push(k);
        },
      });
      q.add('k');
      q.add('r');
      q.add('k', 'new');
      open();
      await q.idle();
      expect(seen).toEqual(['k', 'k', 'r']);
    });

    it('a failed new key is retried as new', async () => {
      const seen: string[] = [];
      let failed = false;
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      const q = new WorkQueue({
        workers: 1,
        baseDelayMs: 1,
        handler: async (k) => {
          seen.push(k);
          if (k === 'n' && !failed) {
            failed = true;
            throw new Error('conflict');
          }
          if (k === 'slow') await gate;
        },
      });
      q.add('n', 'new');
      q.add('slow');
      q.add('r1');
      // 'n' fails and is retried after 1 ms, while 'slow' holds the worker; it then goes before 'r1'.
      await sleep(20);
      open();
      await q.idle();
      expect(seen).toEqual(['n', 'slow', 'n', 'r1']);
    });
  });
});
