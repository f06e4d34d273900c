/**
 * GPU-hour accounting and budgets (the leader writes). Every `intervalSeconds` the accountant
 * looks, per owner, at the time-slices their desktop pods hold (from the pod cache) and counts
 * them against the owner's ledger, a VDIUsage named after the owner's hash (session-spec's
 * usage.ts does the arithmetic). Ledgers are read from the cache and written with the
 * resourceVersion read: a count lands whole or not at all; a stale copy (our own last write not
 * seen yet, or another leader's) is refused (409) and read again from the API server; so two
 * operators (a leader change) can never both land the same count.
 *
 * A ledger is written when what it holds changes (a desktop got its slice, or ended: counted up
 * to the last look that saw it), when an owner is warned or over budget, and otherwise only every
 * `checkpointSeconds` (spread per owner). In between, each holding's checkpoint says how far it is
 * counted, so readers (budgetState) add the time since: thousands of running desktops cost a few
 * writes a second instead of one per owner per interval. Every replica looks (`observe`), so a
 * new leader knows when a desktop that ended before it led was last seen.
 *
 * Budgets: the API writes the budget that applies to an owner into the ledger's spec at each
 * create and resume. At each look, an owner whose running desktops would use up the budget
 * within `warnSeconds` is warned once per period (Event BudgetLow on each desktop); an owner
 * over budget has every GPU desktop stopped (Event BudgetExhausted; home and name kept).
 */
import type { V1Pod } from '@kubernetes/client-node';
import {
  API_VERSION,
  isStopped,
  KIND_USAGE,
  PLURAL_USAGE,
  type VDISession,
  type VDIUsage,
  type VDIUsageStatus,
} from '@vdi/crd-types';
import { KubeApiError, type KubeJsonClient } from '@vdi/kube-client';
import {
  budgetMessage,
  budgetState,
  countUsage,
  formatDuration,
  heldSlices,
  LABEL_USER_HASH,
  usageName,
  type HeldSlices,
} from '@vdi/session-spec';
import type { Logger } from 'pino';
import type { Caches } from './caches.js';
import type { EventRecorder } from './events.js';
import { Periodic } from './periodic.js';

export interface AccountantDeps {
  client: KubeJsonClient;
  caches: Caches;
  namespace: string;
  gpuResource: string;
  intervalSeconds: number;
  /** Seconds between writes of a ledger whose holdings did not change (each owner's spread over the last quarter). */
  checkpointSeconds: number;
  warnSeconds: number;
  events: EventRecorder;
  log: Logger;
  now?: () => Date;
  /** Counts each ledger count by outcome: written (ok, conflict, error), or deferred (nothing to write yet). */
  count?(outcome: 'ok' | 'conflict' | 'error' | 'deferred'): void;
  /** Called after each round with how long it took (s). */
  roundTook?(seconds: number): void;
  /**
   * True while desktops wait to be started or reported Running: a round waits for them (up to
   * `maxDelayMs`), so in a burst its ledger writes follow the work users wait for instead of
   * competing with it. Counting is from each desktop's checkpoint, so waiting loses no time.
   */
  busy?: () => boolean;
  /**
   * How long a round waits at most while `busy` (default: five minutes or one interval, whichever
   * is longer: a large burst's starts take minutes, and a round in their middle writes a ledger
   * per owner).
   */
  maxDelayMs?: number;
  /** How often a waiting round looks again whether the operator is still busy (default 250 ms). */
  pollMs?: number;
}

/** A desktop pod seen holding slices: what it holds, and when it was last seen. */
interface Seen {
  held: HeldSlices;
  at: Date;
}

/** Owners counted at the same time in a round (each is a ledger read, maybe a create and a write). */
const COUNT_CONCURRENCY = 4;

/** How long a desktop seen once is remembered without being seen again (bounded memory). */
const SEEN_KEPT_MS = 3_600_000;

