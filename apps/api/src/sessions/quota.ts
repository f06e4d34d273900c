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

/**
 * Serialises the check-then-create of one user within this process, so two concurrent requests
 * cannot both pass the check; across replicas UserLease (user-lease.ts) adds a cluster-wide Lease.
 */
export class UserLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(user: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(user) ?? Promise.resolve();
    const result = prev.then(fn, fn);
    const tail = result.catch(() => undefined);
    this.tails.set(user, tail);
    try {
      return await result;
    } finally {
      if (this.tails.get(user) === tail) this.tails.delete(user);
    }
  }
}
