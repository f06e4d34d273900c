/**
 * Session changes for the `sessionUpdated` subscription, from the session informer: one
 * listener on the cache fans out to the open subscriptions, each with its own filter.
 *
 * A subscriber that reads slowly never makes the process buffer without bound: pending updates
 * are coalesced per session (the newest state replaces an undelivered older one), so a queue
 * holds at most one entry per session the subscriber may see.
 */
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { VDISession } from '@vdi/crd-types';
import { ApiCaches } from '../kube/caches.js';
import { ApiMetrics } from '../metrics/metrics.js';

/** CURRENT: a session as it is when the subscription starts (asked for with `current`), not a change. */
export type SessionChange = 'ADDED' | 'MODIFIED' | 'DELETED' | 'CURRENT';

export interface SessionEvent {
  type: SessionChange;
  session: VDISession;
}

/**
 * An async iterator of values pushed from outside, coalesced by key. `return()` (the client
 * unsubscribed or the socket closed) ends it at once, even while a `next()` is waiting.
 */
export class CoalescingChannel<T> implements AsyncIterableIterator<T> {
  private readonly pending = new Map<string, T>();
  private waiting: ((r: IteratorResult<T>) => void) | undefined;
  private closed = false;

  constructor(private readonly onClose: () => void = () => undefined) {}

  push(key: string, value: T): void {
    if (this.closed) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w({ value, done: false });
      return;
    }
    this.pending.delete(key); // re-insert: the key moves to the end, keeping delivery in order of last change
    this.pending.set(key, value);
  }

  /**
   * Like push, but a value already waiting for `key` stays: it was pushed while `value` was being
   * read, so it is at least as new.
   */
  pushUnlessPending(key: string, value: T): void {
    if (!this.pending.has(key)) this.push(key, value);
  }

  get size(): number {
    return this.pending.size;
  }

  next(): Promise<IteratorResult<T>> {
    const first = this.pending.entries().next();
    if (!first.done) {
      this.pending.delete(first.value[0]);
      return Promise.resolve({ value: first.value[1], done: false });
    }
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.closed) {
      this.closed = true;
      this.pending.clear();
      this.waiting?.({ value: undefined, done: true });
      this.waiting = undefined;
      this.onClose();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

@Injectable()
export class SessionEvents implements OnModuleDestroy {
  private readonly listeners = new Set<(e: SessionEvent) => void>();

  constructor(
    caches: ApiCaches,
    private readonly metrics: ApiMetrics,
  ) {
    caches.sessions.on('add', (s) => this.emit({ type: 'ADDED', session: s }));
    caches.sessions.on('update', (s) => this.emit({ type: 'MODIFIED', session: s }));
    caches.sessions.on('delete', (s) => this.emit({ type: 'DELETED', session: s }));
  }

  /** Open subscriptions (for /metrics). */
  get subscribers(): number {
    return this.listeners.size;
  }

  private emit(e: SessionEvent): void {
    for (const l of this.listeners) l(e);
  }

  /**
   * The events that pass `filter`, until the iterator is returned. With `current`, first each
   * session it returns that passes `filter`, as a CURRENT event: it is called after the listener
   * is registered, so a change that happens while (or after) it reads is an event as well — at
   * worst a session comes twice, never not at all. A change queued during the read is newer than
   * (or as new as) what the read saw, so the CURRENT event does not replace it.
   */
  subscribe(
    filter: (s: VDISession) => boolean,
    current?: () => Iterable<VDISession>,
  ): CoalescingChannel<SessionEvent> {
    const listener = (e: SessionEvent) => {
      if (filter(e.session)) channel.push(e.session.metadata.name!, e);
    };
    const channel = new CoalescingChannel<SessionEvent>(() => {
      this.listeners.delete(listener);
      this.metrics.subscriptions.set(this.listeners.size);
    });
    this.listeners.add(listener);
    this.metrics.subscriptions.set(this.listeners.size);
    if (current) {
      for (const s of current()) {
        if (filter(s)) channel.pushUnlessPending(s.metadata.name!, { type: 'CURRENT', session: s });
      }
    }
    return channel;
  }

  onModuleDestroy(): void {
    this.listeners.clear();
  }
}
