/**
 * A keyed work queue in the manner of client-go's workqueue: a key waits in the queue at most
 * once (de-duplication), at most one worker handles a key at a time (a key added while it is
 * being handled is handled again afterwards), N workers run concurrently, failures retry with
 * per-key exponential backoff, and a handler can ask to be called again after a delay.
 *
 * Three priorities, each an ordered line: `finish` work (a session one status write away from what
 * its owner waits for: its desktop became ready, or failed) goes first, then `new` work (a session
 * created, edited, deleted — someone waits for it), then `refresh` work (status follow-ups from pod
 * and node events, timers, resyncs). In a burst, a desktop that is ready is reported Running
 * before more sessions are started, and new sessions are not queued behind the status refreshes of
 * the sessions before them. Per-key guarantees hold across all three: a key waits once (in the
 * highest of the priorities it was asked for) and is never handled twice at a time; backoff is per
 * key, whatever its priority.
 *
 * The framework's watch callbacks only `add(key)`; all work happens in the handler.
 */

/** Highest first. `finish`: one write from done. `new`: a change someone waits for. `refresh`: everything else (the default). */
export const PRIORITIES = ['finish', 'new', 'refresh'] as const;
export type Priority = (typeof PRIORITIES)[number];

const rank = (p: Priority): number => PRIORITIES.indexOf(p);
/** The higher of two priorities. */
const higher = (a: Priority, b: Priority | undefined): Priority =>
  b !== undefined && rank(b) < rank(a) ? b : a;

/** What a handler returns: nothing, or when the key is handled again. */
export interface Result {
  /** Handled again after this delay (an earlier pending one wins). */
  requeueAfterMs?: number;
  /**
   * Handled again within this delay unless a handling of the key starts first, for any reason
   * (addSoon): a look that only matters when nothing else brings the key back.
   */
  refreshWithinMs?: number;
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
  /** Waiting keys in arrival order, one ordered set per priority, highest first (a key is in at most one). */
  private readonly lines: Set<string>[] = PRIORITIES.map(() => new Set<string>());
  /** The line each waiting key is in. */
  private readonly waiting = new Map<string, Priority>();
  /** Keys being handled, with the priority they were taken at (a retry keeps it). */
  private readonly processing = new Map<string, Priority>();
  /** Keys added while being handled, with the highest priority asked for. */
  private readonly dirty = new Map<string, Priority>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout; priority: Priority }>();
  /** Keys due for a refresh soon (addSoon): a handling of the key that starts first covers it. */
  private readonly soon = new Map<string, { at: number; timer: NodeJS.Timeout }>();
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
    return this.waiting.size;
  }

  /** Keys waiting with one priority. */
  depthOf(priority: Priority): number {
    return this.lines[rank(priority)]!.size;
  }

  /** Keys waiting for a delayed retry or requeue. */
  get delayed(): number {
    return this.timers.size;
  }

  /**
   * Queues a key now, unless it already waits at this priority or a higher one; a key waiting at a
   * lower priority moves up (to the end of the higher line). A key being handled is handled again
   * afterwards, at the highest priority asked for meanwhile.
   */
  add(key: string, priority: Priority = 'refresh'): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.set(key, higher(priority, this.dirty.get(key)));
      return;
    }
    const current = this.waiting.get(key);
    if (current !== undefined) {
      if (rank(current) <= rank(priority)) return;
      this.lines[rank(current)]!.delete(key);
    }
    this.lines[rank(priority)]!.add(key);
    this.waiting.set(key, priority);
    this.pump();
  }

  /** Queues a key after a delay; an earlier pending delay for the same key wins (keeping the higher priority). */
  addAfter(key: string, delayMs: number, priority: Priority = 'refresh'): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key, priority);
    const at = Date.now() + delayMs;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) {
      pending.priority = higher(priority, pending.priority);
      return;
    }
    if (pending) clearTimeout(pending.timer);
    const entry = {
      at,
      priority: higher(priority, pending?.priority),
      timer: setTimeout(() => {
        this.timers.delete(key);
        this.add(key, entry.priority);
      }, delayMs),
    };
    entry.timer.unref?.();
    this.timers.set(key, entry);
  }

  /**
   * Queues a refresh of a key within `delayMs`, folding every call until then into one; a handling
   * of the key that starts meanwhile (for any reason) covers it and cancels it, since the handler
   * reads the state the calls announced. For the steps of a desktop's start (pod created, placed,
   * its home claim bound, …): each is a status refresh, and the steps of one start come within
   * moments of each other, so they cost one reconcile (or none, when the pod's readiness, `finish`
   * work, comes first) instead of one each — more of them as more workers are idle to take them
   * one by one. Unlike addAfter, nothing is kept for a fixed time: it is only a batching window.
   */
  addSoon(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    const at = Date.now() + delayMs;
    // The earlier of two windows wins.
    const pending = this.soon.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.soon.delete(key);
      this.add(key, 'refresh');
    }, delayMs);
    timer.unref?.();
    this.soon.set(key, { at, timer });
  }

  /** Queues a key after its backoff: base × 2^(failures so far), capped. */
  addRateLimited(key: string, priority: Priority = 'refresh'): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** n);
    this.addAfter(key, delay, priority);
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
    if (this.active === 0 && this.depth === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking keys, drops pending delays and waits for running handlers to finish. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const { timer } of this.soon.values()) clearTimeout(timer);
    this.soon.clear();
    for (const line of this.lines) line.clear();
    this.waiting.clear();
    this.dirty.clear();
    if (this.active > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** The oldest waiting key of the highest priority, taken out of its line. */
  private next(): [string, Priority] | undefined {
    for (const [i, line] of this.lines.entries()) {
      const first = line.values().next();
      if (!first.done) {
        line.delete(first.value);
        this.waiting.delete(first.value);
        return [first.value, PRIORITIES[i]!];
      }
    }
    return undefined;
  }

  private pump(): void {
    while (this.active < this.opts.workers && this.depth > 0) {
      const [key, priority] = this.next()!;
      // This handling reads everything a pending addSoon announced: that refresh is done by it.
      const soon = this.soon.get(key);
      if (soon) {
        clearTimeout(soon.timer);
        this.soon.delete(key);
      }
      this.processing.set(key, priority);
      this.active++;
      void this.run(key, priority);
    }
    if (this.active === 0 && this.depth === 0) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async run(key: string, priority: Priority): Promise<void> {
    const start = Date.now();
    try {
      const result = await this.opts.handler(key);
      this.forget(key);
      if (result?.refreshWithinMs !== undefined) this.addSoon(key, result.refreshWithinMs);
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
        // A failed key keeps its priority: the change it carries is still waited for.
        this.addRateLimited(key, priority);
        this.opts.onResult?.(key, 'retry', Date.now() - start, err);
      }
    } finally {
      this.processing.delete(key);
      this.active--;
      const again = this.dirty.get(key);
      if (again) {
        this.dirty.delete(key);
        this.add(key, again);
      }
      this.pump();
    }
  }
}