/**
 * Whether a ledger must be written now rather than at its checkpoint: a desktop in `counted`
 * ended (`until`) or is new to it, one it holds is not in `counted`, it was never counted, or its
 * last count is `checkpointMs` old.
 */
export function ledgerWriteDue(
  status: VDIUsageStatus | undefined,
  counted: readonly HeldSlices[],
  now: Date,
  checkpointMs: number,
): boolean {
  if (!status?.countedAt) return true;
  const holding = new Set((status.holding ?? []).map((h) => h.pod));
  const live = counted.filter((h) => !h.until);
  if (counted.some((h) => h.until) || live.length !== holding.size || live.some((h) => !holding.has(h.pod)))
    return true;
  return now.getTime() - Date.parse(status.countedAt) >= checkpointMs;
}

/** An owner's checkpoint interval: 75–100 % of `seconds`, fixed per owner, so ledgers made together spread out. */
export function checkpointMsOf(owner: string, seconds: number): number {
  const fraction = parseInt(owner.slice(0, 8), 16) / 0x1_0000_0000;
  return Math.round(seconds * 1000 * (0.75 + 0.25 * (Number.isFinite(fraction) ? fraction : 1)));
}

export class GpuAccountant {
  private readonly periodic: Periodic;
  private readonly looks: Periodic;
  /** Desktop pods seen holding slices, by pod uid. */
  private readonly seen = new Map<string, Seen>();

  constructor(private readonly d: AccountantDeps) {
    this.periodic = new Periodic(d.intervalSeconds, () => this.countAll());
    this.looks = new Periodic(d.intervalSeconds, async () => void this.look(this.now()));
  }

  /** Every replica, once its caches are synced: looks who holds what now and every interval, without writing. */
  observe(): void {
    void this.looks.now();
    this.looks.start();
  }

  /** The leader: looks and counts (writing ledgers) every interval. */
  start(): void {
    this.looks.stop();
    this.periodic.start();
  }

  stop(): void {
    this.looks.stop();
    this.periodic.stop();
  }

  private now(): Date {
    return (this.d.now ?? (() => new Date()))();
  }

  /** The desktop pods holding slices now, by owner; remembers each as seen now. */
  private look(now: Date): Map<string, HeldSlices[]> {
    const held = new Map<string, HeldSlices[]>();
    for (const pod of this.d.caches.pods.list(this.d.namespace)) {
      const h = heldSlices(pod, this.d.gpuResource);
      const owner = (pod as V1Pod).metadata?.labels?.[LABEL_USER_HASH];
      if (!h || !owner) continue;
      held.set(owner, [...(held.get(owner) ?? []), h]);
      this.seen.set(h.pod, { held: h, at: now });
    }
    for (const [pod, s] of this.seen)
      if (now.getTime() - s.at.getTime() > SEEN_KEPT_MS) this.seen.delete(pod);
    return held;
  }

  /**
   * What to count for an owner: the desktops holding slices now, and each one the ledger holds
   * that holds none now, up to the last look that saw it (or, never seen, no further than its
   * checkpoint).
   */
  private withEnded(status: VDIUsageStatus | undefined, held: HeldSlices[]): HeldSlices[] {
    const now = new Set(held.map((h) => h.pod));
    const ended: HeldSlices[] = [];
    for (const h of status?.holding ?? []) {
      if (now.has(h.pod)) continue;
      const seen = this.seen.get(h.pod);
      ended.push(
        seen
          ? { ...seen.held, until: seen.at }
          : {
              pod: h.pod,
              session: h.session,
              slices: h.slices,
              since: new Date(h.since),
              until: new Date(h.countedUntil),
            },
      );
    }
    return [...held, ...ended];
  }

  private collection(): string {
    return `/apis/${API_VERSION}/namespaces/${this.d.namespace}/${PLURAL_USAGE}`;
  }

