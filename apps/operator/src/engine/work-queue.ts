/**
 * A keyed work queue in the manner of client-go's workqueue: a key waits in the queue at most
 * once (de-duplication), at most one worker handles a key at a time (a key added while it is
 * being handled is handled again afterwards), N workers run concurrently, failures retry with
 * per-key exponential backoff, and a handler can ask to be called again after a delay.
 *
 * The framework's watch callbacks only `add(key)`; all work happens in the handler.
 */

/** What a handler returns: nothing, or a delay after which the key is handled again. */
export interface Result {
  requeueAfterMs?: number;
}

/** Thrown by a handler for a failure that retrying cannot fix (the key is dropped until it changes). */
export class TerminalError extends Error {
  override name = 'TerminalError';
}

export interface WorkQueueOptions {
  workers: number;
  handler: (key: string) => Promise<Result | void>;
  /** First retry delay; doubles per consecutive failure of a key. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Called after every handler run, for metrics and logs. */
  onResult?: (
    key: string,
    outcome: 'ok' | 'requeue' | 'retry' | 'terminal',
    durationMs: number,
    err?: unknown,
  ) => void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly idleWaiters: (() => void)[] = [];
  private active = 0;
  private shuttingDown = false;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(private readonly opts: WorkQueueOptions) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1)
      throw new Error(`workers must be a positive integer, not ${opts.workers}`);
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 1_000_000;
  }

  /** Keys waiting (not counting those being handled or waiting for a delay). */
  get depth(): number {
    return this.queue.length;
  }

  /** Keys waiting for a delayed retry or requeue. */
  get delayed(): number {
    return this.timers.size;
  }

  /** Queues a key now, unless it already waits. A key being handled is handled again afterwards. */
  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Queues a key after a delay; an earlier pending delay for the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref?.();
    this.timers.set(key, { at, timer });
  }

  /** Queues a key after its backoff: base × 2^(failures so far), capped. */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** n);
    this.addAfter(key, delay);
    return delay;
  }

  /** Forgets a key's failures (after a success). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Resolves when nothing waits and nothing is being handled (delayed keys do not count). */
  idle(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking keys, drops pending delays and waits for running handlers to finish. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
    this.dirty.clear();
    if (this.active > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.active < this.opts.workers && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      this.active++;
      void this.run(key);
    }
    if (this.active === 0 && this.queue.length === 0) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async run(key: string): Promise<void> {
    const start = Date.now();
    try {
      const result = await this.opts.handler(key);
      this.forget(key);
      if (result && result.requeueAfterMs !== undefined) {
        this.addAfter(key, result.requeueAfterMs);
        this.opts.onResult?.(key, 'requeue', Date.now() - start);
      } else {
        this.opts.onResult?.(key, 'ok', Date.now() - start);
      }
    } catch (err) {
      if (err instanceof TerminalError) {
        this.forget(key);
        this.opts.onResult?.(key, 'terminal', Date.now() - start, err);
      } else {
        this.addRateLimited(key);
        this.opts.onResult?.(key, 'retry', Date.now() - start, err);
      }
    } finally {
      this.processing.delete(key);
      this.active--;
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
    }
  }
}
