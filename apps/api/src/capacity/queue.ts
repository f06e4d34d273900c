/**
 * The queue for GPU time-slices, as the API can tell it from its watch caches: the sessions whose
 * desktop waits for a slice, in the order the scheduler serves them.
 *
 * Why this order: the operator creates a session's desktop pod when the session is created or
 * resumed, whether or not a slice is free, and the pending pod waits in kube-scheduler's queue.
 * Desktop pods carry no priority class, so they are equal in priority, and the scheduler's queue
 * sort (PrioritySort) then serves the one that entered its queue first; when a slice frees, every
 * waiting desktop pod is tried again in that order. So the queue is the waiting sessions ordered by
 * the creation of their desktop pods (ties by name). The scheduler has the final say: its retry
 * back-off can reorder pods tried moments apart, and a desktop
 * that can use only some nodes (its home is on one node: WaitingForHomeNode; a template that asks
 * for a GPU product or NVENC) may be passed by one behind it when the slice that frees is
 * elsewhere, and it cannot take a slice on a node it cannot use.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { SessionReason as R, isStopped, type VDISession } from '@vdi/crd-types';
import { LABEL_SESSION } from '@vdi/session-spec';

/** Reasons of a session whose desktop waits for a GPU time-slice. */
const QUEUED_REASONS: readonly string[] = [R.WaitingForGPU, R.WaitingForHomeNode];

/** True when the session's desktop waits for a GPU time-slice (and the owner wants it running). */
export function isQueued(s: VDISession): boolean {
  return (
    !s.metadata.deletionTimestamp &&
    !isStopped(s) &&
    s.status?.phase === 'Scheduling' &&
    QUEUED_REASONS.includes(s.status.reason ?? '')
  );
}

const time = (t: Date | string | undefined): number => (t ? new Date(t).getTime() : Number.POSITIVE_INFINITY);

/**
 * Positions in the GPU queue (1 = served next), by session name; a session that does not wait
 * has none. Only sessions of one namespace (the API's sessions namespace) are passed in.
 */
export function queuePositions(sessions: readonly VDISession[], pods: readonly V1Pod[]): Map<string, number> {
  const podCreated = new Map<string, number>();
  for (const p of pods) {
    const name = p.metadata?.labels?.[LABEL_SESSION];
    // A waiting desktop is a pod not placed yet; a placed one of the same session is leaving.
    if (name && !p.spec?.nodeName && !p.metadata?.deletionTimestamp)
      podCreated.set(name, time(p.metadata?.creationTimestamp));
  }
  // Before its pod is in the cache, the session's own record of when it began waiting.
  const since = (s: VDISession) =>
    podCreated.get(s.metadata.name!) ?? time(s.status?.queuedAt ?? s.metadata.creationTimestamp);
  const queued = sessions
    .filter(isQueued)
    .map((s) => ({ name: s.metadata.name!, at: since(s) }))
    .sort((a, b) => a.at - b.at || a.name.localeCompare(b.name));
  return new Map(queued.map((q, i) => [q.name, i + 1]));
}