  /** One count of every owner that holds a time-slice now or did at the last count. */
  round(): Promise<void> {
    return this.periodic.now();
  }

  /** Waits while desktops wait to be started (busy), at most maxDelayMs. */
  private async untilIdle(): Promise<void> {
    const { busy, pollMs = 250 } = this.d;
    if (!busy) return;
    const until = Date.now() + (this.d.maxDelayMs ?? Math.max(300, this.d.intervalSeconds) * 1000);
    while (busy() && Date.now() < until) await new Promise((r) => setTimeout(r, pollMs).unref());
  }

  private async countAll(): Promise<void> {
    // Before the look: what is counted is what holds slices when the round really runs.
    await this.untilIdle();
    const { caches, namespace, log } = this.d;
    const started = Date.now();
    const held = this.look(this.now());
    const ledgers = caches.usages.list(namespace);
    const byName = new Map(ledgers.map((l) => [l.metadata.name!, l]));
    const owners = new Set(held.keys());
    for (const l of ledgers) {
      const hash = l.metadata.name!.replace(/^usage-/, '');
      if (l.status?.holding?.length) owners.add(hash);
    }
    // Owners are independent (one ledger each): a few at a time, so a round after a burst of new
    // owners (a create and a write each) takes a fraction of the time one after another would.
    const order = [...owners];
    let next = 0;
    const worker = async () => {
      while (next < order.length) {
        const owner = order[next++]!;
        try {
          await this.countOwner(owner, held.get(owner) ?? [], byName.get(usageName(owner)));
        } catch (err) {
          this.d.count?.('error');
          log.warn(
            { ledger: `${namespace}/${usageName(owner)}`, err: (err as Error).message },
            'GPU-hour count failed; the next round counts from the last checkpoint',
          );
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(COUNT_CONCURRENCY, order.length) }, worker));
    const seconds = (Date.now() - started) / 1000;
    this.d.roundTook?.(seconds);
    // A round longer than its interval delays the next (and budget actions): say so, with its size.
    if (seconds > this.d.intervalSeconds)
      log.warn(
        { owners: order.length, seconds: Math.round(seconds), intervalSeconds: this.d.intervalSeconds },
        'GPU-hour count took longer than its interval: budgets are acted on late',
      );
  }

  /** Counts one owner (reading the ledger again after a conflict), then applies their budget. */
  private async countOwner(owner: string, held: HeldSlices[], ledger: VDIUsage | undefined): Promise<void> {
    const found = ledger ?? (await this.createLedger(owner));
    if (!found) return; // no session says who this owner is (an unclaimed 0.1.x session)
    let current: VDIUsage = found;
    const name = found.metadata.name!;
    for (let attempt = 1; ; attempt++) {
      const now = this.now();
      const counted = this.withEnded(current.status, held);
      const status = countUsage(current.status, counted, now);
      const state = budgetState({ spec: current.spec, status }, now);
      const warn =
        !state.exhausted &&
        state.leftSeconds !== undefined &&
        state.holdingSlices > 0 &&
        state.leftSeconds / state.holdingSlices <= this.d.warnSeconds &&
        current.status?.warnedFor !== state.start.toISOString();
      if (
        !warn &&
        !state.exhausted &&
        !ledgerWriteDue(current.status, counted, now, checkpointMsOf(owner, this.d.checkpointSeconds))
      ) {
        this.d.count?.('deferred');
        return;
      }
      const next: VDIUsageStatus = warn ? { ...status, warnedFor: state.start.toISOString() } : status;
      try {
        await this.d.client.mergePatch(
          this.ref(name),
          { metadata: { resourceVersion: current.metadata.resourceVersion }, status: next },
          'status',
        );
        this.d.count?.('ok');
      } catch (err) {
        if (!(err instanceof KubeApiError && err.conflict) || attempt >= 3) throw err;
        this.d.count?.('conflict');
        const fresh: VDIUsage | undefined = await this.d.client.get<VDIUsage>(this.ref(name));
        if (!fresh) return;
        current = fresh;
        continue;
      }
      // Counted to their end and dropped from the ledger: nothing left to remember.
      for (const h of counted) if (h.until) this.seen.delete(h.pod);
      if (state.exhausted) await this.stopAll(held, budgetMessage(state));
      else if (warn) this.warnAll(held, budgetMessage(state), state.leftSeconds! / state.holdingSlices, now);
      return;
    }
  }

