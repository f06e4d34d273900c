/**
 * Per-user quotas: how many sessions and GPU time-slices one user may hold at once. Sessions
 * that are being deleted no longer count (their desktops are going away); a stopped session
 * counts as a session but holds no GPU time-slice until it is resumed.
 */
import { isStopped, type VDISession } from '@vdi/crd-types';
import { quotaExceeded } from '../common/errors.js';

export interface QuotaLimits {
  maxSessionsPerUser: number;
  maxGpusPerUser: number;
}

export interface Usage {
  sessions: number;
  gpus: number;
}

/** What `sessions` (all of one user) hold; `gpuOf` gives a session's effective GPU time-slices. */
export function usageOf(sessions: Iterable<VDISession>, gpuOf: (s: VDISession) => number): Usage {
  let count = 0;
  let gpus = 0;
  for (const s of sessions) {
    if (s.metadata.deletionTimestamp) continue;
    count++;
    if (!isStopped(s)) gpus += gpuOf(s);
  }
  return { sessions: count, gpus };
}

/**
 * Throws QUOTA_EXCEEDED when one more session with `gpu` time-slices would break a limit; with
 * `resume`, when resuming a stopped session (already counted as a session) would take one slice too many.
 */
export function checkQuota(usage: Usage, gpu: number, limits: QuotaLimits, resume = false): void {
  if (!resume && usage.sessions + 1 > limits.maxSessionsPerUser) {
    throw quotaExceeded(
      `you already have ${usage.sessions} session(s), the most allowed per user is ${limits.maxSessionsPerUser}; delete one first`,
      'sessionsPerUser',
      limits.maxSessionsPerUser,
    );
  }
  if (gpu > 0 && usage.gpus + gpu > limits.maxGpusPerUser) {
    throw quotaExceeded(
      `your sessions already use ${usage.gpus} GPU time-slice(s), the most allowed per user is ${limits.maxGpusPerUser}; ` +
        (resume
          ? 'stop or delete another GPU session first'
          : 'stop or delete a GPU session, or ask for gpu: 0'),
      'gpusPerUser',
      limits.maxGpusPerUser,
    );
  }
}

/** A user already has as many calls queued in this process as UserLocks allows. */
export class TooManyWaitingError extends Error {
  override name = 'TooManyWaitingError';
}

/**
 * How many calls of one user may be queued (running or waiting) in one process. A person
 * creates sessions one at a time and a script a few at once; without a bound, a client firing
 * creates in a loop would have every one of them held in memory (request, token, closures)
 * until its turn, each turn a few API-server round trips long.
 */
export const MAX_QUEUED_PER_USER = 32;

/**
 * Serialises the check-then-create of one user within this process, so two concurrent requests
 * cannot both pass the check; across replicas UserLease (user-lease.ts) adds a cluster-wide Lease.
 * The map holds only users with a call in flight, and each user at most `maxQueued` calls.
 */
export class UserLocks {
  private readonly tails = new Map<string, { tail: Promise<unknown>; queued: number }>();

  constructor(private readonly maxQueued = MAX_QUEUED_PER_USER) {}

  async run<T>(user: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(user);
    if (prev && prev.queued >= this.maxQueued) {
      throw new TooManyWaitingError(
        `${prev.queued} session changes of yours are already waiting their turn in this API replica`,
      );
    }
    const result = (prev?.tail ?? Promise.resolve()).then(fn, fn);
    const entry = { tail: result.catch(() => undefined), queued: (prev?.queued ?? 0) + 1 };
    this.tails.set(user, entry);
    try {
      return await result;
    } finally {
      const current = this.tails.get(user)!;
      if (current === entry) this.tails.delete(user);
      else current.queued--;
    }
  }

  /** Users with calls in flight (for tests). */
  get size(): number {
    return this.tails.size;
  }
}
