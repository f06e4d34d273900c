import { jest } from '@jest/globals';
import type * as k8s from '@kubernetes/client-node';
import { InformerSet, type Cache } from './informers.js';

/**
 * A cache that behaves as client-node's ListWatch does: start() lists (the resourceVersion is
 * known once a list worked), then watches; a failed list or watch only emits `error`.
 */
class ScriptedCache {
  starts = 0;
  private rv = '';
  private readonly errorHandlers: ((err?: unknown) => void)[] = [];
  /** What each start() does, in order; the last entry repeats. */
  constructor(private readonly script: ('list-fails' | 'ok' | 'watch-refused')[]) {}

  on(event: string, cb: (err?: unknown) => void): void {
    if (event === 'error') this.errorHandlers.push(cb);
  }
  async start(): Promise<void> {
    const step = this.script[Math.min(this.starts, this.script.length - 1)];
    this.starts++;
    if (step === 'list-fails') {
      this.emit(new Error('list refused'));
      return;
    }
    this.rv = String(this.starts);
    // The watch is refused after the list, before start() has returned to its caller.
    if (step === 'watch-refused') this.emit(new Error('watch refused: 429'));
  }
  async stop(): Promise<void> {}
  latestResourceVersion(): string {
    return this.rv;
  }
  fail(err: unknown): void {
    this.emit(err);
  }
  private emit(err: unknown): void {
    for (const cb of this.errorHandlers) cb(err);
  }
}

const asCache = (c: ScriptedCache) => c as unknown as Cache<k8s.KubernetesObject>;

describe('InformerSet', () => {
  let warnings: { msg: string; fields: Record<string, unknown> }[];
  let set: InformerSet;

  beforeEach(() => {
    jest.useFakeTimers();
    // The restart delay is jittered; pin it so one clock advance covers exactly one restart.
    jest.spyOn(Math, 'random').mockReturnValue(0);
    warnings = [];
    set = new InformerSet((msg, fields) => warnings.push({ msg, fields }));
  });
  afterEach(async () => {
    await set.stop();
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  it('is synced once every cache has listed, and does not restart caches that are fine', async () => {
    const a = new ScriptedCache(['ok']);
    const b = new ScriptedCache(['ok']);
    set.add('a', asCache(a));
    set.add('b', asCache(b));
    expect(set.synced).toBe(false);
    await set.start();
    expect(set.synced).toBe(true);
    await jest.advanceTimersByTimeAsync(10_000);
    expect([a.starts, b.starts]).toEqual([1, 1]);
    expect(warnings).toEqual([]);
  });

  it('retries a failed first list with backoff until it works', async () => {
    const a = new ScriptedCache(['list-fails', 'list-fails', 'ok']);
    set.add('a', asCache(a));
    const started = set.start();
    await jest.advanceTimersByTimeAsync(200); // first backoff
    expect(set.synced).toBe(false);
    await jest.advanceTimersByTimeAsync(400); // second backoff
    await started;
    expect(set.synced).toBe(true);
    expect(a.starts).toBe(3);
    expect(warnings.map((w) => w.msg)).toEqual([
      'initial list failed; retrying',
      'initial list failed; retrying',
    ]);
  });

  it('restarts a cache whose watch was refused right after its first list', async () => {
    const a = new ScriptedCache(['watch-refused', 'ok']);
    set.add('a', asCache(a));
    await set.start();
    expect(set.synced).toBe(true);
    expect(a.starts).toBe(1);
    await jest.advanceTimersByTimeAsync(500);
    expect(a.starts).toBe(2);
    expect(warnings).toEqual([
      {
        msg: 'watch failed; restarting the informer',
        fields: { cache: 'a', err: 'Error: watch refused: 429', retryInMs: 500 },
      },
    ]);
    // Once it watches again nothing else happens.
    await jest.advanceTimersByTimeAsync(10_000);
    expect(a.starts).toBe(2);
  });

  it('restarts a synced cache whose watch fails later, once per failure', async () => {
    const a = new ScriptedCache(['ok']);
    set.add('a', asCache(a));
    await set.start();
    a.fail(new Error('watch closed'));
    await jest.advanceTimersByTimeAsync(499);
    expect(a.starts).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(a.starts).toBe(2);
    a.fail(new Error('watch closed again'));
    await jest.advanceTimersByTimeAsync(500);
    expect(a.starts).toBe(3);
  });

  it('starts nothing after stop', async () => {
    const a = new ScriptedCache(['ok']);
    set.add('a', asCache(a));
    await set.start();
    a.fail(new Error('watch closed'));
    await set.stop();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(a.starts).toBe(1);
  });
});