  private ref(name: string) {
    return { apiVersion: API_VERSION, kind: KIND_USAGE, metadata: { name, namespace: this.d.namespace } };
  }

  /** Makes an owner's ledger from one of their sessions (who they are); undefined when none says. */
  private async createLedger(owner: string): Promise<VDIUsage | undefined> {
    // From the owner index, not a walk over every cached session (N new owners made that N²).
    const prefix = `${this.d.namespace}/`;
    const session = this.d.caches.owners
      .keys(owner)
      .filter((key) => key.startsWith(prefix))
      .map((key) => this.d.caches.sessions.get(key.slice(prefix.length), this.d.namespace))
      .find((s) => s?.spec.owner);
    if (!session?.spec.owner) return undefined;
    const body = {
      apiVersion: API_VERSION,
      kind: KIND_USAGE,
      metadata: {
        name: usageName(owner),
        namespace: this.d.namespace,
        labels: { [LABEL_USER_HASH]: owner, 'app.kubernetes.io/part-of': 'vdi-platform' },
      },
      spec: { owner: session.spec.owner, user: session.spec.user },
    };
    try {
      return await this.d.client.call<VDIUsage>('POST', this.collection(), body);
    } catch (err) {
      if (!(err instanceof KubeApiError) || err.status !== 409) throw err;
      return this.d.client.get<VDIUsage>(this.ref(body.metadata.name)); // the API made it meanwhile
    }
  }

  private desktops(held: HeldSlices[]): VDISession[] {
    return held
      .map((h) => this.d.caches.sessions.get(h.session, this.d.namespace))
      .filter((s): s is VDISession => !!s && !s.metadata.deletionTimestamp && !isStopped(s));
  }

  private warnAll(held: HeldSlices[], spent: string, secondsLeft: number, now: Date): void {
    const at = new Date(now.getTime() + secondsLeft * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const s of this.desktops(held)) {
      this.d.events.record(
        s,
        'Warning',
        'BudgetLow',
        `GPU budget running out: ${spent}. At this pace it is used up in about ${formatDuration(Math.max(60, Math.round(secondsLeft / 60) * 60))} (${at}); then your GPU desktops are stopped — save your work`,
      );
    }
  }

  /** Stops every GPU desktop of an owner over budget (conditional on the version read: an owner's change wins). */
  private async stopAll(held: HeldSlices[], spent: string): Promise<void> {
    for (const s of this.desktops(held)) {
      this.d.events.record(
        s,
        'Warning',
        'BudgetExhausted',
        `GPU budget used up: ${spent}. The desktop was stopped to free its GPU time-slice; its home is kept — resume it after the renewal, or ask an admin for a larger budget`,
      );
      this.d.log.info({ key: `${s.metadata.namespace}/${s.metadata.name}` }, 'GPU budget used up: stopping');
      await this.d.client
        .mergePatch(
          {
            apiVersion: API_VERSION,
            kind: 'VDISession',
            metadata: { name: s.metadata.name!, namespace: this.d.namespace },
          },
          { metadata: { resourceVersion: s.metadata.resourceVersion }, spec: { state: 'Stopped' } },
        )
        .catch((err: unknown) => {
          // A conflict: the session changed; the next count sees it again.
          this.d.log.warn(
            { key: `${this.d.namespace}/${s.metadata.name}`, err: String(err) },
            'stop over budget failed',
          );
        });
    }
  }
}
