/**
 * Kubernetes Events on a session (`kubectl describe vdisession` shows them): one for each step a
 * user would want to see. Recording never fails or slows a reconcile: Events wait in a bounded
 * queue and are sent by at most `concurrency` requests at a time, in order (as client-go's
 * recorder sends them from one goroutine). While the operator has work someone waits for
 * (`busy`: desktops being started), Normal Events wait — up to `maxDelayMs`, and only while the
 * queue is less than half full — so in a burst they follow the writes users wait for instead of
 * competing with them; each keeps the time it happened. Warnings never wait. A full queue drops
 * the newest (counted and logged, as client-go does); a failed write is logged.
 */
import { randomBytes } from 'node:crypto';
import { API_VERSION, KIND_SESSION, type VDISession } from '@vdi/crd-types';
import type { KubeJsonClient } from '@vdi/kube-client';
import type { Logger } from 'pino';

export interface EventRecorder {
  record(session: VDISession, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export interface EventQueueOptions {
  /** Event writes in flight at most (default 2). */
  concurrency?: number;
  /** Events waiting at most; beyond, new ones are dropped (default 4096). */
  maxQueued?: number;
  /** Called for every Event dropped because the queue was full. */
  onDrop?: () => void;
  /** True while work someone waits for is queued: Events wait (default: never busy). */
  busy?: () => boolean;
  /**
   * How long an Event waits at most while `busy` (default 5 min: longer than a large burst takes
   * to start, so its Events do not land in its middle; the session's status is live meanwhile).
   */
  maxDelayMs?: number;
  /** How often waiting Events look again whether the operator is still busy (default 250 ms). */
  pollMs?: number;
}

interface Pending {
  at: number;
  warning: boolean;
  namespace: string;
  key: string;
  reason: string;
  body: Record<string, unknown>;
}

export class KubeEventRecorder implements EventRecorder {
  private readonly pending: Pending[] = [];
  private inFlight = 0;
  /** Warnings among `pending`: they never wait for a busy operator. */
  private warnings = 0;
  private dropping = false;
  private flushing = 0;
  private readonly drained: (() => void)[] = [];
  private readonly concurrency: number;
  private readonly maxQueued: number;
  private readonly maxDelayMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: KubeJsonClient,
    private readonly log: Logger,
    private readonly component = 'vdi-operator',
    private readonly host = process.env.VDI_POD_NAME ?? 'local',
    private readonly opts: EventQueueOptions = {},
  ) {
    this.concurrency = opts.concurrency ?? 2;
    this.maxQueued = opts.maxQueued ?? 4096;
    this.maxDelayMs = opts.maxDelayMs ?? 300_000;
  }

  /** Events waiting to be sent. */
  get queued(): number {
    return this.pending.length;
  }

  record(session: VDISession, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const key = `${session.metadata.namespace}/${session.metadata.name}`;
    if (this.pending.length >= this.maxQueued) {
      this.opts.onDrop?.();
      if (!this.dropping)
        this.log.warn(
          { key, reason, queued: this.pending.length },
          'Event queue full: dropping Events until the API server catches up',
        );
      this.dropping = true;
      return;
    }
    this.dropping = false;
    // The time it happened, not the time it is sent.
    const now = new Date().toISOString();
    const name = `${session.metadata.name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`;
    if (type === 'Warning') this.warnings++;
    this.pending.push({
      at: Date.now(),
      warning: type === 'Warning',
      namespace: session.metadata.namespace!,
      key,
      reason,
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace: session.metadata.namespace },
        involvedObject: {
          apiVersion: API_VERSION,
          kind: KIND_SESSION,
          name: session.metadata.name,
          namespace: session.metadata.namespace,
          uid: session.metadata.uid,
          resourceVersion: session.metadata.resourceVersion,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: this.component, host: this.host },
        reportingComponent: this.component,
        reportingInstance: this.host,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
    this.pump();
  }

  /** Resolves when every Event recorded so far was sent (or failed), or after `timeoutMs`. */
  flush(timeoutMs: number): Promise<void> {
    if (this.pending.length === 0 && this.inFlight === 0) return Promise.resolve();
    // Busy or not, everything goes now.
    this.flushing++;
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref?.();
      this.drained.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.pump();
    return done.finally(() => this.flushing--);
  }

  /**
   * The next Event to send now, taken from the queue: the oldest when the operator is not busy, it
   * waited long enough, or the queue is half full (holding Events back must never drop any); else
   * the oldest Warning (a user acts on those; they never wait).
   */
  private take(): Pending | undefined {
    const oldest = this.pending[0];
    if (!oldest) return undefined;
    if (
      !this.opts.busy?.() ||
      Date.now() - oldest.at >= this.maxDelayMs ||
      this.flushing > 0 ||
      this.pending.length >= this.maxQueued / 2
    )
      return this.pending.shift();
    if (this.warnings > 0) {
      const i = this.pending.findIndex((e) => e.warning);
      if (i >= 0) return this.pending.splice(i, 1)[0];
    }
    // Look again shortly (one timer for the whole queue).
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, this.opts.pollMs ?? 250);
      this.timer.unref?.();
    }
    return undefined;
  }

  private pump(): void {
    while (this.inFlight < this.concurrency) {
      const e = this.take();
      if (!e) break;
      if (e.warning) this.warnings--;
      this.inFlight++;
      void this.client
        .call('POST', `/api/v1/namespaces/${e.namespace}/events`, e.body)
        .catch((err: unknown) => {
          this.log.warn({ key: e.key, reason: e.reason, err: String(err) }, 'could not record an event');
        })
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
    if (this.pending.length === 0 && this.inFlight === 0) for (const done of this.drained.splice(0)) done();
  }
}
